//! SQL text with its arguments kept beside it. The list and search statements are built as
//! [`Statement`]s so the same value can run through sqlx or be shown to `EXPLAIN` exactly as the
//! engine runs it: the plan tests prepare [`Statement::sql`] with [`Statement::parameter_types`]
//! and execute it with [`Statement::literals`] under a generic plan.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use uuid::Uuid;

/// One bound value, in the PostgreSQL type sqlx sends it as.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Uuid(Uuid),
    Int(i64),
    Time(DateTime<Utc>),
    Date(NaiveDate),
}

impl Arg {
    /// The parameter type sqlx declares for this value.
    pub fn sql_type(&self) -> &'static str {
        match self {
            Arg::Text(_) => "text",
            Arg::Uuid(_) => "uuid",
            Arg::Int(_) => "bigint",
            Arg::Time(_) => "timestamptz",
            Arg::Date(_) => "date",
        }
    }

    /// The value as an SQL literal of its type (for `EXECUTE` in plan tests; the server always
    /// binds).
    pub fn literal(&self) -> String {
        match self {
            Arg::Text(text) => format!("'{}'::text", text.replace('\'', "''")),
            Arg::Uuid(id) => format!("'{id}'::uuid"),
            Arg::Int(n) => format!("{n}::bigint"),
            Arg::Time(at) => format!(
                "'{}'::timestamptz",
                crate::model::time::format_timestamp(*at)
            ),
            Arg::Date(day) => format!("'{day}'::date"),
        }
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_string())
    }
}

impl From<Uuid> for Arg {
    fn from(id: Uuid) -> Arg {
        Arg::Uuid(id)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Int(n)
    }
}

impl From<NaiveDate> for Arg {
    fn from(day: NaiveDate) -> Arg {
        Arg::Date(day)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(at: DateTime<Utc>) -> Arg {
        Arg::Time(at)
    }
}

/// SQL being built, with `$n` placeholders numbered as values are bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
    sql: String,
    args: Vec<Arg>,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Statement {
        Statement {
            sql: sql.into(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Statement {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Statement {
        self.args.push(value.into());
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// `(text, uuid, …)`: the parameter types, for `PREPARE name (…) AS sql`.
    pub fn parameter_types(&self) -> String {
        let types: Vec<&str> = self.args.iter().map(Arg::sql_type).collect();
        format!("({})", types.join(", "))
    }

    /// `(…)`: the arguments as literals, for `EXECUTE name (…)`.
    pub fn literals(&self) -> String {
        let values: Vec<String> = self.args.iter().map(Arg::literal).collect();
        format!("({})", values.join(", "))
    }

    /// The statement ready to run, its arguments bound.
    pub(super) fn query(&self) -> Query<'_, Postgres, PgArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.clone()));
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.as_str()),
                Arg::Uuid(id) => query.bind(*id),
                Arg::Int(n) => query.bind(*n),
                Arg::Time(at) => query.bind(*at),
                Arg::Date(day) => query.bind(*day),
            };
        }
        query
    }
}

/// A statement of the shared query layer, for the plan tests while both kinds exist.
impl From<crate::store::sql::Statement> for Statement {
    fn from(shared: crate::store::sql::Statement) -> Statement {
        use crate::store::sql::Value;
        let args = shared
            .values()
            .iter()
            .map(|value| match value {
                Value::Uuid(Some(id)) => Arg::Uuid(*id),
                Value::Int(Some(n)) => Arg::Int(*n),
                Value::Time(Some(at)) => Arg::Time(*at),
                Value::Date(day) => Arg::Date(*day),
                Value::Text(Some(text)) => Arg::Text(text.clone()),
                other => Arg::Text(other.literal()),
            })
            .collect();
        Statement {
            sql: shared.sql().to_string(),
            args,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_and_renders_literals() {
        let mut st = Statement::new("SELECT 1 WHERE a = ");
        st.bind("it's").push(" AND b = ").bind(5_i64);
        assert_eq!(st.sql(), "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(st.parameter_types(), "(text, bigint)");
        assert_eq!(st.literals(), "('it''s'::text, 5::bigint)");
    }
}
