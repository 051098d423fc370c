//! `flowlake forecast`: Monte Carlo "when will N items be done?", "how many by a date?" and
//! backtests of both, over a daily-throughput history.
//!
//! The history comes from the lake's `mart_throughput_daily` (`--lake URL --project KEY`) or
//! from a CSV `day,items_done` (`--history FILE`). Flags become a checked plan before any IO;
//! the forecast itself is `flowlake-forecast`, whose errors are reworded here to name the flag
//! a person typed (`--items`, `--until`, …) rather than the library's field. The answers are
//! printed by `forecast_render.rs`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{Duration, NaiveDate};
use clap::{Subcommand, ValueEnum};
use datafusion::prelude::SessionContext;
use flowlake_forecast::{
    BacktestKind, BacktestQuery, Calendar, History, HowManyQuery, Method, Options, Warning,
    WhenQuery,
};
use flowlake_lake::Lake;

use super::forecast_render::{
    BacktestSection, Meta, question_text, render_backtests, render_how_many, render_when,
};
use crate::config::Config;
use crate::plan;

/// The mart a lake history is read from.
const MART: &str = "mart_throughput_daily";

/// Confidence of the backtest's Clopper–Pearson intervals.
pub(super) const CONFIDENCE: f64 = 0.95;

/// `forecast backtest` without `--horizon-days` or `--items` asks both "how many items in the
/// next 14 days?" …
const BACKTEST_HORIZON_DAYS: u32 = 14;
/// … and "when will the next 20 items be done?".
const BACKTEST_ITEMS: u64 = 20;

/// `flowlake forecast` subcommands.
#[derive(Debug, clap::Args)]
pub struct ForecastCommand {
    #[command(subcommand)]
    command: Question,
}

#[derive(Debug, Subcommand)]
enum Question {
    /// When will the next N items be done? (p85 = 85 % chance of done on or before that date)
    When(WhenArgs),
    /// How many items will be done from --start to --until, both included? (p85 = 85 % chance
    /// of at least that many)
    HowMany(HowManyArgs),
    /// Replay past forecasts at rolling origins and report how often each percentile held
    /// (by default for both questions: how many in the next 14 days, when will 20 be done).
    Backtest(BacktestArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A short human table (warnings on stderr).
    Table,
    /// One JSON object: percentiles, full distribution, warnings, sample, method.
    Json,
    /// `percentile,value` rows (backtest: one row per level).
    Csv,
}

/// Where the history comes from.
#[derive(Debug, clap::Args)]
struct SourceArgs {
    /// CSV history with the header `day,items_done` (one YYYY-MM-DD,count per line).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lake", "project"])]
    history: Option<PathBuf>,
    /// Lake URL (default: FLOWLAKE_LAKE, [lake] url, ./lake); read with --project.
    #[arg(long, value_name = "URL")]
    lake: Option<String>,
    /// Jira project key in mart_throughput_daily.
    #[arg(long, value_name = "KEY")]
    project: Option<String>,
}

/// How the forecast samples and simulates.
#[derive(Debug, clap::Args)]
struct ModelArgs {
    /// Monte Carlo trials.
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true, value_parser = positive)]
    trials: u32,
    /// Seed: the same seed and history give the same forecast.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compute the distribution exactly (convolution) instead of simulating.
    #[arg(long)]
    exact: bool,
    /// Sample a fixed window: the last N calendar days of history before the start date.
    /// Without it the window is chosen per history by backtest (30, 60, 90, 180 or 365 days;
    /// 90 when the history is too short to choose, and always 90 with --plain).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    window_days: Option<u32>,
    /// Keep bulk clean-up days in the sample. By default a day that finished more than
    /// max(20, 5 × p90) items is left out, with a warning naming it.
    #[arg(long)]
    no_bulk_exclusion: bool,
    /// Sample the whole window even across a throughput regime change. By default the window
    /// starts at the last change found by Pettitt's test, with a warning giving the date.
    #[arg(long)]
    no_change_point: bool,
    /// Keep every day a working day. By default, without --weekdays-only or --holiday, a
    /// history with at most 2 % of its items done at weekends is forecast on weekdays only.
    #[arg(long)]
    no_weekday_detection: bool,
    /// Report the model's own percentiles rather than ones calibrated on the question's track
    /// record at past origins (the track record is still shown).
    #[arg(long)]
    no_calibration: bool,
    /// The plain model (flowlake before its robustness rules): a fixed window (90 days, or
    /// --window-days), every day sampled as it is, no track record, no calibration.
    #[arg(long)]
    plain: bool,
    /// Only Monday to Friday are working days (sampled and productive).
    #[arg(long)]
    weekdays_only: bool,
    /// A day off (repeatable): neither sampled nor productive.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    holiday: Vec<NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// `forecast when` flags.
