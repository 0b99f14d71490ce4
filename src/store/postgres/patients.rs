//! Patients on PostgreSQL: keyset-paginated lists, the ranked search, the chart, create and
//! update.
//!
//! The search matches and ranks exactly like the SQLite engine (see `SearchTerm`): every word of
//! the term inside the name, or the whole term inside the MRN or email, or its digits inside the
//! phone digits; ranked exact > prefix > substring, then the most recent visit. It runs in two
//! steps that each use an index:
//! 1. the exact and prefix ranks, found with B-tree prefix ranges in `COLLATE "C"` (a word of the
//!    name in `patient_name_words`, the folded MRN, email and phone digits), then ranked;
//! 2. only when that did not fill the page, the substring rank, found with the pg_trgm indexes.
//!
//! Both rank below the first, so the two results simply follow each other. Typing in the
//! workstation's search box usually stops at step 1, which reads a few index pages.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::paging::{KeyKind, Keyset};
use super::statement::Statement;
use super::{PgStore, audit_actor, audit_read, deny, owner_scope, rows};
use crate::model::auth::Role;
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::patient::*;
use crate::model::search::SearchWords;
use crate::model::time::{age_on, now};
use crate::model::validate::digits_of;
use crate::store::values::*;
use crate::store::*;

/// `last_visit_at` reads as NULL for "never" (stored as `-infinity`, which chrono cannot hold).
const SUMMARY_COLUMNS: &str = "p.id, p.mrn, p.full_name, p.name_folded, p.date_of_birth, p.sex, \
     p.phone, p.email, NULLIF(p.last_visit_at, '-infinity') AS last_visit_at, p.created_at, \
     (SELECT c.id FROM consultations c WHERE c.patient_id = p.id AND c.status = 'in_progress') AS active_consultation_id";

const CHART_COLUMNS: &str = "p.address, p.referred_by, p.illness_duration, p.allergies, p.alerts, \
     p.symptoms, p.updated_at, \
     (SELECT COUNT(*) FROM consultations c WHERE c.patient_id = p.id) AS consultation_count";

/// Serializes MRN allocation (`MAX(mrn_seq) + 1`) across transactions and server instances, so
/// numbers stay dense as on SQLite, where writers queue anyway. Held until commit.
pub(super) const MRN_LOCK: i64 = 0x5359_4E41_5053_4D52;

pub(super) fn summary(row: &PgRow, today: NaiveDate) -> StoreResult<PatientSummary> {
    let date_of_birth: NaiveDate = rows::get(row, "date_of_birth")?;
    Ok(PatientSummary {
        id: rows::get(row, "id")?,
        mrn: rows::get(row, "mrn")?,
        full_name: rows::get(row, "full_name")?,
        date_of_birth,
        age: age_on(date_of_birth, today),
        sex: rows::parsed(row, "sex", Sex::parse)?,
        phone: rows::get(row, "phone")?,
        email: rows::get(row, "email")?,
        last_visit_at: rows::get(row, "last_visit_at")?,
        active_consultation_id: rows::get(row, "active_consultation_id")?,
    })
}

fn chart(row: &PgRow, today: NaiveDate) -> StoreResult<Patient> {
    Ok(Patient {
        summary: summary(row, today)?,
        address: rows::get(row, "address")?,
        referred_by: rows::get(row, "referred_by")?,
        illness_duration: rows::opt_json(row, "illness_duration")?,
        allergies: rows::json(row, "allergies")?,
        alerts: rows::json(row, "alerts")?,
        symptoms: rows::json(row, "symptoms")?,
        consultation_count: rows::count(row, "consultation_count")?,
        created_at: rows::get(row, "created_at")?,
        updated_at: rows::get(row, "updated_at")?,
    })
}

/// `column >= prefix AND column < end`: the rows whose `COLLATE "C"` column starts with
/// `prefix`, as a B-tree range (a bound parameter in `LIKE` could not use the index under a
/// generic plan).
fn push_prefix_range(sql: &mut Statement, column: &str, prefix: &str) {
    sql.push(&format!(" AND {column} >= ")).bind(prefix);
    match prefix_end(prefix) {
        Some(end) => sql.push(&format!(" AND {column} < ")).bind(end),
        None => sql
            .push(&format!(" AND starts_with({column}, "))
            .bind(prefix)
            .push(")"),
    };
}

