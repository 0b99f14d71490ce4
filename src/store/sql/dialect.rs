//! What the SQL of the two engines differs in, as small pieces of text the shared statements
//! splice in. Everything else (tables, columns, joins, ordering) is the same on both.

/// The engine a statement will run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Ids, times and dates as text; JSON as text; booleans as 0/1.
    Sqlite,
    /// Native uuid, timestamptz, date, jsonb and boolean.
    Postgres,
}

impl Dialect {
    /// Appended to a `SELECT` that decides a write, so concurrent writers of the same row queue
    /// on it (PostgreSQL); SQLite has one writer at a time and needs nothing.
    pub fn lock_rows(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE",
        }
    }

    /// Like [`Dialect::lock_rows`], for the rows of one table alias of a join.
    pub fn lock_rows_of(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR NO KEY UPDATE OF {alias}"),
        }
    }

    /// How `patients.last_visit_at` stores "never seen": a value that sorts before every time,
    /// so the column needs no NULL cases in its indexes.
    pub fn never(self) -> &'static str {
        match self {
            Dialect::Sqlite => "''",
            Dialect::Postgres => "'-infinity'",
        }
    }

    /// `patients.last_visit_at` as a select list reads it: NULL for "never".
    pub fn last_visit_column(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{alias}.last_visit_at"),
            Dialect::Postgres => format!("NULLIF({alias}.last_visit_at, '-infinity')"),
        }
    }

    /// Text compared in byte order (SQLite's BINARY collation is the default; PostgreSQL's
    /// search columns are declared `COLLATE "C"`, and a bound value must say so too).
    pub fn bytewise(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    // Reports.

    /// The UTC day of a time column, as a date (`sql::date` reads it): SQLite's fixed-width
    /// text starts with it; PostgreSQL converts the timestamptz.
    pub fn utc_day(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("substr({column}, 1, 10)"),
            Dialect::Postgres => format!("({column} AT TIME ZONE 'UTC')::date"),
        }
    }
}

// Auth and admin.
impl Dialect {
    /// The tables the audit query reads as one. On SQLite the audit rows of writes are in the
    /// data file and the rest in the audit log file, which the read connections attach as
    /// `audit_log` (`sqlite::audit_log`).
    pub fn audit_tables(self) -> &'static [&'static str] {
        match self {
            Dialect::Sqlite => &["main.audit_events", "audit_log.audit_events"],
            Dialect::Postgres => &["audit_events"],
        }
    }
}
