//! The substring step of the patient search on SQLite (see `store::patients`): the FTS5
//! trigram table `patient_trigrams` finds the candidates.

use super::conn::ReadConnection;
use crate::model::patient::PatientSummary;
use crate::model::search::MIN_SUBSTRING_CHARS;
use crate::store::StoreResult;
use crate::store::patients::{Search, SearchTerm};
use crate::store::sql::{Conn, Statement};

/// Below this many rows matching a term in the trigram index, the substring step looks them up
/// (each checked for the caller and the exact condition); from this many it reads in
/// last-visit order instead.
const SPARSE_SUBSTRING_CANDIDATES: i64 = 2000;

/// The term as an FTS5 query on `patient_trigrams` finding a superset of its substring match:
/// every name word of three characters or more inside the name, or the term inside the MRN.
/// Contacts are not in the trigram index: they are found by their blind indexes only.
fn trigram_query(term: &SearchTerm) -> String {
    let phrase = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let name_words: Vec<String> = term
        .words
        .iter()
        .filter(|w| w.chars().count() >= MIN_SUBSTRING_CHARS)
        .map(|w| format!("name : {}", phrase(w)))
        .collect();
    format!(
        "({}) OR mrn : {}",
        name_words.join(" AND "),
        phrase(&term.folded)
    )
}

/// Up to `rest` substring matches: through the trigram index when it holds few candidates;
/// else (a term found in thousands of names) by reading patients in last-visit order, which
/// for so common a substring fills the page soon.
pub(super) async fn substring_matches(
    conn: &mut ReadConnection,
    search: &Search,
    rest: u32,
) -> StoreResult<Vec<PatientSummary>> {
    let query = trigram_query(search.term());
    let count = Statement::new(
        "SELECT COUNT(*) AS value FROM (SELECT rowid FROM patient_trigrams \
         WHERE patient_trigrams MATCH $1 LIMIT $2)",
    )
    .arg(query.as_str())
    .arg(SPARSE_SUBSTRING_CANDIDATES);
    let candidates = conn.scalar(&count).await?.unwrap_or(0);
    let mut substring = Statement::new("WITH hits AS (SELECT p.id FROM patients p");
    if candidates < SPARSE_SUBSTRING_CANDIDATES {
        search.push_scope_of_found(&mut substring);
        substring
            .push(
                " AND p.mrn_seq IN (SELECT rowid FROM patient_trigrams \
                 WHERE patient_trigrams MATCH ",
            )
            .bind(query)
            .push(")");
    } else {
        search.push_scope(&mut substring);
    }
    search.push_substring_only(&mut substring);
    search.push_by_visit(&mut substring, rest);
    search.push_summaries_of_hits(&mut substring, false);
    conn.rows(&substring, |r| search.summary(r)).await
}