/// How a search statement reads the patients it tests: through the indexes its conditions can
/// use (the default), or in last-visit order, with its conditions written so that no index
/// serves them: for a term that thousands of patients match, the first page comes early in that
/// order, and PostgreSQL's one generic plan for every term must not pick the indexes instead.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    Indexed,
    InVisitOrder,
}

impl Reading {
    fn column(self, name: &str) -> String {
        match self {
            Reading::Indexed => format!("p.{name}"),
            Reading::InVisitOrder => format!("(p.{name} || '')"),
        }
    }
}

/// A search term prepared for SQL: folded, split into words, LIKE-escaped where LIKE needs it.
/// The matching and ranking are the SQLite engine's, condition for condition.
struct SearchTerm {
    /// The whole term, trimmed and lower-cased.
    folded: String,
    /// The same, LIKE-escaped.
    folded_like: String,
    /// Up to 8 words, and the same LIKE-escaped.
    words: Vec<String>,
    words_like: Vec<String>,
    /// The digits of the term when it looks like a phone number, else empty.
    digits: String,
    /// Whether the term also finds substrings (see `takes_substrings`).
    substrings: bool,
}

impl SearchTerm {
    fn new(term: &str) -> SearchTerm {
        let parsed = SearchWords::new(term);
        let substrings = parsed.takes_substrings();
        let SearchWords {
            folded,
            words,
            digits,
        } = parsed;
        SearchTerm {
            words_like: words.iter().map(|w| escape_like(w)).collect(),
            words,
            folded_like: escape_like(&folded),
            folded,
            digits,
            substrings,
        }
    }

    /// What an exact match compares with: the folded term as typed.
    fn exact(&self) -> &str {
        &self.folded
    }

    /// Rows matching the term anywhere: every word inside the name, or the whole term inside the
    /// MRN or email, or its digits inside the phone number (prefixes only, for a term that takes
    /// no substrings). Each LIKE has a trigram index. (Backslash is PostgreSQL's default LIKE escape, as SQLite's `ESCAPE '\'`.)
    fn push_match(&self, sql: &mut Statement, reading: Reading) {
        sql.push(" AND ");
        let start = if self.takes_substrings() { "%" } else { "" };
        self.push_like(sql, reading, start);
    }

    /// Whether the term also finds substrings (the third rank), as on SQLite: only with a word
    /// of three characters or more, what a trigram index can look up (docs/API.md).
    fn takes_substrings(&self) -> bool {
        self.substrings
    }

    /// The prefix condition (ranks 0 and 1): every word starts a word of the name, or the MRN,
    /// email or phone digits start with the term.
    fn push_prefix(&self, sql: &mut Statement, reading: Reading) {
        self.push_like(sql, reading, "");
    }

    /// The LIKE conditions of a match (`start` "%") or prefix (`start` ""): a name word
    /// follows `start` then a space for a prefix (names are folded with a leading space).
    fn push_like(&self, sql: &mut Statement, reading: Reading, start: &str) {
        let word_start = if start.is_empty() { "% " } else { "%" };
        sql.push("((TRUE");
        for word in &self.words_like {
            sql.push(&format!(" AND {} LIKE ", reading.column("name_folded")))
                .bind(format!("{word_start}{word}%"));
        }
        sql.push(&format!(") OR {} LIKE ", reading.column("mrn_folded")))
            .bind(format!("{start}{}%", self.folded_like))
            .push(&format!(" OR {} LIKE ", reading.column("email_folded")))
            .bind(format!("{start}{}%", self.folded_like));
        if !self.digits.is_empty() {
            sql.push(&format!(" OR {} LIKE ", reading.column("phone_digits")))
                .bind(format!("{start}{}%", self.digits));
        }
        sql.push(")");
    }

    /// 0 for an exact match, 1 for a prefix (of a name word, the MRN, email or phone), 2 else.
    fn push_rank(&self, sql: &mut Statement) {
        sql.push("CASE WHEN ");
        self.push_exact(sql);
        sql.push(" THEN 0 WHEN ");
        self.push_prefix(sql, Reading::Indexed);
        sql.push(" THEN 1 ELSE 2 END");
    }

