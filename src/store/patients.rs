//! Patients, on either engine: keyset-paginated lists, the ranked search, the chart, create and
//! update.
//!
//! The search matches and ranks alike on both engines (see [`SearchTerm`]): every word of the
//! term inside the name, or the whole term inside the MRN or email, or its digits inside the
//! phone digits; ranked exact > prefix > substring, then the most recent visit. Case and
//! diacritics never matter: the term and the stored name and email are folded by the same
//! function (`model::search::fold`; the stored forms are `values::SearchColumns`). It runs in two
//! steps on one read connection, each using an index:
//! 1. the exact and prefix ranks. When the term's index ranges (a word of the name in
//!    `patient_name_words`, the folded MRN, email and phone digits, compared byte by byte) hold
//!    few candidates, those are ranked and sorted. Otherwise (`values::prefix_by_visit`) the
//!    exact matches are looked up by equality and the prefix matches read in last-visit order
//!    until the page is full, which for so common a prefix is soon;
//! 2. only when that did not fill the page, and for a term with a word of three characters or
//!    more, the substring rank, through each engine's trigram index (FTS5 on SQLite, pg_trgm on
//!    PostgreSQL: `Engine::patient_substrings`).
//!
//! The substring rank is below the other two, so the results simply follow each other, and
//! ranks, order and rows are those of a single ranked query over all matches. Typing in the
//! workstation's search box usually stops at step 1, which reads a few index pages.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::cipher;
use super::doctor_names::DoctorNames;
use super::engine::{Engine, audit_actor, audit_read, deny, owner_scope};
use super::events::{self, NewEvent};
use super::paging::{KeyKind, Keyset};
use super::sql::{self, Conn, Dialect, Row, Statement, WriteTx};
use super::values::{SearchColumns, escape_like, prefix_by_visit, prefix_end, today};
use super::{Actor, PatientFilter, PatientListQuery, StoreError, StoreResult};
use crate::model::auth::Role;
use crate::model::envelope::FieldError;
use crate::model::event::EventKind;
use crate::model::page::Page;
use crate::model::patient::{
    DoctorSummary, NewPatient, Patient, PatientSort, PatientSummary, PatientUpdate, Sex,
};
use crate::model::search::SearchWords;
use crate::model::time::{age_on, format_timestamp, now};

/// From this many prefix candidates a search reads the patients in last-visit order instead
/// of ranking every candidate: with so many, the first page of matches comes early in that
/// order. Either way a search reads at most a few thousand rows.
pub const DENSE_PREFIX_CANDIDATES: i64 = 1000;

/// The advisory lock key under which PostgreSQL allocates MRN numbers (`Dialect::mrn_lock`);
/// its bulk load takes it shared.
pub(crate) const MRN_LOCK: i64 = 0x5359_4E41_5053_4D52;

/// The `last_visit_at` text PostgreSQL's bulk load writes for a synthetic patient: its newest
/// consultation, or "never" (`-infinity`, see `Dialect::never`).
pub(crate) fn last_visit(at: Option<DateTime<Utc>>) -> String {
    at.map(format_timestamp)
        .unwrap_or_else(|| "-infinity".to_string())
}

/// The summary's columns; `last_visit_at` reads as NULL for "never". The doctor's name is
/// not among them: it comes from `DoctorNames`.
fn summary_columns(dialect: Dialect) -> String {
    format!(
        "p.id, p.mrn, p.full_name, p.name_folded, p.name_sort, p.date_of_birth, p.sex, p.phone, p.email, \
         {} AS last_visit_at, p.created_at, \
         (SELECT c.id FROM consultations c WHERE c.patient_id = p.id AND c.status = 'in_progress') \
         AS active_consultation_id, p.doctor_id",
        dialect.last_visit_column("p")
    )
}

const CHART_COLUMNS: &str = "p.address, p.referred_by, p.illness_duration, p.allergies, p.alerts, \
     p.symptoms, p.updated_at, \
     (SELECT COUNT(*) FROM consultations c WHERE c.patient_id = p.id) AS consultation_count";

/// Ends a statement that orders and limits by the most recent visit.
const BY_VISIT: &str = " ORDER BY p.last_visit_at DESC, p.id DESC LIMIT ";

pub(crate) fn summary(row: &dyn Row, today: NaiveDate) -> StoreResult<PatientSummary> {
    let date_of_birth = sql::date(row, "date_of_birth")?;
    Ok(PatientSummary {
        id: sql::uuid(row, "id")?,
        mrn: sql::text(row, "mrn")?,
        full_name: sql::text(row, "full_name")?,
        date_of_birth,
        age: age_on(date_of_birth, today),
        sex: sql::parsed(row, "sex", Sex::parse)?,
        phone: sql::sealed_opt_text(row, "phone")?,
        email: sql::sealed_opt_text(row, "email")?,
        last_visit_at: sql::opt_time(row, "last_visit_at")?,
        active_consultation_id: sql::opt_uuid(row, "active_consultation_id")?,
        // Named by `DoctorNames::fill` once the rows are read.
        doctor: DoctorSummary {
            id: sql::uuid(row, "doctor_id")?,
            full_name: String::new(),
        },
    })
}

