//! Jira records and their parsers.
//!
//! The parsers read the JSON Jira serves: Cloud (REST v3) and Data Center (REST v2) issue
//! payloads, the changelog `histories`, `/field`, `/status` and the Agile API's boards and
//! sprints. Custom fields (story points, epic link, sprint) have site-specific ids, so issue
//! parsing takes a [`FieldMap`] discovered from `/field` (or set in config).
//!
//! Keys: an issue is keyed by `(workspace, issue_id)`: the id survives a move between
//! projects, the key does not.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::time::parse_ts;

/// A Jira issue (`raw/jira/issues`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Issue {
    /// Numeric id as text (stable across project moves).
    pub issue_id: String,
    /// `PAY-12`.
    pub issue_key: String,
    /// Project key, `PAY`.
    pub project_key: String,
    /// Issue type name (`Story`, `Bug`, `Incident`, …).
    pub issue_type: Option<String>,
    /// Summary line.
    pub summary: Option<String>,
    /// Current status name.
    pub status: Option<String>,
    /// Current status id.
    pub status_id: Option<String>,
    /// Jira's status category key: `new`, `indeterminate` or `done`.
    pub status_category: Option<String>,
    /// Priority name.
    pub priority: Option<String>,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Last update.
    pub updated_at: Option<DateTime<Utc>>,
    /// Resolution date.
    pub resolution_date: Option<DateTime<Utc>>,
    /// Story points (the site's story-points field).
    pub story_points: Option<f64>,
    /// Epic key: the epic-link field, or the parent when the parent is an epic.
    pub epic_key: Option<String>,
    /// Parent key (epic, or the story of a sub-task).
    pub parent_key: Option<String>,
    /// The issue's current sprint: the active one, else the latest listed.
    pub sprint_id: Option<i64>,
    /// Every sprint the issue is in or was in, comma-separated ids.
    pub sprint_ids: Option<String>,
    /// Assignee account id (Cloud `accountId`, Data Center `key`/`name`).
    pub assignee_account_id: Option<String>,
    /// Assignee display name.
    pub assignee_name: Option<String>,
    /// Assignee e-mail, where the site exposes it.
    pub assignee_email: Option<String>,
    /// Reporter account id.
    pub reporter_account_id: Option<String>,
    /// Labels, comma-separated.
    pub labels: Option<String>,
    /// Component names, comma-separated (the service an incident hit).
    pub components: Option<String>,
    /// Fix version names, comma-separated.
    pub fix_versions: Option<String>,
    /// Changelog entries the API reports (the rows kept are in `raw/jira/changelog_items`).
    pub changelog_total: Option<i64>,
    /// Tombstone: when the connector found the issue deleted or moved out of scope.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Why the tombstone was written: `deleted` or `moved_out_of_scope`.
    pub deleted_reason: Option<String>,
}

/// One changed field of one changelog entry (`raw/jira/changelog_items`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangelogItem {
    /// The issue's id.
    pub issue_id: String,
    /// The issue's key when the entry was read.
    pub issue_key: String,
    /// The changelog entry (history) id.
    pub changelog_id: String,
    /// Position of the item within its entry (0-based).
    pub item_index: i64,
    /// When the change was made.
    pub created_at: Option<DateTime<Utc>>,
    /// Who made it.
    pub author_account_id: Option<String>,
    /// Field name as Jira shows it (`status`, `Sprint`, `assignee`, …).
    pub field: String,
    /// Field id where given (`status`, `customfield_10020`, …).
    pub field_id: Option<String>,
    /// `jira` or `custom`.
    pub field_type: Option<String>,
    /// Raw old value (a status id for `status`, sprint ids for `Sprint`).
    pub from_value: Option<String>,
    /// Old value as shown.
    pub from_string: Option<String>,
    /// Raw new value.
    pub to_value: Option<String>,
    /// New value as shown.
    pub to_string: Option<String>,
}

/// A sprint of a board (`raw/jira/sprints`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sprint {
    /// Sprint id.
    pub sprint_id: i64,
    /// The board the sprint was read from.
    pub board_id: i64,
    /// The board the sprint was created on.
    pub origin_board_id: Option<i64>,
    /// Name.
    pub name: Option<String>,
    /// `future`, `active` or `closed`.
    pub state: Option<String>,
    /// Planned start.
    pub start_date: Option<DateTime<Utc>>,
    /// Planned end.
    pub end_date: Option<DateTime<Utc>>,
    /// When it was actually closed.
    pub complete_date: Option<DateTime<Utc>>,
    /// Goal.
    pub goal: Option<String>,
}