    /// The ids of the candidates of the prefix ranks, each found by a B-tree range (a superset:
    /// `push_prefix` then checks every condition on the rows found), as a compound SELECT. The
    /// name word used is the longest, the most selective. `None` for a term of spaces only,
    /// which every row matches, as on SQLite.
    fn push_candidate_ids(&self, sql: &mut Statement, scope: Option<Uuid>) -> Option<()> {
        let word = self.words.iter().max_by_key(|w| w.chars().count())?;
        let scoped = |sql: &mut Statement, table: &str| {
            sql.push(" WHERE TRUE");
            if let Some(doctor) = scope {
                sql.push(&format!(" AND {table}.doctor_id = ")).bind(doctor);
            }
        };
        sql.push("SELECT w.patient_id FROM patient_name_words w");
        scoped(sql, "w");
        push_prefix_range(sql, "w.word", word);
        let mut columns = vec![("q.mrn_folded", self.folded.as_str())];
        columns.push(("q.email_folded", self.folded.as_str()));
        if !self.digits.is_empty() {
            columns.push(("q.phone_digits", self.digits.as_str()));
        }
        for (column, prefix) in columns {
            sql.push(" UNION ALL SELECT q.id FROM patients q");
            scoped(sql, "q");
            push_prefix_range(sql, column, prefix);
        }
        Some(())
    }

    /// The ids of the exact matches (rank 0), each found by index equality, as a compound
    /// SELECT: an OR of the four could read the doctor's patients one by one instead.
    fn push_exact_ids(&self, sql: &mut Statement, scope: Option<Uuid>) {
        let mut columns = vec![
            ("q.name_folded", format!(" {}", self.exact())),
            ("q.mrn_folded", self.exact().to_string()),
            ("q.email_folded", self.exact().to_string()),
        ];
        if !self.digits.is_empty() {
            columns.push(("q.phone_digits", self.digits.clone()));
        }
        for (n, (column, value)) in columns.into_iter().enumerate() {
            if n > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT q.id FROM patients q WHERE TRUE");
            if let Some(doctor) = scope {
                sql.push(" AND q.doctor_id = ").bind(doctor);
            }
            sql.push(&format!(" AND {column} = ")).bind(value);
        }
    }

    /// The exact condition (rank 0): the whole name, MRN, email or phone digits equal the term.
    fn push_exact(&self, sql: &mut Statement) {
        let exact = self.exact();
        sql.push("(p.name_folded = ")
            .bind(format!(" {exact}"))
            .push(" OR p.mrn_folded = ")
            .bind(exact)
            .push(" OR p.email_folded = ")
            .bind(exact);
        if !self.digits.is_empty() {
            sql.push(" OR p.phone_digits = ").bind(self.digits.as_str());
        }
        sql.push(")");
    }
}

fn push_scope(sql: &mut Statement, scope: Option<Uuid>) {
    sql.push(" WHERE TRUE");
    if let Some(doctor) = scope {
        sql.push(" AND p.doctor_id = ").bind(doctor);
    }
}

fn keyset(sort: PatientSort) -> Keyset {
    let (scope, column, selected_as, ascending, kind) = match sort {
        PatientSort::Name => (
            "patients:name",
            "p.name_folded",
            "name_folded",
            true,
            KeyKind::Text,
        ),
        PatientSort::LastVisitDesc => (
            "patients:-last_visit",
            "p.last_visit_at",
            "last_visit_at",
            false,
            KeyKind::Time { never: true },
        ),
        PatientSort::CreatedDesc => (
            "patients:-created_at",
            "p.created_at",
            "created_at",
            false,
            KeyKind::Time { never: false },
        ),
    };
    Keyset {
        scope,
        column,
        selected_as,
        id_column: "p.id",
        ascending,
        kind,
    }
}

/// The statements of a patient list: the page, which also selects the total (`total`, a
/// subquery run once) to save a round trip, and the total alone, for a page without rows.
pub fn list_statements(
    actor: &Actor,
    query: &PatientListQuery,
) -> StoreResult<(Statement, Statement)> {
    let keyset = keyset(query.sort);
    let term = query.search.as_deref().map(SearchTerm::new);
    let (cursor, offset) = keyset.start(&query.start)?;
    let scope = owner_scope(actor);

    // Without a search the total is the running tally (migration 0002), not a count of rows.
    let push_total = |sql: &mut Statement| match &term {
        Some(term) => {
            sql.push("SELECT COUNT(*) AS total FROM patients p");
            push_scope(sql, scope);
            term.push_match(sql, Reading::Indexed);
        }
        None => {
            sql.push("SELECT COALESCE(SUM(p.patients), 0)::bigint AS total FROM patient_tallies p");
            push_scope(sql, scope);
        }
    };
    let mut count = Statement::new("");
    push_total(&mut count);

    let mut select = Statement::new(format!("SELECT {SUMMARY_COLUMNS}, ("));
    push_total(&mut select);
    select.push(") AS total FROM patients p");
    push_scope(&mut select, scope);
    if let Some(term) = &term {
        term.push_match(&mut select, Reading::Indexed);
    }
    if let Some(cursor) = &cursor {
        keyset.push_after(&mut select, cursor)?;
    }
    keyset.push_order_and_limit(&mut select, query.limit, cursor.as_ref(), offset);
    Ok((select, count))
}

