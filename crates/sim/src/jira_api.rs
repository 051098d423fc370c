//! The Jira routes of `docs/jira-api.md`: Cloud (`/rest/api/3`) and Data Center
//! (`/rest/api/2`) on one site, the Agile API, a JQL subset, token and offset paging, the
//! embedded changelog cap and the paged changelog.
//!
//! The REST version picks the flavour of every payload: v3 answers like Jira Cloud (people by
//! `accountId`, sprint objects, story points in `customfield_10024`), v2 like Data Center
//! (people by `key`/`name`, sprint strings, story points in `customfield_10106`), so a client
//! must discover the custom fields from `/field`. Every route is also served under
//! `/ex/jira/{cloudId}` (the OAuth 2.0 base URL).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use crate::jira::{Change, History, IssueState, JiraIssue, JiraSprint, JiraStatus, OPS_KEY};
use crate::org::Org;
use crate::server::{AppState, Reply};

type St = State<std::sync::Arc<AppState>>;
type Params = Path<HashMap<String, String>>;
type Q = Query<Vec<(String, String)>>;

/// Histories embedded in a Cloud issue (the rest is paged from `/issue/{id}/changelog`).
pub(crate) const EMBEDDED_HISTORIES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Cloud,
    Dc,
}

impl Flavour {
    fn of(p: &HashMap<String, String>) -> Flavour {
        if p.get("v").map(String::as_str) == Some("2") {
            Flavour::Dc
        } else {
            Flavour::Cloud
        }
    }

    fn story_points(self) -> &'static str {
        match self {
            Flavour::Cloud => "customfield_10024",
            Flavour::Dc => "customfield_10106",
        }
    }

    fn sprint(self) -> &'static str {
        match self {
            Flavour::Cloud => "customfield_10020",
            Flavour::Dc => "customfield_10104",
        }
    }

    fn epic_link(self) -> &'static str {
        match self {
            Flavour::Cloud => "customfield_10014",
            Flavour::Dc => "customfield_10101",
        }
    }

    fn rank(self) -> &'static str {
        match self {
            Flavour::Cloud => "customfield_10019",
            Flavour::Dc => "customfield_10105",
        }
    }
}

/// `2024-03-01T09:30:00.000+0000`, as Jira's REST API prints times.
pub(crate) fn jira_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// `2024-03-01T09:30:00.000Z`, as the Agile API prints sprint dates.
fn agile_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn error(status: StatusCode, msg: &str) -> Reply {
    Reply::json(status, &json!({ "errorMessages": [msg], "errors": {} }))
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn num(q: &[(String, String)], k: &str) -> Result<Option<usize>, Reply> {
    match param(q, k) {
        None => Ok(None),
        Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("The value '{v}' is not valid for the parameter '{k}'."),
            )
        }),
    }
}

fn user(org: &Org, person: usize, f: Flavour) -> Value {
    let u = org.jira_user(person);
    match f {
        Flavour::Cloud => {
            let mut v = json!({
                "accountId": u.account_id,
                "displayName": u.display_name,
                "active": true,
                "timeZone": "UTC",
                "accountType": "atlassian",
            });
            if let Some(e) = u.cloud_email {
                v["emailAddress"] = json!(e);
            }
            v
        }
        Flavour::Dc => json!({
            "key": u.username,
            "name": u.username,
            "displayName": u.display_name,
            "emailAddress": u.dc_email,
            "active": true,
            "timeZone": "UTC",
        }),
    }
}

fn user_ref(org: &Org, person: Option<usize>, f: Flavour) -> (Value, Value) {
    match person {
        None => (Value::Null, Value::Null),
        Some(p) => {
            let u = org.jira_user(p);
            let id = match f {
                Flavour::Cloud => u.account_id,
                Flavour::Dc => u.username,
            };
            (json!(id), json!(u.display_name))
        }
    }
}

fn status_json(s: JiraStatus) -> Value {
    let (cid, cname, color) = match s.category() {
        "new" => (2, "To Do", "blue-gray"),
        "done" => (3, "Done", "green"),
        _ => (4, "In Progress", "yellow"),
    };
    json!({
        "id": s.id(),
        "name": s.name(),
        "statusCategory": { "id": cid, "key": s.category(), "name": cname, "colorName": color },
    })
}

fn issue_type_json(name: &str) -> Value {
    let (id, level) = match name {
        "Epic" => ("10000", 1),
        "Story" => ("10001", 0),
        "Task" => ("10002", 0),
        "Bug" => ("10004", 0),
        _ => ("10005", 0),
    };
    json!({ "id": id, "name": name, "subtask": false, "hierarchyLevel": level })
}

fn sprint_by_id(org: &Org, id: u64) -> Option<&JiraSprint> {
    let board = id / 1_000;
    let p = org.projects.get((board as usize).checked_sub(1)?)?;
    p.jira()
        .sprints
        .get(((id % 1_000) as usize).checked_sub(1)?)
}

