//! The shared query layer on SQLite: rows of both drivers read through `sql::Row` (ids, times
//! and dates are stored as text, JSON as text, booleans as 0/1), statements bound and run on
//! sqlx connections (writes) and on the synchronous read connections (`reader`).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value as SqliteValue;
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sqlx::{Row as _, SqliteConnection};
use uuid::Uuid;

use crate::model::time::{format_timestamp, parse_timestamp};
use crate::store::sql::{Conn, Dialect, JsonColumn, Row, Statement, Value, WriteTx, corrupt};
use crate::store::{StoreError, StoreResult};

/// A value as SQLite stores it.
fn stored(value: &Value) -> SqliteValue {
    fn or_null<T>(value: Option<T>, stored: impl FnOnce(T) -> SqliteValue) -> SqliteValue {
        value.map_or(SqliteValue::Null, stored)
    }
    match value {
        Value::Text(v) => or_null(v.clone(), SqliteValue::Text),
        Value::Int(v) => or_null(*v, SqliteValue::Integer),
        Value::Real(v) => or_null(*v, SqliteValue::Real),
        Value::Bool(b) => SqliteValue::Integer(i64::from(*b)),
        Value::Uuid(v) => or_null(*v, |id| SqliteValue::Text(id.to_string())),
        Value::Time(v) => or_null(*v, |at| SqliteValue::Text(format_timestamp(at))),
        Value::Date(day) => SqliteValue::Text(day.format("%Y-%m-%d").to_string()),
        Value::Json(v) => or_null(v.as_ref(), |json| SqliteValue::Text(json.to_string())),
    }
}

fn parse_uuid(text: Option<&str>, column: &str) -> StoreResult<Option<Uuid>> {
    text.map(|t| Uuid::parse_str(t).map_err(|_| corrupt(column)))
        .transpose()
}

fn parse_time(text: Option<&str>, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    match text {
        None | Some("") => Ok(None),
        Some(t) => parse_timestamp(t).map(Some).ok_or_else(|| corrupt(column)),
    }
}

fn parse_date(text: Option<&str>, column: &str) -> StoreResult<Option<NaiveDate>> {
    text.map(|t| crate::model::time::parse_date(t).ok_or_else(|| corrupt(column)))
        .transpose()
}

/// The typed getters both drivers' rows share, from the four they differ in.
macro_rules! sqlite_row {
    ($row:ty, $get:ident, $get_str:ident) => {
        impl Row for $row {
            fn opt_str(&self, column: &str) -> StoreResult<Option<&str>> {
                $get_str(self, column)
            }
            fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
                $get::<Option<i64>>(self, column)
            }
            fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
                $get::<Option<f64>>(self, column)
            }
            fn opt_bool(&self, column: &str) -> StoreResult<Option<bool>> {
                Ok(self.opt_int(column)?.map(|n| n != 0))
            }
            fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>> {
                parse_uuid(self.opt_str(column)?, column)
            }
            fn opt_time(&self, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
                parse_time(self.opt_str(column)?, column)
            }
            fn opt_date(&self, column: &str) -> StoreResult<Option<NaiveDate>> {
                parse_date(self.opt_str(column)?, column)
            }
            fn opt_json_column(&self, column: &str) -> StoreResult<Option<JsonColumn>> {
                Ok(self.opt_text(column)?.map(JsonColumn::Text))
            }
        }
    };
}

fn sqlx_get<T>(row: &SqliteRow, column: &str) -> StoreResult<T>
where
    T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    Ok(row.try_get::<T, _>(column)?)
}

fn sqlx_str<'r>(row: &'r SqliteRow, column: &str) -> StoreResult<Option<&'r str>> {
    Ok(row.try_get::<Option<&str>, _>(column)?)
}

/// A row of a read connection with its statement's column names, read once per query.
/// rusqlite finds a column by name by asking SQLite for every column's name in turn and
/// comparing it without case, for every value read: 15 % of a patient-list request went there.
struct NamedRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r [String],
}

/// The column names of a prepared statement, in order.
fn column_names(statement: &rusqlite::Statement<'_>) -> Vec<String> {
    statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn named_get<T: rusqlite::types::FromSql>(row: &NamedRow<'_, '_>, column: &str) -> StoreResult<T> {
    match row.names.iter().position(|name| name == column) {
        Some(index) => Ok(row.row.get::<_, T>(index)?),
        // Not written as the statement names it: rusqlite's own lookup, which ignores case.
        None => Ok(row.row.get::<_, T>(column)?),
    }
}

/// A text value borrowed from SQLite's own copy, where `named_get::<String>` would copy it.
fn named_str<'a>(row: &'a NamedRow<'_, '_>, column: &str) -> StoreResult<Option<&'a str>> {
    let value = match row.names.iter().position(|name| name == column) {
        Some(index) => row.row.get_ref(index)?,
        None => row.row.get_ref(column)?,
    };
    match value {
        rusqlite::types::ValueRef::Null => Ok(None),
        rusqlite::types::ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| corrupt(column)),
        _ => Err(corrupt(column)),
    }
}

