//! SQL built piece by piece with its bound values: the same `push` / `push_bind` shape as
//! sqlx's `QueryBuilder`. A statement runs either on a read connection (`reader`, through its
//! prepared-statement cache) or inside a write transaction on sqlx (`*_in`), so a read that a
//! write repeats to answer with the stored row is built once.

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};
use sqlx::SqliteConnection;
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};

use crate::store::{StoreError, StoreResult};

pub(super) struct Statement {
    sql: String,
    values: Vec<Value>,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Statement {
        Statement {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: impl AsRef<str>) -> &mut Statement {
        self.sql.push_str(sql.as_ref());
        self
    }

    /// Appends a placeholder for `value` (`?N`, numbered, so the SQL text alone names the
    /// statement in the cache).
    pub fn push_bind(&mut self, value: impl Into<Value>) -> &mut Statement {
        self.values.push(value.into());
        self.sql.push('?');
        self.sql.push_str(&self.values.len().to_string());
        self
    }

    /// Every row, each read by `read`.
    pub fn rows<T>(
        &self,
        connection: &Connection,
        mut read: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut prepared = connection.prepare_cached(&self.sql)?;
        let mut rows = prepared.query(params_from_iter(self.values.iter()))?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            found.push(read(row)?);
        }
        Ok(found)
    }

    /// The first row, if any.
    pub fn first<T>(
        &self,
        connection: &Connection,
        read: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut prepared = connection.prepare_cached(&self.sql)?;
        let mut rows = prepared.query(params_from_iter(self.values.iter()))?;
        match rows.next()? {
            Some(row) => Ok(Some(read(row)?)),
            None => Ok(None),
        }
    }

    /// The integer in the first column of the first row (a count or a sum).
    pub fn scalar(&self, connection: &Connection) -> StoreResult<i64> {
        let mut prepared = connection.prepare_cached(&self.sql)?;
        Ok(prepared.query_row(params_from_iter(self.values.iter()), |row| row.get(0))?)
    }

    /// The first row, if any, read inside a sqlx transaction.
    pub async fn first_in<T>(
        &self,
        connection: &mut SqliteConnection,
        read: impl FnOnce(&SqliteRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let found = self.sqlx_query()?.fetch_optional(connection).await?;
        found.as_ref().map(read).transpose()
    }

    /// The statement as a sqlx query, its values bound in order.
    fn sqlx_query(&self) -> StoreResult<Query<'static, Sqlite, SqliteArguments>> {
        Ok(sqlx::query_with(
            sqlx::AssertSqlSafe(self.sql.clone()),
            self.sqlx_arguments()?,
        ))
    }

    fn sqlx_arguments(&self) -> StoreResult<SqliteArguments> {
        use sqlx::Arguments;
        let mut arguments = SqliteArguments::default();
        for value in &self.values {
            let added = match value {
                Value::Null => arguments.add(None::<String>),
                Value::Integer(n) => arguments.add(*n),
                Value::Real(x) => arguments.add(*x),
                Value::Text(text) => arguments.add(text.clone()),
                Value::Blob(bytes) => arguments.add(bytes.clone()),
            };
            added.map_err(|e| StoreError::Corrupt(format!("a value could not be bound: {e}")))?;
        }
        Ok(arguments)
    }
}
