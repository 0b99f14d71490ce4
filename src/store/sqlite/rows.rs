//! Reading typed values out of SQLite rows: UUID text, fixed-width times, JSON columns. The
//! same helpers read the rows of both drivers (sqlx for writes, rusqlite for reads, see
//! `reader`) through `Columns`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::model::time::parse_timestamp;
use crate::store::{StoreError, StoreResult};

fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("column {column} holds an unreadable value"))
}

/// The two kinds of column every stored value is kept in: text and integers.
pub trait Columns {
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>>;
}

impl Columns for SqliteRow {
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(column)?)
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        Ok(self.try_get::<i64, _>(column)?)
    }
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(self.try_get::<Option<f64>, _>(column)?)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        Ok(self.get::<_, Option<String>>(column)?)
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        Ok(self.get::<_, i64>(column)?)
    }
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        Ok(self.get::<_, Option<f64>>(column)?)
    }
}

pub fn text(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<String> {
    opt_text(row, column)?.ok_or_else(|| corrupt(column))
}

pub fn opt_text(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<Option<String>> {
    row.opt_text(column)
}

pub fn int(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<i64> {
    row.int(column)
}

pub fn opt_real(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<Option<f64>> {
    row.opt_real(column)
}

pub fn real(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<f64> {
    opt_real(row, column)?.ok_or_else(|| corrupt(column))
}

pub fn uuid(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(&text(row, column)?).map_err(|_| corrupt(column))
}

pub fn opt_uuid(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<Option<Uuid>> {
    opt_text(row, column)?
        .map(|t| Uuid::parse_str(&t).map_err(|_| corrupt(column)))
        .transpose()
}

pub fn time(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<DateTime<Utc>> {
    parse_timestamp(&text(row, column)?).ok_or_else(|| corrupt(column))
}

/// A nullable time; the empty string also means "none" (see `patients.last_visit_at`).
pub fn opt_time(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    match opt_text(row, column)? {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => parse_timestamp(&t).map(Some).ok_or_else(|| corrupt(column)),
    }
}

pub fn date(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(&text(row, column)?, "%Y-%m-%d").map_err(|_| corrupt(column))
}

pub fn json<T: DeserializeOwned>(row: &(impl Columns + ?Sized), column: &str) -> StoreResult<T> {
    serde_json::from_str(&text(row, column)?).map_err(|_| corrupt(column))
}

/// Parses a stored enum value with its `parse` function.
pub fn parsed<T>(
    row: &(impl Columns + ?Sized),
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> StoreResult<T> {
    parse(&text(row, column)?).ok_or_else(|| corrupt(column))
}

/// Serializes a value for a JSON column.
pub fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
