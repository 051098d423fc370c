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

use anyhow::{Context, Result, anyhow, bail};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use chrono::{Duration, NaiveDate};
use clap::{Subcommand, ValueEnum};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flowlake_forecast::{
    BacktestKind, BacktestQuery, Calendar, Error as ForecastError, History, HowManyQuery, Method,
    Options, Warning, WhenQuery,
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
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true)]
    trials: i64,
    /// Seed: the same seed and history give the same forecast.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compute the distribution exactly (convolution) instead of simulating.
    #[arg(long)]
    exact: bool,
    /// Sample a fixed window: the last N calendar days of history before the start date.
    /// Without it the window is chosen per history by backtest (30, 60, 90, 180 or 365 days;
    /// 90 when the history is too short to choose, and always 90 with --plain).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    window_days: Option<i64>,
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
        required_unless_present_any = ["epic", "fix_version"],
        conflicts_with_all = ["epic", "fix_version"]
    )]
    items: Option<i64>,
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
        allow_negative_numbers = true
    )]
    horizon_days: Option<i64>,
    /// Ask only "when will the next N items be done?" at each origin.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    items: Option<i64>,
    /// Days between origins.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 7,
        allow_negative_numbers = true
    )]
    step_days: i64,
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

fn at_least_one(flag: &str, value: i64) -> Result<u32> {
    if value < 1 {
        bail!("{flag} must be at least 1, got {value}");
    }
    u32::try_from(value).map_err(|_| anyhow!("{flag} is too large: {value}"))
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
        let window_days = self
            .window_days
            .map(|n| at_least_one("--window-days", n))
            .transpose()?;
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
            trials: at_least_one("--trials", self.trials)?,
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
                    (Some(n), _) => u64::from(at_least_one("--items", n)?),
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
                        items: u64::from(at_least_one("--items", items)?),
                    }),
                    (None, Some(days)) => Questions::One(BacktestKind::HowMany {
                        horizon_days: at_least_one("--horizon-days", days)?,
                    }),
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
                        step_days: at_least_one("--step-days", a.step_days)?,
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

/// The forecast crate's errors, reworded to name the flag that caused them.
fn flag_error(e: ForecastError, start_from_flag: bool) -> anyhow::Error {
    let start_name = |start: NaiveDate| {
        if start_from_flag {
            format!("--start {start}")
        } else {
            format!("the start date {start} (the day after the history's last day)")
        }
    };
    match e {
        ForecastError::InvalidItems { items, .. } => {
            anyhow!("--items must be at least 1, got {items}")
        }
        ForecastError::TargetBeforeStart {
            field,
            start,
            target,
        } => {
            let flag = if field == "end" {
                "--until"
            } else {
                "--target"
            };
            anyhow!("{flag} {target} is before {}", start_name(start))
        }
        ForecastError::InvalidOption { option, reason } => {
            let flag = match option.as_str() {
                "trials" => "--trials".to_string(),
                "window_days" => "--window-days".to_string(),
                "step_days" => "--step-days".to_string(),
                "end" => "--until".to_string(),
                other => other.to_string(),
            };
            anyhow!("{flag}: {reason}")
        }
        ForecastError::NoHistoryBeforeStart {
            start,
            history_start,
        } => anyhow!(
            "{} is not after any history (history begins {history_start}): nothing to sample \
             from",
            if start_from_flag {
                format!("--start {start}")
            } else {
                format!("start date {start}")
            }
        ),
        ForecastError::AllZeroHistory {
            window_start,
            window_end,
        } => anyhow!(
            "no item was done on any working day from {window_start} to {window_end}, so no \
             forecast would ever finish: widen --window-days or check the history"
        ),
        ForecastError::NoWorkingDays {
            window_start,
            window_end,
        } => anyhow!(
            "no working day from {window_start} to {window_end} to sample from: check \
             --weekdays-only, --holiday and --window-days"
        ),
        ForecastError::NotDoneWithinHorizon {
            start,
            horizon_days,
        } => anyhow!(
            "--items: some simulated futures starting {start} are still not done after \
             {horizon_days} days; the throughput sampled is too low for this many items"
        ),
        ForecastError::NoBacktestOrigins {
            history_days,
            window_days,
            horizon_days,
        } => {
            let horizon = if horizon_days > 0 {
                format!("a {horizon_days}-day horizon")
            } else {
                "the horizon".to_string()
            };
            anyhow!(
                "backtest: no usable origin: {history_days} days of history leave no room for \
                 --window-days {window_days} before an origin and {horizon} after it; shorten \
                 --window-days, --horizon-days or --items"
            )
        }
        other => anyhow::Error::new(other),
    }
}

fn read_csv(path: &std::path::Path) -> Result<History> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("--history {}: cannot open", path.display()))?;
    History::from_csv(std::io::BufReader::new(file))
        .with_context(|| format!("--history {}", path.display()))
}