fn sprint_field(org: &Org, ids: &[u64], f: Flavour, now: DateTime<Utc>) -> Value {
    if ids.is_empty() {
        return Value::Null;
    }
    let list = ids
        .iter()
        .filter_map(|&id| sprint_by_id(org, id))
        .map(|s| {
            let state = s.state_at(now);
            match f {
                Flavour::Cloud => {
                    let mut v = json!({
                        "id": s.id,
                        "name": s.name,
                        "state": state,
                        "boardId": s.board_id,
                        "goal": "",
                        "startDate": agile_ts(s.start),
                        "endDate": agile_ts(s.end),
                    });
                    if state == "closed" {
                        v["completeDate"] = json!(agile_ts(s.complete));
                    }
                    v
                }
                Flavour::Dc => {
                    let complete = if state == "closed" {
                        agile_ts(s.complete)
                    } else {
                        "<null>".to_string()
                    };
                    json!(format!(
                        "com.atlassian.greenhopper.service.sprint.Sprint@{:x}[id={},rapidViewId={},state={},name={},startDate={},endDate={},completeDate={},sequence={},goal=]",
                        crate::util::mix(s.id) & 0xff_ffff,
                        s.id,
                        s.board_id,
                        state.to_ascii_uppercase(),
                        s.name,
                        agile_ts(s.start),
                        agile_ts(s.end),
                        complete,
                        s.id
                    ))
                }
            }
        })
        .collect();
    Value::Array(list)
}

fn sprint_text(org: &Org, ids: &[u64]) -> (String, String) {
    let idt: Vec<String> = ids.iter().map(u64::to_string).collect();
    let names: Vec<String> = ids
        .iter()
        .map(|&id| sprint_by_id(org, id).map_or_else(|| id.to_string(), |s| s.name.clone()))
        .collect();
    (idt.join(", "), names.join(", "))
}

fn item(
    field: &str,
    ftype: &str,
    id: Option<&str>,
    from: Value,
    fs: Value,
    to: Value,
    ts: Value,
) -> Value {
    let mut v = json!({
        "field": field,
        "fieldtype": ftype,
        "from": from,
        "fromString": fs,
        "to": to,
        "toString": ts,
    });
    if let Some(id) = id {
        v["fieldId"] = json!(id);
    }
    v
}

fn history_json(org: &Org, h: &History, f: Flavour) -> Value {
    let mut items = Vec::new();
    for c in &h.changes {
        match c {
            Change::Status { from, to } => items.push(item(
                "status",
                "jira",
                Some("status"),
                json!(from.id()),
                json!(from.name()),
                json!(to.id()),
                json!(to.name()),
            )),
            Change::Assignee { from, to } => {
                let (fi, fs) = user_ref(org, *from, f);
                let (ti, ts) = user_ref(org, *to, f);
                items.push(item("assignee", "jira", Some("assignee"), fi, fs, ti, ts));
            }
            Change::StoryPoints { from, to } => items.push(item(
                "Story Points",
                "custom",
                Some(f.story_points()),
                Value::Null,
                from.map_or(Value::Null, |x| json!(x.to_string())),
                Value::Null,
                to.map_or(Value::Null, |x| json!(x.to_string())),
            )),
            Change::Sprint { from, to } => {
                let (fi, fs) = sprint_text(org, from);
                let (ti, ts) = sprint_text(org, to);
                items.push(item(
                    "Sprint",
                    "custom",
                    Some(f.sprint()),
                    json!(fi),
                    json!(fs),
                    json!(ti),
                    json!(ts),
                ));
            }
            Change::Rank => items.push(item(
                "Rank",
                "custom",
                Some(f.rank()),
                json!(""),
                json!(""),
                json!(""),
                json!("Ranked higher"),
            )),
            Change::Moved {
                from_project,
                to_project,
                from_key,
                to_key,
            } => {
                let pid = |k: &str| {
                    org.jira_data(k)
                        .map_or(Value::Null, |d| json!(d.project_id.to_string()))
                };
                let pname = |k: &str| org.jira_project_name(k).map_or(Value::Null, |n| json!(n));
                items.push(item(
                    "project",
                    "jira",
                    Some("project"),
                    pid(from_project),
                    pname(from_project),
                    pid(to_project),
                    pname(to_project),
                ));
                items.push(item(
                    "Key",
                    "jira",
                    None,
                    Value::Null,
                    json!(from_key),
                    Value::Null,
                    json!(to_key),
                ));
            }
        }
    }
    json!({
        "id": h.id.to_string(),
        "author": user(org, h.author, f),
        "created": jira_ts(h.at),
        "items": items,
    })
}