sqlite_row!(SqliteRow, sqlx_get, sqlx_str);
sqlite_row!(NamedRow<'_, '_>, named_get, named_str);

/// The statement as a sqlx query, its values bound as SQLite stores them.
fn sqlx_query(statement: &Statement) -> StoreResult<Query<'static, Sqlite, SqliteArguments>> {
    use sqlx::Arguments;
    let mut arguments = SqliteArguments::default();
    for value in statement.values() {
        let added = match stored(value) {
            SqliteValue::Null => arguments.add(None::<String>),
            SqliteValue::Integer(n) => arguments.add(n),
            SqliteValue::Real(x) => arguments.add(x),
            SqliteValue::Text(text) => arguments.add(text),
            SqliteValue::Blob(bytes) => arguments.add(bytes),
        };
        added.map_err(|e| StoreError::Corrupt(format!("a value could not be bound: {e}")))?;
    }
    Ok(sqlx::query_with(
        sqlx::AssertSqlSafe(statement.sqlite_sql()),
        arguments,
    ))
}

impl Conn for SqliteConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn rows<T, F>(&mut self, statement: &Statement, mut read: F) -> StoreResult<Vec<T>>
    where
        T: Send,
        F: FnMut(&dyn Row) -> StoreResult<T> + Send,
    {
        let found = sqlx_query(statement)?.fetch_all(&mut *self).await?;
        found.iter().map(|row| read(row)).collect()
    }

    async fn first<T, F>(&mut self, statement: &Statement, read: F) -> StoreResult<Option<T>>
    where
        T: Send,
        F: FnOnce(&dyn Row) -> StoreResult<T> + Send,
    {
        let found = sqlx_query(statement)?.fetch_optional(&mut *self).await?;
        found.as_ref().map(|row| read(row)).transpose()
    }

    async fn execute(&mut self, statement: &Statement) -> StoreResult<u64> {
        Ok(sqlx_query(statement)?
            .execute(&mut *self)
            .await?
            .rows_affected())
    }
}

/// A read connection of `reader`, owned by the blocking task running a read. Its futures do
/// all their work when first polled: the read runs them to the end without an executor.
pub struct ReadConnection(pub(super) rusqlite::Connection);

impl ReadConnection {
    fn prepared(&self, statement: &Statement) -> StoreResult<rusqlite::CachedStatement<'_>> {
        Ok(self.0.prepare_cached(&statement.sqlite_sql())?)
    }
}

fn rusqlite_values(statement: &Statement) -> Vec<SqliteValue> {
    statement.values().iter().map(stored).collect()
}

impl Conn for ReadConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn rows<T, F>(&mut self, statement: &Statement, mut read: F) -> StoreResult<Vec<T>>
    where
        T: Send,
        F: FnMut(&dyn Row) -> StoreResult<T> + Send,
    {
        let mut prepared = self.prepared(statement)?;
        let names = column_names(&prepared);
        let mut rows = prepared.query(rusqlite::params_from_iter(rusqlite_values(statement)))?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            found.push(read(&NamedRow { row, names: &names })?);
        }
        Ok(found)
    }

    async fn first<T, F>(&mut self, statement: &Statement, read: F) -> StoreResult<Option<T>>
    where
        T: Send,
        F: FnOnce(&dyn Row) -> StoreResult<T> + Send,
    {
        let mut prepared = self.prepared(statement)?;
        let names = column_names(&prepared);
        let mut rows = prepared.query(rusqlite::params_from_iter(rusqlite_values(statement)))?;
        match rows.next()? {
            Some(row) => Ok(Some(read(&NamedRow { row, names: &names })?)),
            None => Ok(None),
        }
    }

    async fn execute(&mut self, _statement: &Statement) -> StoreResult<u64> {
        Err(StoreError::ReadFailed(
            "a read connection does not write".into(),
        ))
    }
}

crate::store::sql::conn_through!(super::WriteTx, Dialect::Sqlite, |tx| (&mut **tx));

impl WriteTx for super::WriteTx {
    async fn commit(self) -> StoreResult<()> {
        super::WriteTx::commit(self).await
    }

    async fn rollback(self) -> StoreResult<()> {
        super::WriteTx::rollback(self).await
    }

    fn events_written(&mut self) {
        self.wrote_events = true;
    }
}
