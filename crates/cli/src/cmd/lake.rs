//! `flowlake lake`: retention of the raw zone. `compact` folds the raw record versions no
//! model can observe, `archive` moves `ingest_date=` partitions past the policy to a cold
//! store, `restore` copies them back. Each leaves a run manifest (`runs/<run_id>.json`) and a
//! retention journal (`retention/<run_id>.json`) listing what it wrote and deleted; see
//! docs/operations.md.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use flowlake_lake::retention::{
    JournalState, RawPartition, RetentionJournal, Transfer, archive_cutoff, raw_partitions,
    transfer,
};
use flowlake_lake::{Lake, LakeOptions, RawFile, RunManifest, new_run_id};
use flowlake_marts::Models;
use flowlake_marts::compact::{self, CompactPlan};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::config::Config;
use crate::plan;

/// `flowlake lake`: a subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: LakeCommand,
}

/// `flowlake lake` subcommands.
#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Fold superseded raw record versions into one file per partition; marts stay the same.
    Compact(CompactArgs),
    /// Move raw partitions older than the policy to a cold store (another bucket or lake).
    Archive(ArchiveArgs),
    /// Copy archived raw partitions back from the cold store.
    Restore(RestoreArgs),
}

/// Flags every `lake` subcommand has.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Lake URL: folder, file://, s3://bucket/prefix or memory://.
    #[arg(long)]
    lake: Option<String>,
    /// Say what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lock: crate::steps::lock::LockFlags,
}

/// `flowlake lake compact` flags.
#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    #[command(flatten)]
    common: Common,
}

/// `flowlake lake archive` flags.
#[derive(Debug, clap::Args)]
pub struct ArchiveArgs {
    #[command(flatten)]
    common: Common,
    /// Archive partitions whose ingest date is older than this: days (`400d`) or weeks (`57w`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: u32,
    /// The cold store: any lake URL (s3://archive-bucket/flowlake, a folder, …).
    #[arg(long, value_name = "URL")]
    to: String,
}

/// `flowlake lake restore` flags.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    common: Common,
    /// The cold store the partitions were archived to.
    #[arg(long, value_name = "URL")]
    from: String,
    /// Only partitions ingested on or after this day (YYYY-MM-DD); default: all.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    since: Option<NaiveDate>,
}

/// Run `flowlake lake …`: under the lake lock, except a dry run (which only reads).
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let (common, name) = match &args.command {
        LakeCommand::Compact(a) => (&a.common, "lake compact"),
        LakeCommand::Archive(a) => (&a.common, "lake archive"),
        LakeCommand::Restore(a) => (&a.common, "lake restore"),
    };
    if common.dry_run {
        return dispatch(args, cfg).await;
    }
    let lake = plan::lake(common.lake.as_deref(), cfg).map_err(crate::exit::usage)?;
    let flags = common.lock.clone();
    crate::steps::lock::with_lock(&lake, name, &flags, cfg, async |_| {
        dispatch(args, cfg).await
    })
    .await
}

/// `lake compact` on `lake`, as a pipeline step runs it (the pipeline holds the lock).
pub(crate) async fn compact_step(lake: &Lake, cfg: &Config) -> Result<()> {
    dispatch(
        Args {
            command: LakeCommand::Compact(CompactArgs {
                common: Common::for_step(lake),
            }),
        },
        cfg,
    )
    .await
}

/// `lake archive --older-than DAYS --to URL` on `lake`, as a pipeline step runs it.
pub(crate) async fn archive_step(
    lake: &Lake,
    older_than: u32,
    to: &str,
    cfg: &Config,
) -> Result<()> {
    dispatch(
        Args {
            command: LakeCommand::Archive(ArchiveArgs {
                common: Common::for_step(lake),
                older_than,
                to: to.to_string(),
            }),
        },
        cfg,
    )
    .await
}

impl Common {
    fn for_step(lake: &Lake) -> Common {
        Common {
            lake: Some(lake.url().to_string()),
            dry_run: false,
            json: true,
            lock: Default::default(),
        }
    }
}