/// Reads one project's days from the lake's `mart_throughput_daily`.
/// A query session over `lake` in which `mart_throughput_daily` can be read, or a clear error
/// when the lake has not built it.
async fn mart_session(lake: &Lake) -> Result<SessionContext> {
    let rel = format!("marts/{MART}");
    if !lake.exists_prefix(&rel).await? {
        bail!(
            "the lake {} has no {MART} yet: ingest Jira and run `flowlake build`, or pass \
             --history FILE (CSV day,items_done)",
            lake.url()
        );
    }
    let ctx = flowlake_marts::session_for_query(lake)
        .await
        .context("opening the lake")?;
    // Built Parquet but no model of that name in this binary: read the files directly.
    if !ctx.table_exist(MART)? {
        ctx.register_parquet(MART, &lake.table_url(&rel), ParquetReadOptions::default())
            .await
            .with_context(|| format!("reading {}", lake.table_url(&rel)))?;
    }
    Ok(ctx)
}

/// One project's days from the mart in `ctx`.
async fn read_project(ctx: &SessionContext, project: &str) -> Result<History> {
    let sql = history_sql(project);
    let batches = ctx
        .sql(&sql)
        .await
        .with_context(|| format!("reading {MART} (columns day, project, items_done)"))?
        .collect()
        .await
        .with_context(|| format!("reading {MART}"))?;
    let mut days = Vec::new();
    for b in &batches {
        let (day, done) = (b.column(0), b.column(1));
        if day.data_type() != &DataType::Date32 || done.data_type() != &DataType::Int64 {
            bail!(
                "{MART}: unexpected column types {} and {}",
                day.data_type(),
                done.data_type()
            );
        }
        let (day, done) = (
            day.as_primitive::<Date32Type>(),
            done.as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            if day.is_null(i) || done.is_null(i) {
                bail!("{MART}: project {project} has a row with a null day or items_done");
            }
            let d = Date32Type::to_naive_date_opt(day.value(i))
                .ok_or_else(|| anyhow!("{MART}: day out of range"))?;
            days.push((d, done.value(i)));
        }
    }
    if days.is_empty() {
        let projects = ctx
            .sql(&format!(
                "select distinct project from {MART} order by project"
            ))
            .await?
            .collect()
            .await?;
        let names = arrow::util::pretty::pretty_format_columns(
            "project",
            &projects
                .iter()
                .map(|b| b.column(0).clone())
                .collect::<Vec<_>>(),
        )
        .map(|t| {
            t.to_string()
                .lines()
                .filter(|l| l.starts_with('|') && !l.contains("project"))
                .map(|l| l.trim_matches(|c| c == '|' || c == ' ').to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
        bail!("--project {project}: no rows in {MART} (projects there: {names})");
    }
    History::new(days).with_context(|| format!("{MART}, project {project}"))
}

/// Items of an epic or fix version in `project` that are neither done nor deleted.
async fn remaining_items(lake: &Lake, project: &str, scope: &WorkScope) -> Result<u64> {
    let ctx = flowlake_marts::session_for_query(lake)
        .await
        .context("opening the lake")?;
    let q = |s: &str| s.replace('\'', "''");
    let (filter, what) = match scope {
        WorkScope::Epic(k) => (format!("epic_key = '{}'", q(k)), format!("epic {k}")),
        WorkScope::FixVersion(v) => (
            format!(
                "array_has(string_to_array(coalesce(fix_versions, ''), ','), '{}')",
                q(v)
            ),
            format!("fix version {v}"),
        ),
    };
    let sql = format!(
        "select count(*) filter (where coalesce(status_category, '') <> 'done') as remaining, \
         count(*) as total from fct_work_items \
         where deleted_at is null and project = '{}' and {filter}",
        q(project)
    );
    let batches = ctx
        .sql(&sql)
        .await
        .with_context(|| format!("reading fct_work_items for {what}"))?
        .collect()
        .await
        .with_context(|| format!("reading fct_work_items for {what}"))?;
    let get = |i: usize| {
        batches
            .first()
            .map(|b| b.column(i).as_primitive::<Int64Type>().value(0))
            .unwrap_or(0)
    };
    let (remaining, total) = (get(0), get(1));
    if total == 0 {
        bail!(
            "{what}: no work items in project {project} of fct_work_items ({})",
            lake.url()
        );
    }
    if remaining == 0 {
        bail!("{what}: all {total} items are done; nothing to forecast");
    }
    Ok(remaining as u64)
}

/// The projects in the lake's mart, sorted.
async fn lake_projects(ctx: &SessionContext, lake: &Lake) -> Result<Vec<String>> {
    let batches = ctx
        .sql(&format!(
            "select distinct cast(project as varchar) from {MART} where project is not null \
             order by 1"
        ))
        .await?
        .collect()
        .await
        .with_context(|| format!("reading the projects of {MART}"))?;
    let mut out = Vec::new();
    for b in &batches {
        let col = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let col = col.as_string::<i32>();
        out.extend((0..col.len()).map(|i| col.value(i).to_string()));
    }
    if out.is_empty() {
        bail!("{MART} in {} has no projects", lake.url());
    }
    Ok(out)
}

fn history_sql(project: &str) -> String {
    format!(
        "select cast(day as date) as day, cast(items_done as bigint) as items_done \
         from {MART} where project = '{}' order by day",
        project.replace('\'', "''")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::{Value, json};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        forecast: ForecastCommand,
    }

    fn parse(args: &[&str]) -> Result<Question, clap::Error> {
        let argv = std::iter::once("forecast").chain(args.iter().copied());
        Cli::try_parse_from(argv).map(|c| c.forecast.command)
    }

    fn plan(args: &[&str]) -> Result<Plan> {
        parse(args)?.plan()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// 60 days from 2026-01-01, 0..=4 items a day.
    fn history() -> History {
        History::from_counts(
            d("2026-01-01"),
            (0..60).map(|i| (i * 7 % 5) as u64).collect(),
        )
        .unwrap()
    }

    fn run_plan(args: &[&str]) -> Result<Report> {
        forecast(&plan(args)?, &history(), "test.csv")
    }

    fn run_json(args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        serde_json::from_str(&run_plan(&a).unwrap().stdout).unwrap()
    }

    #[test]
    fn robust_forecasts_state_their_window_track_record_and_calibration() {
        let long = History::new(
            flowlake_sim::throughput::scenario_history(flowlake_sim::throughput::Scenario::Mix, 2)
                .into_iter()
                .map(|(day, n)| (day, i64::from(n))),
        )
        .unwrap();
        let args = ["when", "--history", "mix.csv", "--items", "40", "--exact"];
        let table = forecast(&plan(&args).unwrap(), &long, "mix.csv").unwrap();
        assert!(
            table.stdout.contains("window: chosen automatically: "),
            "{}",
            table.stdout
        );
        assert!(
            table.stdout.contains("track record: p85 held"),
            "{}",
            table.stdout
        );
        let mut json_args = args.to_vec();
        json_args.extend(["--format", "json"]);
        let json: Value = serde_json::from_str(
            &forecast(&plan(&json_args).unwrap(), &long, "mix.csv")
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert_eq!(json["track_record"]["origins"], json!(52));
        assert!(json["calibration"]["levels"]["85"].is_number());
        assert_eq!(json["sample"]["window_choice"]["choice"], json!("auto"));
        // --plain: the old model, no record; --window-days: a fixed window.
        json_args.push("--plain");
        let plain: Value = serde_json::from_str(
            &forecast(&plan(&json_args).unwrap(), &long, "mix.csv")
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert!(plain["track_record"].is_null());
        assert_eq!(plain["sample"]["window_choice"]["choice"], json!("fixed"));
        let fixed = plan(&[
            "how-many",
            "--history",
            "x.csv",
            "--until",
            "2027-01-01",
            "--window-days",
            "30",
        ])
        .unwrap();
        assert_eq!(fixed.options.window_days, 30);
        assert!(fixed.options.auto_window.is_none());
        assert!(fixed.options.calibrate);
    }

    #[test]
    fn when_flags_map_to_query_and_options() {
        let p = plan(&[
            "when",
            "--history",
            "h.csv",
            "--items",
            "25",
            "--start",
            "2026-03-02",
            "--target",
            "2026-03-20",
            "--trials",
            "500",
            "--seed",
            "7",
            "--exact",
            "--window-days",
            "30",
            "--weekdays-only",
            "--holiday",
            "2026-03-09",
            "--holiday",
            "2026-03-10",
        ])
        .unwrap();
        assert_eq!(p.source, Source::Csv("h.csv".into()));
        assert_eq!(
            p.ask,
            Ask::When {
                items: 25,
                target: Some(d("2026-03-20"))
            }
        );
        assert_eq!(p.start, Some(d("2026-03-02")));
        assert_eq!(p.options.trials, 500);
        assert_eq!(p.options.seed, 7);
        assert_eq!(p.options.method, Method::Exact);
        assert_eq!(p.options.window_days, 30);
        assert_eq!(
            p.options.auto_window, None,
            "--window-days fixes the window"
        );
        assert!(
            p.options.bulk.is_some() && p.options.calibrate,
            "the other rules stay on"
        );
        let cal = &p.options.calendar;
        assert!(!cal.is_working(d("2026-03-07")), "Saturday");
        assert!(!cal.is_working(d("2026-03-09")) && !cal.is_working(d("2026-03-10")));
        assert!(cal.is_working(d("2026-03-11")));
    }

    #[test]
    fn defaults() {
        let p = plan(&["how-many", "--history", "h.csv", "--until", "2026-04-01"]).unwrap();
        let o = Options::default();
        assert_eq!(
            (
                p.options.trials,
                p.options.seed,
                p.options.window_days,
                p.options.method
            ),
            (o.trials, o.seed, o.window_days, Method::Simulate)
        );
        assert!(p.options.calendar.is_every_day());
        assert_eq!(p.format, Format::Table);
        assert_eq!(p.start, None);
        // Every robustness rule on, the window chosen per history.
        assert_eq!(
            p.options,
            Options {
                calendar: p.options.calendar.clone(),
                ..o
            }
        );
        let p = plan(&["backtest", "--history", "h.csv"]).unwrap();
        assert_eq!(
            p.ask,
            Ask::Backtest {
                questions: Questions::Both,
                step_days: 7
            }
        );
        let p = plan(&["backtest", "--history", "h.csv", "--horizon-days", "14"]).unwrap();
        assert_eq!(
            p.ask,
            Ask::Backtest {
                questions: Questions::One(BacktestKind::HowMany { horizon_days: 14 }),
                step_days: 7
            }
        );
        let p = plan(&[
            "backtest",
            "--history",
            "h.csv",
            "--items",
            "20",
            "--step-days",
            "30",
        ])
        .unwrap();
        assert_eq!(
            p.ask,
            Ask::Backtest {
                questions: Questions::One(BacktestKind::When { items: 20 }),
                step_days: 30
            }
        );
    }

    #[test]
    fn lake_source_and_default_start() {
        let p = plan(&[
            "when",
            "--lake",
            "s3://b/l",
            "--project",
            "PAY",
            "--items",
            "3",
        ])
        .unwrap();
        assert_eq!(
            p.source,
            Source::Lake {
                url: Some("s3://b/l".into()),
                project: "PAY".into()
            }
        );
        // The history ends 2026-03-01, so day 1 is 2026-03-02.
        let v = run_json(&["when", "--history", "h.csv", "--items", "3"]);
        assert_eq!(v["start"], "2026-03-02");
        assert_eq!(v["sample"]["window_end"], "2026-03-01");
    }

    #[test]
    fn history_sql_filters_the_project_and_escapes_quotes() {
        let sql = history_sql("O'NEIL");
        assert!(sql.contains("from mart_throughput_daily"), "{sql}");
        assert!(sql.contains("where project = 'O''NEIL'"), "{sql}");
        assert!(sql.contains("order by day"), "{sql}");
    }

    #[test]
    fn when_json_has_level_keys_and_iso_dates() {
        let v = run_json(&[
            "when",
            "--history",
            "h.csv",
            "--items",
            "30",
            "--target",
            "2026-03-20",
        ]);
        let p = v["percentiles"].as_object().unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["50", "70", "85", "95"]);
        for day in p.values() {
            let s = day.as_str().unwrap();
            assert_eq!(s.len(), 10, "{s}");
            NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        }
        assert!(p["50"].as_str() <= p["95"].as_str());
        let dist = v["distribution"].as_array().unwrap();
        assert!(!dist.is_empty());
        let last = dist.last().unwrap()["cumulative"].as_f64().unwrap();
        assert!((last - 1.0).abs() < 1e-9, "{last}");
        assert_eq!(v["target"]["date"], "2026-03-20");
        assert_eq!(v["method"]["name"], "simulate");
        assert_eq!(v["method"]["trials"], 10_000);
        assert!(v["warnings"].as_array().unwrap().is_empty());
        assert!(v["sample"]["working_days"].as_u64().unwrap() > 0);
    }

    #[test]
    fn how_many_json_has_integer_percentiles() {
        let v = run_json(&[
            "how-many",
            "--history",
            "h.csv",
            "--until",
            "2026-03-31",
            "--exact",
        ]);
        let p = v["percentiles"].as_object().unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["50", "70", "85", "95"]);
        assert!(p.values().all(Value::is_u64), "{p:?}");
        assert!(p["85"].as_u64() <= p["50"].as_u64());
        assert_eq!(v["method"]["name"], "exact");
        assert_eq!(v["method"]["weekdays_only"], false);
        assert_eq!(v["method"]["trials"], Value::Null);
        assert_eq!(v["working_days"], 30);
        let v = run_json(&[
            "how-many",
            "--history",
            "h",
            "--until",
            "2026-03-31",
            "--weekdays-only",
            "--holiday",
            "2026-03-10",
            "--holiday",
            "2026-03-09",
        ]);
        assert_eq!(v["method"]["weekdays_only"], true);
        assert_eq!(v["method"]["holidays"], json!(["2026-03-09", "2026-03-10"]));
        assert_eq!(v["working_days"], 20);
    }

    #[test]
    fn csv_and_table_output() {
        let r = run_plan(&["when", "--history", "h", "--items", "10", "--format", "csv"]).unwrap();
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines[0], "percentile,value");
        assert_eq!(lines.len(), 5);
        assert!(lines[3].starts_with("85,2026-"), "{}", lines[3]);
        let r = run_plan(&[
            "how-many",
            "--history",
            "h",
            "--until",
            "2026-03-10",
            "--format",
            "csv",
        ])
        .unwrap();
        assert!(
            r.stdout.lines().nth(1).unwrap().starts_with("50,"),
            "{}",
            r.stdout
        );
        let r = run_plan(&["when", "--history", "h", "--items", "10"]).unwrap();
        assert!(r.stdout.contains("  85%  2026-"), "{}", r.stdout);
    }

    #[test]
    fn warnings_go_to_stderr_except_in_json() {
        // 10 days before the start: a short-history warning.
        let args = [
            "when",
            "--history",
            "h",
            "--items",
            "5",
            "--start",
            "2026-01-11",
        ];
        let r = run_plan(&args).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("short history"), "{:?}", r.warnings);
        let v = run_json(&args);
        assert_eq!(v["warnings"][0]["kind"], "short_history");
        assert!(
            v["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("short history")
        );
    }

    #[test]
    fn backtest_formats() {
        let args = [
            "backtest",
            "--history",
            "h",
            "--horizon-days",
            "14",
            "--window-days",
            "20",
            "--trials",
            "200",
        ];
        let r = run_plan(&args).unwrap();
        assert!(r.stdout.contains("p85"), "{}", r.stdout);
        assert!(r.stdout.contains("Clopper-Pearson"), "{}", r.stdout);
        assert!(r.warnings[0].contains("overlap"), "{:?}", r.warnings);
        let mut csv = args.to_vec();
        csv.extend(["--format", "csv"]);
        let out = run_plan(&csv).unwrap().stdout;
        assert_eq!(
            out.lines().next().unwrap(),
            "level,held,total,rate,lower,upper,verdict"
        );
        assert_eq!(out.lines().count(), 5);
        let v = run_json(&args);
        let levels = v["levels"].as_array().unwrap();
        assert_eq!(levels.len(), 4);
        assert_eq!(levels[2]["level"], 85);
        assert!(levels[2]["lower"].as_f64() <= levels[2]["rate"].as_f64());
        assert_eq!(v["kind"]["how_many"]["horizon_days"], 14);
    }

    /// 400 days from 2025-01-01 (0..=4 items a day, repeating every 5 days) as a CSV file:
    /// long enough for the automatic window and a full track record (52 past origins). So
    /// regular a history makes the model's p85 hold every time, so calibration narrows it.
    fn long_history(dir: &tempfile::TempDir) -> (History, String) {
        let mut text = String::from("day,items_done\n");
        for i in 0..400 {
            let day = d("2025-01-01") + Duration::days(i);
            text.push_str(&format!("{day},{}\n", i * 7 % 5));
        }
        let path = dir.path().join("long.csv");
        std::fs::write(&path, text).unwrap();
        (read_csv(&path).unwrap(), path.display().to_string())
    }

    fn run_long(args: &[&str]) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let (history, source) = long_history(&dir);
        let mut argv = args.to_vec();
        argv.extend(["--history", &source, "--exact"]);
        forecast(&plan(&argv).unwrap(), &history, &source).unwrap()
    }

    fn run_long_json(args: &[&str]) -> Value {
        let mut argv = args.to_vec();
        argv.extend(["--format", "json"]);
        serde_json::from_str(&run_long(&argv).stdout).unwrap()
    }

    #[test]
    fn track_record_and_calibration_are_stated() {
        let when = ["when", "--items", "30"];
        let table = run_long(&when).stdout;
        let line = |prefix: &str| {
            table
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix:?} line in\n{table}"))
                .to_string()
        };
        assert_eq!(
            line("track record:"),
            "track record: p85 held 52 of 52 times (100 %, 95 % CI 93–100 %) over past \
             origins 2025-01-16..2026-01-08"
        );
        let calibrated = line("calibrated:");
        assert!(
            calibrated.starts_with("calibrated: p85 reported at the model's p")
                && calibrated.ends_with("(uncalibrated p85: 2026-02-22)"),
            "{calibrated}"
        );
        assert!(
            line("window: ").starts_with("window: chosen automatically: "),
            "{table}"
        );
        let v = run_long_json(&when);
        let record = &v["track_record"];
        assert_eq!(record["origins"], 52, "{record}");
        assert_eq!(record["kind"]["when"]["items"], 30);
        assert_eq!(record["first_origin"], "2025-01-16");
        let p85 = &record["levels"][2];
        assert_eq!(
            (&p85["level"], &p85["held"], &p85["total"]),
            (&json!(85), &json!(52), &json!(52))
        );
        assert_eq!(v["calibration"]["changed"], true);
        assert_eq!(v["calibration"]["origins"], 52);
        assert!(v["calibration"]["levels"]["85"].as_f64().unwrap() < 0.85);
        assert_eq!(v["uncalibrated_percentiles"]["85"], "2026-02-22");
        assert!(v["percentiles"]["85"].as_str() < v["uncalibrated_percentiles"]["85"].as_str());
        assert_eq!(v["sample"]["window_choice"]["choice"], "auto");
        let scores = v["sample"]["window_choice"]["scores"].as_array().unwrap();
        assert!(!scores.is_empty(), "{scores:?}");
        assert!(scores.iter().any(|s| s[0] == v["sample"]["window_days"]));
        assert_eq!(v["method"]["rules"]["calibration"], true);
        // The same for "how many", whose uncalibrated answer is a count.
        let how_many = ["how-many", "--until", "2026-03-01"];
        let table = run_long(&how_many).stdout;
        assert!(table.contains("\ntrack record: p85 held "), "{table}");
        assert!(table.contains("items)\n"), "{table}");
        let v = run_long_json(&how_many);
        assert_eq!(v["track_record"]["kind"]["how_many"]["horizon_days"], 25);
        assert!(v["uncalibrated_percentiles"]["85"].is_u64(), "{v}");
        // CSV stays `percentile,value`: the track record is not a percentile.
        let mut csv = when.to_vec();
        csv.extend(["--format", "csv"]);
        let out = run_long(&csv).stdout;
        assert_eq!(out.lines().count(), 5, "{out}");
    }

    #[test]
    fn no_calibration_keeps_the_track_record() {
        let args = ["when", "--items", "30", "--no-calibration"];
        let table = run_long(&args).stdout;
        assert!(table.contains("track record: p85 held 52 of 52"), "{table}");
        assert!(!table.contains("calibrated:"), "{table}");
        let v = run_long_json(&args);
        assert_eq!(v["track_record"]["origins"], 52);
        assert_eq!(v["calibration"], Value::Null);
        assert_eq!(v["uncalibrated_percentiles"], Value::Null);
        assert_eq!(v["method"]["rules"]["calibration"], false);
        assert_eq!(v["method"]["rules"]["track_record"], true);
    }

    #[test]
    fn plain_is_the_old_model() {
        let args = ["when", "--items", "30", "--plain"];
        let table = run_long(&args).stdout;
        assert!(!table.contains("track record"), "{table}");
        assert!(!table.contains("calibrated"), "{table}");
        assert!(table.contains("\nwindow: fixed, 90 days.\n"), "{table}");
        let v = run_long_json(&args);
        for key in ["track_record", "calibration", "uncalibrated_percentiles"] {
            assert_eq!(v[key], Value::Null, "{key}");
        }
        assert_eq!(v["sample"]["window_choice"], json!({"choice": "fixed"}));
        assert_eq!(v["sample"]["window_days"], 90);
        assert!(
            v["method"]["rules"]
                .as_object()
                .unwrap()
                .values()
                .all(|on| on == false),
            "{}",
            v["method"]
        );
        // The last 90 days sampled as they are (18 cycles of 0, 2, 4, 1 and 3 items), as
        // before the rules existed.
        let p = plan(&["when", "--history", "h", "--items", "30", "--plain"]).unwrap();
        assert_eq!(p.options, Options::plain());
        assert_eq!(v["sample"]["window_start"], "2025-11-07");
        assert_eq!(v["sample"]["mean_per_working_day"], 2.0);
    }

    #[test]
    fn window_days_fixes_the_window() {
        let args = ["how-many", "--until", "2026-03-01", "--window-days", "30"];
        let table = run_long(&args).stdout;
        assert!(table.contains("\nwindow: fixed, 30 days.\n"), "{table}");
        assert!(table.contains("track record: p85 held"), "{table}");
        let v = run_long_json(&args);
        assert_eq!(v["sample"]["window_days"], 30);
        assert_eq!(v["sample"]["calendar_days"], 30);
        assert_eq!(v["sample"]["window_choice"], json!({"choice": "fixed"}));
        assert_eq!(v["method"]["window_days"], 30);
        assert_eq!(v["method"]["rules"]["auto_window"], false);
        // Too short a history to choose: the default window, and the output says why; three
        // weeks before the start leave too few past origins for a track record.
        let r = run_plan(&[
            "how-many",
            "--history",
            "h",
            "--start",
            "2026-01-22",
            "--until",
            "2026-01-28",
        ])
        .unwrap();
        assert!(
            r.stdout
                .contains("window: 90 days (too little history to choose one automatically)"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("track record: too few past origins"),
            "{}",
            r.stdout
        );
    }

    #[test]
    fn backtest_asks_both_questions_by_default() {
        let args = [
            "backtest",
            "--history",
            "h",
            "--window-days",
            "20",
            "--trials",
            "200",
        ];
        let v = run_json(&args);
        let questions = v["questions"].as_array().unwrap();
        assert_eq!(questions.len(), 2, "{v}");
        assert_eq!(questions[0]["kind"]["how_many"]["horizon_days"], 14);
        assert_eq!(questions[1]["kind"]["when"]["items"], 20);
        for q in questions {
            // Each is the single-question object, as `--horizon-days` / `--items` print it.
            assert_eq!(q["question"], "backtest");
            assert_eq!(q["levels"].as_array().unwrap().len(), 4);
            assert!(q["origins"].as_u64().unwrap() > 0, "{q}");
            assert_eq!(q["history"]["source"], "test.csv");
        }
        let mut alone = args.to_vec();
        alone.extend(["--items", "20"]);
        let mut when = run_json(&alone);
        when["method"] = questions[1]["method"].clone();
        assert_eq!(when, questions[1], "the same object as --items 20 alone");
        let r = run_plan(&args).unwrap();
        assert!(
            r.stdout
                .contains("Question 1 of 2: how many items in the next 14 days?"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout
                .contains("Question 2 of 2: when will the next 20 items be done?"),
            "{}",
            r.stdout
        );
        assert_eq!(
            r.stdout.matches("Clopper-Pearson").count(),
            2,
            "{}",
            r.stdout
        );
        assert!(r.warnings[0].contains("overlap"), "{:?}", r.warnings);
        let mut csv = args.to_vec();
        csv.extend(["--format", "csv"]);
        let out = run_plan(&csv).unwrap().stdout;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "question,horizon_days,items,level,held,total,rate,lower,upper,verdict"
        );
        assert_eq!(lines.len(), 1 + 2 * 4, "{out}");
        assert!(lines[3].starts_with("how_many,14,,85,"), "{out}");
        assert!(lines[7].starts_with("when,,20,85,"), "{out}");
    }

    #[test]
    fn both_questions_are_pooled_over_histories() {
        let busy = History::from_counts(
            d("2026-01-01"),
            (0..80).map(|i| (i * 3 % 7) as u64).collect(),
        )
        .unwrap();
        let hs = vec![
            (history(), "a.csv".to_string()),
            (busy, "b.csv".to_string()),
        ];
        let mut p = plan(&[
            "backtest",
            "--history",
            "a.csv",
            "--history",
            "b.csv",
            "--exact",
            "--window-days",
            "20",
            "--format",
            "json",
        ])
        .unwrap();
        let v: Value = serde_json::from_str(&backtests(&p, &hs).unwrap().stdout).unwrap();
        let questions = v["questions"].as_array().unwrap();
        assert_eq!(questions.len(), 2);
        for q in questions {
            assert_eq!(q["source"], "pooled");
            let sources = q["sources"].as_array().unwrap();
            assert_eq!(sources.len(), 2);
            let held = |s: &Value| s["levels"][2]["held"].as_u64().unwrap();
            assert_eq!(held(q), sources.iter().map(held).sum::<u64>(), "{q}");
            assert!(sources[0]["levels"][2]["lower"].is_f64());
        }
        p.format = Format::Table;
        let table = backtests(&p, &hs).unwrap().stdout;
        assert_eq!(
            table.matches("Pooled over 2 histories:").count(),
            2,
            "{table}"
        );
        // Per history, each level's rate with its interval.
        let b = table.lines().find(|l| l.starts_with("b.csv")).unwrap();
        assert_eq!(b.matches("%]").count(), 4, "{table}");
        p.format = Format::Csv;
        let csv = backtests(&p, &hs).unwrap().stdout;
        assert!(
            csv.starts_with("question,horizon_days,items,history,level,held,"),
            "{csv}"
        );
        assert_eq!(csv.lines().count(), 1 + 2 * 3 * 4, "{csv}");
        assert!(
            csv.lines().any(|l| l.starts_with("when,,20,pooled,85,")),
            "{csv}"
        );
    }

    #[test]
    fn epic_and_fix_version_read_their_count_from_the_lake() {
        let p = plan(&["when", "--project", "PAY", "--epic", "PAY-7"]).unwrap();
        assert_eq!(p.scope, Some(WorkScope::Epic("PAY-7".into())));
        let p = plan(&["when", "--project", "PAY", "--fix-version", "v2.1"]).unwrap();
        assert_eq!(p.scope, Some(WorkScope::FixVersion("v2.1".into())));
        assert!(plan(&["when", "--history", "h.csv", "--epic", "PAY-7"]).is_err());
        assert!(plan(&["when", "--project", "PAY", "--epic", "E", "--items", "3"]).is_err());
        assert!(
            plan(&["when", "--project", "PAY"]).is_err(),
            "some count is needed"
        );
    }

    #[test]
    fn several_histories_are_backtested_and_pooled() {
        let p = plan(&[
            "backtest",
            "--history",
            "a.csv",
            "--history",
            "b.csv",
            "--horizon-days",
            "14",
            "--exact",
            "--window-days",
            "20",
        ])
        .unwrap();
        assert_eq!(
            p.source,
            Source::Many(vec![
                Source::Csv("a.csv".into()),
                Source::Csv("b.csv".into())
            ])
        );
        let p2 = plan(&["backtest", "--lake", "s3://b/l"]).unwrap();
        assert_eq!(
            p2.source,
            Source::LakeAll {
                url: Some("s3://b/l".into())
            }
        );
        let p3 = plan(&["backtest", "--project", "PAY", "--project", "PLAT"]).unwrap();
        assert!(matches!(p3.source, Source::Many(ref v) if v.len() == 2));
        // A second, busier history: the pooled counts are the sums of the parts.
        let busy = History::from_counts(
            d("2026-01-01"),
            (0..80).map(|i| (i * 3 % 7) as u64).collect(),
        )
        .unwrap();
        let hs = vec![
            (history(), "a.csv".to_string()),
            (busy, "b.csv".to_string()),
        ];
        let mut json_plan = plan(&[
            "backtest",
            "--history",
            "a.csv",
            "--history",
            "b.csv",
            "--horizon-days",
            "14",
            "--exact",
            "--window-days",
            "20",
            "--format",
            "json",
        ])
        .unwrap();
        let v: Value = serde_json::from_str(&backtests(&json_plan, &hs).unwrap().stdout).unwrap();
        let sources = v["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[1]["source"], "b.csv");
        for (i, level) in v["levels"].as_array().unwrap().iter().enumerate() {
            let sum = |k: &str| {
                sources
                    .iter()
                    .map(|s| s["levels"][i][k].as_u64().unwrap())
                    .sum::<u64>()
            };
            assert_eq!(level["held"].as_u64().unwrap(), sum("held"));
            assert_eq!(level["total"].as_u64().unwrap(), sum("total"));
        }
        assert_eq!(
            v["origins"].as_u64().unwrap(),
            sources
                .iter()
                .map(|s| s["origins"].as_u64().unwrap())
                .sum::<u64>()
        );
        json_plan.format = Format::Table;
        let table = backtests(&json_plan, &hs).unwrap().stdout;
        assert!(table.contains("Pooled over 2 histories"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("b.csv")), "{table}");
        json_plan.format = Format::Csv;
        let csv = backtests(&json_plan, &hs).unwrap().stdout;
        assert_eq!(csv.lines().count(), 1 + 3 * 4, "{csv}");
        assert!(csv.lines().any(|l| l.starts_with("pooled,85,")), "{csv}");
    }

    fn err(args: &[&str]) -> String {
        match plan(args).and_then(|p| forecast(&p, &history(), "h")) {
            Ok(_) => panic!("{args:?} should fail"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn bad_flags_name_the_flag() {
        assert_eq!(
            err(&["when", "--history", "h", "--items", "0"]),
            "--items must be at least 1, got 0"
        );
        assert_eq!(
            err(&["when", "--history", "h", "--items", "-3"]),
            "--items must be at least 1, got -3"
        );
        assert_eq!(
            err(&[
                "how-many",
                "--history",
                "h",
                "--until",
                "2026-01-01",
                "--start",
                "2026-02-01"
            ]),
            "--until 2026-01-01 is before --start 2026-02-01"
        );
        let e = err(&["how-many", "--history", "h", "--until", "2026-02-01"]);
        assert!(
            e.starts_with("--until 2026-02-01 is before the start date 2026-03-02"),
            "{e}"
        );
        assert_eq!(
            err(&[
                "when",
                "--history",
                "h",
                "--items",
                "3",
                "--start",
                "2026-03-05",
                "--target",
                "2026-03-04"
            ]),
            "--target 2026-03-04 is before --start 2026-03-05"
        );
        assert_eq!(
            err(&["when", "--history", "h", "--items", "3", "--trials", "0"]),
            "--trials must be at least 1, got 0"
        );
        assert_eq!(
            err(&[
                "when",
                "--history",
                "h",
                "--items",
                "3",
                "--window-days",
                "0"
            ]),
            "--window-days must be at least 1, got 0"
        );
        assert_eq!(
            err(&["backtest", "--history", "h", "--step-days", "0"]),
            "--step-days must be at least 1, got 0"
        );
        assert_eq!(
            err(&["backtest", "--history", "h", "--horizon-days", "-1"]),
            "--horizon-days must be at least 1, got -1"
        );
        let e = err(&[
            "when",
            "--history",
            "h",
            "--items",
            "3",
            "--start",
            "2025-12-01",
        ]);
        assert!(
            e.starts_with("--start 2025-12-01 is not after any history"),
            "{e}"
        );
        let e = err(&["when", "--items", "3"]);
        assert!(e.starts_with("no history: pass --history FILE"), "{e}");
        let e = err(&["when", "--lake", "./lake", "--items", "3"]);
        assert!(e.starts_with("--lake needs --project"), "{e}");
    }

    #[test]
    fn clap_rejects_bad_dates_and_mixed_sources() {
        let e = parse(&["how-many", "--history", "h", "--until", "2026-13-01"]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("--until") && msg.contains("YYYY-MM-DD"),
            "{msg}"
        );
        let e = parse(&["when", "--history", "h", "--project", "X", "--items", "1"]).unwrap_err();
        assert!(e.to_string().contains("--history"), "{e}");
        let e = parse(&[
            "backtest",
            "--history",
            "h",
            "--items",
            "3",
            "--horizon-days",
            "5",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("--horizon-days"), "{e}");
    }

    #[test]
    fn csv_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "day,items_done\n2026-01-01,1\n2026-01-02\n",
                "CSV line 3: malformed line",
            ),
            (
                "day,items_done\n2026-01-02,1\n2026-01-01,1\n",
                "CSV line 3: date 2026-01-01 is out of order",
            ),
            (
                "day,items_done\n2026-01-01,-2\n",
                "CSV line 2: negative count -2",
            ),
            ("day,items_done\n", "history is empty"),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{i}.csv"));
            std::fs::write(&path, text).unwrap();
            let e = format!("{:#}", read_csv(&path).unwrap_err());
            assert!(
                e.starts_with(&format!("--history {}: ", path.display())),
                "{e}"
            );
            assert!(e.contains(want), "{e}");
        }
        let e = format!("{:#}", read_csv(&dir.path().join("nope.csv")).unwrap_err());
        assert!(e.contains("nope.csv: cannot open"), "{e}");
    }

    #[tokio::test]
    async fn lake_without_the_mart_says_how_to_get_it() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_with(
            dir.path().to_str().unwrap(),
            &flowlake_lake::LakeOptions::default(),
        )
        .unwrap();
        let Err(e) = mart_session(&lake).await else {
            panic!("a lake without the mart has no session");
        };
        let e = format!("{e:#}");
        assert!(e.contains("no mart_throughput_daily yet"), "{e}");
        assert!(
            e.contains("flowlake build") && e.contains("--history"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn lake_history_is_read_for_one_project() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = datafusion::prelude::SessionContext::new();
        let df = ctx
            .sql(
                "select * from (values \
                 (date '2026-01-02', 'PAY', 2), (date '2026-01-01', 'PAY', 1), \
                 (date '2026-01-01', 'OPS', 9)) as t(day, project, items_done)",
            )
            .await
            .unwrap();
        let out = dir.path().join("marts").join(MART);
        std::fs::create_dir_all(&out).unwrap();
        df.write_parquet(
            out.to_str().unwrap(),
            datafusion::dataframe::DataFrameWriteOptions::new(),
            None,
        )
        .await
        .unwrap();
        let lake = Lake::open_with(
            dir.path().to_str().unwrap(),
            &flowlake_lake::LakeOptions::default(),
        )
        .unwrap();
        let ctx = mart_session(&lake).await.unwrap();
        let h = read_project(&ctx, "PAY").await.unwrap();
        assert_eq!(h.first_day(), d("2026-01-01"));
        assert_eq!(h.counts(), &[1, 2]);
        assert_eq!(lake_projects(&ctx, &lake).await.unwrap(), ["OPS", "PAY"]);
        let e = format!("{:#}", read_project(&ctx, "NOPE").await.unwrap_err());
        assert!(e.contains("--project NOPE: no rows"), "{e}");
        assert!(e.contains("OPS, PAY"), "{e}");
    }
}