#[derive(Debug, clap::Args)]
struct WhenArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Items left to do.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = positive,
        required_unless_present_any = ["epic", "fix_version"],
        conflicts_with_all = ["epic", "fix_version"]
    )]
    items: Option<u32>,
    /// Forecast this epic's remaining items (not done, not deleted) from the lake's
    /// fct_work_items, instead of --items.
    #[arg(long, value_name = "KEY", conflicts_with_all = ["history", "fix_version"])]
    epic: Option<String>,
    /// Forecast this fix version's (release's) remaining items from fct_work_items.
    #[arg(long, value_name = "NAME", conflicts_with = "history")]
    fix_version: Option<String>,
    /// Day 1 of the forecast (default: the day after the history's last day).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    start: Option<NaiveDate>,
    /// Also report the likelihood of being done on or before this date.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    target: Option<NaiveDate>,
    #[command(flatten)]
    model: ModelArgs,
}

/// `forecast how-many` flags.
#[derive(Debug, clap::Args)]
struct HowManyArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Last day counted (inclusive).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    until: NaiveDate,
    /// First day counted (default: the day after the history's last day).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    start: Option<NaiveDate>,
    #[command(flatten)]
    model: ModelArgs,
}

/// Where a backtest's histories come from: several may be given, and are pooled.
#[derive(Debug, clap::Args)]
struct BacktestSourceArgs {
    /// CSV history with the header `day,items_done` (repeatable: the backtests of several
    /// histories are reported one by one and pooled).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["lake", "project"])]
    history: Vec<PathBuf>,
    /// Lake URL (default: FLOWLAKE_LAKE, [lake] url, ./lake); without --project, every project
    /// in mart_throughput_daily is backtested and pooled.
    #[arg(long, value_name = "URL")]
    lake: Option<String>,
    /// Jira project key in mart_throughput_daily (repeatable).
    #[arg(long, value_name = "KEY")]
    project: Vec<String>,
}

impl BacktestSourceArgs {
    fn plan(&self) -> Result<Source> {
        let mut sources: Vec<Source> = self.history.iter().cloned().map(Source::Csv).collect();
        for p in &self.project {
            if p.trim().is_empty() {
                bail!("--project must not be empty");
            }
            sources.push(Source::Lake {
                url: self.lake.clone(),
                project: p.trim().to_string(),
            });
        }
        if sources.is_empty() {
            return if self.lake.is_some() {
                Ok(Source::LakeAll {
                    url: self.lake.clone(),
                })
            } else {
                bail!(
                    "no history: pass --history FILE (CSV day,items_done; repeatable), \
                     --project KEY (repeatable) or --lake URL alone (every project in the \
                     lake's {MART})"
                )
            };
        }
        Ok(if sources.len() == 1 {
            sources.remove(0)
        } else {
            Source::Many(sources)
        })
    }
}

/// `forecast backtest` flags.
#[derive(Debug, clap::Args)]
struct BacktestArgs {
    #[command(flatten)]
    source: BacktestSourceArgs,
    /// Ask only "how many items in the next N days?" at each origin. Without it or --items,
    /// both questions are backtested: how many items in the next 14 days, and when will the
    /// next 20 items be done.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "items",
        allow_negative_numbers = true,
        value_parser = positive
    )]
    horizon_days: Option<u32>,
    /// Ask only "when will the next N items be done?" at each origin.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = positive)]
    items: Option<u32>,
    /// Days between origins.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 7,
        allow_negative_numbers = true,
        value_parser = positive
    )]
    step_days: u32,
    #[command(flatten)]
    model: ModelArgs,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("expected a date YYYY-MM-DD ({e})"))
}

/// The history's source, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Csv(PathBuf),
    Lake {
        url: Option<String>,
        project: String,
    },
    /// Every project of the lake's mart (backtests only).
    LakeAll {
        url: Option<String>,
    },
    /// Several histories, backtested one by one and pooled (backtests only).
    Many(Vec<Source>),
}