async fn dispatch(args: Args, cfg: &Config) -> Result<()> {
    match args.command {
        LakeCommand::Compact(a) => compact(a, cfg).await,
        LakeCommand::Archive(a) => archive(a, cfg).await,
        LakeCommand::Restore(a) => restore(a, cfg).await,
    }
}

/// `400d` → 400, `8w` → 56. No duration parser existed in the code base; ages here are whole
/// days because partitions are.
pub(crate) fn parse_age(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let err = || format!("`{s}`: write an age in days or weeks, e.g. 400d or 57w");
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u32 = n.parse().map_err(|_| err())?;
    match unit {
        "d" => Ok(n),
        "w" => n.checked_mul(7).ok_or_else(err),
        _ => Err(err()),
    }
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("expected a date YYYY-MM-DD ({e})"))
}

/// The cold store, opened with the same S3 settings as the lake.
fn cold_lake(url: &str, flag: &str, cfg: &Config) -> Result<Lake> {
    let options = LakeOptions {
        s3: cfg.lake.s3.clone(),
    };
    Lake::open_with(url, &options).with_context(|| format!("opening the cold store ({flag})"))
}

/// Refuse a cold store that is the lake, or lies inside its raw zone.
fn distinct(hot: &Lake, cold: &Lake) -> Result<()> {
    let (h, c) = (hot.url().as_str(), cold.url().as_str());
    if h == c || c.starts_with(&format!("{h}raw/")) || h.starts_with(&format!("{c}raw/")) {
        bail!("the cold store {c} must be another lake than {h} (another bucket or prefix)");
    }
    Ok(())
}

fn bar(quiet: bool, what: &str) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] {{msg}}"
        ))
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Writes the manifest to each lake; the run's outcome is `result`'s.
async fn leave_manifest<T>(
    mut manifest: RunManifest,
    lakes: &[&Lake],
    result: &Result<T>,
) -> Result<()> {
    manifest.finish(Utc::now(), result.as_ref().err().map(|e| format!("{e:#}")));
    for lake in lakes {
        lake.put_json(&manifest.rel_path(), &manifest)
            .await
            .with_context(|| format!("writing the run manifest to {}", lake.url()))?;
    }
    Ok(())
}

/// One raw table in the `compact` report.
#[derive(Debug, Serialize)]
struct CompactTable {
    table: String,
    rule: &'static str,
    fallback: Option<String>,
    partitions: usize,
    partitions_rewritten: usize,
    files_before: usize,
    files_after: usize,
    rows_before: u64,
    rows_after: u64,
}

/// What `lake compact` did (or would do, with `--dry-run`).
#[derive(Debug, Serialize)]
struct CompactReport {
    lake: String,
    run_id: String,
    dry_run: bool,
    files_written: usize,
    files_removed: usize,
    rows_before: u64,
    rows_after: u64,
    tables: Vec<CompactTable>,
}

impl CompactReport {
    fn new(lake: &Lake, plan: &CompactPlan, dry_run: bool) -> Self {
        let tables: Vec<CompactTable> = plan
            .tables
            .iter()
            .map(|t| CompactTable {
                table: t.table.rel.trim_start_matches("raw/").to_string(),
                rule: t.rule.name(),
                fallback: t.fallback.clone(),
                partitions: t.partitions,
                partitions_rewritten: t.rewrites.len(),
                files_before: t.files_before,
                files_after: t.files_after,
                rows_before: t.rows_before,
                rows_after: t.rows_after,
            })
            .collect();
        CompactReport {
            lake: lake.url().to_string(),
            run_id: plan.run_id.clone(),
            dry_run,
            files_written: plan.new_files().len(),
            files_removed: plan.originals().len(),
            rows_before: tables.iter().map(|t| t.rows_before).sum(),
            rows_after: tables.iter().map(|t| t.rows_after).sum(),
            tables,
        }
    }