fn chart(row: &dyn Row, today: NaiveDate) -> StoreResult<Patient> {
    Ok(Patient {
        summary: summary(row, today)?,
        address: sql::sealed_opt_text(row, "address")?,
        referred_by: sql::sealed_opt_text(row, "referred_by")?,
        illness_duration: sql::opt_json(row, "illness_duration")?,
        allergies: sql::sealed_json(row, "allergies")?,
        alerts: sql::sealed_json(row, "alerts")?,
        symptoms: sql::json(row, "symptoms")?,
        consultation_count: sql::count(row, "consultation_count")?,
        created_at: sql::time(row, "created_at")?,
        updated_at: sql::time(row, "updated_at")?,
    })
}

/// How a search condition reads the patients it tests: through the indexes it can use (the
/// default), or in last-visit order (`Dialect::in_visit_order`).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Reading {
    Indexed,
    InVisitOrder,
}

/// A search term prepared for SQL: folded, split into words, LIKE-escaped where LIKE needs it.
pub struct SearchTerm {
    /// The whole term, folded and trimmed, for the exact comparisons and index ranges.
    pub(crate) folded: String,
    /// The same, LIKE-escaped.
    folded_like: String,
    /// Up to 8 words, and the same LIKE-escaped.
    pub(crate) words: Vec<String>,
    words_like: Vec<String>,
    /// The blind indexes (`store::cipher::blind`) the stored contacts are compared with: of
    /// the folded term (an email), of its digits (a whole phone number) and, for a term of
    /// exactly four digits, of those (the phone's last four). Empty when not applicable.
    pub(crate) email_index: String,
    pub(crate) phone_index: String,
    pub(crate) last4_index: String,
    /// Whether the term also finds substrings (the third rank): only with a word of three
    /// characters or more, what a trigram index can look up; shorter terms find exact and
    /// prefix matches only (docs/API.md).
    pub(crate) takes_substrings: bool,
}

/// `column >= prefix AND column < end`: the rows whose column starts with `prefix`, as an
/// index range, compared byte by byte. (Neither engine's `LIKE 'x%'` can use these indexes:
/// SQLite's LIKE ignores ASCII case, the indexes are BINARY; a bound pattern on PostgreSQL
/// cannot under a generic plan.) The range finds the same rows as the prefix LIKE because the
/// term and the columns searched are all folded (lower-case).
fn push_prefix_range(sql: &mut Statement, dialect: Dialect, column: &str, prefix: &str) {
    sql.push(format!(" AND {column} >= ")).bind(prefix);
    match prefix_end(prefix) {
        Some(end) => sql.push(format!(" AND {column} < ")).bind(end),
        None => {
            let (before, after) = dialect.starts_with(column);
            sql.push(before).bind(prefix).push(after)
        }
    };
}

impl SearchTerm {
    fn new(term: &str) -> SearchTerm {
        let parsed = SearchWords::new(term);
        let takes_substrings = parsed.takes_substrings();
        let SearchWords {
            folded,
            words,
            digits,
        } = parsed;
        // Without keys (no server starts so) nothing stored can match a contact.
        let blind = |text: &str| {
            cipher::installed()
                .map(|ring| ring.blind(text))
                .unwrap_or_default()
        };
        let email_index = if folded.contains('@') {
            blind(&folded)
        } else {
            String::new()
        };
        let phone_index = blind(&digits);
        let last4_index = if digits.len() == 4 {
            blind(&digits)
        } else {
            String::new()
        };
        SearchTerm {
            email_index,
            phone_index,
            last4_index,
            words_like: words.iter().map(|w| escape_like(w)).collect(),
            words,
            folded_like: escape_like(&folded),
            folded,
            takes_substrings,
        }
    }

    /// The LIKE conditions of a match (`start` "%") or prefix (`start` ""): every word inside
    /// the name (after a space for a prefix: names are folded with a leading space), or the
    /// term inside the MRN; or the contacts' blind indexes equal to the term's (a contact is
    /// found only by its whole normalised value, or a phone by its last four digits).
    fn push_like(&self, sql: &mut Statement, dialect: Dialect, reading: Reading, start: &str) {
        let column = |name: &str| match reading {
            Reading::Indexed => name.to_string(),
            Reading::InVisitOrder => dialect.in_visit_order(name),
        };
        let escape = dialect.like_escape();
        let word_start = if start.is_empty() { "% " } else { "%" };
        sql.push("((TRUE");
        for word in &self.words_like {
            sql.push(format!(" AND {} LIKE ", column("p.name_folded")))
                .bind(format!("{word_start}{word}%"))
                .push(escape);
        }
        sql.push(format!(") OR {} LIKE ", column(&dialect.folded_mrn("p"))))
            .bind(format!("{start}{}%", self.folded_like))
            .push(escape);
        self.push_contacts(sql, &column);
        sql.push(")");
    }

