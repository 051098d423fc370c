//! The forecast crate's errors, reworded to name the flag a person typed.

use anyhow::anyhow;
use chrono::NaiveDate;
use flowlake_forecast::Error as ForecastError;

/// The forecast crate's errors, reworded to name the flag that caused them.
pub(super) fn flag_error(e: ForecastError, start_from_flag: bool) -> anyhow::Error {
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