    fn print(&self, json: bool) -> Result<()> {
        // Written, not println!: a closed pipe is an error `main` turns into exit 0.
        let out = &mut std::io::stdout().lock();
        if json {
            writeln!(out, "{}", serde_json::to_string_pretty(self)?)?;
            return Ok(());
        }
        for t in &self.tables {
            writeln!(
                out,
                "  {:<30} {:>9} → {:>9} rows  {:>5} → {:>5} files  {}{}",
                t.table,
                t.rows_before,
                t.rows_after,
                t.files_before,
                t.files_after,
                t.rule,
                t.fallback
                    .as_ref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(
            out,
            "{} {} rows to {} in {}: {} files written, {} removed",
            if self.dry_run {
                "would compact"
            } else {
                "compacted"
            },
            self.rows_before,
            self.rows_after,
            self.lake,
            self.files_written,
            self.files_removed
        )?;
        Ok(())
    }
}

async fn compact(args: CompactArgs, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.common.lake.as_deref(), cfg)?;
    lake.check().await?;
    let started = Utc::now();
    let run_id = new_run_id(started);
    let models = Models::embedded()?;
    let quiet = args.common.json;
    let progress = bar(quiet, "compact: reading");
    let plan = compact::plan(
        &lake,
        &models,
        &run_id,
        plan::marts(cfg).target_partitions,
        |table, done, total| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
            progress.set_message(table.to_string());
        },
    )
    .await;
    progress.finish_and_clear();
    let plan = plan.context("working out the compaction")?;
    let report = CompactReport::new(&lake, &plan, args.common.dry_run);
    if args.common.dry_run || plan.is_noop() {
        return report.print(args.common.json);
    }
    let mut manifest = RunManifest::start(&run_id, "lake compact", started);
    manifest.config_hash = Some(cfg.hash());
    let progress = bar(quiet, "compact: files");
    progress.set_length((report.files_written + report.files_removed) as u64);
    let applied = plan
        .apply(&lake, |path| {
            progress.inc(1);
            progress.set_message(path.to_string());
        })
        .await
        .context("compacting the raw zone");
    progress.finish_and_clear();
    if applied.is_ok() {
        manifest.files = plan.new_files();
        for t in &plan.tables {
            let written: u64 = t
                .rewrites
                .iter()
                .filter(|r| r.new_file.is_some())
                .map(|r| r.rows_after)
                .sum();
            if written > 0 {
                manifest
                    .rows
                    .insert(t.table.rel.trim_start_matches("raw/").to_string(), written);
            }
        }
    }
    leave_manifest(manifest, &[&lake], &applied).await?;
    applied?;
    report.print(args.common.json)
}

/// One partition in the `archive`/`restore` report.
#[derive(Debug, Serialize)]
struct MovedPartition {
    table: String,
    ingest_date: NaiveDate,
    files: usize,
    bytes: u64,
}

/// What `lake archive` or `lake restore` did (or would do, with `--dry-run`).
#[derive(Debug, Serialize)]
struct MoveReport {
    command: &'static str,
    lake: String,
    cold_store: String,
    run_id: String,
    dry_run: bool,
    /// `archive`: partitions ingested before this day.
    cutoff: Option<NaiveDate>,
    /// `restore`: partitions ingested on or after this day.
    since: Option<NaiveDate>,
    partitions: Vec<MovedPartition>,
    files: usize,
    bytes: u64,
    /// Files the target already held (a re-run after a crash): not copied again.
    already_there: usize,
    /// Files deleted from the source (archive only).
    removed: usize,
}

impl MoveReport {
    fn print(&self, json: bool) -> Result<()> {
        // Written, not println!: a closed pipe is an error `main` turns into exit 0.
        let out = &mut std::io::stdout().lock();
        if json {
            writeln!(out, "{}", serde_json::to_string_pretty(self)?)?;
            return Ok(());
        }
        let mut per_table: BTreeMap<&str, (usize, usize, u64)> = BTreeMap::new();
        for p in &self.partitions {
            let e = per_table.entry(&p.table).or_default();
            e.0 += 1;
            e.1 += p.files;
            e.2 += p.bytes;
        }
        for (table, (parts, files, bytes)) in per_table {
            writeln!(
                out,
                "  {table:<30} {parts:>5} partitions {files:>6} files {bytes:>12} bytes"
            )?;
        }
        let (verb, dir) = match (self.command, self.dry_run) {
            ("lake archive", true) => ("would archive", "to"),
            ("lake archive", false) => ("archived", "to"),
            (_, true) => ("would restore", "from"),
            (_, false) => ("restored", "from"),
        };
        writeln!(
            out,
            "{verb} {} partitions ({} files, {} bytes) of {} {dir} {}{}",
            self.partitions.len(),
            self.files,
            self.bytes,
            self.lake,
            self.cold_store,
            if self.already_there > 0 {
                format!(" ({} files were already there)", self.already_there)
            } else {
                String::new()
            }
        )?;
        Ok(())
    }
}

