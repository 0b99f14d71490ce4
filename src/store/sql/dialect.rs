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

    /// The audit chains (`store::audit_chain`), each as (name, audit rows, links), in the
    /// names the read connections see. SQLite keeps one chain per file: its writers are
    /// per file, and a link is stored in the transaction of its row.
    pub fn audit_chains(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Dialect::Sqlite => &[
                ("data file", "main.audit_events", "main.audit_chain"),
                (
                    "audit log file",
                    "audit_log.audit_events",
                    "audit_log.audit_chain",
                ),
            ],
            Dialect::Postgres => &[("database", "audit_events", "audit_chain")],
        }
    }

    /// The statement (with the lock key as `$1`) taken before reading the audit chain's head
    /// and held until the commit, so that writers on every instance append one line; SQLite's
    /// writers queue anyway.
    pub fn chain_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock($1)"),
        }
    }
}

// Patients (`store::patients`): how the search's conditions read the columns.
impl Dialect {
    /// The patient's MRN folded for search: SQLite indexes `lower(mrn)`, PostgreSQL keeps a
    /// generated `mrn_folded` column.
    pub fn folded_mrn(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("lower({alias}.mrn)"),
            Dialect::Postgres => format!("{alias}.mrn_folded"),
        }
    }

    /// Follows a `LIKE` whose pattern was escaped with `values::escape_like`: SQLite has no
    /// escape character unless told; backslash is PostgreSQL's default.
    pub fn like_escape(self) -> &'static str {
        match self {
            Dialect::Sqlite => " ESCAPE '\\'",
            Dialect::Postgres => "",
        }
    }

    /// The text around a bound prefix for "`column` starts with it", where no end of the
    /// prefix's index range exists (`values::prefix_end`).
    pub fn starts_with(self, column: &str) -> (String, &'static str) {
        match self {
            Dialect::Sqlite => (format!(" AND instr({column}, "), ") = 1"),
            Dialect::Postgres => (format!(" AND starts_with({column}, "), ")"),
        }
    }

    /// `column` in a condition SQLite must not answer from an index: the unary `+` keeps it on
    /// the rows a `p.id IN (…)` already found rather than the doctor's whole index range.
    /// PostgreSQL's planner weighs both and needs no hint.
    pub fn not_indexed(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("+{column}"),
            Dialect::Postgres => column.to_string(),
        }
    }

    /// A text `column` in a condition of a statement that reads in last-visit order: on
    /// PostgreSQL written so that no index serves it, so its one generic plan for every term
    /// cannot pick a trigram index instead of that order; SQLite plans each term as it runs.
    pub fn in_visit_order(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_string(),
            Dialect::Postgres => format!("({column} || '')"),
        }
    }

    /// Whether a search step selects the page's ids first and then their summaries: SQLite
    /// would otherwise evaluate the summary's subquery for every row it sorts, PostgreSQL
    /// evaluates it after the sort and limit anyway.
    pub fn summaries_after_the_page(self) -> bool {
        self == Dialect::Sqlite
    }

    /// Whether a list page selects its total in each row (PostgreSQL: one round trip fewer);
    /// on SQLite the count runs on the same read connection right after.
    pub fn total_in_each_row(self) -> bool {
        self == Dialect::Postgres
    }

    /// The statement (with the lock key as `$1`) that serializes MRN allocation across
    /// transactions and server instances, so numbers stay dense; SQLite's writers queue anyway.
    pub fn mrn_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock($1)"),
        }
    }
}

// Live events (`store::events`).
impl Dialect {
    /// The statement (with the lock key as `$1`) taken before inserting events and held until
    /// the commit, so event ids become visible in increasing order across transactions and
    /// server instances; SQLite's writers queue anyway.
    pub fn event_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock($1)"),
        }
    }

    /// The statement (with the channel as `$1`) that tells the listeners of every instance,
    /// at commit, that events were written. SQLite's write transaction wakes the process's
    /// reader itself after its commit.
    pub fn event_notify(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_notify($1, '')"),
        }
    }
}