    /// ` OR` the contact columns equal to the term's blind indexes, those that apply.
    fn push_contacts(&self, sql: &mut Statement, column: &dyn Fn(&str) -> String) {
        for (name, index) in self.contact_indexes() {
            sql.push(format!(" OR {} = ", column(name)))
                .bind(index.to_string());
        }
    }

    /// The contact columns and the term's blind index for each, those that apply.
    fn contact_indexes(&self) -> Vec<(&'static str, &str)> {
        [
            ("p.email_folded", self.email_index.as_str()),
            ("p.phone_digits", self.phone_index.as_str()),
            ("p.phone_last4", self.last4_index.as_str()),
        ]
        .into_iter()
        .filter(|(_, index)| !index.is_empty())
        .collect()
    }

    /// `AND` rows matching the term anywhere (prefixes only, for a term that takes no
    /// substrings).
    fn push_match(&self, sql: &mut Statement, dialect: Dialect, reading: Reading) {
        sql.push(" AND ");
        let start = if self.takes_substrings { "%" } else { "" };
        self.push_like(sql, dialect, reading, start);
    }

    /// The prefix condition (ranks 0 and 1): every word starts a word of the name, or the MRN,
    /// email or phone digits start with the term.
    fn push_prefix(&self, sql: &mut Statement, dialect: Dialect, reading: Reading) {
        self.push_like(sql, dialect, reading, "");
    }

    /// The exact condition (rank 0): the whole name, MRN, email or phone digits equal the term.
    fn push_exact(&self, sql: &mut Statement, dialect: Dialect) {
        sql.push("(p.name_folded = ")
            .bind(format!(" {}", self.folded))
            .push(format!(" OR {} = ", dialect.folded_mrn("p")))
            .bind(self.folded.as_str());
        self.push_contacts(sql, &|name: &str| name.to_string());
        sql.push(")");
    }

    /// 0 for an exact match, 1 for a prefix (of a name word, the MRN, email or phone), 2 else.
    fn push_rank(&self, sql: &mut Statement, dialect: Dialect) {
        sql.push("CASE WHEN ");
        self.push_exact(sql, dialect);
        sql.push(" THEN 0 WHEN ");
        self.push_prefix(sql, dialect, Reading::Indexed);
        sql.push(" THEN 1 ELSE 2 END");
    }

    /// The ids of the candidates of the prefix ranks, each found by an index range (a superset:
    /// the prefix condition then checks every condition on the rows found), as a compound
    /// SELECT. The name word used is the longest, the most selective. `None` for a term of
    /// spaces only, which every row matches.
    fn push_candidate_ids(
        &self,
        sql: &mut Statement,
        dialect: Dialect,
        scope: Option<Uuid>,
    ) -> Option<()> {
        let word = self.words.iter().max_by_key(|w| w.chars().count())?;
        let scoped = |sql: &mut Statement, table: &str| {
            sql.push(" WHERE TRUE");
            if let Some(doctor) = scope {
                sql.push(format!(" AND {table}.doctor_id = ")).bind(doctor);
            }
        };
        sql.push("SELECT w.patient_id FROM patient_name_words w");
        scoped(sql, "w");
        push_prefix_range(sql, dialect, "w.word", word);
        let mrn = dialect.folded_mrn("q");
        sql.push(" UNION ALL SELECT q.id FROM patients q");
        scoped(sql, "q");
        push_prefix_range(sql, dialect, &mrn, &self.folded);
        for (column, index) in self.contact_indexes() {
            sql.push(" UNION ALL SELECT q.id FROM patients q");
            scoped(sql, "q");
            sql.push(format!(" AND {} = ", column.replacen("p.", "q.", 1)))
                .bind(index.to_string());
        }
        Some(())
    }

    /// The ids of the exact matches (rank 0), each found by index equality, as a compound
    /// SELECT: an OR of the four could read the doctor's patients one by one instead.
    fn push_exact_ids(&self, sql: &mut Statement, dialect: Dialect, scope: Option<Uuid>) {
        let mut columns = vec![
            ("q.name_folded".to_string(), format!(" {}", self.folded)),
            (dialect.folded_mrn("q"), self.folded.clone()),
        ];
        for (column, index) in self.contact_indexes() {
            columns.push((column.replacen("p.", "q.", 1), index.to_string()));
        }
        for (n, (column, value)) in columns.into_iter().enumerate() {
            if n > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT q.id FROM patients q WHERE TRUE");
            if let Some(doctor) = scope {
                sql.push(" AND q.doctor_id = ").bind(doctor);
            }
            sql.push(format!(" AND {column} = ")).bind(value);
        }
    }
}

/// `WHERE doctor_id = …` for a doctor; everyone's rows for a receptionist (`owner_scope`).
fn push_scope(sql: &mut Statement, scope: Option<Uuid>) {
    sql.push(" WHERE TRUE");
    if let Some(doctor) = scope {
        sql.push(" AND p.doctor_id = ").bind(doctor);
    }
}

/// One search, its term read once: each method builds one statement of it, so a search builds
/// only the statements it runs. The engines' substring steps build theirs from its pieces.
pub struct Search {
    term: SearchTerm,
    scope: Option<Uuid>,
    dialect: Dialect,
    summary_columns: String,
    today: NaiveDate,
}