/// Which fields a request asked for (`None`: all of them).
fn field_selection(q: &[(String, String)]) -> Option<Vec<String>> {
    let raw = param(q, "fields")?;
    let list: Vec<String> = raw
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    if list.is_empty() || list.iter().any(|x| x == "*all" || x == "*navigable") {
        None
    } else {
        Some(list)
    }
}

fn wants_changelog(q: &[(String, String)]) -> bool {
    param(q, "expand").is_some_and(|e| e.split(',').any(|x| x.trim() == "changelog"))
}

struct Render<'a> {
    org: &'a Org,
    f: Flavour,
    now: DateTime<Utc>,
    fields: Option<Vec<String>>,
    changelog: bool,
}

impl Render<'_> {
    fn issue(&self, i: &JiraIssue, st: &IssueState) -> Value {
        let org = self.org;
        let f = self.f;
        let project = org.jira_data(&st.project);
        let mut m = Map::new();
        let want = |name: &str| {
            self.fields
                .as_ref()
                .is_none_or(|l| l.iter().any(|x| x == name))
        };
        let mut put = |k: &str, v: Value| {
            if want(k) {
                m.insert(k.to_string(), v);
            }
        };
        put("summary", json!(i.summary));
        put("issuetype", issue_type_json(i.issue_type));
        put("status", status_json(st.status));
        put("priority", json!({ "name": i.priority }));
        put(
            "project",
            json!({
                "id": project.map(|p| p.project_id.to_string()),
                "key": st.project,
                "name": org.jira_project_name(&st.project),
                "projectTypeKey": "software",
            }),
        );
        put("created", json!(jira_ts(i.created_at)));
        put("updated", json!(jira_ts(st.updated)));
        put(
            "resolutiondate",
            st.resolved.map_or(Value::Null, |t| json!(jira_ts(t))),
        );
        put(
            "resolution",
            if st.resolved.is_some() {
                json!({ "id": "10000", "name": "Done" })
            } else {
                Value::Null
            },
        );
        put(
            "assignee",
            st.assignee.map_or(Value::Null, |a| user(org, a, f)),
        );
        put("reporter", user(org, i.reporter, f));
        put("labels", json!(i.labels));
        put(
            "components",
            Value::Array(i.components.iter().map(|c| json!({ "name": c })).collect()),
        );
        put("fixVersions", json!([]));
        if f == Flavour::Cloud
            && let Some(e) = &i.epic
        {
            let epic = org.jira_issue_at(e, self.now);
            put(
                "parent",
                json!({
                    "id": epic.as_ref().map(|(x, _)| x.id.to_string()),
                    "key": e,
                    "fields": {
                        "summary": epic.as_ref().map(|(x, _)| x.summary.clone()),
                        "issuetype": issue_type_json("Epic"),
                    },
                }),
            );
        }
        put(
            f.story_points(),
            if i.issue_type == "Story" {
                st.story_points.map_or(Value::Null, |x| json!(f64::from(x)))
            } else {
                Value::Null
            },
        );
        put(f.sprint(), sprint_field(org, &st.sprints, f, self.now));
        put(
            f.epic_link(),
            i.epic.as_ref().map_or(Value::Null, |e| json!(e)),
        );
        put(f.rank(), json!(format!("0|i{:05x}:", i.id % 0xf_ffff)));
        if f == Flavour::Cloud {
            put("customfield_10016", Value::Null);
        }
        let mut v = json!({
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": i.id.to_string(),
            "key": st.key,
            "fields": Value::Object(m),
        });
        if self.changelog {
            let hs = i.histories_at(self.now);
            let shown = match f {
                Flavour::Cloud => &hs[..hs.len().min(EMBEDDED_HISTORIES)],
                Flavour::Dc => hs,
            };
            v["changelog"] = json!({
                "startAt": 0,
                "maxResults": shown.len(),
                "total": hs.len(),
                "histories": shown.iter().map(|h| history_json(org, h, f)).collect::<Vec<_>>(),
            });
        }
        v
    }
}