/// Moves `partitions` from `from` to `to` (deleting the originals when `remove_source`),
/// with a journal in `hot` written before the first change and a manifest in both lakes.
#[allow(clippy::too_many_arguments)]
async fn move_partitions(
    command: &'static str,
    hot: &Lake,
    cold: &Lake,
    from: &Lake,
    to: &Lake,
    remove_source: bool,
    partitions: &[RawPartition],
    quiet: bool,
    cfg: &Config,
) -> Result<(String, Transfer)> {
    let started = Utc::now();
    let run_id = new_run_id(started);
    let files: Vec<RawFile> = partitions
        .iter()
        .flat_map(|p| p.files.iter().cloned())
        .collect();
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let mut journal = RetentionJournal {
        run_id: run_id.clone(),
        command: command.into(),
        other_lake: Some(cold.url().to_string()),
        written: paths.clone(),
        removed: if remove_source {
            paths.clone()
        } else {
            Vec::new()
        },
        state: JournalState::Planned,
        at: started,
    };
    hot.put_json(&journal.rel_path(), &journal)
        .await
        .context("writing the retention journal")?;
    let mut manifest = RunManifest::start(&run_id, command, started);
    manifest.config_hash = Some(cfg.hash());
    let progress = bar(quiet, command.trim_start_matches("lake "));
    progress.set_length(files.len() as u64);
    let moved = transfer(from, to, &files, remove_source, |path| {
        progress.inc(1);
        progress.set_message(path.to_string());
    })
    .await
    .with_context(|| format!("{command}: moving raw partitions"));
    progress.finish_and_clear();
    if let Ok(t) = &moved {
        manifest.files = t.copied.clone();
        journal.written = t.copied.clone();
        journal.removed = t.removed.clone();
        journal.state = JournalState::Done;
        journal.at = Utc::now();
        hot.put_json(&journal.rel_path(), &journal)
            .await
            .context("writing the retention journal")?;
    }
    leave_manifest(manifest, &[hot, cold], &moved).await?;
    Ok((run_id, moved?))
}

fn report_partitions(partitions: &[RawPartition]) -> Vec<MovedPartition> {
    partitions
        .iter()
        .map(|p| MovedPartition {
            table: p.table.trim_start_matches("raw/").to_string(),
            ingest_date: p.ingest_date,
            files: p.files.len(),
            bytes: p.bytes(),
        })
        .collect()
}

async fn archive(args: ArchiveArgs, cfg: &Config) -> Result<()> {
    let hot = plan::lake(args.common.lake.as_deref(), cfg)?;
    let cold = cold_lake(&args.to, "--to", cfg)?;
    distinct(&hot, &cold)?;
    hot.check().await?;
    cold.check()
        .await
        .context("checking the cold store (--to)")?;
    let cutoff = archive_cutoff(Utc::now().date_naive(), args.older_than);
    let partitions: Vec<RawPartition> = raw_partitions(&hot)
        .await?
        .into_iter()
        .filter(|p| p.ingest_date < cutoff)
        .collect();
    let mut report = MoveReport {
        command: "lake archive",
        lake: hot.url().to_string(),
        cold_store: cold.url().to_string(),
        run_id: String::new(),
        dry_run: args.common.dry_run,
        cutoff: Some(cutoff),
        since: None,
        files: partitions.iter().map(|p| p.files.len()).sum(),
        bytes: partitions.iter().map(RawPartition::bytes).sum(),
        partitions: report_partitions(&partitions),
        already_there: 0,
        removed: 0,
    };
    if !args.common.dry_run && !partitions.is_empty() {
        let (run_id, moved) = move_partitions(
            "lake archive",
            &hot,
            &cold,
            &hot,
            &cold,
            true,
            &partitions,
            args.common.json,
            cfg,
        )
        .await?;
        report.run_id = run_id;
        report.already_there = moved.already_there.len();
        report.removed = moved.removed.len();
    }
    report.print(args.common.json)
}