/// A board (`raw/jira/boards`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Board {
    /// Board id.
    pub board_id: i64,
    /// Name.
    pub name: Option<String>,
    /// `scrum`, `kanban`, `simple`.
    pub board_type: Option<String>,
    /// The project the board was listed for.
    pub project_key: Option<String>,
}

/// A workflow status of the site (`raw/jira/statuses`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// Status id.
    pub status_id: String,
    /// Name.
    pub name: Option<String>,
    /// `new`, `indeterminate` or `done`.
    pub category_key: Option<String>,
}

/// Where a site keeps the custom fields flowlake reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldMap {
    /// Story points field id.
    pub story_points: Option<String>,
    /// Epic link field id (company-managed projects; team-managed use `parent`).
    pub epic_link: Option<String>,
    /// Sprint field id.
    pub sprint: Option<String>,
}

const SPRINT_TYPE: &str = "com.pyxis.greenhopper.jira:gh-sprint";
const EPIC_LINK_TYPE: &str = "com.pyxis.greenhopper.jira:gh-epic-link";
const STORY_POINT_NAMES: [&str; 3] = ["story points", "story point estimate", "story point"];

impl FieldMap {
    /// Find the fields by their schema type or name in a `/field` response; a field already
    /// set (from config) is kept.
    pub fn discover(mut self, fields: &Value) -> Result<Self> {
        let list = fields.as_array().ok_or_else(|| field("field", "[]"))?;
        let custom_type = |f: &Value| {
            f.pointer("/schema/custom")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let id = |f: &Value| f.get("id").and_then(Value::as_str).map(str::to_string);
        let name = |f: &Value| {
            f.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase()
        };
        if self.sprint.is_none() {
            self.sprint = list
                .iter()
                .find(|f| custom_type(f) == SPRINT_TYPE)
                .or_else(|| list.iter().find(|f| name(f) == "sprint"))
                .and_then(id);
        }
        if self.epic_link.is_none() {
            self.epic_link = list
                .iter()
                .find(|f| custom_type(f) == EPIC_LINK_TYPE)
                .or_else(|| list.iter().find(|f| name(f) == "epic link"))
                .and_then(id);
        }
        if self.story_points.is_none() {
            // The classic field first, then the team-managed one.
            self.story_points = STORY_POINT_NAMES
                .iter()
                .find_map(|n| list.iter().find(|f| name(f) == *n))
                .and_then(id);
        }
        Ok(self)
    }
}

fn field(entity: &'static str, f: &str) -> Error {
    Error::Field {
        entity,
        field: f.to_string(),
    }
}

fn s(v: &Value, ptr: &str) -> Option<String> {
    match v.pointer(ptr)? {
        Value::String(x) => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn ts(entity: &'static str, v: &Value, ptr: &str) -> Result<Option<DateTime<Utc>>> {
    match v.pointer(ptr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(x)) if x.is_empty() => Ok(None),
        Some(Value::String(x)) => parse_ts(x).map(Some).ok_or_else(|| Error::Timestamp {
            entity,
            field: ptr.trim_start_matches('/').replace('/', "."),
            value: x.clone(),
        }),
        Some(_) => Err(field(entity, ptr.trim_start_matches('/'))),
    }
}

fn join(names: impl Iterator<Item = String>) -> Option<String> {
    let v: Vec<String> = names.filter(|n| !n.is_empty()).collect();
    (!v.is_empty()).then(|| v.join(","))
}

fn names(v: Option<&Value>, key: &str) -> Option<String> {
    join(
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                o => o.get(key).and_then(Value::as_str).map(str::to_string),
            }),
    )
}

/// A number that Jira may hand over as a number or as text (`"-1"` in older sites).
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One sprint reference as found in an issue's sprint field: Cloud serves objects, Data
/// Center serves `com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=3,state=ACTIVE,…]`.
fn sprint_ref(v: &Value) -> Option<(i64, String)> {
    match v {
        Value::Object(_) => {
            let id = v.get("id").and_then(Value::as_i64)?;
            let state = v
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase();
            Some((id, state))
        }
        Value::String(text) => {
            let attr = |k: &str| {
                let start = text.find(&format!("{k}="))? + k.len() + 1;
                let rest = &text[start..];
                let end = rest.find([',', ']']).unwrap_or(rest.len());
                Some(rest[..end].to_string())
            };
            let id = attr("id")?.parse().ok()?;
            Some((id, attr("state").unwrap_or_default().to_lowercase()))
        }
        _ => None,
    }
}