// ---- JQL ----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let q = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match cs.get(i) {
                        None => return Err("the quoted value is not terminated".to_string()),
                        Some('\\') => {
                            let n = cs.get(i + 1).ok_or("a backslash ends the query")?;
                            v.push(*n);
                            i += 2;
                        }
                        Some(&x) if x == q => {
                            i += 1;
                            break;
                        }
                        Some(&x) => {
                            v.push(x);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            '=' | '!' | '<' | '>' | '~' => {
                let mut op = c.to_string();
                if cs.get(i + 1) == Some(&'=') || (c == '!' && cs.get(i + 1) == Some(&'~')) {
                    op.push(cs[i + 1]);
                    i += 1;
                }
                out.push(Tok::Op(op));
                i += 1;
            }
            _ => {
                let mut v = String::new();
                while let Some(&x) = cs.get(i) {
                    if x.is_whitespace() || "(),=!<>~\"'".contains(x) {
                        break;
                    }
                    v.push(x);
                    i += 1;
                }
                out.push(Tok::Word(v));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SortKey {
    Updated,
    Created,
    Key,
}

#[derive(Debug, Default)]
struct Jql {
    projects: Option<Vec<String>>,
    issue_types: Option<Vec<String>>,
    updated_from: Option<(DateTime<Utc>, bool)>,
    created_from: Option<(DateTime<Utc>, bool)>,
    order: Vec<(SortKey, bool)>,
}

fn jql_date(field: &str, v: &str) -> Result<DateTime<Utc>, String> {
    let v = v.trim();
    for fmt in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Ok(t.and_utc());
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(v, fmt)
            && let Some(t) = d.and_hms_opt(0, 0, 0)
        {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "Date value '{v}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    ))
}

fn parse_jql(text: &str) -> Result<Jql, String> {
    let toks = tokenize(text)?;
    let mut q = Jql::default();
    let mut i = 0;
    let word = |t: Option<&Tok>| match t {
        Some(Tok::Word(w)) => Some(w.to_ascii_lowercase()),
        _ => None,
    };
    let value = |t: Option<&Tok>| match t {
        Some(Tok::Word(w)) | Some(Tok::Str(w)) => Some(w.clone()),
        _ => None,
    };
    let expecting = |what: &str, t: Option<&Tok>| {
        format!(
            "Error in the JQL Query: Expecting {what} but got {}.",
            match t {
                None => "the end of the query".to_string(),
                Some(Tok::Word(w)) | Some(Tok::Str(w)) => format!("'{w}'"),
                Some(Tok::Op(o)) => format!("'{o}'"),
                Some(Tok::LParen) => "'('".to_string(),
                Some(Tok::RParen) => "')'".to_string(),
                Some(Tok::Comma) => "','".to_string(),
            }
        )
    };
    // Clauses joined by AND.
    if word(toks.first()).as_deref() != Some("order") && !toks.is_empty() {
        loop {
            let field = word(toks.get(i)).ok_or_else(|| expecting("a field name", toks.get(i)))?;
            i += 1;
            let op = match toks.get(i) {
                Some(Tok::Op(o)) => o.clone(),
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => "in".to_string(),
                t => return Err(expecting("an operator", t)),
            };
            i += 1;
            let values = if op == "in" {
                if toks.get(i) != Some(&Tok::LParen) {
                    return Err(expecting("'('", toks.get(i)));
                }
                i += 1;
                let mut vs = Vec::new();
                loop {
                    vs.push(value(toks.get(i)).ok_or_else(|| expecting("a value", toks.get(i)))?);
                    i += 1;
                    match toks.get(i) {
                        Some(Tok::Comma) => i += 1,
                        Some(Tok::RParen) => {
                            i += 1;
                            break;
                        }
                        t => return Err(expecting("',' or ')'", t)),
                    }
                }
                vs
            } else {
                let v = value(toks.get(i)).ok_or_else(|| expecting("a value", toks.get(i)))?;
                i += 1;
                vec![v]
            };
            match (field.as_str(), op.as_str()) {
                ("project", "=" | "in") => q.projects = Some(values),
                ("issuetype" | "type", "=" | "in") => q.issue_types = Some(values),
                ("updated" | "created", ">=" | ">") => {
                    let t = jql_date(&field, &values[0])?;
                    let v = Some((t, op == ">"));
                    if field == "updated" {
                        q.updated_from = v;
                    } else {
                        q.created_from = v;
                    }
                }
                ("project" | "issuetype" | "type" | "updated" | "created", _) => {
                    return Err(format!(
                        "flowlake-sim does not support the operator '{op}' for the field '{field}'."
                    ));
                }
                _ => {
                    return Err(format!(
                        "Field '{field}' does not exist or you do not have permission to view it."
                    ));
                }
            }
            match word(toks.get(i)).as_deref() {
                Some("and") => i += 1,
                Some("order") | None => break,
                _ => return Err(expecting("'AND' or 'ORDER BY'", toks.get(i))),
            }
        }
    }
    if word(toks.get(i)).as_deref() == Some("order") {
        i += 1;
        if word(toks.get(i)).as_deref() != Some("by") {
            return Err(expecting("'BY'", toks.get(i)));
        }
        i += 1;
        loop {
            let key = match word(toks.get(i)).as_deref() {
                Some("updated") => SortKey::Updated,
                Some("created") => SortKey::Created,
                Some("key" | "issuekey" | "id") => SortKey::Key,
                _ => return Err(expecting("a field to order by", toks.get(i))),
            };
            i += 1;
            let asc = match word(toks.get(i)).as_deref() {
                Some("asc") => {
                    i += 1;
                    true
                }
                Some("desc") => {
                    i += 1;
                    false
                }
                _ => true,
            };
            q.order.push((key, asc));
            if toks.get(i) == Some(&Tok::Comma) {
                i += 1;
            } else {
                break;
            }
        }
    }
    if let Some(t) = toks.get(i) {
        return Err(expecting("the end of the query", Some(t)));
    }
    Ok(q)
}

fn key_order(key: &str) -> (String, u64) {
    match key.rsplit_once('-') {
        Some((p, n)) => (p.to_string(), n.parse().unwrap_or(0)),
        None => (key.to_string(), 0),
    }
}

/// Runs a JQL query at `now`: the matching issues in the query's order.
fn run_jql<'a>(
    org: &'a Org,
    jql: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(&'a JiraIssue, IssueState)>, Reply> {
    let q = parse_jql(jql).map_err(|e| error(StatusCode::BAD_REQUEST, &e))?;
    let keys: Vec<String> = match &q.projects {
        None => org
            .jira_project_keys()
            .iter()
            .map(|k| k.to_string())
            .collect(),
        Some(ps) => {
            let mut out = Vec::new();
            for p in ps {
                let canon = org
                    .jira_project_key(p)
                    .or_else(|| {
                        // A project id works too.
                        let id: u64 = p.parse().ok()?;
                        org.jira_project_keys()
                            .into_iter()
                            .find(|k| org.jira_data(k).is_some_and(|d| d.project_id == id))
                    })
                    .ok_or_else(|| {
                        error(
                            StatusCode::BAD_REQUEST,
                            &format!("The value '{p}' does not exist for the field 'project'."),
                        )
                    })?;
                out.push(canon.to_string());
            }
            out
        }
    };
    let mut rows = Vec::new();
    for k in &keys {
        rows.extend(org.jira_issues_at(k, now));
    }
    rows.retain(|(i, st)| {
        q.issue_types
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| t.eq_ignore_ascii_case(i.issue_type)))
            && q.updated_from.is_none_or(|(t, strict)| {
                if strict {
                    st.updated > t
                } else {
                    st.updated >= t
                }
            })
            && q.created_from.is_none_or(|(t, strict)| {
                if strict {
                    i.created_at > t
                } else {
                    i.created_at >= t
                }
            })
    });
    let order = if q.order.is_empty() {
        vec![(SortKey::Key, true)]
    } else {
        q.order
    };
    rows.sort_by(|(a, sa), (b, sb)| {
        for (k, asc) in &order {
            let o = match k {
                SortKey::Updated => sa.updated.cmp(&sb.updated),
                SortKey::Created => a.created_at.cmp(&b.created_at),
                SortKey::Key => key_order(&sa.key).cmp(&key_order(&sb.key)),
            };
            let o = if *asc { o } else { o.reverse() };
            if o.is_ne() {
                return o;
            }
        }
        key_order(&sa.key).cmp(&key_order(&sb.key))
    });
    Ok(rows)
}

fn page_size(q: &[(String, String)], default: usize, max: usize) -> Result<usize, Reply> {
    Ok(num(q, "maxResults")?.unwrap_or(default).clamp(1, max))
}

/// The largest search page: 100 issues, or 1,000 when only `id` and `key` are asked for and no
/// changelog (Jira Cloud's change notice "GET search optimized for fields id and key"; Data
/// Center's `jira.search.views.default.max` is 1,000 too).
fn search_page_max(q: &[(String, String)]) -> usize {
    let ids_only = param(q, "fields")
        .is_some_and(|f| f.split(',').map(str::trim).all(|x| x == "id" || x == "key"));
    let changelog = param(q, "expand").is_some_and(|e| e.contains("changelog"));
    if ids_only && !changelog { 1000 } else { 100 }
}

fn encode_token(offset: usize) -> String {
    crate::util::b64_encode(format!("flowlake-sim:{offset}").as_bytes())
        .trim_end_matches('=')
        .to_string()
}

fn decode_token(t: &str) -> Option<usize> {
    let b = crate::util::b64_decode(t.trim())?;
    String::from_utf8(b)
        .ok()?
        .strip_prefix("flowlake-sim:")?
        .parse()
        .ok()
}

// ---- handlers -----------------------------------------------------------------------

async fn myself(State(s): St, Path(p): Params, headers: HeaderMap) -> Response {
    let f = Flavour::of(&p);
    s.respond_jira(&headers, "jira:myself", |s, _| {
        let display = "flowlake sim";
        let v = match f {
            Flavour::Cloud => json!({
                "accountId": format!("{:024x}", crate::util::mix(s.config.seed ^ 0x5e1f) as u128),
                "displayName": display,
                "emailAddress": s.config.jira_email,
                "active": true,
                "timeZone": "UTC",
                "accountType": "atlassian",
            }),
            Flavour::Dc => json!({
                "key": "flowlake-sim",
                "name": "flowlake-sim",
                "displayName": display,
                "emailAddress": s.config.jira_email,
                "active": true,
                "timeZone": "UTC",
            }),
        };
        Reply::json(StatusCode::OK, &v)
    })
    .await
}

fn system_field(id: &str, name: &str, ty: &str) -> Value {
    json!({
        "id": id, "key": id, "name": name, "custom": false, "orderable": true,
        "navigable": true, "searchable": true, "clauseNames": [id],
        "schema": { "type": ty, "system": id },
    })
}

fn custom_field(id: &str, name: &str, ty: &str, custom: &str) -> Value {
    let custom_id: u64 = id
        .trim_start_matches("customfield_")
        .parse()
        .unwrap_or_default();
    json!({
        "id": id, "key": id, "name": name, "untranslatedName": name, "custom": true,
        "orderable": true, "navigable": true, "searchable": true,
        "clauseNames": [format!("cf[{custom_id}]"), name],
        "schema": { "type": ty, "custom": custom, "customId": custom_id },
    })
}

async fn fields(State(s): St, Path(p): Params, headers: HeaderMap) -> Response {
    let f = Flavour::of(&p);
    s.respond_jira(&headers, "jira:field", |_, _| {
        let mut v = vec![
            system_field("summary", "Summary", "string"),
            system_field("issuetype", "Issue Type", "issuetype"),
            system_field("status", "Status", "status"),
            system_field("priority", "Priority", "priority"),
            system_field("project", "Project", "project"),
            system_field("created", "Created", "datetime"),
            system_field("updated", "Updated", "datetime"),
            system_field("resolutiondate", "Resolved", "datetime"),
            system_field("assignee", "Assignee", "user"),
            system_field("reporter", "Reporter", "user"),
            system_field("labels", "Labels", "array"),
            system_field("components", "Components", "array"),
            system_field("fixVersions", "Fix versions", "array"),
            custom_field(
                f.story_points(),
                "Story Points",
                "number",
                "com.atlassian.jira.plugin.system.customfieldtypes:float",
            ),
            custom_field(
                f.sprint(),
                "Sprint",
                "array",
                "com.pyxis.greenhopper.jira:gh-sprint",
            ),
            custom_field(
                f.epic_link(),
                "Epic Link",
                "any",
                "com.pyxis.greenhopper.jira:gh-epic-link",
            ),
            custom_field(
                f.rank(),
                "Rank",
                "any",
                "com.pyxis.greenhopper.jira:gh-lexo-rank",
            ),
        ];
        if f == Flavour::Cloud {
            v.insert(13, system_field("parent", "Parent", "issuelink"));
            v.push(custom_field(
                "customfield_10016",
                "Story point estimate",
                "number",
                "com.pyxis.greenhopper.jira:jsw-story-points",
            ));
        }
        Reply::json(StatusCode::OK, &Value::Array(v))
    })
    .await
}

async fn statuses(State(s): St, headers: HeaderMap) -> Response {
    s.respond_jira(&headers, "jira:status", |_, _| {
        let v: Vec<Value> = JiraStatus::ALL.iter().map(|&x| status_json(x)).collect();
        Reply::json(StatusCode::OK, &Value::Array(v))
    })
    .await
}

fn project_json(org: &Org, key: &str) -> Option<Value> {
    let d = org.jira_data(key)?;
    Some(json!({
        "id": d.project_id.to_string(),
        "key": key,
        "name": org.jira_project_name(key),
        "projectTypeKey": "software",
        "simplified": false,
        "style": "classic",
    }))
}

fn find_project<'a>(org: &'a Org, key_or_id: &str) -> Option<&'a str> {
    org.jira_project_key(key_or_id).or_else(|| {
        let id: u64 = key_or_id.parse().ok()?;
        org.jira_project_keys()
            .into_iter()
            .find(|k| org.jira_data(k).is_some_and(|d| d.project_id == id))
    })
}