pub(super) async fn list(
    store: &PgStore,
    actor: &Actor,
    query: &PatientListQuery,
) -> StoreResult<Page<PatientSummary>> {
    let keyset = keyset(query.sort);
    let (_, offset) = keyset.start(&query.start)?;
    let (select, count) = list_statements(actor, query)?;
    let mut found = select.query().fetch_all(&store.pool).await?;
    let total: i64 = match found.first() {
        Some(row) => rows::get(row, "total")?,
        None => rows::get(&count.query().fetch_one(&store.pool).await?, "total")?,
    };
    let (has_more, next_cursor) = keyset.finish(&mut found, query.limit, offset)?;

    let today = today();
    let items = found
        .iter()
        .map(|r| summary(r, today))
        .collect::<StoreResult<Vec<_>>>()?;
    audit_read(store, actor, "patient.list", ("patient", None), None).await?;
    let mut pagination = offset_pagination(total, query.limit, offset, items.len());
    pagination.has_more = has_more;
    pagination.next_cursor = next_cursor;
    Ok(Page { items, pagination })
}

/// From this many prefix candidates a search reads patients in last-visit order instead of
/// ranking every candidate, as on SQLite (see `search`).
pub(super) const DENSE_PREFIX_CANDIDATES: i64 = 1000;
/// How many of the caller's most recently seen patients the substring step reads before it
/// turns to the trigram indexes.
const SUBSTRING_RECENT_ROWS: i64 = 2000;

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
    /// The substring rank through the trigram indexes, when the recent patients did not
    /// fill the page.
    pub substring_by_trigram: Statement,
}

pub fn search_statements(actor: &Actor, term: &str, limit: u32, rest: u32) -> SearchStatements {
    let search = Search::new(actor, term);
    SearchStatements {
        prefix_candidates: search.prefix_candidates(),
        ranked_prefix: search.ranked_prefix(limit),
        exact: search.exact(limit),
        prefix_by_visit: search.prefix_by_visit(limit),
        substring_in_recent: search.substring_in_recent(rest),
        substring_by_trigram: search.substring_by_trigram(rest),
    }
}

const BY_VISIT: &str = " ORDER BY p.last_visit_at DESC, p.id DESC LIMIT ";

/// One search, its term read once: each method builds one statement of it, so a search builds
/// only the statements it runs.
struct Search {
    term: SearchTerm,
    scope: Option<Uuid>,
}

impl Search {
    fn new(actor: &Actor, term: &str) -> Search {
        Search {
            term: SearchTerm::new(term),
            scope: owner_scope(actor),
        }
    }

    /// The candidates (`total`) and, for `prefix_by_visit`, the caller's patients
    /// (`patients`, from the running tallies), in one round trip.
    fn prefix_candidates(&self) -> Option<Statement> {
        let mut count = Statement::new("SELECT (SELECT COUNT(*) FROM (");
        self.term.push_candidate_ids(&mut count, self.scope)?;
        count.push(" LIMIT ").bind(DENSE_PREFIX_CANDIDATES).push(
            ") AS candidates) AS total, \
                 (SELECT COALESCE(SUM(p.patients), 0)::bigint FROM patient_tallies p",
        );
        push_scope(&mut count, self.scope);
        count.push(") AS patients");
        Some(count)
    }

    fn ranked_prefix(&self, limit: u32) -> Statement {
        let mut ranked = Statement::new(format!("SELECT {SUMMARY_COLUMNS}, "));
        self.term.push_rank(&mut ranked);
        ranked.push(" AS rank FROM patients p");
        push_scope(&mut ranked, self.scope);
        ranked.push(" AND p.id IN (");
        if self
            .term
            .push_candidate_ids(&mut ranked, self.scope)
            .is_none()
        {
            ranked.push("SELECT id FROM patients");
        }
        ranked.push(") AND ");
        self.term.push_prefix(&mut ranked, Reading::Indexed);
        ranked
            .push(" ORDER BY rank, p.last_visit_at DESC, p.id DESC LIMIT ")
            .bind(i64::from(limit));
        ranked
    }