impl SourceArgs {
    fn plan(&self) -> Result<Source> {
        match (&self.history, &self.project) {
            (Some(path), _) => Ok(Source::Csv(path.clone())),
            (None, Some(project)) if !project.trim().is_empty() => Ok(Source::Lake {
                url: self.lake.clone(),
                project: project.trim().to_string(),
            }),
            (None, Some(_)) => bail!("--project must not be empty"),
            (None, None) if self.lake.is_some() => {
                bail!("--lake needs --project KEY (the Jira project to read from {MART})")
            }
            (None, None) => bail!(
                "no history: pass --history FILE (CSV day,items_done) or --project KEY \
                 (read from the lake's {MART}, with --lake URL)"
            ),
        }
    }
}

/// Clap's parser for counts that must be at least 1: the flag is checked as it is parsed,
/// so the error names it ("invalid value '0' for '--trials <TRIALS>': must be at least 1").
fn positive(s: &str) -> Result<u32, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a whole number, got `{s}`"))?;
    if n < 1 {
        return Err(format!("must be at least 1, got {n}"));
    }
    u32::try_from(n).map_err(|_| format!("too large: {n}"))
}

/// `--weekdays-only` and `--holiday`, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CalendarFlags {
    pub weekdays_only: bool,
    pub holidays: Vec<NaiveDate>,
}

impl ModelArgs {
    fn calendar_flags(&self) -> CalendarFlags {
        let mut holidays = self.holiday.clone();
        holidays.sort();
        holidays.dedup();
        CalendarFlags {
            weekdays_only: self.weekdays_only,
            holidays,
        }
    }

    fn options(&self) -> Result<Options> {
        let mut calendar = if self.weekdays_only {
            Calendar::weekdays()
        } else {
            Calendar::every_day()
        };
        calendar = calendar.with_holidays(self.holiday.iter().copied());
        let base = if self.plain {
            Options::plain()
        } else {
            Options::default()
        };
        let window_days = self.window_days;
        Ok(Options {
            method: if self.exact {
                Method::Exact
            } else {
                Method::Simulate
            },
            window_days: window_days.unwrap_or(base.window_days),
            auto_window: base.auto_window.filter(|_| window_days.is_none()),
            bulk: base.bulk.filter(|_| !self.no_bulk_exclusion),
            change_point: base.change_point.filter(|_| !self.no_change_point),
            weekdays: base.weekdays.filter(|_| !self.no_weekday_detection),
            calibrate: base.calibrate && !self.no_calibration,
            calendar,
            trials: self.trials,
            seed: self.seed,
            ..base
        })
    }
}

/// The checked plan of a forecast command.
#[derive(Debug)]
struct Plan {
    source: Source,
    options: Options,
    /// The calendar flags, for reports (a [`Calendar`] does not expose them).
    calendar: CalendarFlags,
    format: Format,
    /// `--start`, when given; otherwise the day after the history's last day.
    start: Option<NaiveDate>,
    ask: Ask,
    /// `--epic` / `--fix-version`: the item count is read from the lake.
    scope: Option<WorkScope>,
}

/// A set of work items whose remaining count a `when` forecast reads from `fct_work_items`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WorkScope {
    Epic(String),
    FixVersion(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    When {
        items: u64,
        target: Option<NaiveDate>,
    },
    HowMany {
        until: NaiveDate,
    },
    Backtest {
        questions: Questions,
        step_days: u32,
    },
}

/// What a backtest asks at each origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Questions {
    /// `--horizon-days` or `--items`: that question alone.
    One(BacktestKind),
    /// Neither: "how many in the next 14 days?" and "when will the next 20 items be done?".
    Both,
}

impl Questions {
    fn kinds(self) -> Vec<BacktestKind> {
        match self {
            Questions::One(kind) => vec![kind],
            Questions::Both => vec![
                BacktestKind::HowMany {
                    horizon_days: BACKTEST_HORIZON_DAYS,
                },
                BacktestKind::When {
                    items: BACKTEST_ITEMS,
                },
            ],
        }
    }
}

/// `--X DATE is before --start DATE` (or the default start) for dates checkable up front.
fn check_after_start(flag: &str, date: NaiveDate, start: NaiveDate, from_flag: bool) -> Result<()> {
    if date < start {
        if from_flag {
            bail!("{flag} {date} is before --start {start}");
        }
        bail!(
            "{flag} {date} is before the start date {start} (the day after the history's last \
             day; pass --start to move it)"
        );
    }
    Ok(())
}

