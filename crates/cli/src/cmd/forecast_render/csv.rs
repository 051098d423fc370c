//! `--format csv`, written by the csv crate: `percentile,value` rows for a forecast, a row
//! per level for a backtest.

use std::collections::BTreeMap;

use ::csv::{Writer, WriterBuilder};
use flowlake_forecast::{Backtest, BacktestKind, LevelCoverage};
use serde::Serialize;

use super::{BacktestSection, verdict_name};

/// A backtest level's columns, after any question and history columns.
const LEVEL_COLUMNS: [&str; 7] = [
    "level", "held", "total", "rate", "lower", "upper", "verdict",
];

#[derive(Serialize)]
struct PercentileRow<T> {
    percentile: u8,
    value: T,
}

/// Runs `write` over an in-memory writer that leaves headers to it (so an answer with no
/// rows still has its header). Memory cannot fail and every row has its header's width, so an
/// error here is a bug.
fn written(write: impl FnOnce(&mut Writer<Vec<u8>>) -> ::csv::Result<()>) -> String {
    let mut w = WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    let bytes = write(&mut w)
        .and_then(|()| w.into_inner().map_err(|e| e.into_error().into()))
        .expect("CSV rows of one width written to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// A forecast's `percentile,value` rows (value: a date for `when`, a count for `how-many`).
pub(super) fn percentiles<T: Serialize>(p: &BTreeMap<u8, T>) -> String {
    written(|w| {
        w.write_record(["percentile", "value"])?;
        for (&percentile, value) in p {
            w.serialize(PercentileRow { percentile, value })?;
        }
        Ok(())
    })
}

/// One question's backtest: `level,…` rows for one history, `history,level,…` for several
/// (each history, then `pooled`). Several questions: the same rows, one header, prefixed by
/// `question,horizon_days,items`.
pub(super) fn backtests(sections: &[BacktestSection]) -> String {
    let questions = sections.len() > 1;
    let pooled = sections.iter().any(|s| s.pooled.is_some());
    written(|w| {
        let mut header = Vec::new();
        if questions {
            header.extend(["question", "horizon_days", "items"]);
        }
        if pooled {
            header.push("history");
        }
        header.extend(LEVEL_COLUMNS);
        w.write_record(&header)?;
        for s in sections {
            let question = match s.kind {
                BacktestKind::HowMany { horizon_days } => [
                    "how_many".to_string(),
                    horizon_days.to_string(),
                    String::new(),
                ],
                BacktestKind::When { items } => {
                    ["when".to_string(), String::new(), items.to_string()]
                }
            };
            let rows: Vec<(&str, &Backtest)> = s
                .parts
                .iter()
                .map(|(described, b)| (described.as_str(), b))
                .chain(s.pooled.iter().map(|b| ("pooled", b)))
                .collect();
            for (history, b) in rows {
                for l in &b.levels {
                    let mut record: Vec<String> = Vec::new();
                    if questions {
                        record.extend(question.iter().cloned());
                    }
                    if pooled {
                        record.push(history.to_string());
                    }
                    record.extend(level_fields(l));
                    w.write_record(&record)?;
                }
            }
        }
        Ok(())
    })
}

/// A level's fields, in [`LEVEL_COLUMNS`] order; rates to four decimals.
fn level_fields(l: &LevelCoverage) -> [String; 7] {
    [
        l.level.to_string(),
        l.held.to_string(),
        l.total.to_string(),
        format!("{:.4}", l.rate),
        format!("{:.4}", l.lower),
        format!("{:.4}", l.upper),
        verdict_name(l.verdict).to_string(),
    ]
}