    fn exact(&self, limit: u32) -> Statement {
        let mut exact = Statement::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM patients p WHERE p.id IN ("
        ));
        self.term.push_exact_ids(&mut exact, self.scope);
        exact.push(")").push(BY_VISIT).bind(i64::from(limit));
        exact
    }

    /// The ids first, read in the order of the index that holds the searched columns (an
    /// index-only scan), then the page's summaries.
    fn prefix_by_visit(&self, limit: u32) -> Statement {
        let mut prefix =
            Statement::new("WITH hits AS (SELECT p.id, p.last_visit_at FROM patients p");
        push_scope(&mut prefix, self.scope);
        prefix.push(" AND ");
        self.term.push_prefix(&mut prefix, Reading::InVisitOrder);
        prefix.push(" AND NOT ");
        self.term.push_exact(&mut prefix);
        prefix
            .push(BY_VISIT)
            .bind(i64::from(limit))
            .push(&summaries_of_hits());
        prefix
    }

    /// The caller's most recently seen patients, read for the substring: a common substring
    /// fills the page among them, without the trigram indexes, whose posting lists for common
    /// trigrams are long however rare the whole term. `None` for a term that takes no
    /// substrings.
    fn substring_in_recent(&self, rest: u32) -> Option<Statement> {
        if !self.term.takes_substrings() {
            return None;
        }
        let mut recent = Statement::new(
            "WITH recent AS (SELECT p.id, p.last_visit_at, p.name_folded, p.mrn_folded, \
             p.email_folded, p.phone_digits FROM patients p",
        );
        push_scope(&mut recent, self.scope);
        recent
            .push(BY_VISIT)
            .bind(SUBSTRING_RECENT_ROWS)
            .push("), hits AS (SELECT p.id, p.last_visit_at FROM recent p WHERE TRUE");
        self.term.push_match(&mut recent, Reading::Indexed);
        recent.push(" AND NOT ");
        self.term.push_prefix(&mut recent, Reading::Indexed);
        recent
            .push(BY_VISIT)
            .bind(i64::from(rest))
            .push(&summaries_of_hits());
        Some(recent)
    }

    /// The rows the trigram indexes find, across doctors, are gathered first (MATERIALIZED),
    /// then each looked up and checked for the caller.
    fn substring_by_trigram(&self, rest: u32) -> Statement {
        let mut substring =
            Statement::new("WITH found AS MATERIALIZED (SELECT p.id FROM patients p WHERE TRUE");
        self.term.push_match(&mut substring, Reading::Indexed);
        substring.push(&format!(
            ") SELECT {SUMMARY_COLUMNS} FROM found f JOIN patients p ON p.id = f.id"
        ));
        push_scope(&mut substring, self.scope);
        substring.push(" AND NOT ");
        self.term.push_prefix(&mut substring, Reading::Indexed);
        substring.push(BY_VISIT).bind(i64::from(rest));
        substring
    }
}

/// Ends a statement begun with `WITH hits AS (SELECT p.id, p.last_visit_at …` (ordered and
/// limited): the summaries of the hits in the same order.
fn summaries_of_hits() -> String {
    format!(
        ") SELECT {SUMMARY_COLUMNS} FROM hits h JOIN patients p ON p.id = h.id \
         ORDER BY p.last_visit_at DESC, p.id DESC"
    )
}