impl Search {
    pub(crate) fn new(dialect: Dialect, actor: &Actor, term: &str) -> Search {
        Search {
            term: SearchTerm::new(term),
            scope: owner_scope(actor),
            dialect,
            summary_columns: summary_columns(dialect),
            today: today(),
        }
    }

    pub(crate) fn term(&self) -> &SearchTerm {
        &self.term
    }

    /// The summary's columns, for a select list.
    pub(crate) fn summary_columns(&self) -> &str {
        &self.summary_columns
    }

    /// A row of a search step as a summary.
    pub(crate) fn summary(&self, row: &dyn Row) -> StoreResult<PatientSummary> {
        summary(row, self.today)
    }

    /// `WHERE doctor_id = …` for a doctor's search.
    pub(crate) fn push_scope(&self, sql: &mut Statement) {
        push_scope(sql, self.scope);
    }

    /// Like `push_scope`, for rows already found by id (`Dialect::not_indexed`).
    pub(crate) fn push_scope_of_found(&self, sql: &mut Statement) {
        sql.push(" WHERE TRUE");
        if let Some(doctor) = self.scope {
            sql.push(format!(
                " AND {} = ",
                self.dialect.not_indexed("p.doctor_id")
            ))
            .bind(doctor);
        }
    }

    /// `AND` rows matching the term anywhere (prefixes only, for a term that takes no
    /// substrings).
    pub(crate) fn push_match(&self, sql: &mut Statement) {
        self.term.push_match(sql, self.dialect, Reading::Indexed);
    }

    /// `AND` rows not matching the term as a prefix (ranks 0 and 1).
    pub(crate) fn push_not_prefix(&self, sql: &mut Statement) {
        sql.push(" AND NOT ");
        self.term.push_prefix(sql, self.dialect, Reading::Indexed);
    }

    /// `AND` the substring rank's condition: matching anywhere, but not as a prefix.
    pub(crate) fn push_substring_only(&self, sql: &mut Statement) {
        self.push_match(sql);
        self.push_not_prefix(sql);
    }

    /// ` ORDER BY` the most recent visit ` LIMIT limit`.
    pub(crate) fn push_by_visit(&self, sql: &mut Statement, limit: u32) {
        sql.push(BY_VISIT).bind(i64::from(limit));
    }

    /// Ends a statement begun with `WITH hits AS (SELECT p.id …` (ordered and limited): the
    /// summaries of the hits in the same order. The summary's subquery then runs for the page
    /// only, not for every row the step sorts.
    pub(crate) fn push_summaries_of_hits(&self, sql: &mut Statement, ranked: bool) {
        sql.push(format!(
            ") SELECT {} FROM hits h JOIN patients p ON p.id = h.id ORDER BY {}p.last_visit_at DESC, p.id DESC",
            self.summary_columns,
            if ranked { "h.rank, " } else { "" }
        ));
    }

    /// The start of a step that ends with `end_of_page`: the page's ids first where the
    /// engine needs that (`Dialect::summaries_after_the_page`), else the summaries directly.
    fn start_of_page(&self) -> Statement {
        if self.dialect.summaries_after_the_page() {
            Statement::new("WITH hits AS (SELECT p.id")
        } else {
            Statement::new(format!("SELECT {}", self.summary_columns))
        }
    }

    fn end_of_page(&self, sql: &mut Statement, ranked: bool) {
        if self.dialect.summaries_after_the_page() {
            self.push_summaries_of_hits(sql, ranked);
        }
    }

    /// The candidates (`total`, counted up to `cap`) and, for `prefix_by_visit`, the caller's
    /// patients (`patients`, from the running tallies), in one round trip. `None` for a term
    /// of spaces only.
    pub(crate) fn prefix_candidates(&self, cap: u64) -> Option<Statement> {
        let mut count = Statement::new("SELECT (SELECT COUNT(*) FROM (");
        self.term
            .push_candidate_ids(&mut count, self.dialect, self.scope)?;
        count
            .push(" LIMIT ")
            .bind(i64::try_from(cap).unwrap_or(i64::MAX))
            .push(
                ") AS candidates) AS total, \
                 (SELECT CAST(COALESCE(SUM(p.patients), 0) AS bigint) FROM patient_tallies p",
            );
        self.push_scope(&mut count);
        count.push(") AS patients");
        Some(count)
    }

    /// Exact and prefix matches among few candidates: all of them ranked and sorted.
    pub(crate) fn ranked_prefix(&self, limit: u32) -> Statement {
        let mut ranked = self.start_of_page();
        ranked.push(", ");
        self.term.push_rank(&mut ranked, self.dialect);
        ranked.push(" AS rank FROM patients p");
        self.push_scope_of_found(&mut ranked);
        ranked.push(" AND p.id IN (");
        if self
            .term
            .push_candidate_ids(&mut ranked, self.dialect, self.scope)
            .is_none()
        {
            ranked.push("SELECT id FROM patients");
        }
        ranked.push(") AND ");
        self.term
            .push_prefix(&mut ranked, self.dialect, Reading::Indexed);
        ranked
            .push(" ORDER BY rank, p.last_visit_at DESC, p.id DESC LIMIT ")
            .bind(i64::from(limit));
        self.end_of_page(&mut ranked, true);
        ranked
    }

