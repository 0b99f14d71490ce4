//! Reading typed values out of PostgreSQL rows: native uuid, timestamptz, date and jsonb columns,
//! and the text enums the model parses.

use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::{PgRow, Postgres};
use sqlx::types::Json;

use crate::store::{StoreError, StoreResult};

fn corrupt(column: &str) -> StoreError {
    StoreError::Corrupt(format!("column {column} holds an unreadable value"))
}

/// Any column sqlx can decode (`Uuid`, `DateTime<Utc>`, `NaiveDate`, `String`, `Option<_>`…).
pub fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    Ok(row.try_get::<T, _>(column)?)
}

/// A count or other integer column that must not be negative.
pub fn count(row: &PgRow, column: &str) -> StoreResult<u64> {
    Ok(get::<i64>(row, column)?.max(0) as u64)
}

pub fn json<T: DeserializeOwned>(row: &PgRow, column: &str) -> StoreResult<T> {
    row.try_get::<Json<T>, _>(column)
        .map(|Json(value)| value)
        .map_err(|_| corrupt(column))
}

/// Parses a stored enum value with its `parse` function.
pub fn parsed<T>(row: &PgRow, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(&get::<String>(row, column)?).ok_or_else(|| corrupt(column))
}
