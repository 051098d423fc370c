//! Working-day calendar: which days a team works.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

/// Which days are working days.
///
/// A non-working day (a day off of the week, a holiday, a blackout day) completes nothing in
/// a forecast, and its history is **not sampled from**: the empirical throughput distribution
/// is built from working days only, so a team that never ships on weekends is not modelled as
/// "often ships nothing". The default calendar makes every day a working day, matching a
/// history whose zero days are real zero days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Calendar {
    days_off: BTreeSet<u8>,
    holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Every day is a working day.
    pub fn every_day() -> Self {
        Self::default()
    }

    /// Monday to Friday.
    pub fn weekdays() -> Self {
        Self::every_day().with_days_off([Weekday::Sat, Weekday::Sun])
    }

    /// Adds days of the week off.
    pub fn with_days_off(mut self, days: impl IntoIterator<Item = Weekday>) -> Self {
        self.days_off
            .extend(days.into_iter().map(|d| d.num_days_from_monday() as u8));
        self
    }

    /// Adds holidays or blackout days.
    pub fn with_holidays(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(days);
        self
    }

    /// Whether `day` is a working day.
    pub fn is_working(&self, day: NaiveDate) -> bool {
        !self
            .days_off
            .contains(&(day.weekday().num_days_from_monday() as u8))
            && !self.holidays.contains(&day)
    }

    /// Whether every day is a working day.
    pub fn is_every_day(&self) -> bool {
        self.days_off.is_empty() && self.holidays.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_and_holidays() {
        let xmas: NaiveDate = "2026-12-25".parse().unwrap(); // a Friday
        let cal = Calendar::weekdays().with_holidays([xmas]);
        assert!(!cal.is_working(xmas));
        assert!(!cal.is_working("2026-12-26".parse().unwrap()));
        assert!(cal.is_working("2026-12-28".parse().unwrap()));
        assert!(Calendar::every_day().is_working(xmas));
    }
}