    /// Among thousands of candidates, first the exact matches, by index equality.
    pub(crate) fn exact(&self, limit: u32) -> Statement {
        let mut exact = self.start_of_page();
        exact.push(" FROM patients p WHERE p.id IN (");
        self.term
            .push_exact_ids(&mut exact, self.dialect, self.scope);
        exact.push(")");
        self.push_by_visit(&mut exact, limit);
        self.end_of_page(&mut exact, false);
        exact
    }

    /// Then the prefix matches in last-visit order: the ids first, read in the order of the
    /// index that holds the searched columns (an index-only scan), then the page's summaries.
    pub(crate) fn prefix_by_visit(&self, limit: u32) -> Statement {
        let mut prefix =
            Statement::new("WITH hits AS (SELECT p.id, p.last_visit_at FROM patients p");
        self.push_scope(&mut prefix);
        prefix.push(" AND ");
        self.term
            .push_prefix(&mut prefix, self.dialect, Reading::InVisitOrder);
        prefix.push(" AND NOT ");
        self.term.push_exact(&mut prefix, self.dialect);
        self.push_by_visit(&mut prefix, limit);
        self.push_summaries_of_hits(&mut prefix, false);
        prefix
    }

    /// The steps of `search` on one read connection.
    async fn run<E: Engine>(
        &self,
        conn: &mut E::Reader,
        limit: u32,
        dense_prefix_candidates: u64,
        doctor_names: &DoctorNames,
    ) -> StoreResult<Vec<PatientSummary>> {
        let by_visit = match self.prefix_candidates(dense_prefix_candidates) {
            Some(count) => {
                let (candidates, patients) = conn
                    .first(&count, |r| {
                        Ok((sql::count(r, "total")?, sql::count(r, "patients")?))
                    })
                    .await?
                    .unwrap_or_default();
                prefix_by_visit(
                    candidates,
                    dense_prefix_candidates,
                    patients,
                    limit,
                    self.term.words.len(),
                )
            }
            None => true,
        };
        let mut found = if by_visit {
            let mut found = conn.rows(&self.exact(limit), |r| self.summary(r)).await?;
            let rest = limit.saturating_sub(found.len() as u32);
            if rest > 0 {
                let prefix = self.prefix_by_visit(rest);
                found.extend(conn.rows(&prefix, |r| self.summary(r)).await?);
            }
            found
        } else {
            let ranked = self.ranked_prefix(limit);
            conn.rows(&ranked, |r| self.summary(r)).await?
        };
        let rest = limit.saturating_sub(found.len() as u32);
        if rest > 0 && self.term.takes_substrings {
            found.extend(E::patient_substrings(conn, self, rest).await?);
        }
        // The steps read separately: a row renamed in between could come twice; show it once.
        let mut seen = std::collections::HashSet::with_capacity(found.len());
        found.retain(|patient| seen.insert(patient.id));
        doctor_names.fill(conn, &mut found).await?;
        Ok(found)
    }
}

pub async fn search<E: Engine>(
    engine: &E,
    actor: &Actor,
    term: &str,
    limit: u32,
) -> StoreResult<Vec<PatientSummary>> {
    let search = Search::new(engine.dialect(), actor, term);
    let dense_prefix_candidates = engine.dense_prefix_candidates();
    let doctor_names = engine.doctor_names().clone();
    let items = engine
        .read(move |conn| {
            Box::pin(async move {
                search
                    .run::<E>(conn, limit, dense_prefix_candidates, &doctor_names)
                    .await
            })
        })
        .await?;
    audit_read(engine, actor, "patient.search", ("patient", None), None).await?;
    Ok(items)
}