async fn restore(args: RestoreArgs, cfg: &Config) -> Result<()> {
    let hot = plan::lake(args.common.lake.as_deref(), cfg)?;
    let cold = cold_lake(&args.from, "--from", cfg)?;
    distinct(&hot, &cold)?;
    hot.check().await?;
    cold.check()
        .await
        .context("checking the cold store (--from)")?;
    let partitions: Vec<RawPartition> = raw_partitions(&cold)
        .await?
        .into_iter()
        .filter(|p| args.since.is_none_or(|since| p.ingest_date >= since))
        .collect();
    let mut report = MoveReport {
        command: "lake restore",
        lake: hot.url().to_string(),
        cold_store: cold.url().to_string(),
        run_id: String::new(),
        dry_run: args.common.dry_run,
        cutoff: None,
        since: args.since,
        files: partitions.iter().map(|p| p.files.len()).sum(),
        bytes: partitions.iter().map(RawPartition::bytes).sum(),
        partitions: report_partitions(&partitions),
        already_there: 0,
        removed: 0,
    };
    if !args.common.dry_run && !partitions.is_empty() {
        // The cold store keeps its copy: it stays the backup, and archiving the same
        // partitions again finds them there and only deletes the lake's copies.
        let (run_id, moved) = move_partitions(
            "lake restore",
            &hot,
            &cold,
            &cold,
            &hot,
            false,
            &partitions,
            args.common.json,
            cfg,
        )
        .await?;
        report.run_id = run_id;
        report.already_there = moved.already_there.len();
    }
    report.print(args.common.json)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    #[test]
    fn ages_are_days_or_weeks() {
        assert_eq!(parse_age("400d"), Ok(400));
        assert_eq!(parse_age(" 8w "), Ok(56));
        assert_eq!(parse_age("0d"), Ok(0));
        for bad in ["400", "d", "-1d", "1y", "1.5d", ""] {
            let e = parse_age(bad).unwrap_err();
            assert!(e.contains("e.g. 400d"), "{bad}: {e}");
        }
    }

    #[test]
    fn archive_parses_its_flags() {
        let cli = Cli::try_parse_from([
            "flowlake",
            "lake",
            "archive",
            "--lake",
            "./lake",
            "--older-than",
            "400d",
            "--to",
            "s3://cold/flowlake",
            "--dry-run",
            "--json",
        ])
        .unwrap();
        let Command::Lake(Args {
            command: LakeCommand::Archive(a),
        }) = cli.command
        else {
            panic!("not lake archive");
        };
        assert_eq!(
            (a.older_than, a.to.as_str(), a.common.dry_run, a.common.json),
            (400, "s3://cold/flowlake", true, true)
        );
        assert!(
            Cli::try_parse_from(["flowlake", "lake", "archive", "--to", "x"]).is_err(),
            "--older-than is required"
        );
        let cli = Cli::try_parse_from([
            "flowlake",
            "lake",
            "restore",
            "--from",
            "/cold",
            "--since",
            "2025-01-31",
        ])
        .unwrap();
        let Command::Lake(Args {
            command: LakeCommand::Restore(r),
        }) = cli.command
        else {
            panic!("not lake restore");
        };
        assert_eq!(r.since, NaiveDate::from_ymd_opt(2025, 1, 31));
    }

    #[test]
    fn the_cold_store_is_another_lake() {
        let hot = Lake::open("/tmp/flowlake-hot").unwrap();
        for same in ["/tmp/flowlake-hot/", "/tmp/flowlake-hot/raw/old"] {
            assert!(
                distinct(&hot, &Lake::open(same).unwrap()).is_err(),
                "{same}"
            );
        }
        distinct(&hot, &Lake::open("/tmp/flowlake-cold").unwrap()).unwrap();
        distinct(&hot, &Lake::open("/tmp/flowlake-hot-archive").unwrap()).unwrap();
    }
}
