//! `flowlake forecast`: Monte Carlo "when will N items be done?", "how many by a date?" and
//! backtests of both, over a daily-throughput history.
//!
//! The history comes from the lake's `mart_throughput_daily` (`--lake URL --project KEY`) or
//! from a CSV `day,items_done` (`--history FILE`). Flags become a checked plan before any IO;
//! the forecast itself is `flowlake-forecast`, whose errors are reworded here to name the flag
//! a person typed (`--items`, `--until`, …) rather than the library's field.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use chrono::{Datelike, Duration, NaiveDate};
use clap::{Subcommand, ValueEnum};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flowlake_forecast::{
    Backtest, BacktestKind, BacktestQuery, Calendar, Error as ForecastError, History,
    HowManyForecast, HowManyQuery, Method, Options, Verdict, Warning, WhenForecast, WhenQuery,
};
use flowlake_lake::Lake;
use serde_json::{Map, Value, json};

use super::forecast_track as track;
use crate::config::Config;
use crate::plan;

/// The mart a lake history is read from.
const MART: &str = "mart_throughput_daily";

/// Confidence of the backtest's Clopper–Pearson intervals.
const CONFIDENCE: f64 = 0.95;

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
    /// Replay past forecasts at rolling origins and report how often each percentile held.
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
    /// Sample the last N calendar days of history before the start date (a fixed window;
    /// without it the window is chosen per history by backtest, 90 days when the history is
    /// too short to choose).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    window_days: Option<i64>,
    /// Keep bulk clean-up days (more than max(20, 5 × p90) items) in the sample.
    #[arg(long)]
    no_bulk_exclusion: bool,
    /// Do not cut the window at the last throughput regime change (Pettitt test).
    #[arg(long)]
    no_change_point: bool,
    /// Do not switch to weekdays when the history shows weekday-only work.
    #[arg(long)]
    no_weekday_detection: bool,
    /// Report the model's own percentiles, not ones calibrated on the track record.
    #[arg(long)]
    no_calibration: bool,
    /// The plain model: every robustness rule, the track record and calibration off.
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
    /// Ask "how many items in the next N days?" at each origin (the default, 14).
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "items",
        allow_negative_numbers = true
    )]
    horizon_days: Option<i64>,
    /// Ask "when will the next N items be done?" at each origin instead.
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
struct CalendarFlags {
    weekdays_only: bool,
    holidays: Vec<NaiveDate>,
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
        kind: BacktestKind,
        step_days: u32,
    },
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
                let kind = match a.items {
                    Some(items) => BacktestKind::When {
                        items: u64::from(at_least_one("--items", items)?),
                    },
                    None => BacktestKind::HowMany {
                        horizon_days: at_least_one("--horizon-days", a.horizon_days.unwrap_or(14))?,
                    },
                };
                Ok(Plan {
                    source: a.source.plan()?,
                    options: a.model.options()?,
                    calendar: a.model.calendar_flags(),
                    format: a.model.format,
                    start: None,
                    ask: Ask::Backtest {
                        kind,
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
    let report = if let [(history, described)] = histories.as_slice() {
        forecast(&plan, history, described)?
    } else {
        backtest_pooled(&plan, &histories)?
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
        Ask::Backtest { kind, step_days } => {
            let query = BacktestQuery {
                kind,
                step_days,
                first_origin: None,
                confidence: CONFIDENCE,
            };
            let b = flowlake_forecast::backtest(history, &query, &plan.options)
                .map_err(|e| flag_error(e, false))?;
            let mut warnings = Vec::new();
            if let BacktestKind::HowMany { horizon_days } = kind
                && step_days < horizon_days
                && plan.format != Format::Json
            {
                warnings.push(overlap_warning(step_days, horizon_days));
            }
            Ok(Report {
                stdout: render_backtest(&b, step_days, &meta, plan.format),
                warnings,
            })
        }
    }
}

/// Backtests each history with the plan's question and options, then pools them.
fn backtest_pooled(plan: &Plan, histories: &[(History, String)]) -> Result<Report> {
    let Ask::Backtest { kind, step_days } = plan.ask else {
        bail!("several histories can only be backtested (forecast backtest)");
    };
    let query = BacktestQuery {
        kind,
        step_days,
        first_origin: None,
        confidence: CONFIDENCE,
    };
    let mut parts = Vec::new();
    for (history, described) in histories {
        let b = flowlake_forecast::backtest(history, &query, &plan.options)
            .map_err(|e| flag_error(e, false))
            .with_context(|| format!("backtesting {described}"))?;
        parts.push((described.clone(), b));
    }
    let all: Vec<Backtest> = parts.iter().map(|(_, b)| b.clone()).collect();
    let pooled = flowlake_forecast::pool(&all, CONFIDENCE)?;
    let mut warnings = Vec::new();
    if let BacktestKind::HowMany { horizon_days } = kind
        && step_days < horizon_days
        && plan.format != Format::Json
    {
        warnings.push(overlap_warning(step_days, horizon_days));
    }
    let (first, _) = &histories[0];
    let described = format!("{} histories, pooled", histories.len());
    let meta = Meta {
        source: &described,
        history: first,
        options: &plan.options,
        calendar: &plan.calendar,
    };
    Ok(Report {
        stdout: render_backtest_parts(&pooled, &parts, histories, step_days, &meta, plan.format),
        warnings,
    })
}

fn overlap_warning(step_days: u32, horizon_days: u32) -> String {
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

/// Context for rendering: where the history came from and how the forecast ran.
struct Meta<'a> {
    source: &'a str,
    history: &'a History,
    options: &'a Options,
    calendar: &'a CalendarFlags,
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Simulate => "simulate",
        Method::Exact => "exact",
    }
}

fn method_line(method: Method, trials: Option<u32>, seed: u64) -> String {
    match trials {
        Some(t) => format!("{}, {t} trials, seed {seed}", method_name(method)),
        None => method_name(method).to_string(),
    }
}

fn warning_json(w: &Warning) -> Value {
    let mut v = serde_json::to_value(w).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("message".into(), Value::String(w.to_string()));
    }
    v
}

