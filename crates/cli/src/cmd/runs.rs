//! `flowlake runs list|show|diff`: the audit trail, read from `<lake>/runs/*.json`.
//!
//! Manifests are written once and never rewritten (create-if-absent puts); this command only
//! reads them. `diff` compares two runs' effective configuration key by key (secrets were
//! redacted when the manifests were written), then their versions, outcomes and counts.

use std::collections::BTreeMap;

use anyhow::Result;
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use flowlake_lake::{Lake, RunManifest};
use serde_json::Value;

use crate::config::Config;
use crate::exit;
use crate::plan;

/// Append lines to `buf` with `writeln!` (writing to a String cannot fail).
macro_rules! w {
    ($buf:expr, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($buf, $($t)*);
    }};
}

/// `flowlake runs …`
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Every run, newest first: command, outcome, exit code, rows, requests, duration.
    List {
        /// Lake URL.
        #[arg(long)]
        lake: Option<String>,
        /// Show at most this many (newest first).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON lines on stdout (one manifest summary per line).
        #[arg(long)]
        json: bool,
    },
    /// One run's manifest.
    Show {
        /// The run id (a unique prefix is enough).
        id: String,
        /// Lake URL.
        #[arg(long)]
        lake: Option<String>,
        /// The manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What changed between two runs: configuration, version, outcome, counts.
    Diff {
        /// The earlier run id (or unique prefix).
        a: String,
        /// The later run id (or unique prefix).
        b: String,
        /// Lake URL.
        #[arg(long)]
        lake: Option<String>,
        /// The differences as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run a `runs` command.
pub async fn run(cmd: RunsCommand, cfg: &Config) -> Result<()> {
    let mut buf = String::new();
    render(cmd, cfg, &mut buf).await?;
    // One write: a closed pipe (`| head`) is an error `main` treats as success, not a panic.
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(buf.as_bytes())?;
    out.flush()?;
    Ok(())
}

async fn render(cmd: RunsCommand, cfg: &Config, buf: &mut String) -> Result<()> {
    match cmd {
        RunsCommand::List { lake, limit, json } => {
            let lake = plan::lake(lake.as_deref(), cfg).map_err(exit::usage)?;
            let mut runs = read_all(&lake).await?;
            runs.sort_by(|a, b| {
                b.started_at
                    .cmp(&a.started_at)
                    .then(b.run_id.cmp(&a.run_id))
            });
            runs.truncate(limit);
            if json {
                for m in &runs {
                    w!(buf, "{}", serde_json::to_string(&summary(m))?);
                }
            } else {
                print_list(buf, &runs);
            }
            Ok(())
        }
        RunsCommand::Show { id, lake, json } => {
            let lake = plan::lake(lake.as_deref(), cfg).map_err(exit::usage)?;
            let m = find(&lake, &id).await?;
            if json {
                w!(buf, "{}", serde_json::to_string_pretty(&m)?);
            } else {
                print_show(buf, &m);
            }
            Ok(())
        }
        RunsCommand::Diff { a, b, lake, json } => {
            let lake = plan::lake(lake.as_deref(), cfg).map_err(exit::usage)?;
            let (a, b) = (find(&lake, &a).await?, find(&lake, &b).await?);
            let d = diff(&a, &b);
            if json {
                w!(buf, "{}", serde_json::to_string_pretty(&d)?);
            } else if d.is_empty() {
                w!(
                    buf,
                    "runs {} and {} have the same configuration",
                    a.run_id,
                    b.run_id
                );
            } else {
                w!(buf, "{} → {}", a.run_id, b.run_id);
                for c in &d {
                    w!(
                        buf,
                        "  {:<8} {}: {} → {}",
                        c.section,
                        c.key,
                        show(&c.before),
                        show(&c.after)
                    );
                }
            }
            Ok(())
        }
    }
}

/// Every manifest under `runs/`.
pub async fn read_all(lake: &Lake) -> Result<Vec<RunManifest>> {
    let mut out = Vec::new();
    for o in lake.list("runs").await? {
        let rel = lake.relative(&o.location);
        if !rel.ends_with(".json") {
            continue;
        }
        match lake.get_json::<RunManifest>(&rel).await {
            Ok(Some(m)) => out.push(m),
            Ok(None) => {}
            // One unreadable manifest must not hide the others: say which and go on.
            Err(e) => eprintln!("flowlake: skipping {rel}: {e:#}"),
        }
    }
    Ok(out)
}

async fn find(lake: &Lake, id: &str) -> Result<RunManifest> {
    let runs = read_all(lake).await?;
    let hits: Vec<&RunManifest> = runs.iter().filter(|m| m.run_id.starts_with(id)).collect();
    match hits.as_slice() {
        [m] => Ok((*m).clone()),
        [] => Err(exit::usage(anyhow::anyhow!(
            "no run `{id}` in {} (see `flowlake runs list`)",
            lake.url()
        ))),
        many => {
            if let Some(m) = many.iter().find(|m| m.run_id == id) {
                return Ok((*m).clone());
            }
            Err(exit::usage(anyhow::anyhow!(
                "`{id}` matches {} runs; give more of the id",
                many.len()
            )))
        }
    }
}

fn outcome(m: &RunManifest) -> String {
    m.outcome
        .map(|o| format!("{o:?}").to_lowercase())
        .unwrap_or_else(|| "running".into())
}

/// One line of `runs list --json`.
pub fn summary(m: &RunManifest) -> Value {
    serde_json::json!({
        "run_id": m.run_id,
        "command": m.command,
        "started_at": m.started_at,
        "duration_s": m.duration_s,
        "outcome": outcome(m),
        "exit_code": m.exit_code,
        "rows": m.rows.values().sum::<u64>(),
        "files": m.files.len(),
        "api_requests": m.api_requests.values().sum::<u64>(),
        "build_id": m.build_id,
        "user": m.user,
        "host": m.host,
        "version": m.version,
    })
}

fn print_list(buf: &mut String, runs: &[RunManifest]) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "run",
        "command",
        "started (UTC)",
        "seconds",
        "outcome",
        "exit",
        "rows",
        "requests",
    ]);
    for m in runs {
        t.add_row(vec![
            m.run_id.clone(),
            m.command.clone(),
            m.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            m.duration_s.map(|d| format!("{d:.1}")).unwrap_or_default(),
            outcome(m),
            m.exit_code.map(|c| c.to_string()).unwrap_or_default(),
            m.rows.values().sum::<u64>().to_string(),
            m.api_requests.values().sum::<u64>().to_string(),
        ]);
    }
    w!(buf, "{t}");
    w!(buf, "{} runs", runs.len());
}

