//! The crate's one error type.

use chrono::NaiveDate;

/// Result with this crate's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong building a history or running a forecast.
///
/// Variants carry the context a person needs to fix the input: the CSV line, the offending
/// date or count, the option (named as in [`crate::Options`]) that was out of range.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The history has no days at all.
    #[error("history is empty: at least one day of throughput is needed")]
    EmptyHistory,

    /// A day reported a negative number of finished items.
    #[error("history day {day}: items done must not be negative, got {count}")]
    NegativeCount {
        /// The day.
        day: NaiveDate,
        /// The count given.
        count: i64,
    },

    /// Days must be listed in increasing order.
    #[error("history day {day} comes after {previous}: days must be in increasing order")]
    DateOutOfOrder {
        /// The day that is out of order.
        day: NaiveDate,
        /// The day before it in the input.
        previous: NaiveDate,
    },

    /// The same day was listed twice.
    #[error("history day {day} is listed twice")]
    DuplicateDate {
        /// The repeated day.
        day: NaiveDate,
    },

    /// The CSV does not start with the `day,items_done` header.
    #[error("CSV line 1: expected the header `day,items_done`, found {found:?}")]
    CsvHeader {
        /// What the first line held.
        found: String,
    },

    /// A CSV line does not have exactly two fields.
    #[error("CSV line {line}: malformed line {content:?}: expected `day,items_done`")]
    CsvMalformed {
        /// 1-based line number.
        line: usize,
        /// The line as read.
        content: String,
    },

    /// A CSV `day` field is not a `YYYY-MM-DD` date.
    #[error("CSV line {line}: bad date {value:?}: expected YYYY-MM-DD")]
    CsvBadDate {
        /// 1-based line number.
        line: usize,
        /// The field as read.
        value: String,
        /// The parser's complaint.
        source: chrono::ParseError,
    },

    /// A CSV `items_done` field is not an integer.
    #[error("CSV line {line}: bad count {value:?}: expected a whole number")]
    CsvBadCount {
        /// 1-based line number.
        line: usize,
        /// The field as read.
        value: String,
    },

    /// A CSV `items_done` field is negative.
    #[error("CSV line {line}: negative count {count}: items done must not be negative")]
    CsvNegativeCount {
        /// 1-based line number.
        line: usize,
        /// The count given.
        count: i64,
    },

    /// A CSV day is earlier than the line before it.
    #[error("CSV line {line}: date {day} is out of order (after {previous})")]
    CsvDateOutOfOrder {
        /// 1-based line number.
        line: usize,
        /// The day on this line.
        day: NaiveDate,
        /// The day on the line before.
        previous: NaiveDate,
    },

    /// A CSV day repeats the line before it.
    #[error("CSV line {line}: date {day} is a duplicate")]
    CsvDuplicateDate {
        /// 1-based line number.
        line: usize,
        /// The repeated day.
        day: NaiveDate,
    },

    /// Reading the CSV failed.
    #[error("CSV line {line}: read failed")]
    CsvRead {
        /// 1-based line number.
        line: usize,
        /// The IO error.
        source: std::io::Error,
    },

    /// The CSV has a header but no data line.
    #[error("CSV has a header but no data lines: history is empty")]
    CsvEmpty,

    /// The number of remaining items must be at least 1.
    #[error("{field}: the number of remaining items must be at least 1, got {items}")]
    InvalidItems {
        /// Which input (`items` or `features[i].items`).
        field: String,
        /// The value given.
        items: i64,
    },

    /// A target or end date lies before the start date.
    #[error("{field}: date {target} is before the start date {start}")]
    TargetBeforeStart {
        /// Which input (`target` or `end`).
        field: &'static str,
        /// The start date.
        start: NaiveDate,
        /// The offending date.
        target: NaiveDate,
    },

    /// The sampling window has no history before the start date.
    #[error(
        "no history before the start date {start} (history begins {history_start}): \
         nothing to sample from"
    )]
    NoHistoryBeforeStart {
        /// The forecast's start date.
        start: NaiveDate,
        /// The first day of the history.
        history_start: NaiveDate,
    },

    /// Every working day of the sampling window has zero items done: no forecast ends.
    #[error(
        "all-zero history: no item was done on any working day from {window_start} to \
         {window_end}, so no forecast would ever finish"
    )]
    AllZeroHistory {
        /// First day of the sampling window.
        window_start: NaiveDate,
        /// Last day of the sampling window.
        window_end: NaiveDate,
    },

    /// The sampling window holds no working day under the calendar.
    #[error("no working day to sample from {window_start} to {window_end} under the calendar")]
    NoWorkingDays {
        /// First day of the sampling window.
        window_start: NaiveDate,
        /// Last day of the sampling window.
        window_end: NaiveDate,
    },

    /// Some simulated futures did not finish within the horizon.
    #[error(
        "not done within the horizon: some futures starting {start} are still unfinished after \
         {horizon_days} days (max_horizon_days)"
    )]
    NotDoneWithinHorizon {
        /// The start date.
        start: NaiveDate,
        /// The horizon in calendar days.
        horizon_days: u32,
    },

    /// An option is out of range.
    #[error("{option}: {reason}")]
    InvalidOption {
        /// The option, named as in [`crate::Options`] (e.g. `risks[1].likelihood`).
        option: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Exact mode was asked for something only simulation can do.
    #[error(
        "exact mode does not support {option}: use Method::Simulate \
         (exact mode computes the plain when/how-many with a calendar)"
    )]
    ExactUnsupported {
        /// The unsupported option.
        option: &'static str,
    },

    /// A multi-feature forecast was given no feature.
    #[error("features: at least one feature is needed")]
    NoFeatures,

    /// A backtest found no origin with enough history before and after it.
    #[error(
        "backtest: no usable origin (history of {history_days} days, window {window_days}, \
         horizon {horizon_days} days)"
    )]
    NoBacktestOrigins {
        /// Days in the history.
        history_days: usize,
        /// The sampling window.
        window_days: u32,
        /// The forecast horizon (or the longest p95 horizon seen).
        horizon_days: u32,
    },
}