async fn project(State(s): St, Path(p): Params, headers: HeaderMap) -> Response {
    let key = p.get("key").cloned().unwrap_or_default();
    s.respond_jira(&headers, "jira:project", |s, _| {
        match find_project(&s.org, &key).and_then(|k| project_json(&s.org, k)) {
            Some(v) => Reply::json(StatusCode::OK, &v),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("No project could be found with key '{key}'."),
            ),
        }
    })
    .await
}

async fn search_jql(State(s): St, Path(p): Params, Query(q): Q, headers: HeaderMap) -> Response {
    let f = Flavour::of(&p);
    s.respond_jira(&headers, "jira:search_jql", |s, now| {
        let run = || -> Result<Value, Reply> {
            let jql = param(&q, "jql").unwrap_or("");
            let size = page_size(&q, 50, search_page_max(&q))?;
            let offset = match param(&q, "nextPageToken") {
                None => 0,
                Some(t) => decode_token(t).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        "The provided next page token is invalid.",
                    )
                })?,
            };
            let rows = run_jql(&s.org, jql, now)?;
            let r = Render {
                org: &s.org,
                f,
                now,
                fields: field_selection(&q),
                changelog: wants_changelog(&q),
            };
            let page: Vec<Value> = rows
                .iter()
                .skip(offset)
                .take(size)
                .map(|(i, st)| r.issue(i, st))
                .collect();
            let next = offset + page.len();
            let mut v = json!({ "issues": page, "isLast": next >= rows.len() });
            if next < rows.len() {
                v["nextPageToken"] = json!(encode_token(next));
            }
            Ok(v)
        };
        match run() {
            Ok(v) => Reply::json(StatusCode::OK, &v),
            Err(e) => e,
        }
    })
    .await
}