impl Issue {
    /// Parse an issue from a search or issue payload (Cloud v3, Data Center v2 or the Agile
    /// API; they share the `fields` shape flowlake reads).
    pub fn from_json(v: &Value, fields: &FieldMap) -> Result<Self> {
        const E: &str = "jira issue";
        let issue_id = s(v, "/id").ok_or_else(|| field(E, "id"))?;
        let issue_key = s(v, "/key").ok_or_else(|| field(E, "key"))?;
        let f = v.get("fields").ok_or_else(|| field(E, "fields"))?;
        let project_key = s(f, "/project/key")
            .or_else(|| issue_key.rsplit_once('-').map(|(p, _)| p.to_string()))
            .ok_or_else(|| field(E, "fields.project.key"))?;
        let custom = |id: &Option<String>| id.as_ref().and_then(|id| f.get(id.as_str()));
        let sprints: Vec<(i64, String)> = custom(&fields.sprint)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(sprint_ref)
            .collect();
        let sprint_id = sprints
            .iter()
            .find(|(_, st)| st == "active")
            .or_else(|| sprints.iter().max_by_key(|(id, _)| *id))
            .map(|(id, _)| *id);
        let parent_key = s(f, "/parent/key");
        let parent_is_epic = f.pointer("/parent/fields/issuetype").is_some_and(|t| {
            t.get("hierarchyLevel").and_then(Value::as_i64) == Some(1)
                || t.get("name").and_then(Value::as_str) == Some("Epic")
        });
        let epic_key = custom(&fields.epic_link)
            .and_then(|e| match e {
                Value::String(k) if !k.is_empty() => Some(k.clone()),
                o => o.get("key").and_then(Value::as_str).map(str::to_string),
            })
            .or_else(|| parent_is_epic.then(|| parent_key.clone()).flatten());
        let person = |p: &str| {
            s(f, &format!("/{p}/accountId"))
                .or_else(|| s(f, &format!("/{p}/key")))
                .or_else(|| s(f, &format!("/{p}/name")))
        };
        Ok(Issue {
            issue_id,
            issue_key,
            project_key,
            issue_type: s(f, "/issuetype/name"),
            summary: s(f, "/summary"),
            status: s(f, "/status/name"),
            status_id: s(f, "/status/id"),
            status_category: s(f, "/status/statusCategory/key"),
            priority: s(f, "/priority/name"),
            created_at: ts(E, f, "/created")?,
            updated_at: ts(E, f, "/updated")?,
            resolution_date: ts(E, f, "/resolutiondate")?,
            story_points: number(custom(&fields.story_points)),
            epic_key,
            parent_key,
            sprint_id,
            sprint_ids: join(sprints.iter().map(|(id, _)| id.to_string())),
            assignee_account_id: person("assignee"),
            assignee_name: s(f, "/assignee/displayName"),
            assignee_email: s(f, "/assignee/emailAddress").filter(|e| !e.is_empty()),
            reporter_account_id: person("reporter"),
            labels: names(f.get("labels"), "name"),
            components: names(f.get("components"), "name"),
            fix_versions: names(f.get("fixVersions"), "name"),
            changelog_total: v.pointer("/changelog/total").and_then(Value::as_i64),
            deleted_at: None,
            deleted_reason: None,
        })
    }

    /// A tombstone for an issue that is gone (`reason`: `deleted` or `moved_out_of_scope`).
    pub fn tombstone(
        issue_id: &str,
        issue_key: &str,
        project_key: &str,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Self {
        Issue {
            issue_id: issue_id.to_string(),
            issue_key: issue_key.to_string(),
            project_key: project_key.to_string(),
            deleted_at: Some(at),
            deleted_reason: Some(reason.to_string()),
            ..Default::default()
        }
    }
}

impl ChangelogItem {
    /// Flatten changelog histories (the `histories` of an embedded changelog, or the
    /// `values` of the paged `/issue/{key}/changelog`) into one row per changed field.
    pub fn from_histories(issue_id: &str, issue_key: &str, histories: &Value) -> Result<Vec<Self>> {
        const E: &str = "jira changelog";
        let list = histories.as_array().ok_or_else(|| field(E, "histories"))?;
        let mut out = Vec::new();
        for h in list {
            let changelog_id = s(h, "/id").ok_or_else(|| field(E, "histories[].id"))?;
            let created_at = ts(E, h, "/created")?;
            let author = s(h, "/author/accountId")
                .or_else(|| s(h, "/author/key"))
                .or_else(|| s(h, "/author/name"));
            let items = h
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| field(E, "histories[].items"))?;
            for (i, it) in items.iter().enumerate() {
                out.push(ChangelogItem {
                    issue_id: issue_id.to_string(),
                    issue_key: issue_key.to_string(),
                    changelog_id: changelog_id.clone(),
                    item_index: i as i64,
                    created_at,
                    author_account_id: author.clone(),
                    field: s(it, "/field").ok_or_else(|| field(E, "items[].field"))?,
                    field_id: s(it, "/fieldId"),
                    field_type: s(it, "/fieldtype"),
                    from_value: s(it, "/from"),
                    from_string: s(it, "/fromString"),
                    to_value: s(it, "/to"),
                    to_string: s(it, "/toString"),
                });
            }
        }
        Ok(out)
    }
}