/// The search in two steps, as on SQLite (see there): the exact and prefix ranks, by ranking
/// the candidates when they are few and in last-visit order when they are many; then, only to
/// fill the page, the substring rank.
pub(super) async fn search(
    store: &PgStore,
    actor: &Actor,
    term: &str,
    limit: u32,
) -> StoreResult<Vec<PatientSummary>> {
    let search = Search::new(actor, term);
    let mut conn = store.pool.acquire().await?;
    let by_visit = match search.prefix_candidates() {
        Some(count) => {
            let counted = count.query().fetch_one(&mut *conn).await?;
            prefix_by_visit(
                rows::count(&counted, "total")?,
                store.dense_prefix_candidates,
                rows::count(&counted, "patients")?,
                limit,
                search.term.words.len(),
            )
        }
        None => true,
    };
    let mut found = if !by_visit {
        search
            .ranked_prefix(limit)
            .query()
            .fetch_all(&mut *conn)
            .await?
    } else {
        let mut found = search.exact(limit).query().fetch_all(&mut *conn).await?;
        let rest = limit.saturating_sub(found.len() as u32);
        if rest > 0 {
            let prefix = search.prefix_by_visit(rest);
            found.extend(prefix.query().fetch_all(&mut *conn).await?);
        }
        found
    };
    let rest = limit.saturating_sub(found.len() as u32);
    let recent = (rest > 0)
        .then(|| search.substring_in_recent(rest))
        .flatten();
    if let Some(recent) = recent {
        let among_recent = recent.query().fetch_all(&mut *conn).await?;
        // Full among the recent patients: those are the first matches in last-visit order.
        // Else the trigram indexes find them all (the recent ones again too).
        if among_recent.len() == rest as usize {
            found.extend(among_recent);
        } else {
            let substring = search.substring_by_trigram(rest);
            found.extend(substring.query().fetch_all(&mut *conn).await?);
        }
    }
    drop(conn);
    let today = today();
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::with_capacity(found.len());
    for row in &found {
        let patient = summary(row, today)?;
        // A row renamed between the two steps could come twice; show it once.
        if seen.insert(patient.id) {
            items.push(patient);
        }
    }
    audit_read(store, actor, "patient.search", ("patient", None), None).await?;
    Ok(items)
}

/// The chart of a patient of the caller; `lock` also locks the row until the transaction ends,
/// for a read-modify-write.
async fn fetch_chart<'c>(
    conn: impl PgExecutor<'c>,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> StoreResult<Option<Patient>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, {CHART_COLUMNS} FROM patients p WHERE p.id = $1 AND p.doctor_id = $2{}",
        if lock { " FOR NO KEY UPDATE OF p" } else { "" }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(actor.user_id)
        .fetch_optional(conn)
        .await?
        .map(|r| chart(&r, today()))
        .transpose()
}

pub(super) async fn get(store: &PgStore, actor: &Actor, id: Uuid) -> StoreResult<Patient> {
    let Some(patient) = fetch_chart(&store.pool, actor, id, false).await? else {
        return Err(deny(store, actor, "patient.read", ("patient", id)).await);
    };
    audit_read(
        store,
        actor,
        "patient.read",
        ("patient", Some(id.to_string())),
        Some(id),
    )
    .await?;
    Ok(patient)
}

/// Columns derived from what the doctor typed, kept in step on create and update.
pub(super) fn derived(
    full_name: &str,
    phone: Option<&str>,
    email: Option<&str>,
) -> (String, String, String) {
    (
        fold_name(full_name),
        phone.map(digits_of).unwrap_or_default(),
        email.map(str::to_lowercase).unwrap_or_default(),
    )
}

/// Allocates the next MRN number under [`MRN_LOCK`].
pub(super) async fn next_mrn_seq_locked(conn: &mut PgConnection) -> StoreResult<i64> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MRN_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(mrn_seq), 0) + 1 FROM patients")
            .fetch_one(&mut *conn)
            .await?,
    )
}