async fn search(State(s): St, Path(p): Params, Query(q): Q, headers: HeaderMap) -> Response {
    let f = Flavour::of(&p);
    s.respond_jira(&headers, "jira:search", |s, now| {
        let run = || -> Result<Value, Reply> {
            let jql = param(&q, "jql").unwrap_or("");
            let size = page_size(&q, 50, search_page_max(&q))?;
            let start = num(&q, "startAt")?.unwrap_or(0);
            let rows = run_jql(&s.org, jql, now)?;
            let r = Render {
                org: &s.org,
                f,
                now,
                fields: field_selection(&q),
                changelog: wants_changelog(&q),
            };
            let page: Vec<Value> = rows
                .iter()
                .skip(start)
                .take(size)
                .map(|(i, st)| r.issue(i, st))
                .collect();
            Ok(json!({
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": rows.len(),
                "issues": page,
            }))
        };
        match run() {
            Ok(v) => Reply::json(StatusCode::OK, &v),
            Err(e) => e,
        }
    })
    .await
}

const NO_ISSUE: &str = "Issue does not exist or you do not have permission to see it.";

async fn issue(State(s): St, Path(p): Params, Query(q): Q, headers: HeaderMap) -> Response {
    let f = Flavour::of(&p);
    let id = p.get("id").cloned().unwrap_or_default();
    s.respond_jira(&headers, "jira:issue", |s, now| {
        let Some((i, st)) = s.org.jira_issue_at(&id, now) else {
            return error(StatusCode::NOT_FOUND, NO_ISSUE);
        };
        let r = Render {
            org: &s.org,
            f,
            now,
            fields: field_selection(&q),
            changelog: wants_changelog(&q),
        };
        Reply::json(StatusCode::OK, &r.issue(i, &st))
    })
    .await
}