fn common_json(meta: &Meta<'_>, method: Method, trials: Option<u32>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "method".into(),
        json!({
            "name": method_name(method),
            "trials": trials,
            "seed": meta.options.seed,
            "window_days": meta.options.window_days,
            "weekdays_only": meta.calendar.weekdays_only,
            "holidays": meta.calendar.holidays.iter().map(|d| ymd(*d)).collect::<Vec<_>>(),
        }),
    );
    m.insert(
        "history".into(),
        json!({
            "source": meta.source,
            "first_day": ymd(meta.history.first_day()),
            "last_day": ymd(meta.history.last_day()),
            "days": meta.history.len(),
        }),
    );
    m
}

fn sample_line(s: &flowlake_forecast::SampleSummary) -> String {
    format!(
        "sampled {} to {}: {} working days, {} with items done, {:.2} items per working day",
        ymd(s.window_start),
        ymd(s.window_end),
        s.working_days,
        s.non_zero_days,
        s.mean_per_working_day
    )
}

fn render_when(f: &WhenForecast, meta: &Meta<'_>, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Table => {
            let _ = writeln!(
                out,
                "When will {} items be done? Start {} ({}).",
                f.items,
                ymd(f.start),
                method_line(f.method, f.trials, meta.options.seed)
            );
            let _ = writeln!(out, "History {}; {}.", meta.source, sample_line(&f.sample));
            let _ = writeln!(out, "{}.", track::window_line(&f.sample));
            let _ = writeln!(out, "\nchance  done on or before");
            for (level, day) in &f.percentiles {
                let _ = writeln!(out, "{:>5}%  {} ({})", level, ymd(*day), day.weekday());
            }
            out.push('\n');
            out.push_str(&track::track_lines(
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated.as_ref(),
            ));
            if let Some(t) = &f.target {
                let _ = writeln!(
                    out,
                    "\ntarget {}: {:.1}% chance of done on or before",
                    ymd(t.date),
                    t.probability * 100.0
                );
            }
        }
        Format::Csv => {
            out.push_str("percentile,value\n");
            for (level, day) in &f.percentiles {
                let _ = writeln!(out, "{level},{}", ymd(*day));
            }
        }
        Format::Json => {
            let mut m = common_json(meta, f.method, f.trials);
            m.insert("question".into(), json!("when"));
            m.insert("items".into(), json!(f.items));
            m.insert("start".into(), json!(ymd(f.start)));
            m.insert(
                "percentiles".into(),
                Value::Object(
                    f.percentiles
                        .iter()
                        .map(|(l, d)| (l.to_string(), json!(ymd(*d))))
                        .collect(),
                ),
            );
            let mut cum = 0.0;
            let dist: Vec<Value> = f
                .distribution
                .iter()
                .map(|(d, p)| {
                    cum += p;
                    json!({"date": ymd(*d), "probability": p, "cumulative": cum})
                })
                .collect();
            m.insert("distribution".into(), Value::Array(dist));
            m.insert(
                "target".into(),
                f.target.as_ref().map_or(
                    Value::Null,
                    |t| json!({"date": ymd(t.date), "probability": t.probability}),
                ),
            );
            m.insert("sample".into(), sample_json(&f.sample));
            m.insert(
                "warnings".into(),
                Value::Array(f.warnings.iter().map(warning_json).collect()),
            );
            m.extend(track::track_json(
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated
                    .as_ref()
                    .map(|u| {
                        u.iter()
                            .map(|(l, x)| (*l, x.to_string()))
                            .collect::<BTreeMap<u8, String>>()
                    })
                    .as_ref(),
            ));
            out = pretty(&Value::Object(m));
        }
    }
    out
}