pub(super) async fn create(
    store: &PgStore,
    actor: &Actor,
    doctor_id: Uuid,
    patient: &NewPatient,
) -> StoreResult<Patient> {
    let id = Uuid::now_v7();
    let at = now();
    let mut tx = store.write_tx().await?;
    let role: Option<(String, bool)> =
        sqlx::query_as("SELECT role, disabled FROM users WHERE id = $1")
            .bind(doctor_id)
            .fetch_optional(&mut *tx)
            .await?;
    if !matches!(&role, Some((r, false)) if Role::parse(r) == Some(Role::Doctor)) {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "doctor_id",
            "is not an active doctor of this clinic",
        )]));
    }
    let mrn_seq = next_mrn_seq_locked(&mut tx).await?;
    let (name_folded, phone_digits, email_folded) = derived(
        &patient.full_name,
        patient.phone.as_deref(),
        patient.email.as_deref(),
    );
    sqlx::query(
        "INSERT INTO patients (id, doctor_id, mrn_seq, mrn, full_name, name_folded, date_of_birth, sex,
             phone, phone_digits, email, email_folded, address, referred_by, illness_duration,
             allergies, alerts, symptoms, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)",
    )
    .bind(id)
    .bind(doctor_id)
    .bind(mrn_seq)
    .bind(format!("MRN-{mrn_seq:06}"))
    .bind(&patient.full_name)
    .bind(name_folded)
    .bind(patient.date_of_birth)
    .bind(patient.sex.as_str())
    .bind(patient.phone.as_deref())
    .bind(phone_digits)
    .bind(patient.email.as_deref())
    .bind(email_folded)
    .bind(patient.address.as_deref())
    .bind(patient.referred_by.as_deref())
    .bind(patient.illness_duration.as_ref().map(Json))
    .bind(Json(patient.allergies.clone().unwrap_or_default()))
    .bind(Json(&patient.alerts))
    .bind(Json(&patient.symptoms))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit_actor(
        &mut tx,
        actor,
        "patient.create",
        ("patient", Some(id.to_string())),
        Some(id),
        "success",
    )
    .await?;
    let owner = Actor {
        user_id: doctor_id,
        ..actor.clone()
    };
    let created = fetch_chart(&mut *tx, &owner, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(created)
}

pub(super) async fn update(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    update: &PatientUpdate,
) -> StoreResult<Patient> {
    let mut tx = store.write_tx().await?;
    // Locked: two edits of one chart apply one after the other, neither losing the other's
    // fields.
    let Some(current) = fetch_chart(&mut *tx, actor, id, true).await? else {
        tx.rollback().await?;
        return Err(deny(store, actor, "patient.update", ("patient", id)).await);
    };
    let full_name = update
        .full_name
        .clone()
        .unwrap_or(current.summary.full_name);
    let phone = update.phone.clone().unwrap_or(current.summary.phone);
    let email = update.email.clone().unwrap_or(current.summary.email);
    let (name_folded, phone_digits, email_folded) =
        derived(&full_name, phone.as_deref(), email.as_deref());
    let illness_duration = update
        .illness_duration
        .clone()
        .unwrap_or(current.illness_duration);
    sqlx::query(
        "UPDATE patients SET full_name = $3, name_folded = $4, date_of_birth = $5, sex = $6,
             phone = $7, phone_digits = $8, email = $9, email_folded = $10, address = $11,
             referred_by = $12, illness_duration = $13, allergies = $14, alerts = $15,
             symptoms = $16, updated_at = $17
         WHERE id = $1 AND doctor_id = $2",
    )
    .bind(id)
    .bind(actor.user_id)
    .bind(&full_name)
    .bind(name_folded)
    .bind(
        update
            .date_of_birth
            .unwrap_or(current.summary.date_of_birth),
    )
    .bind(update.sex.unwrap_or(current.summary.sex).as_str())
    .bind(phone.as_deref())
    .bind(phone_digits)
    .bind(email.as_deref())
    .bind(email_folded)
    .bind(update.address.clone().unwrap_or(current.address))
    .bind(update.referred_by.clone().unwrap_or(current.referred_by))
    .bind(illness_duration.as_ref().map(Json))
    .bind(Json(
        update.allergies.as_ref().unwrap_or(&current.allergies),
    ))
    .bind(Json(update.alerts.as_ref().unwrap_or(&current.alerts)))
    .bind(Json(update.symptoms.as_ref().unwrap_or(&current.symptoms)))
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit_actor(
        &mut tx,
        actor,
        "patient.update",
        ("patient", Some(id.to_string())),
        Some(id),
        "success",
    )
    .await?;
    let updated = fetch_chart(&mut *tx, actor, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// The `last_visit_at` a synthetic patient gets: its newest consultation, or "never".
pub(super) fn last_visit(at: Option<DateTime<Utc>>) -> String {
    at.map(crate::model::time::format_timestamp)
        .unwrap_or_else(|| "-infinity".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_fold_and_escape_like_sqlite() {
        let term = SearchTerm::new("  Anna 50%_\\ ");
        assert_eq!(term.folded, "anna 50%_\\");
        assert_eq!(term.words, ["anna", "50%_\\"]);
        assert_eq!(term.words_like, ["anna", "50\\%\\_\\\\"]);
        assert_eq!(term.exact(), "anna 50%_\\");
        assert_eq!(term.digits, "");
        assert_eq!(SearchTerm::new("+91 (987)").digits, "91987");
    }
}