async fn changelog(State(s): St, Path(p): Params, Query(q): Q, headers: HeaderMap) -> Response {
    let f = Flavour::of(&p);
    let id = p.get("id").cloned().unwrap_or_default();
    s.respond_jira(&headers, "jira:changelog", |s, now| {
        let Some((i, _)) = s.org.jira_issue_at(&id, now) else {
            return error(StatusCode::NOT_FOUND, NO_ISSUE);
        };
        let run = || -> Result<Value, Reply> {
            let size = page_size(&q, 100, 100)?;
            let start = num(&q, "startAt")?.unwrap_or(0);
            let hs = i.histories_at(now);
            let values: Vec<Value> = hs
                .iter()
                .skip(start)
                .take(size)
                .map(|h| history_json(&s.org, h, f))
                .collect();
            Ok(json!({
                "startAt": start,
                "maxResults": size,
                "total": hs.len(),
                "isLast": start + values.len() >= hs.len(),
                "values": values,
            }))
        };
        match run() {
            Ok(v) => Reply::json(StatusCode::OK, &v),
            Err(e) => e,
        }
    })
    .await
}

fn board_json(org: &Org, key: &str) -> Option<Value> {
    let d = org.jira_data(key)?;
    let kind = if key == OPS_KEY { "kanban" } else { "scrum" };
    Some(json!({
        "id": d.board_id,
        "name": format!("{key} board"),
        "type": kind,
        "location": {
            "projectId": d.project_id,
            "projectKey": key,
            "projectName": org.jira_project_name(key),
            "projectTypeKey": "software",
            "displayName": format!("{} ({key})", org.jira_project_name(key).unwrap_or_default()),
            "name": org.jira_project_name(key),
        },
    }))
}