fn render_how_many(f: &HowManyForecast, meta: &Meta<'_>, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Table => {
            let _ = writeln!(
                out,
                "How many items from {} to {} ({} working days)? ({}).",
                ymd(f.start),
                ymd(f.end),
                f.working_days,
                method_line(f.method, f.trials, meta.options.seed)
            );
            let _ = writeln!(out, "History {}; {}.", meta.source, sample_line(&f.sample));
            let _ = writeln!(out, "{}.", track::window_line(&f.sample));
            let _ = writeln!(out, "\nchance  at least");
            for (level, n) in &f.percentiles {
                let _ = writeln!(out, "{level:>5}%  {n}");
            }
            out.push('\n');
            out.push_str(&track::track_lines(
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated.as_ref(),
            ));
        }
        Format::Csv => {
            out.push_str("percentile,value\n");
            for (level, n) in &f.percentiles {
                let _ = writeln!(out, "{level},{n}");
            }
        }
        Format::Json => {
            let mut m = common_json(meta, f.method, f.trials);
            m.insert("question".into(), json!("how_many"));
            m.insert("start".into(), json!(ymd(f.start)));
            m.insert("until".into(), json!(ymd(f.end)));
            m.insert("working_days".into(), json!(f.working_days));
            m.insert(
                "percentiles".into(),
                Value::Object(
                    f.percentiles
                        .iter()
                        .map(|(l, n)| (l.to_string(), json!(n)))
                        .collect(),
                ),
            );
            let total: f64 = f.distribution.values().sum();
            let mut below = 0.0;
            let dist: Vec<Value> = f
                .distribution
                .iter()
                .map(|(n, p)| {
                    let at_least = total - below;
                    below += p;
                    json!({"items": n, "probability": p, "at_least": at_least})
                })
                .collect();
            m.insert("distribution".into(), Value::Array(dist));
            m.insert("sample".into(), sample_json(&f.sample));
            m.insert(
                "warnings".into(),
                Value::Array(f.warnings.iter().map(warning_json).collect()),
            );
            m.extend(track::track_json(
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated.as_ref(),
            ));
            out = pretty(&Value::Object(m));
        }
    }
    out
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Calibrated => "calibrated",
        Verdict::Overconfident => "overconfident",
        Verdict::Underconfident => "underconfident",
    }
}