fn keyset(sort: PatientSort) -> Keyset {
    let (scope, column, selected_as, ascending, kind) = match sort {
        // Surname first, then the given names (`values::name_sort_key`).
        PatientSort::Name => (
            "patients:name",
            "p.name_sort",
            "name_sort",
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

/// A list page to read: its order, the offset of its first row, the page statement and the
/// total's (whose column is `value`).
struct ListPlan {
    keyset: Keyset,
    offset: u64,
    select: Statement,
    count: Statement,
}

/// `AND` the filter's conditions. Name words are matched as the search's prefix rank matches
/// them (each starts a word of the folded name); the MRN as the exact rank compares it.
fn push_filter(sql: &mut Statement, dialect: Dialect, filter: &PatientFilter) {
    if let Some(name) = &filter.name {
        for word in SearchWords::new(name).words {
            sql.push(" AND p.name_folded LIKE ")
                .bind(format!("% {}%", escape_like(&word)))
                .push(dialect.like_escape());
        }
    }
    if let Some(mrn) = &filter.mrn {
        sql.push(format!(" AND {} = ", dialect.folded_mrn("p")))
            .bind(SearchWords::new(mrn).folded);
    }
    if let Some(born_on) = filter.born_on {
        sql.push(" AND p.date_of_birth = ").bind(born_on);
    }
}

fn list_plan(dialect: Dialect, actor: &Actor, query: &PatientListQuery) -> StoreResult<ListPlan> {
    let keyset = keyset(query.sort);
    let term = query.search.as_deref().map(SearchTerm::new);
    let (cursor, offset) = keyset.start(&query.start)?;
    let scope = owner_scope(actor);
    let filter = &query.filter;

    // Without a search or filter the total is the running tally, not a count of rows.
    let push_total = |sql: &mut Statement| {
        if term.is_none() && filter.is_empty() {
            sql.push(
                "SELECT CAST(COALESCE(SUM(p.patients), 0) AS bigint) AS value \
                 FROM patient_tallies p",
            );
            push_scope(sql, scope);
            return;
        }
        sql.push("SELECT COUNT(*) AS value FROM patients p");
        push_scope(sql, scope);
        if let Some(term) = &term {
            term.push_match(sql, dialect, Reading::Indexed);
        }
        push_filter(sql, dialect, filter);
    };
    let mut count = Statement::default();
    push_total(&mut count);

    let mut select = Statement::new(format!("SELECT {}", summary_columns(dialect)));
    if dialect.total_in_each_row() {
        // A subquery run once, which saves a round trip.
        select.push(", (");
        push_total(&mut select);
        select.push(format!(") AS {}", super::paging::TOTAL_COLUMN));
    }
    select.push(" FROM patients p");
    push_scope(&mut select, scope);
    if let Some(term) = &term {
        term.push_match(&mut select, dialect, Reading::Indexed);
    }
    push_filter(&mut select, dialect, filter);
    if let Some(cursor) = &cursor {
        keyset.push_after(&mut select, cursor, dialect)?;
    }
    keyset.push_order_and_limit(&mut select, query.limit, cursor.as_ref(), offset);
    Ok(ListPlan {
        keyset,
        offset,
        select,
        count,
    })
}

/// The statements of a patient list as `dialect` runs them: the page and its total.
pub fn list_statements(
    dialect: Dialect,
    actor: &Actor,
    query: &PatientListQuery,
) -> StoreResult<(Statement, Statement)> {
    let plan = list_plan(dialect, actor, query)?;
    Ok((plan.select, plan.count))
}

pub async fn list(
    engine: &impl Engine,
    actor: &Actor,
    query: &PatientListQuery,
) -> StoreResult<Page<PatientSummary>> {
    let dialect = engine.dialect();
    let ListPlan {
        keyset,
        offset,
        select,
        count,
    } = list_plan(dialect, actor, query)?;
    let limit = query.limit;
    let doctor_names = engine.doctor_names().clone();
    let page = engine
        .read(move |conn| {
            Box::pin(async move {
                let today = today();
                let mut page = keyset
                    .read_page(
                        conn,
                        &select,
                        &count,
                        dialect.total_in_each_row(),
                        limit,
                        offset,
                        |r| summary(r, today),
                    )
                    .await?;
                doctor_names.fill(conn, &mut page.items).await?;
                Ok(page)
            })
        })
        .await?;
    audit_read(engine, actor, "patient.list", ("patient", None), None).await?;
    Ok(page)
}

/// The chart of patient `id`, of the doctor `doctor_id` when it names one (`owner_scope`);
/// `lock` also locks the row until the transaction ends, for a read-modify-write (on engines
/// that lock rows).
fn chart_statement(dialect: Dialect, doctor_id: Option<Uuid>, id: Uuid, lock: bool) -> Statement {
    let mut select = Statement::new(format!(
        "SELECT {}, {CHART_COLUMNS} FROM patients p WHERE p.id = ",
        summary_columns(dialect)
    ));
    select.bind(id);
    if let Some(doctor_id) = doctor_id {
        select.push(" AND p.doctor_id = ").bind(doctor_id);
    }
    if lock {
        select.push(dialect.lock_rows_of("p"));
    }
    select
}

pub(super) async fn fetch_chart(
    conn: &mut impl Conn,
    doctor_names: &DoctorNames,
    doctor_id: Option<Uuid>,
    id: Uuid,
    lock: bool,
) -> StoreResult<Option<Patient>> {
    let select = chart_statement(conn.dialect(), doctor_id, id, lock);
    let today = today();
    let mut found = conn.first(&select, |r| chart(r, today)).await?;
    if let Some(patient) = &mut found {
        doctor_names
            .fill(conn, std::slice::from_mut(&mut patient.summary))
            .await?;
    }
    Ok(found)
}

pub async fn get(engine: &impl Engine, actor: &Actor, id: Uuid) -> StoreResult<Patient> {
    let doctor_id = actor.user_id;
    let doctor_names = engine.doctor_names().clone();
    let found = engine
        .read(move |conn| {
            Box::pin(
                async move { fetch_chart(conn, &doctor_names, Some(doctor_id), id, false).await },
            )
        })
        .await?;
    let Some(patient) = found else {
        return Err(deny(engine, actor, "patient.read", ("patient", id)).await);
    };
    audit_read(
        engine,
        actor,
        "patient.read",
        ("patient", Some(id.to_string())),
        Some(id),
    )
    .await?;
    Ok(patient)
}

/// The next MRN number, allocated under the dialect's lock where it has one.
async fn next_mrn_seq(tx: &mut impl Conn) -> StoreResult<i64> {
    if let Some(lock) = tx.dialect().mrn_lock() {
        tx.execute(&Statement::new(lock).arg(MRN_LOCK)).await?;
    }
    let next = Statement::new("SELECT COALESCE(MAX(mrn_seq), 0) + 1 AS value FROM patients");
    Ok(tx.scalar(&next).await?.unwrap_or(1))
}

pub async fn create(
    engine: &impl Engine,
    actor: &Actor,
    doctor_id: Uuid,
    patient: &NewPatient,
) -> StoreResult<Patient> {
    let id = Uuid::now_v7();
    let at = now();
    let mut tx = engine.write_tx().await?;
    let role = Statement::new("SELECT role, disabled FROM users WHERE id = $1").arg(doctor_id);
    let active_doctor = tx
        .first(&role, |r| {
            Ok(Role::parse(&sql::text(r, "role")?) == Some(Role::Doctor)
                && !sql::boolean(r, "disabled")?)
        })
        .await?;
    if active_doctor != Some(true) {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "doctor_id",
            "is not an active doctor of this clinic",
        )]));
    }
    let mrn_seq = next_mrn_seq(&mut tx).await?;
    let derived = SearchColumns::of(
        &patient.full_name,
        patient.phone.as_deref(),
        patient.email.as_deref(),
    )?;
    let insert = Statement::new(
        "INSERT INTO patients (id, doctor_id, mrn_seq, mrn, full_name, name_folded, date_of_birth, sex,
             phone, phone_digits, email, email_folded, address, referred_by, illness_duration,
             allergies, alerts, symptoms, created_at, updated_at, name_sort, phone_last4)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $21)",
    )
    .arg(id)
    .arg(doctor_id)
    .arg(mrn_seq)
    .arg(format!("MRN-{mrn_seq:06}"))
    .arg(patient.full_name.as_str())
    .arg(derived.name_folded)
    .arg(patient.date_of_birth)
    .arg(patient.sex.as_str())
    .arg(cipher::seal_opt(patient.phone.as_deref())?)
    .arg(derived.phone_digits)
    .arg(cipher::seal_opt(patient.email.as_deref())?)
    .arg(derived.email_folded)
    .arg(cipher::seal_opt(patient.address.as_deref())?)
    .arg(cipher::seal_opt(patient.referred_by.as_deref())?)
    .arg(patient.illness_duration.as_ref().map(sql::to_json).transpose()?)
    .arg(cipher::seal_json(
        &patient.allergies.clone().unwrap_or_default(),
    )?)
    .arg(cipher::seal_json(&patient.alerts)?)
    .arg(sql::to_json(&patient.symptoms)?)
    .arg(at)
    .arg(derived.name_sort)
    .arg(derived.phone_last4);
    tx.execute(&insert).await?;
    audit_actor(
        &mut tx,
        actor,
        "patient.create",
        ("patient", Some(id.to_string())),
        Some(id),
        "success",
    )
    .await?;
    // The patient's doctor hears of it, also when a receptionist registered the patient.
    events::record(
        &mut tx,
        &[NewEvent::patient(EventKind::PatientCreated, doctor_id, id)],
    )
    .await?;
    let created = fetch_chart(&mut tx, engine.doctor_names(), Some(doctor_id), id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(created)
}

