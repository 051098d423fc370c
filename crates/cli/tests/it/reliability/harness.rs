//! A simulated org served over real HTTP for the whole test, a flowlake.toml and pipeline file
//! pointing at it, and checks on what a run left in a lake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flowlake_sim::{Scale, SimConfig, SimHandle};

use crate::util::*;

/// The GitHub token, through an environment variable (as a real deployment passes it).
pub const GH_TOKEN_VAR: &str = "FLOWLAKE_RELIABILITY_GH_TOKEN";
/// The Jira API token, through a file (the other way secrets arrive).
pub const JIRA_TOKEN_FILE: &str = "jira-token";

/// A simulator running on its own runtime for as long as the value lives.
pub struct Org {
    pub sim: SimHandle,
    pub cfg: SimConfig,
    _rt: tokio::runtime::Runtime,
}

impl Org {
    pub fn start(cfg: SimConfig) -> Org {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(flowlake_sim::spawn(cfg.clone())).unwrap();
        Org { sim, cfg, _rt: rt }
    }

    /// The default org with secrets that are easy to grep for.
    pub fn secret_config() -> SimConfig {
        SimConfig {
            token: "ghp_REL1ABILITYsecretTOKEN0000".into(),
            jira_api_token: "jira-RELIABILITY-secret-0000".into(),
            ..SimConfig::new(42, Scale::Small)
        }
    }

    /// A folder with `flowlake.toml` (GitHub and Jira of this org), the Jira token file and
    /// `pipeline.toml` running `steps`. `extra` is appended to flowlake.toml.
    pub fn workdir(&self, dir: &Path, steps: &[&str], extra: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let base = self.sim.base_url();
        let projects: Vec<String> = self
            .sim
            .org()
            .projects
            .iter()
            .map(|p| format!("{:?}", p.key))
            .collect();
        std::fs::write(
            dir.join(JIRA_TOKEN_FILE),
            format!("{}\n", self.cfg.jira_api_token),
        )
        .unwrap();
        let config = format!(
            r#"[github]
org = "{org}"
base_url = "{base}"
token_env = "{GH_TOKEN_VAR}"
max_retries = 8

[jira]
workspace = "acme-jira"
base_url = "{base}"
flavor = "cloud"
auth = "api_token"
email = "{email}"
token_file = "{token_file}"
projects = [{projects}]

[flow]
as_of = "{now}"

[lock]
ttl = "10s"
{extra}
"#,
            org = self.cfg.org,
            email = self.cfg.jira_email,
            token_file = dir.join(JIRA_TOKEN_FILE).display(),
            projects = projects.join(", "),
            now = self.sim.now().to_rfc3339(),
        );
        std::fs::write(dir.join("flowlake.toml"), config).unwrap();
        let steps: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
        std::fs::write(
            dir.join("pipeline.toml"),
            format!(
                "name = \"nightly\"\nconfig = \"flowlake.toml\"\nsteps = [{}]\n",
                steps.join(", ")
            ),
        )
        .unwrap();
        dir.to_path_buf()
    }

    /// `flowlake run pipeline.toml --lake LAKE` in `dir`, with the GitHub token in the
    /// environment.
    pub fn run_cmd(&self, dir: &Path, lake: &str) -> Command {
        let mut c = flowlake();
        c.current_dir(dir).env(GH_TOKEN_VAR, &self.cfg.token).args([
            "run",
            "pipeline.toml",
            "--lake",
            lake,
        ]);
        c
    }

    pub fn run(&self, dir: &Path, lake: &str) -> Output {
        self.run_cmd(dir, lake).output().expect("flowlake runs")
    }

    /// The whole pipeline (GitHub, Jira, build) in `<tmp>/work`, run once uninterrupted into
    /// `<tmp>/reference`: the work folder, the run's wall time and its published marts.
    pub fn reference(&self, tmp: &Path) -> (PathBuf, std::time::Duration, Marts) {
        let dir = self.workdir(
            &tmp.join("work"),
            &["ingest-github", "ingest-jira", "build"],
            "",
        );
        let lake = tmp.join("reference");
        let started = std::time::Instant::now();
        let out = self.run(&dir, lake.to_str().unwrap());
        assert_eq!(code(&out), 0, "{}", describe(&out));
        (dir, started.elapsed(), published_marts(&lake))
    }
}

/// Mart name → its rows, sorted.
pub type Marts = BTreeMap<String, Vec<String>>;

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The published marts of a local lake: name → sorted rows, read through the pointer; each
/// plain-path copy must hold the same rows.
pub fn published_marts(lake: &Path) -> Marts {
    let pointer: serde_json::Value = serde_json::from_slice(
        &std::fs::read(lake.join("marts/_current.json")).expect("a published build"),
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for m in pointer["marts"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap().to_string();
        let rows = sorted_rows(&lake.join(m["path"].as_str().unwrap()));
        let plain = sorted_rows(&lake.join(m["plain_path"].as_str().unwrap()));
        assert_eq!(
            rows.len() as u64,
            m["rows"].as_u64().unwrap(),
            "{name}: rows in the pointer"
        );
        assert!(
            rows == plain,
            "{name}: the plain copy differs from the published build"
        );
        out.insert(name, rows);
    }
    assert!(out.len() >= MARTS.len(), "{:?}", out.keys());
    out
}

/// Nothing half-visible: every Parquet object reads whole, every JSON document parses, and the
/// pointer (when there is one) names objects that exist.
pub fn check_integrity(lake: &Path) {
    for rel in files_under(lake) {
        let path = lake.join(&rel);
        let name = rel.to_string_lossy();
        if name.ends_with(".parquet") {
            let file = std::fs::File::open(&path).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap_or_else(|e| panic!("{name} is not whole Parquet: {e}"))
                    .build()
                    .unwrap();
            for b in reader {
                b.unwrap_or_else(|e| panic!("{name} does not read: {e}"));
            }
        } else if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not whole JSON: {e}"));
        }
    }
    let pointer = lake.join("marts/_current.json");
    if pointer.exists() {
        let p: serde_json::Value =
            serde_json::from_slice(&std::fs::read(pointer).unwrap()).unwrap();
        for m in p["marts"].as_array().unwrap() {
            let path = lake.join(m["path"].as_str().unwrap());
            assert!(
                path.is_file(),
                "the pointer names {} which is gone",
                path.display()
            );
        }
    }
}

/// Every run manifest of a local lake.
pub fn manifests(lake: &Path) -> Vec<serde_json::Value> {
    let dir = lake.join("runs");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap());
            }
        }
    }
    out
}
