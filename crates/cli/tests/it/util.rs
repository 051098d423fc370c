//! Helpers: run the binary, read marts, start servers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::record_batch::RecordBatch;

pub fn flowlake() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flowlake"));
    c.env_remove("FLOWLAKE_LAKE")
        .env_remove("FLOWLAKE_CONFIG")
        .env_remove("GITHUB_TOKEN")
        .env("NO_COLOR", "1");
    c
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("flowlake runs");
    assert!(
        out.status.success(),
        "flowlake failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn run_err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("flowlake runs");
    assert!(
        !out.status.success(),
        "expected a failure\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Run a command expected to fail: its exit code and stderr.
pub fn run_code(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("flowlake runs");
    assert!(
        !out.status.success(),
        "expected a failure\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if !dir.exists() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A Parquet file's rows as sorted CSV lines (order-insensitive comparison of whole tables).
pub fn sorted_rows(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let mut buf = Vec::new();
    {
        let mut w = arrow::csv::WriterBuilder::new()
            .with_header(false)
            .build(&mut buf);
        for b in &batches {
            w.write(b).unwrap();
        }
    }
    let mut lines: Vec<String> = String::from_utf8(buf)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

pub const MARTS: [&str; 13] = [
    "dim_people",
    "fct_pull_requests",
    "fct_deployments",
    "fct_incidents",
    "mart_dora",
    "mart_developer_weekly",
    "fct_work_items",
    "fct_status_intervals",
    "mart_flow_weekly",
    "mart_throughput_daily",
    "mart_aging_wip",
    "mart_sprints",
    "mart_forecasts",
];

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