pub async fn update(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    update: &PatientUpdate,
) -> StoreResult<Patient> {
    let mut tx = engine.write_tx().await?;
    // A doctor changes their own patients; a receptionist any doctor's (the handler keeps
    // them to demographics and contacts).
    let scope = owner_scope(actor);
    // Locked: two edits of one chart apply one after the other, neither losing the other's
    // fields.
    let Some(current) = fetch_chart(&mut tx, engine.doctor_names(), scope, id, true).await? else {
        tx.rollback().await?;
        return Err(deny(engine, actor, "patient.update", ("patient", id)).await);
    };
    // The patient's doctor hears of the change, also when a receptionist made it.
    let doctor_of = Statement::new("SELECT doctor_id FROM patients WHERE id = $1").arg(id);
    let doctor_id = tx
        .first(&doctor_of, |r| sql::uuid(r, "doctor_id"))
        .await?
        .ok_or(StoreError::NotFound)?;
    let full_name = update
        .full_name
        .clone()
        .unwrap_or(current.summary.full_name);
    let phone = update.phone.clone().unwrap_or(current.summary.phone);
    let email = update.email.clone().unwrap_or(current.summary.email);
    let derived = SearchColumns::of(&full_name, phone.as_deref(), email.as_deref())?;
    let illness_duration = update
        .illness_duration
        .clone()
        .unwrap_or(current.illness_duration);
    let change = Statement::new(
        "UPDATE patients SET full_name = $3, name_folded = $4, date_of_birth = $5, sex = $6,
             phone = $7, phone_digits = $8, email = $9, email_folded = $10, address = $11,
             referred_by = $12, illness_duration = $13, allergies = $14, alerts = $15,
             symptoms = $16, updated_at = $17, name_sort = $18, phone_last4 = $19
         WHERE id = $1 AND doctor_id = $2",
    )
    .arg(id)
    .arg(doctor_id)
    .arg(full_name)
    .arg(derived.name_folded)
    .arg(
        update
            .date_of_birth
            .unwrap_or(current.summary.date_of_birth),
    )
    .arg(update.sex.unwrap_or(current.summary.sex).as_str())
    .arg(cipher::seal_opt(phone.as_deref())?)
    .arg(derived.phone_digits)
    .arg(cipher::seal_opt(email.as_deref())?)
    .arg(derived.email_folded)
    .arg(cipher::seal_opt(
        update.address.clone().unwrap_or(current.address).as_deref(),
    )?)
    .arg(cipher::seal_opt(
        update
            .referred_by
            .clone()
            .unwrap_or(current.referred_by)
            .as_deref(),
    )?)
    .arg(illness_duration.as_ref().map(sql::to_json).transpose()?)
    .arg(cipher::seal_json(
        update.allergies.as_ref().unwrap_or(&current.allergies),
    )?)
    .arg(cipher::seal_json(
        update.alerts.as_ref().unwrap_or(&current.alerts),
    )?)
    .arg(sql::to_json(
        update.symptoms.as_ref().unwrap_or(&current.symptoms),
    )?)
    .arg(now())
    .arg(derived.name_sort)
    .arg(derived.phone_last4);
    tx.execute(&change).await?;
    audit_actor(
        &mut tx,
        actor,
        "patient.update",
        ("patient", Some(id.to_string())),
        Some(id),
        "success",
    )
    .await?;
    events::record(
        &mut tx,
        &[NewEvent::patient(EventKind::PatientUpdated, doctor_id, id)],
    )
    .await?;
    let updated = fetch_chart(&mut tx, engine.doctor_names(), scope, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// The active doctors a patient can be registered with, by name.
pub async fn active_doctors(
    engine: &impl Engine,
    actor: &Actor,
) -> StoreResult<Vec<DoctorSummary>> {
    let select = Statement::new(
        "SELECT id, full_name FROM users WHERE role = 'doctor' AND disabled = FALSE
         ORDER BY full_name, id",
    );
    let doctors = engine
        .read(move |conn| {
            Box::pin(async move {
                conn.rows(&select, |r| {
                    Ok(DoctorSummary {
                        id: sql::uuid(r, "id")?,
                        full_name: sql::text(r, "full_name")?,
                    })
                })
                .await
            })
        })
        .await?;
    audit_read(engine, actor, "doctor.list", ("user", None), None).await?;
    Ok(doctors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::values::name_sort_key;

    #[test]
    fn the_name_sorts_by_surname_then_given_names() {
        assert_eq!(name_sort_key("Anna Maria Smith"), " smith anna maria");
        assert_eq!(name_sort_key("alan  Brooks"), " brooks alan");
        assert_eq!(name_sort_key("Madonna"), " madonna");
        // A shorter surname comes before a longer one it begins.
        assert!(name_sort_key("Zoe Smith") < name_sort_key("Anna Smithers"));
    }

    #[test]
    fn search_terms_fold_and_escape_like() {
        let term = SearchTerm::new(" Gómez MÜLLER ");
        assert_eq!(term.folded, "gomez muller");
        assert_eq!(term.words, ["gomez", "muller"]);
        let term = SearchTerm::new("  Anna 50%_\\ ");
        assert_eq!(term.folded, "anna 50%_\\");
        assert_eq!(term.words, ["anna", "50%_\\"]);
        assert_eq!(term.words_like, ["anna", "50\\%\\_\\\\"]);
    }

    #[test]
    fn contacts_are_searched_by_blind_index_only() {
        crate::store::cipher::install_for_tests();
        let blind = |text: &str| crate::store::cipher::blind(text).unwrap();
        let term = SearchTerm::new("  Anna 50%_\\ ");
        assert_eq!(term.phone_index, "");
        assert_eq!(term.email_index, "");
        assert_eq!(term.last4_index, "");
        let phone = SearchTerm::new("+91 (987)");
        assert_eq!(phone.phone_index, blind("91987"));
        let last4 = SearchTerm::new("0958");
        assert_eq!(last4.last4_index, blind("0958"));
        let email = SearchTerm::new("Jo@Example.ORG");
        assert_eq!(email.email_index, blind("jo@example.org"));
        // No clear contact goes into a search statement, only the indexes.
        let mut sql = Statement::new("");
        email.push_exact(&mut sql, Dialect::Sqlite);
        assert!(sql.sql().contains("p.email_folded = "));
        assert!(!sql.sql().contains("LIKE"));
    }
}