fn render_backtest(b: &Backtest, step_days: u32, meta: &Meta<'_>, format: Format) -> String {
    let mut out = String::new();
    let question = match b.kind {
        BacktestKind::HowMany { horizon_days } => {
            format!("how many items in the next {horizon_days} days")
        }
        BacktestKind::When { items } => format!("when will the next {items} items be done"),
    };
    match format {
        Format::Table => {
            let _ = writeln!(
                out,
                "Backtest: \"{question}?\" at {} origins every {step_days} days ({} skipped); {}.",
                b.observations.len(),
                b.skipped,
                method_line(
                    meta.options.method,
                    (meta.options.method == Method::Simulate).then_some(meta.options.trials),
                    meta.options.seed
                )
            );
            let _ = writeln!(
                out,
                "History {} ({} to {}).",
                meta.source,
                ymd(meta.history.first_day()),
                ymd(meta.history.last_day())
            );
            let _ = writeln!(
                out,
                "\nlevel  held/total    rate  {:<19}  verdict",
                format!("{:.0}% Clopper-Pearson", CONFIDENCE * 100.0)
            );
            for l in &b.levels {
                let _ = writeln!(
                    out,
                    "p{:<4}  {:>10}  {:>5.1}%  {:<19}  {}",
                    l.level,
                    format!("{}/{}", l.held, l.total),
                    l.rate * 100.0,
                    format!("[{:.1}%, {:.1}%]", l.lower * 100.0, l.upper * 100.0),
                    verdict_name(l.verdict)
                );
            }
        }
        Format::Csv => {
            out.push_str("level,held,total,rate,lower,upper,verdict\n");
            for l in &b.levels {
                let _ = writeln!(
                    out,
                    "{},{},{},{:.4},{:.4},{:.4},{}",
                    l.level,
                    l.held,
                    l.total,
                    l.rate,
                    l.lower,
                    l.upper,
                    verdict_name(l.verdict)
                );
            }
        }
        Format::Json => {
            let method = meta.options.method;
            let trials = (method == Method::Simulate).then_some(meta.options.trials);
            let mut m = common_json(meta, method, trials);
            m.insert("question".into(), json!("backtest"));
            m.insert(
                "kind".into(),
                serde_json::to_value(b.kind).unwrap_or(Value::Null),
            );
            m.insert("step_days".into(), json!(step_days));
            m.insert("confidence".into(), json!(CONFIDENCE));
            m.insert("origins".into(), json!(b.observations.len()));
            m.insert("skipped".into(), json!(b.skipped));
            let levels: Vec<Value> = b
                .levels
                .iter()
                .map(|l| {
                    json!({
                        "level": l.level, "held": l.held, "total": l.total, "rate": l.rate,
                        "lower": l.lower, "upper": l.upper, "verdict": verdict_name(l.verdict),
                    })
                })
                .collect();
            m.insert("levels".into(), Value::Array(levels));
            let obs: Vec<Value> = b
                .observations
                .iter()
                .map(|o| {
                    let held: BTreeMap<String, bool> =
                        o.held.iter().map(|(l, h)| (l.to_string(), *h)).collect();
                    json!({"origin": ymd(o.origin), "held": held})
                })
                .collect();
            m.insert("observations".into(), Value::Array(obs));
            let mut warnings = Vec::new();
            if let BacktestKind::HowMany { horizon_days } = b.kind
                && step_days < horizon_days
            {
                warnings.push(json!({
                    "kind": "overlapping_origins",
                    "message": overlap_warning(step_days, horizon_days),
                }));
            }
            m.insert("warnings".into(), Value::Array(warnings));
            out = pretty(&Value::Object(m));
        }
    }
    out
}