impl Sprint {
    /// Parse an Agile API sprint read from board `board_id`.
    pub fn from_json(board_id: i64, v: &Value) -> Result<Self> {
        const E: &str = "jira sprint";
        Ok(Sprint {
            sprint_id: v
                .get("id")
                .and_then(Value::as_i64)
                .ok_or_else(|| field(E, "id"))?,
            board_id,
            origin_board_id: v.get("originBoardId").and_then(Value::as_i64),
            name: s(v, "/name"),
            state: s(v, "/state").map(|x| x.to_lowercase()),
            start_date: ts(E, v, "/startDate")?,
            end_date: ts(E, v, "/endDate")?,
            complete_date: ts(E, v, "/completeDate")?,
            goal: s(v, "/goal").filter(|g| !g.is_empty()),
        })
    }
}

impl Board {
    /// Parse an Agile API board listed for `project_key`.
    pub fn from_json(project_key: &str, v: &Value) -> Result<Self> {
        Ok(Board {
            board_id: v
                .get("id")
                .and_then(Value::as_i64)
                .ok_or_else(|| field("jira board", "id"))?,
            name: s(v, "/name"),
            board_type: s(v, "/type"),
            project_key: Some(project_key.to_string()),
        })
    }
}

impl Status {
    /// Parse one entry of `/status`.
    pub fn from_json(v: &Value) -> Result<Self> {
        Ok(Status {
            status_id: s(v, "/id").ok_or_else(|| field("jira status", "id"))?,
            name: s(v, "/name"),
            category_key: s(v, "/statusCategory/key"),
        })
    }
}

/// Quote a value for JQL: `"PAY"`, with `"` and `\` escaped, so a project key (or any
/// user-supplied text) can never change the query's meaning.
pub fn jql_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_center_sprint_strings_parse() {
        let v = json!(
            "com.atlassian.greenhopper.service.sprint.Sprint@5d3f[id=12,rapidViewId=3,state=ACTIVE,name=S 4,startDate=2024-01-01T00:00:00.000Z]"
        );
        assert_eq!(sprint_ref(&v), Some((12, "active".into())));
        assert_eq!(
            sprint_ref(&json!({"id": 7, "state": "closed"})),
            Some((7, "closed".into()))
        );
    }

    #[test]
    fn jql_quote_escapes() {
        assert_eq!(jql_quote("PAY"), "\"PAY\"");
        assert_eq!(jql_quote("A\" OR 1=1 \\"), "\"A\\\" OR 1=1 \\\\\"");
    }

    #[test]
    fn field_discovery_prefers_schema_and_keeps_overrides() {
        let fields = json!([
            {"id": "customfield_1", "name": "Sprint", "schema": {"custom": SPRINT_TYPE}},
            {"id": "customfield_2", "name": "Story point estimate"},
            {"id": "customfield_3", "name": "Story Points"},
            {"id": "customfield_4", "name": "Epic Link", "schema": {"custom": EPIC_LINK_TYPE}},
        ]);
        let m = FieldMap::default().discover(&fields).unwrap();
        assert_eq!(m.sprint.as_deref(), Some("customfield_1"));
        assert_eq!(m.story_points.as_deref(), Some("customfield_3"));
        assert_eq!(m.epic_link.as_deref(), Some("customfield_4"));
        let o = FieldMap {
            story_points: Some("customfield_9".into()),
            ..Default::default()
        }
        .discover(&fields)
        .unwrap();
        assert_eq!(o.story_points.as_deref(), Some("customfield_9"));
    }
}
