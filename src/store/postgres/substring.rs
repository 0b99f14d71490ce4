//! The substring step of the patient search on PostgreSQL (see `store::patients`): first among
//! the caller's most recently seen patients, then through the pg_trgm indexes; and the
//! statements of a patient list and search as this engine runs them, for the plan tests.

use sqlx::PgConnection;

use crate::model::patient::PatientSummary;
use crate::store::patients::{self, DENSE_PREFIX_CANDIDATES, Search};
use crate::store::sql::{Conn, Dialect, Statement};
use crate::store::{Actor, PatientListQuery, StoreResult};

/// How many of the caller's most recently seen patients the substring step reads before it
/// turns to the trigram indexes.
const SUBSTRING_RECENT_ROWS: i64 = 2000;

/// The caller's most recently seen patients, read for the substring: a common substring fills
/// the page among them, without the trigram indexes, whose posting lists for common trigrams
/// are long however rare the whole term.
fn substring_in_recent(search: &Search, rest: u32) -> Statement {
    let mut recent = Statement::new(
        "WITH recent AS (SELECT p.id, p.last_visit_at, p.name_folded, p.mrn_folded, \
         p.email_folded, p.phone_digits, p.phone_last4 FROM patients p",
    );
    search.push_scope(&mut recent);
    recent
        .push(" ORDER BY p.last_visit_at DESC, p.id DESC LIMIT ")
        .bind(SUBSTRING_RECENT_ROWS)
        .push("), hits AS (SELECT p.id, p.last_visit_at FROM recent p WHERE TRUE");
    search.push_substring_only(&mut recent);
    search.push_by_visit(&mut recent, rest);
    search.push_summaries_of_hits(&mut recent, false);
    recent
}

/// The rows the trigram indexes find, across doctors, are gathered first (MATERIALIZED), then
/// each looked up and checked for the caller.
fn substring_by_trigram(search: &Search, rest: u32) -> Statement {
    let mut substring =
        Statement::new("WITH found AS MATERIALIZED (SELECT p.id FROM patients p WHERE TRUE");
    search.push_match(&mut substring);
    substring.push(format!(
        ") SELECT {} FROM found f JOIN patients p ON p.id = f.id",
        search.summary_columns()
    ));
    search.push_scope(&mut substring);
    search.push_not_prefix(&mut substring);
    search.push_by_visit(&mut substring, rest);
    substring
}

pub(super) async fn substring_matches(
    conn: &mut PgConnection,
    search: &Search,
    rest: u32,
) -> StoreResult<Vec<PatientSummary>> {
    let recent = substring_in_recent(search, rest);
    let among_recent = conn.rows(&recent, |r| search.summary(r)).await?;
    // Full among the recent patients: those are the first matches in last-visit order. Else
    // the trigram indexes find them all (the recent ones again too).
    if among_recent.len() == rest as usize {
        return Ok(among_recent);
    }
    let substring = substring_by_trigram(search, rest);
    conn.rows(&substring, |r| search.summary(r)).await
}

/// The statements a search can run, each built as the engine runs it (the plan test checks
/// every one). `limit` is the page; `rest` what the substring step fills.
pub struct SearchStatements {
    /// How many prefix candidates there are, counted up to `DENSE_PREFIX_CANDIDATES`.
    pub prefix_candidates: Option<Statement>,
    /// Few candidates: all of them ranked (exact, then prefix) and sorted.
    pub ranked_prefix: Statement,
    /// Many candidates: the exact matches by equality, then prefixes in last-visit order.
    pub exact: Statement,
    pub prefix_by_visit: Statement,
    /// The substring rank among the caller's `SUBSTRING_RECENT_ROWS` most recently seen
    /// patients; `None` for a term that takes no substrings.
    pub substring_in_recent: Option<Statement>,
    /// The substring rank through the trigram indexes, when the recent patients did not fill
    /// the page.
    pub substring_by_trigram: Statement,
}

pub fn search_statements(actor: &Actor, term: &str, limit: u32, rest: u32) -> SearchStatements {
    let search = Search::new(Dialect::Postgres, actor, term);
    SearchStatements {
        prefix_candidates: search.prefix_candidates(DENSE_PREFIX_CANDIDATES as u64),
        ranked_prefix: search.ranked_prefix(limit),
        exact: search.exact(limit),
        prefix_by_visit: search.prefix_by_visit(limit),
        substring_in_recent: search
            .term()
            .takes_substrings
            .then(|| substring_in_recent(&search, rest)),
        substring_by_trigram: substring_by_trigram(&search, rest),
    }
}

/// The statements of a patient list: the page, which also selects the total, and the total
/// alone, for a page without rows.
pub fn list_statements(
    actor: &Actor,
    query: &PatientListQuery,
) -> StoreResult<(Statement, Statement)> {
    patients::list_statements(Dialect::Postgres, actor, query)
}
