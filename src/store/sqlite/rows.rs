//! Reading typed values out of SQLite rows: UUID text, fixed-width times, JSON columns.

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

pub fn text(row: &SqliteRow, column: &str) -> StoreResult<String> {
    Ok(row.try_get::<String, _>(column)?)
}

pub fn opt_text(row: &SqliteRow, column: &str) -> StoreResult<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(column)?)
}

pub fn int(row: &SqliteRow, column: &str) -> StoreResult<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

pub fn uuid(row: &SqliteRow, column: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(&text(row, column)?).map_err(|_| corrupt(column))
}

pub fn opt_uuid(row: &SqliteRow, column: &str) -> StoreResult<Option<Uuid>> {
    opt_text(row, column)?
        .map(|t| Uuid::parse_str(&t).map_err(|_| corrupt(column)))
        .transpose()
}

pub fn time(row: &SqliteRow, column: &str) -> StoreResult<DateTime<Utc>> {
    parse_timestamp(&text(row, column)?).ok_or_else(|| corrupt(column))
}

/// A nullable time; the empty string also means "none" (see `patients.last_visit_at`).
pub fn opt_time(row: &SqliteRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    match opt_text(row, column)? {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => parse_timestamp(&t).map(Some).ok_or_else(|| corrupt(column)),
    }
}

pub fn date(row: &SqliteRow, column: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(&text(row, column)?, "%Y-%m-%d").map_err(|_| corrupt(column))
}

pub fn json<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<T> {
    serde_json::from_str(&text(row, column)?).map_err(|_| corrupt(column))
}

pub fn opt_json<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> StoreResult<Option<T>> {
    opt_text(row, column)?
        .map(|t| serde_json::from_str(&t).map_err(|_| corrupt(column)))
        .transpose()
}

/// Parses a stored enum value with its `parse` function.
pub fn parsed<T>(row: &SqliteRow, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&text(row, column)?).ok_or_else(|| corrupt(column))
}

/// Serializes a value for a JSON column.
pub fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