async fn boards(State(s): St, Query(q): Q, headers: HeaderMap) -> Response {
    s.respond_jira(&headers, "jira:boards", |s, _| {
        let run = || -> Result<Value, Reply> {
            let size = page_size(&q, 50, 50)?;
            let start = num(&q, "startAt")?.unwrap_or(0);
            let keys: Vec<&str> = match param(&q, "projectKeyOrId") {
                None => s.org.jira_project_keys(),
                Some(k) => vec![find_project(&s.org, k).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        &format!("No project could be found with key or id '{k}'"),
                    )
                })?],
            };
            let all: Vec<Value> = keys.iter().filter_map(|k| board_json(&s.org, k)).collect();
            let values: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
            Ok(json!({
                "maxResults": size,
                "startAt": start,
                "total": all.len(),
                "isLast": start + values.len() >= all.len(),
                "values": values,
            }))
        };
        match run() {
            Ok(v) => Reply::json(StatusCode::OK, &v),
            Err(e) => e,
        }
    })
    .await
}

async fn board_sprints(State(s): St, Path(p): Params, Query(q): Q, headers: HeaderMap) -> Response {
    let board = p.get("board").cloned().unwrap_or_default();
    s.respond_jira(&headers, "jira:sprints", |s, now| {
        let org = &s.org;
        let id: Option<u64> = board.parse().ok();
        let n = org.projects.len() as u64;
        let Some(id) = id.filter(|&i| i >= 1 && i <= n + 1) else {
            return error(
                StatusCode::NOT_FOUND,
                "Board does not exist or you do not have permission to see it.",
            );
        };
        if id == n + 1 {
            return error(
                StatusCode::BAD_REQUEST,
                "The board does not support sprints",
            );
        }
        let run = || -> Result<Value, Reply> {
            let size = page_size(&q, 50, 50)?;
            let start = num(&q, "startAt")?.unwrap_or(0);
            let states: Option<Vec<String>> = param(&q, "state").map(|x| {
                x.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect()
            });
            let all: Vec<&JiraSprint> = org.projects[id as usize - 1]
                .jira()
                .sprints
                .iter()
                .filter(|sp| sp.visible_at(now))
                .filter(|sp| {
                    states
                        .as_ref()
                        .is_none_or(|st| st.iter().any(|x| x == sp.state_at(now)))
                })
                .collect();
            let values: Vec<Value> = all
                .iter()
                .skip(start)
                .take(size)
                .map(|sp| {
                    let state = sp.state_at(now);
                    let mut v = json!({
                        "id": sp.id,
                        "state": state,
                        "name": sp.name,
                        "startDate": agile_ts(sp.start),
                        "endDate": agile_ts(sp.end),
                        "originBoardId": sp.board_id,
                        "goal": "",
                    });
                    if state == "closed" {
                        v["completeDate"] = json!(agile_ts(sp.complete));
                    }
                    v
                })
                .collect();
            Ok(json!({
                "maxResults": size,
                "startAt": start,
                "isLast": start + values.len() >= all.len(),
                "values": values,
            }))
        };
        match run() {
            Ok(v) => Reply::json(StatusCode::OK, &v),
            Err(e) => e,
        }
    })
    .await
}

/// The Jira routes (merged at the root and nested under `/ex/jira/{cloud_id}`).
pub(crate) fn routes() -> Router<std::sync::Arc<AppState>> {
    Router::new()
        .route("/rest/api/{v}/myself", get(myself))
        .route("/rest/api/{v}/field", get(fields))
        .route("/rest/api/{v}/status", get(statuses))
        .route("/rest/api/{v}/project/{key}", get(project))
        .route("/rest/api/{v}/search/jql", get(search_jql))
        .route("/rest/api/{v}/search", get(search))
        .route("/rest/api/{v}/issue/{id}", get(issue))
        .route("/rest/api/{v}/issue/{id}/changelog", get(changelog))
        .route("/rest/agile/1.0/board", get(boards))
        .route("/rest/agile/1.0/board/{board}/sprint", get(board_sprints))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_subset_parses() {
        let q = parse_jql(
            r#"project = "PAY" AND updated >= "2024-03-01 09:30" ORDER BY updated ASC, key ASC"#,
        )
        .unwrap();
        assert_eq!(q.projects, Some(vec!["PAY".to_string()]));
        assert_eq!(
            q.updated_from.map(|(t, _)| jira_ts(t)).as_deref(),
            Some("2024-03-01T09:30:00.000+0000")
        );
        assert_eq!(
            q.order,
            vec![(SortKey::Updated, true), (SortKey::Key, true)]
        );
        let q = parse_jql(r#"project in ("A", "B\"C") AND issuetype = "Incident""#).unwrap();
        assert_eq!(q.projects, Some(vec!["A".to_string(), "B\"C".to_string()]));
        assert_eq!(q.issue_types, Some(vec!["Incident".to_string()]));
        assert!(parse_jql("ORDER BY key ASC").unwrap().projects.is_none());
        for bad in [
            "project = ",
            "project = \"PAY",
            "project = PAY OR project = X",
            "nosuchfield = 1",
            "updated >= \"yesterday\"",
        ] {
            assert!(parse_jql(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(300)), Some(300));
        assert_eq!(decode_token("garbage!"), None);
    }
}