fn print_show(buf: &mut String, m: &RunManifest) {
    w!(buf, "run {}  ({})", m.run_id, m.command);
    w!(
        buf,
        "  by {} on {}, flowlake {}",
        m.user,
        m.host.as_deref().unwrap_or("?"),
        m.version
    );
    w!(
        buf,
        "  started {}  took {}  outcome {}  exit {}",
        m.started_at.to_rfc3339(),
        m.duration_s
            .map(|d| format!("{d:.1}s"))
            .unwrap_or_else(|| "?".into()),
        outcome(m),
        m.exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into())
    );
    if let Some(h) = &m.config_hash {
        w!(buf, "  config {}", &h[..h.len().min(16)]);
    }
    if let Some(b) = &m.build_id {
        w!(buf, "  build {b}");
    }
    for s in &m.steps {
        w!(
            buf,
            "  step {:<14} {:<9} {:>7.1}s {}",
            s.step,
            format!("{:?}", s.outcome).to_lowercase(),
            s.duration_s,
            s.error.as_deref().unwrap_or("")
        );
    }
    for (k, v) in &m.rows {
        w!(buf, "  rows {k:<32} {v:>9}");
    }
    for (k, v) in &m.api_requests {
        w!(buf, "  requests {k:<28} {v:>9}");
    }
    for k in m.watermarks.keys() {
        w!(buf, "  watermark {k}");
    }
    if let Some(e) = &m.error {
        w!(buf, "  error: {e}");
    }
}

/// One difference between two runs.
#[derive(Debug, serde::Serialize)]
pub struct Change {
    /// `config`, `run` or `rows`.
    pub section: &'static str,
    /// The dotted key (`marts.incident_window_h`).
    pub key: String,
    /// The earlier value (`null`: absent).
    pub before: Value,
    /// The later value.
    pub after: Value,
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "(unset)".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The differences from `a` to `b`: configuration keys first, then the run's facts.
pub fn diff(a: &RunManifest, b: &RunManifest) -> Vec<Change> {
    let mut out = Vec::new();
    let (mut ca, mut cb) = (BTreeMap::new(), BTreeMap::new());
    flatten("", a.config.as_ref().unwrap_or(&Value::Null), &mut ca);
    flatten("", b.config.as_ref().unwrap_or(&Value::Null), &mut cb);
    let keys: std::collections::BTreeSet<&String> = ca.keys().chain(cb.keys()).collect();
    for k in keys {
        let (x, y) = (
            ca.get(k).cloned().unwrap_or(Value::Null),
            cb.get(k).cloned().unwrap_or(Value::Null),
        );
        if x != y {
            out.push(Change {
                section: "config",
                key: k.clone(),
                before: x,
                after: y,
            });
        }
    }
    if (a.config.is_none() || b.config.is_none()) && a.config_hash != b.config_hash {
        out.push(Change {
            section: "config",
            key: "(hash; the older manifest has no config)".into(),
            before: a.config_hash.clone().into(),
            after: b.config_hash.clone().into(),
        });
    }
    let facts = [
        (
            "command",
            Value::from(a.command.clone()),
            Value::from(b.command.clone()),
        ),
        (
            "version",
            Value::from(a.version.clone()),
            Value::from(b.version.clone()),
        ),
        ("outcome", Value::from(outcome(a)), Value::from(outcome(b))),
    ];
    for (k, x, y) in facts {
        if x != y {
            out.push(Change {
                section: "run",
                key: k.into(),
                before: x,
                after: y,
            });
        }
    }
    let keys: std::collections::BTreeSet<&String> = a.rows.keys().chain(b.rows.keys()).collect();
    for k in keys {
        let (x, y) = (a.rows.get(k), b.rows.get(k));
        if x != y {
            out.push(Change {
                section: "rows",
                key: k.clone(),
                before: x.copied().into(),
                after: y.copied().into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn diff_names_the_changed_setting() {
        let mut a = RunManifest::start("a", "build", Utc::now());
        let mut b = RunManifest::start("b", "build", Utc::now());
        a.config = Some(serde_json::json!({"marts": {"incident_window_h": 24.0, "x": 1}}));
        b.config = Some(
            serde_json::json!({"marts": {"incident_window_h": 48.0, "x": 1}, "lock": {"wait": "60s"}}),
        );
        a.rows.insert("mart_dora".into(), 10);
        b.rows.insert("mart_dora".into(), 12);
        let d = diff(&a, &b);
        let keys: Vec<(&str, &str)> = d.iter().map(|c| (c.section, c.key.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("config", "lock.wait"),
                ("config", "marts.incident_window_h"),
                ("rows", "mart_dora")
            ]
        );
        assert_eq!(d[1].before, 24.0);
        assert!(diff(&a, &a).is_empty());
    }
}