/// A pooled backtest: one line per history, then the pooled table (or JSON with `sources`).
fn render_backtest_parts(
    pooled: &Backtest,
    parts: &[(String, Backtest)],
    histories: &[(History, String)],
    step_days: u32,
    meta: &Meta<'_>,
    format: Format,
) -> String {
    let rate = |b: &Backtest, level: u8| {
        b.levels
            .iter()
            .find(|l| l.level == level)
            .map_or(f64::NAN, |l| l.rate)
    };
    match format {
        Format::Table => {
            let mut out = String::new();
            let width = parts.iter().map(|(d, _)| d.len()).max().unwrap_or(6).max(6);
            let _ = writeln!(
                out,
                "{:<width$}  {:>10}  {:>7}  {:>7}  {:>7}  {:>7}",
                "history", "origins", "p50", "p70", "p85", "p95"
            );
            for ((described, b), (h, _)) in parts.iter().zip(histories) {
                let _ = writeln!(
                    out,
                    "{:<width$}  {:>10}  {:>6.1}%  {:>6.1}%  {:>6.1}%  {:>6.1}%   ({} to {})",
                    described,
                    b.observations.len(),
                    rate(b, 50) * 100.0,
                    rate(b, 70) * 100.0,
                    rate(b, 85) * 100.0,
                    rate(b, 95) * 100.0,
                    ymd(h.first_day()),
                    ymd(h.last_day()),
                );
            }
            out.push('\n');
            let table = render_backtest(pooled, step_days, meta, format);
            // The pooled table's "History …" line describes one history: say what was pooled.
            for line in table.lines() {
                if line.starts_with("History ") {
                    let _ = writeln!(out, "Pooled over {} histories:", parts.len());
                } else {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            out
        }
        Format::Csv => {
            let mut out = String::from("history,level,held,total,rate,lower,upper,verdict\n");
            let all = parts
                .iter()
                .map(|(d, b)| (d.as_str(), b))
                .chain(std::iter::once(("pooled", pooled)));
            for (described, b) in all {
                for l in &b.levels {
                    let _ = writeln!(
                        out,
                        "{},{},{},{},{:.4},{:.4},{:.4},{}",
                        csv_field(described),
                        l.level,
                        l.held,
                        l.total,
                        l.rate,
                        l.lower,
                        l.upper,
                        verdict_name(l.verdict)
                    );
                }
            }
            out
        }
        Format::Json => {
            let mut v: Value =
                serde_json::from_str(&render_backtest(pooled, step_days, meta, format))
                    .unwrap_or(Value::Null);
            let sources: Vec<Value> = parts
                .iter()
                .zip(histories)
                .map(|((described, b), (h, _))| {
                    let levels: Vec<Value> = b
                        .levels
                        .iter()
                        .map(|l| {
                            json!({
                                "level": l.level, "held": l.held, "total": l.total,
                                "rate": l.rate, "lower": l.lower, "upper": l.upper,
                                "verdict": verdict_name(l.verdict),
                            })
                        })
                        .collect();
                    json!({
                        "source": described,
                        "first_day": ymd(h.first_day()),
                        "last_day": ymd(h.last_day()),
                        "origins": b.observations.len(),
                        "skipped": b.skipped,
                        "levels": levels,
                    })
                })
                .collect();
            if let Value::Object(m) = &mut v {
                m.insert("source".into(), json!("pooled"));
                m.remove("history");
                m.insert("sources".into(), Value::Array(sources));
            }
            pretty(&v)
        }
    }
}

/// Quote a CSV field when it holds a comma or a quote.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn sample_json(s: &flowlake_forecast::SampleSummary) -> Value {
    let mut v = json!({
        "window_start": ymd(s.window_start),
        "window_end": ymd(s.window_end),
        "calendar_days": s.calendar_days,
        "working_days": s.working_days,
        "non_zero_days": s.non_zero_days,
        "mean_per_working_day": s.mean_per_working_day,
    });
    if let Value::Object(m) = &mut v {
        m.extend(track::sample_extra(s));
    }
    v
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
        let p = plan(&["backtest", "--history", "h.csv"]).unwrap();
        assert_eq!(
            p.ask,
            Ask::Backtest {
                kind: BacktestKind::HowMany { horizon_days: 14 },
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
                kind: BacktestKind::When { items: 20 },
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
            "--exact",
            "--window-days",
            "20",
            "--format",
            "json",
        ])
        .unwrap();
        let v: Value =
            serde_json::from_str(&backtest_pooled(&json_plan, &hs).unwrap().stdout).unwrap();
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
        let table = backtest_pooled(&json_plan, &hs).unwrap().stdout;
        assert!(table.contains("Pooled over 2 histories"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("b.csv")), "{table}");
        json_plan.format = Format::Csv;
        let csv = backtest_pooled(&json_plan, &hs).unwrap().stdout;
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
