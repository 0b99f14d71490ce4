//! SQL built piece by piece with its bound values, the same shape as sqlx's `QueryBuilder`:
//! `push` appends text, `bind` appends a numbered placeholder (`$1`, `$2`, …) for a value.
//! Hand-written SQL may use `$n` placeholders directly and `arg` the values in order. The
//! statement is engine-neutral: each engine's [`Conn`](super::Conn) binds the values in its
//! own types and, on SQLite, numbers the placeholders `?n`.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// One bound value. Each kind binds as its native type on PostgreSQL and as text, integer or
/// real on SQLite (ids and times as the text SQLite stores). A `None` is a NULL of that kind,
/// so PostgreSQL knows its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(bool),
    Uuid(Option<Uuid>),
    Time(Option<DateTime<Utc>>),
    Date(NaiveDate),
    Json(Option<serde_json::Value>),
}

impl Value {
    /// The PostgreSQL type sqlx declares for this value.
    pub fn sql_type(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Int(_) => "bigint",
            Value::Real(_) => "double precision",
            Value::Bool(_) => "boolean",
            Value::Uuid(_) => "uuid",
            Value::Time(_) => "timestamptz",
            Value::Date(_) => "date",
            Value::Json(_) => "jsonb",
        }
    }

    /// The value as a PostgreSQL literal of its type (for `EXECUTE` in plan tests; the server
    /// always binds).
    pub fn literal(&self) -> String {
        fn quoted(text: &str) -> String {
            format!("'{}'", text.replace('\'', "''"))
        }
        let text = match self {
            Value::Text(v) => v.as_deref().map(quoted),
            Value::Int(v) => v.map(|n| n.to_string()),
            Value::Real(v) => v.map(|x| x.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Uuid(v) => v.map(|id| quoted(&id.to_string())),
            Value::Time(v) => v.map(|at| quoted(&crate::model::time::format_timestamp(at))),
            Value::Date(day) => Some(quoted(&day.to_string())),
            Value::Json(v) => v.as_ref().map(|json| quoted(&json.to_string())),
        };
        format!("{}::{}", text.as_deref().unwrap_or("NULL"), self.sql_type())
    }
}

macro_rules! value_from {
    ($($type:ty => $variant:ident),* $(,)?) => {$(
        impl From<$type> for Value {
            fn from(value: $type) -> Value {
                Value::$variant(Some(value.into()))
            }
        }
        impl From<Option<$type>> for Value {
            fn from(value: Option<$type>) -> Value {
                Value::$variant(value.map(Into::into))
            }
        }
    )*};
}

value_from! {
    String => Text,
    &str => Text,
    &String => Text,
    i64 => Int,
    f64 => Real,
    Uuid => Uuid,
    DateTime<Utc> => Time,
    serde_json::Value => Json,
}

impl From<i32> for Value {
    fn from(value: i32) -> Value {
        Value::Int(Some(value.into()))
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Value {
        Value::Int(Some(value.into()))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<NaiveDate> for Value {
    fn from(value: NaiveDate) -> Value {
        Value::Date(value)
    }
}

/// SQL being built, with `$n` placeholders numbered as values are bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
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

    /// Appends SQL text.
    pub fn push(&mut self, sql: impl AsRef<str>) -> &mut Statement {
        self.sql.push_str(sql.as_ref());
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Statement {
        self.values.push(value.into());
        self.sql.push('$');
        self.sql.push_str(&self.values.len().to_string());
        self
    }

    /// Adds the value of the next `$n` that the SQL text already holds.
    pub fn arg(mut self, value: impl Into<Value>) -> Statement {
        self.values.push(value.into());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The SQL with SQLite's numbered placeholders (`?n`, which both SQLite drivers bind by
    /// number) in place of `$n`.
    /// Runs for every statement of every request, so it copies the text between placeholders
    /// in slices rather than character by character.
    pub fn sqlite_sql(&self) -> String {
        let sql = &self.sql;
        let mut out = String::with_capacity(sql.len());
        let mut copied = 0;
        for (at, _) in sql.match_indices('$') {
            if sql.as_bytes().get(at + 1).is_some_and(u8::is_ascii_digit) {
                out.push_str(&sql[copied..at]);
                out.push('?');
                copied = at + 1;
            }
        }
        out.push_str(&sql[copied..]);
        out
    }

    /// `(text, uuid, …)`: the parameter types, for `PREPARE name (…) AS sql`.
    pub fn parameter_types(&self) -> String {
        let types: Vec<&str> = self.values.iter().map(Value::sql_type).collect();
        format!("({})", types.join(", "))
    }

    /// `(…)`: the arguments as literals, for `EXECUTE name (…)`.
    pub fn literals(&self) -> String {
        let values: Vec<String> = self.values.iter().map(Value::literal).collect();
        format!("({})", values.join(", "))
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
        assert_eq!(st.sqlite_sql(), "SELECT 1 WHERE a = ?1 AND b = ?2");
        assert_eq!(st.parameter_types(), "(text, bigint)");
        assert_eq!(st.literals(), "('it''s'::text, 5::bigint)");
        assert_eq!(Value::Uuid(None).literal(), "NULL::uuid");
    }

    #[test]
    fn hand_written_placeholders_keep_their_numbers_on_sqlite() {
        let st = Statement::new("UPDATE t SET a = $2 WHERE id = $1 AND b = '$x'")
            .arg(1_i64)
            .arg("x");
        assert_eq!(
            st.sqlite_sql(),
            "UPDATE t SET a = ?2 WHERE id = ?1 AND b = '$x'"
        );
    }
}