impl Question {
    fn plan(&self) -> Result<Plan> {
        match self {
            Question::When(a) => {
                let scope = match (&a.epic, &a.fix_version) {
                    (Some(e), _) => Some(WorkScope::Epic(e.trim().to_string())),
                    (_, Some(v)) => Some(WorkScope::FixVersion(v.trim().to_string())),
                    _ => None,
                };
                // With --epic/--fix-version the count comes from the lake, after planning.
                let items = match (a.items, &scope) {
                    (Some(n), _) => u64::from(n),
                    (None, Some(_)) => 0,
                    (None, None) => bail!("pass --items N, --epic KEY or --fix-version NAME"),
                };
                if let (Some(target), Some(start)) = (a.target, a.start) {
                    check_after_start("--target", target, start, true)?;
                }
                let source = a.source.plan()?;
                if scope.is_some() && !matches!(source, Source::Lake { .. }) {
                    bail!(
                        "--epic and --fix-version read fct_work_items: pass --project KEY (and --lake URL)"
                    );
                }
                Ok(Plan {
                    source,
                    options: a.model.options()?,
                    calendar: a.model.calendar_flags(),
                    format: a.model.format,
                    start: a.start,
                    ask: Ask::When {
                        items,
                        target: a.target,
                    },
                    scope,
                })
            }
            Question::HowMany(a) => {
                if let Some(start) = a.start {
                    check_after_start("--until", a.until, start, true)?;
                }
                Ok(Plan {
                    source: a.source.plan()?,
                    options: a.model.options()?,
                    calendar: a.model.calendar_flags(),
                    format: a.model.format,
                    start: a.start,
                    ask: Ask::HowMany { until: a.until },
                    scope: None,
                })
            }
            Question::Backtest(a) => {
                let questions = match (a.items, a.horizon_days) {
                    (Some(items), _) => Questions::One(BacktestKind::When {
                        items: u64::from(items),
                    }),
                    (None, Some(days)) => {
                        Questions::One(BacktestKind::HowMany { horizon_days: days })
                    }
                    (None, None) => Questions::Both,
                };
                Ok(Plan {
                    source: a.source.plan()?,
                    options: a.model.options()?,
                    calendar: a.model.calendar_flags(),
                    format: a.model.format,
                    start: None,
                    ask: Ask::Backtest {
                        questions,
                        step_days: a.step_days,
                    },
                    scope: None,
                })
            }
        }
    }
}

