//! Reading typed values out of a row of either engine. An engine implements [`Row`] for its
//! row types (native uuid, timestamptz, date and jsonb on PostgreSQL; the text SQLite stores
//! them as); the functions below read a column of any row, so each mapping from a row to a
//! model type is written once.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::store::{StoreError, StoreResult};

/// A JSON column as the engine hands it over: text to parse (SQLite) or a parsed value
/// (PostgreSQL's jsonb).
pub enum JsonColumn {
    Text(String),
    Value(serde_json::Value),
}

/// One row of a result, read by column name. Every method answers `None` for NULL.
pub trait Row {
    /// A text column as the row holds it, borrowed: ids, times and sealed values are parsed
    /// or opened from it without a copy of their own.
    fn opt_str(&self, column: &str) -> StoreResult<Option<&str>>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        Ok(self.opt_str(column)?.map(str::to_owned))
    }
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>>;
    fn opt_bool(&self, column: &str) -> StoreResult<Option<bool>>;
    fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>>;
    /// A time; on SQLite the empty string also means "none" (`patients.last_visit_at`).
    fn opt_time(&self, column: &str) -> StoreResult<Option<DateTime<Utc>>>;
    fn opt_date(&self, column: &str) -> StoreResult<Option<NaiveDate>>;
    fn opt_json_column(&self, column: &str) -> StoreResult<Option<JsonColumn>>;
}

/// The error for a column whose value cannot be what the schema says.
pub fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("column {column} holds an unreadable value"))
}

fn required<T>(value: Option<T>, column: &str) -> StoreResult<T> {
    value.ok_or_else(|| corrupt(column))
}

pub fn text(row: &dyn Row, column: &str) -> StoreResult<String> {
    required(row.opt_text(column)?, column)
}

pub fn opt_text(row: &dyn Row, column: &str) -> StoreResult<Option<String>> {
    row.opt_text(column)
}

pub fn int(row: &dyn Row, column: &str) -> StoreResult<i64> {
    required(row.opt_int(column)?, column)
}

pub fn opt_int(row: &dyn Row, column: &str) -> StoreResult<Option<i64>> {
    row.opt_int(column)
}

/// A count or other integer that cannot be negative.
pub fn count(row: &dyn Row, column: &str) -> StoreResult<u64> {
    Ok(int(row, column)?.max(0) as u64)
}

pub fn real(row: &dyn Row, column: &str) -> StoreResult<f64> {
    required(row.opt_real(column)?, column)
}

pub fn opt_real(row: &dyn Row, column: &str) -> StoreResult<Option<f64>> {
    row.opt_real(column)
}

pub fn boolean(row: &dyn Row, column: &str) -> StoreResult<bool> {
    required(row.opt_bool(column)?, column)
}

pub fn uuid(row: &dyn Row, column: &str) -> StoreResult<Uuid> {
    required(row.opt_uuid(column)?, column)
}

pub fn opt_uuid(row: &dyn Row, column: &str) -> StoreResult<Option<Uuid>> {
    row.opt_uuid(column)
}

pub fn time(row: &dyn Row, column: &str) -> StoreResult<DateTime<Utc>> {
    required(row.opt_time(column)?, column)
}

pub fn opt_time(row: &dyn Row, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.opt_time(column)
}

pub fn date(row: &dyn Row, column: &str) -> StoreResult<NaiveDate> {
    required(row.opt_date(column)?, column)
}

pub fn opt_json<T: DeserializeOwned>(row: &dyn Row, column: &str) -> StoreResult<Option<T>> {
    match row.opt_json_column(column)? {
        None => Ok(None),
        Some(JsonColumn::Text(text)) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| corrupt(column)),
        Some(JsonColumn::Value(value)) => serde_json::from_value(value)
            .map(Some)
            .map_err(|_| corrupt(column)),
    }
}

pub fn json<T: DeserializeOwned>(row: &dyn Row, column: &str) -> StoreResult<T> {
    required(opt_json(row, column)?, column)
}

/// Parses a stored enum value with its `parse` function.
pub fn parsed<T>(row: &dyn Row, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&text(row, column)?).ok_or_else(|| corrupt(column))
}

pub fn opt_parsed<T>(
    row: &dyn Row,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> StoreResult<Option<T>> {
    row.opt_text(column)?
        .map(|text| parse(&text).ok_or_else(|| corrupt(column)))
        .transpose()
}

/// A value for a JSON column.
pub fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A text column sealed by `store::cipher`, opened (NULL stays `None`).
pub fn sealed_opt_text(row: &dyn Row, column: &str) -> StoreResult<Option<String>> {
    row.opt_str(column)?
        .map(crate::store::cipher::open)
        .transpose()
}

/// A required text column sealed by `store::cipher`, opened.
pub fn sealed_text(row: &dyn Row, column: &str) -> StoreResult<String> {
    crate::store::cipher::open(required(row.opt_str(column)?, column)?)
}

/// A JSON column whose value `store::cipher::seal_json` sealed, opened and parsed.
pub fn sealed_opt_json<T: DeserializeOwned>(row: &dyn Row, column: &str) -> StoreResult<Option<T>> {
    let value = match row.opt_json_column(column)? {
        None => return Ok(None),
        Some(JsonColumn::Text(text)) => serde_json::from_str(&text).map_err(|_| corrupt(column))?,
        Some(JsonColumn::Value(value)) => value,
    };
    serde_json::from_value(crate::store::cipher::open_json(value)?)
        .map(Some)
        .map_err(|_| corrupt(column))
}

/// A required JSON column sealed by `store::cipher::seal_json`.
pub fn sealed_json<T: DeserializeOwned>(row: &dyn Row, column: &str) -> StoreResult<T> {
    required(sealed_opt_json(row, column)?, column)
}
