//! The shared query layer on PostgreSQL: rows read through `sql::Row` in native types, and
//! statements bound with native types and run on a connection or a transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{PgConnection, Row as _, TypeInfo, ValueRef};
use uuid::Uuid;

use crate::store::StoreResult;
use crate::store::sql::{Conn, Dialect, JsonColumn, Row, Statement, Value, WriteTx, corrupt};

fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    Ok(row.try_get::<T, _>(column)?)
}

/// The name of the column's type in this row (`INT4`, `FLOAT8`, …), for the integer and real
/// getters, which accept every width.
fn type_name(row: &PgRow, column: &str) -> StoreResult<Option<String>> {
    let raw = row.try_get_raw(column)?;
    if raw.is_null() {
        return Ok(None);
    }
    Ok(Some(raw.type_info().name().to_string()))
}

impl Row for PgRow {
    fn opt_str(&self, column: &str) -> StoreResult<Option<&str>> {
        get(self, column)
    }
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        match type_name(self, column)?.as_deref() {
            None => Ok(None),
            Some("INT8") => get::<i64>(self, column).map(Some),
            Some("INT4") => get::<i32>(self, column).map(|n| Some(n.into())),
            Some("INT2") => get::<i16>(self, column).map(|n| Some(n.into())),
            Some(_) => Err(corrupt(column)),
        }
    }
    fn opt_real(&self, column: &str) -> StoreResult<Option<f64>> {
        match type_name(self, column)?.as_deref() {
            None => Ok(None),
            Some("FLOAT8") => get::<f64>(self, column).map(Some),
            Some("FLOAT4") => get::<f32>(self, column).map(|x| Some(x.into())),
            Some(_) => self.opt_int(column).map(|n| n.map(|n| n as f64)),
        }
    }
    fn opt_bool(&self, column: &str) -> StoreResult<Option<bool>> {
        get(self, column)
    }
    fn opt_uuid(&self, column: &str) -> StoreResult<Option<Uuid>> {
        get(self, column)
    }
    fn opt_time(&self, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
        get(self, column)
    }
    fn opt_date(&self, column: &str) -> StoreResult<Option<NaiveDate>> {
        get(self, column)
    }
    fn opt_json_column(&self, column: &str) -> StoreResult<Option<JsonColumn>> {
        let value = self
            .try_get::<Option<Json<serde_json::Value>>, _>(column)
            .map_err(|_| corrupt(column))?;
        Ok(value.map(|Json(value)| JsonColumn::Value(value)))
    }
}

/// The statement ready to run, its values bound in PostgreSQL's types.
fn query(statement: &Statement) -> Query<'_, Postgres, PgArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql().to_string()));
    for value in statement.values() {
        query = match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Int(v) => query.bind(*v),
            Value::Real(v) => query.bind(*v),
            Value::Bool(b) => query.bind(*b),
            Value::Uuid(v) => query.bind(*v),
            Value::Time(v) => query.bind(*v),
            Value::Date(day) => query.bind(*day),
            Value::Json(v) => query.bind(v.as_ref().map(Json)),
        };
    }
    query
}

impl Conn for PgConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn rows<T, F>(&mut self, statement: &Statement, mut read: F) -> StoreResult<Vec<T>>
    where
        T: Send,
        F: FnMut(&dyn Row) -> StoreResult<T> + Send,
    {
        let found = query(statement).fetch_all(&mut *self).await?;
        found.iter().map(|row| read(row)).collect()
    }

    async fn first<T, F>(&mut self, statement: &Statement, read: F) -> StoreResult<Option<T>>
    where
        T: Send,
        F: FnOnce(&dyn Row) -> StoreResult<T> + Send,
    {
        let found = query(statement).fetch_optional(&mut *self).await?;
        found.as_ref().map(|row| read(row)).transpose()
    }

    async fn execute(&mut self, statement: &Statement) -> StoreResult<u64> {
        Ok(query(statement).execute(&mut *self).await?.rows_affected())
    }
}

/// A write transaction on PostgreSQL.
pub struct PgTx(pub(super) sqlx::Transaction<'static, Postgres>);

crate::store::sql::conn_through!(PgTx, Dialect::Postgres, |tx| (&mut *tx.0));

impl WriteTx for PgTx {
    async fn commit(self) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }

    async fn rollback(self) -> StoreResult<()> {
        Ok(self.0.rollback().await?)
    }
}