/// Run `flowlake forecast`.
pub async fn run(cmd: ForecastCommand, cfg: &Config) -> Result<()> {
    let mut plan = cmd.command.plan()?;
    if let (Some(scope), Source::Lake { url, project }) = (&plan.scope, &plan.source) {
        let lake = plan::lake(url.as_deref(), cfg)?;
        lake.check().await?;
        let n = remaining_items(&lake, project, scope).await?;
        if let Ask::When { items, .. } = &mut plan.ask {
            *items = n;
        }
    }
    let histories = load(&plan.source, cfg).await?;
    let report = match (&plan.ask, histories.as_slice()) {
        (Ask::Backtest { .. }, _) => backtests(&plan, &histories)?,
        (_, [(history, described)]) => forecast(&plan, history, described)?,
        _ => bail!("several histories can only be backtested (forecast backtest)"),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(report.stdout.as_bytes())?;
    out.flush()?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

/// Reads every history a source names, each with a description for reports.
async fn load(source: &Source, cfg: &Config) -> Result<Vec<(History, String)>> {
    let mut out = Vec::new();
    // One query session per lake, however many of its projects are read.
    let mut sessions: HashMap<Option<String>, (Lake, SessionContext)> = HashMap::new();
    let mut todo = vec![source.clone()];
    while let Some(source) = todo.pop() {
        let (url, project) = match source {
            Source::Csv(path) => {
                out.push((read_csv(&path)?, format!("{}", path.display())));
                continue;
            }
            Source::Many(list) => {
                todo.extend(list.into_iter().rev());
                continue;
            }
            Source::Lake { url, project } => (url, Some(project)),
            Source::LakeAll { url } => (url, None),
        };
        if !sessions.contains_key(&url) {
            let lake = plan::lake(url.as_deref(), cfg)?;
            lake.check().await?;
            let ctx = mart_session(&lake).await?;
            sessions.insert(url.clone(), (lake, ctx));
        }
        let (lake, ctx) = &sessions[&url];
        match project {
            Some(project) => {
                let history = read_project(ctx, &project).await?;
                out.push((history, format!("{} {MART} project {project}", lake.url())));
            }
            None => {
                for project in lake_projects(ctx, lake).await?.into_iter().rev() {
                    todo.push(Source::Lake {
                        url: url.clone(),
                        project,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// What a command prints.
#[derive(Debug)]
struct Report {
    stdout: String,
    /// Printed on stderr (JSON carries them in its own `warnings`).
    warnings: Vec<String>,
}

/// Runs the plan over `history` and renders it: everything after the IO, for tests.
fn forecast(plan: &Plan, history: &History, source: &str) -> Result<Report> {
    let start = plan.start.unwrap_or(history.last_day() + Duration::days(1));
    let meta = Meta {
        source,
        history,
        options: &plan.options,
        calendar: &plan.calendar,
    };
    let on_stderr = |ws: &[Warning]| match plan.format {
        Format::Json => Vec::new(),
        _ => ws.iter().map(ToString::to_string).collect(),
    };
    match plan.ask {
        Ask::When { items, target } => {
            if let Some(target) = target {
                check_after_start("--target", target, start, plan.start.is_some())?;
            }
            let query = WhenQuery {
                start,
                items: i64::try_from(items)?,
                target,
            };
            let f = flowlake_forecast::when(history, &query, &plan.options)
                .map_err(|e| flag_error(e, plan.start.is_some()))?;
            Ok(Report {
                stdout: render_when(&f, &meta, plan.format),
                warnings: on_stderr(&f.warnings),
            })
        }
        Ask::HowMany { until } => {
            check_after_start("--until", until, start, plan.start.is_some())?;
            let query = HowManyQuery { start, end: until };
            let f = flowlake_forecast::how_many(history, &query, &plan.options)
                .map_err(|e| flag_error(e, plan.start.is_some()))?;
            Ok(Report {
                stdout: render_how_many(&f, &meta, plan.format),
                warnings: on_stderr(&f.warnings),
            })
        }
        Ask::Backtest { .. } => backtests(plan, &[(history.clone(), source.to_string())]),
    }
}

/// Backtests each history with each of the plan's questions and options; several histories
/// are pooled per question.
fn backtests(plan: &Plan, histories: &[(History, String)]) -> Result<Report> {
    let Ask::Backtest {
        questions,
        step_days,
    } = plan.ask
    else {
        bail!("only `forecast backtest` backtests");
    };
    let Some((first, source)) = histories.first() else {
        bail!("no history to backtest");
    };
    let kinds = questions.kinds();
    let mut sections = Vec::new();
    let mut warnings = Vec::new();
    for &kind in &kinds {
        let query = BacktestQuery {
            kind,
            step_days,
            first_origin: None,
            confidence: CONFIDENCE,
        };
        let mut parts = Vec::new();
        for (history, described) in histories {
            let b = flowlake_forecast::backtest(history, &query, &plan.options)
                .map_err(|e| flag_error(e, false));
            let b = if histories.len() > 1 {
                b.with_context(|| format!("backtesting {described}"))
            } else {
                b
            };
            let b = if kinds.len() > 1 {
                b.with_context(|| format!("backtesting \"{}?\"", question_text(kind)))
            } else {
                b
            };
            parts.push((described.clone(), b?));
        }
        let pooled = if parts.len() > 1 {
            let all: Vec<_> = parts.iter().map(|(_, b)| b.clone()).collect();
            Some(flowlake_forecast::pool(&all, CONFIDENCE)?)
        } else {
            None
        };
        if let BacktestKind::HowMany { horizon_days } = kind
            && step_days < horizon_days
            && plan.format != Format::Json
        {
            warnings.push(overlap_warning(step_days, horizon_days));
        }
        sections.push(BacktestSection {
            kind,
            parts,
            pooled,
        });
    }
    let pooled = format!("{} histories, pooled", histories.len());
    let meta = Meta {
        source: if histories.len() > 1 { &pooled } else { source },
        history: first,
        options: &plan.options,
        calendar: &plan.calendar,
    };
    Ok(Report {
        stdout: render_backtests(&sections, histories, step_days, &meta, plan.format),
        warnings,
    })
}

pub(super) fn overlap_warning(step_days: u32, horizon_days: u32) -> String {
    format!(
        "origins every {step_days} days with a {horizon_days}-day horizon overlap, so outcomes \
         are correlated and the intervals are too narrow; --step-days {horizon_days} gives \
         independent origins"
    )
}

mod errors;
mod sources;
#[cfg(test)]
mod tests;

use errors::flag_error;
use sources::{lake_projects, mart_session, read_csv, read_project, remaining_items};
