//! `quantile_cont(x, p)`: the exact continuous percentile (linear interpolation between the
//! two closest ranks, rank = p·(n−1)), as DuckDB's `quantile_cont` and PostgreSQL's
//! `percentile_cont` define it.
//!
//! DataFusion 55's own `percentile_cont` truncates the interpolation weight to steps of 1e-6
//! (apache/datafusion#25266), so a p90 over ten lead times can be off in the fourth decimal;
//! the marts promise true percentiles, so they use this one.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{Accumulator, AggregateUDF, Volatility, create_udaf};

/// The aggregate's SQL name.
pub const NAME: &str = "quantile_cont";

#[derive(Debug, Default)]
struct QuantileCont {
    values: Vec<f64>,
    p: Option<f64>,
}

/// The percentile of `values` at `p` in `[0, 1]`; `None` when there are no values.
pub fn quantile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = p * (values.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let w = rank - lo as f64;
    Some(values[lo] + (values[hi] - values[lo]) * w)
}

impl Accumulator for QuantileCont {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let x = values[0].as_primitive::<Float64Type>();
        let p = values[1].as_primitive::<Float64Type>();
        if self.p.is_none() && !p.is_empty() && p.is_valid(0) {
            let v = p.value(0);
            if !(0.0..=1.0).contains(&v) {
                return Err(DataFusionError::Plan(format!(
                    "{NAME}: the percentile must be between 0 and 1, got {v}"
                )));
            }
            self.p = Some(v);
        }
        self.values.extend(x.iter().flatten());
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let p = self.p.unwrap_or(0.5);
        Ok(ScalarValue::Float64(quantile(&mut self.values, p)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.capacity() * std::mem::size_of::<f64>()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let list = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            arrow::buffer::OffsetBuffer::from_lengths([self.values.len()]),
            Arc::new(Float64Array::from(self.values.clone())),
            None,
        );
        Ok(vec![
            ScalarValue::List(Arc::new(list)),
            ScalarValue::Float64(self.p),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let lists = states[0].as_list::<i32>();
        let ps = states[1].as_primitive::<Float64Type>();
        for i in 0..lists.len() {
            if lists.is_valid(i) {
                let inner = lists.value(i);
                self.values
                    .extend(inner.as_primitive::<Float64Type>().iter().flatten());
            }
            if self.p.is_none() && ps.is_valid(i) {
                self.p = Some(ps.value(i));
            }
        }
        Ok(())
    }
}

/// The UDAF, to register on a session.
pub fn udaf() -> AggregateUDF {
    create_udaf(
        NAME,
        vec![DataType::Float64, DataType::Float64],
        Arc::new(DataType::Float64),
        Volatility::Immutable,
        Arc::new(|_| Ok(Box::<QuantileCont>::default())),
        Arc::new(vec![
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
            DataType::Float64,
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_at_full_precision() {
        let mut v: Vec<f64> = (1..=9).map(f64::from).chain([100.0]).collect();
        // rank 8.1: 9 + 0.1 · (100 − 9); DataFusion 55's percentile_cont gives 18.099909.
        assert!((quantile(&mut v, 0.9).unwrap() - 18.1).abs() < 1e-12);
        assert_eq!(quantile(&mut v, 0.5), Some(5.5));
        assert_eq!(quantile(&mut v, 1.0), Some(100.0));
        assert_eq!(quantile(&mut [], 0.5), None);
        assert_eq!(quantile(&mut [7.0], 0.9), Some(7.0));
    }
}
