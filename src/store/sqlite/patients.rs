//! Patients on SQLite: keyset-paginated lists, the ranked search, the chart, create and update.

use chrono::NaiveDate;
use rusqlite::Connection;
use uuid::Uuid;

use super::paging::Keyset;
use super::statement::Statement;
use super::{SqliteStore, WriteTx, audit_actor, deny, owner_scope, rows};
use crate::model::auth::Role;
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::patient::*;
use crate::model::search::{MIN_SUBSTRING_CHARS, SearchWords};
use crate::model::time::{age_on, format_timestamp, now};
use crate::model::validate::digits_of;
use crate::store::values::*;
use crate::store::*;

const SUMMARY_COLUMNS: &str = "p.id, p.mrn, p.full_name, p.name_folded, p.date_of_birth, p.sex, \
     p.phone, p.email, p.last_visit_at, p.created_at, \
     (SELECT c.id FROM consultations c WHERE c.patient_id = p.id AND c.status = 'in_progress') AS active_consultation_id";

const CHART_COLUMNS: &str = "p.address, p.referred_by, p.illness_duration, p.allergies, p.alerts, \
     p.symptoms, p.updated_at, \
     (SELECT COUNT(*) FROM consultations c WHERE c.patient_id = p.id) AS consultation_count";

pub(super) fn summary(
    row: &(impl rows::Columns + ?Sized),
    today: NaiveDate,
) -> StoreResult<PatientSummary> {
    let date_of_birth = rows::date(row, "date_of_birth")?;
    Ok(PatientSummary {
        id: rows::uuid(row, "id")?,
        mrn: rows::text(row, "mrn")?,
        full_name: rows::text(row, "full_name")?,
        date_of_birth,
        age: age_on(date_of_birth, today),
        sex: rows::parsed(row, "sex", Sex::parse)?,
        phone: rows::opt_text(row, "phone")?,
        email: rows::opt_text(row, "email")?,
        last_visit_at: rows::opt_time(row, "last_visit_at")?,
        active_consultation_id: rows::opt_uuid(row, "active_consultation_id")?,
    })
}

fn chart(row: &(impl rows::Columns + ?Sized), today: NaiveDate) -> StoreResult<Patient> {
    Ok(Patient {
        summary: summary(row, today)?,
        address: rows::opt_text(row, "address")?,
        referred_by: rows::opt_text(row, "referred_by")?,
        illness_duration: rows::opt_json(row, "illness_duration")?,
        allergies: rows::json(row, "allergies")?,
        alerts: rows::json(row, "alerts")?,
        symptoms: rows::json(row, "symptoms")?,
        consultation_count: rows::int(row, "consultation_count")?.max(0) as u64,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

/// A search term prepared for SQL: folded, LIKE-escaped, split into words.
struct SearchTerm {
    folded: String,
    /// The folded term as typed (not LIKE-escaped), for the exact comparisons and index ranges.
    plain: String,
    words: Vec<String>,
    /// The same words, not LIKE-escaped, for the index ranges on `patient_name_words`.
    plain_words: Vec<String>,
    /// The digits of the term when it looks like a phone number, else empty.
    digits: String,
    /// Whether the term also finds substrings (see `takes_substrings`).
    substrings: bool,
}

/// `column >= prefix AND column < end`: the rows whose column starts with `prefix`, as an index
/// range. (`LIKE 'x%'` cannot use these indexes: SQLite's LIKE ignores ASCII case, the indexes
/// are BINARY.) The range finds the same rows as `push_prefix`'s LIKE because the term and the
/// columns searched are all lower-cased, so ignoring case changes nothing.
fn push_prefix_range(sql: &mut Statement, column: &str, prefix: &str) {
    sql.push(format!(" AND {column} >= "))
        .push_bind(prefix.to_string());
    match prefix_end(prefix) {
        Some(end) => sql.push(format!(" AND {column} < ")).push_bind(end),
        None => sql
            .push(format!(" AND instr({column}, "))
            .push_bind(prefix.to_string())
            .push(") = 1"),
    };
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
            words: words.iter().map(|w| escape_like(w)).collect(),
            plain_words: words,
            folded: escape_like(&folded),
            plain: folded,
            digits,
            substrings,
        }
    }

    /// Whether the term also finds substrings (the third rank): only with a word of three
    /// characters or more, what a trigram index can look up; shorter terms find exact and
    /// prefix matches only (docs/API.md).
    fn takes_substrings(&self) -> bool {
        self.substrings
    }

    /// Rows matching the term anywhere: every word inside the name, or the whole term inside the
    /// MRN or email, or its digits inside the phone number (prefixes only, for a term that takes
    /// no substrings).
    fn push_match(&self, sql: &mut Statement) {
        if !self.takes_substrings() {
            sql.push(" AND ");
            self.push_prefix(sql);
            return;
        }
        sql.push(" AND ((1 = 1");
        for word in &self.words {
            sql.push(" AND p.name_folded LIKE ")
                .push_bind(format!("%{word}%"))
                .push(" ESCAPE '\\'");
        }
        sql.push(") OR lower(p.mrn) LIKE ")
            .push_bind(format!("%{}%", self.folded))
            .push(" ESCAPE '\\' OR p.email_folded LIKE ")
            .push_bind(format!("%{}%", self.folded))
            .push(" ESCAPE '\\'");
        if !self.digits.is_empty() {
            sql.push(" OR p.phone_digits LIKE ")
                .push_bind(format!("%{}%", self.digits));
        }
        sql.push(")");
    }

    /// The prefix condition (ranks 0 and 1): every word starts a word of the name, or the MRN,
    /// email or phone digits start with the term.
    fn push_prefix(&self, sql: &mut Statement) {
        sql.push("((1 = 1");
        for word in &self.words {
            sql.push(" AND p.name_folded LIKE ")
                .push_bind(format!("% {word}%"))
                .push(" ESCAPE '\\'");
        }
        sql.push(") OR lower(p.mrn) LIKE ")
            .push_bind(format!("{}%", self.folded))
            .push(" ESCAPE '\\' OR p.email_folded LIKE ")
            .push_bind(format!("{}%", self.folded))
            .push(" ESCAPE '\\'");
        if !self.digits.is_empty() {
            sql.push(" OR p.phone_digits LIKE ")
                .push_bind(format!("{}%", self.digits));
        }
        sql.push(")");
    }

    /// 0 for an exact match, 1 for a prefix (of a name word, the MRN, email or phone), 2 else.
    fn push_rank(&self, sql: &mut Statement) {
        sql.push("CASE WHEN ");
        self.push_exact(sql);
        sql.push(" THEN 0 WHEN ");
        self.push_prefix(sql);
        sql.push(" THEN 1 ELSE 2 END");
    }

    /// The ids of the candidates of the prefix ranks, each found by an index range (a superset:
    /// `push_prefix` then checks every condition on the rows found), as a compound SELECT. The
    /// name word used is the longest, the most selective. `None` for a term of spaces only,
    /// which every row matches.
    fn push_candidate_ids(&self, sql: &mut Statement, scope: Option<&str>) -> Option<()> {
        let word = self.plain_words.iter().max_by_key(|w| w.chars().count())?;
        let scoped = |sql: &mut Statement, table: &str| {
            sql.push(" WHERE 1 = 1");
            if let Some(doctor) = scope {
                sql.push(format!(" AND {table}.doctor_id = "))
                    .push_bind(doctor.to_string());
            }
        };
        sql.push("SELECT w.patient_id FROM patient_name_words w");
        scoped(sql, "w");
        push_prefix_range(sql, "w.word", word);
        let mut columns = vec![
            ("lower(q.mrn)", self.plain.as_str()),
            ("q.email_folded", self.plain.as_str()),
        ];
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

    /// The term as an FTS5 query on `patient_trigrams` finding a superset of `push_match`:
    /// every name word of three characters or more inside the name, or the term inside the MRN
    /// or email, or its digits inside the phone number. `None` when a part of the match has
    /// no such word (a trigram index cannot look up one or two characters).
    fn trigram_query(&self) -> Option<String> {
        if !self.takes_substrings() {
            return None;
        }
        let phrase = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
        let name_words: Vec<String> = self
            .plain_words
            .iter()
            .filter(|w| w.chars().count() >= MIN_SUBSTRING_CHARS)
            .map(|w| format!("name : {}", phrase(w)))
            .collect();
        let mut query = format!(
            "({}) OR mrn : {} OR email : {}",
            name_words.join(" AND "),
            phrase(&self.plain),
            phrase(&self.plain)
        );
        if !self.digits.is_empty() {
            query.push_str(&format!(" OR phone : {}", phrase(&self.digits)));
        }
        Some(query)
    }

    /// The ids of the exact matches (rank 0), each found by index equality, as a compound
    /// SELECT: an OR of the four would read the doctor's patients one by one instead.
    fn push_exact_ids(&self, sql: &mut Statement, scope: Option<&str>) {
        let mut columns = vec![
            ("q.name_folded", format!(" {}", self.plain)),
            ("lower(q.mrn)", self.plain.clone()),
            ("q.email_folded", self.plain.clone()),
        ];
        if !self.digits.is_empty() {
            columns.push(("q.phone_digits", self.digits.clone()));
        }
        for (n, (column, value)) in columns.into_iter().enumerate() {
            if n > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push("SELECT q.id FROM patients q WHERE 1 = 1");
            if let Some(doctor) = scope {
                sql.push(" AND q.doctor_id = ")
                    .push_bind(doctor.to_string());
            }
            sql.push(format!(" AND {column} = ")).push_bind(value);
        }
    }

    /// The exact condition (rank 0): the whole name, MRN, email or phone digits equal the term.
    fn push_exact(&self, sql: &mut Statement) {
        let exact = self.plain.clone();
        sql.push("(p.name_folded = ")
            .push_bind(format!(" {exact}"))
            .push(" OR lower(p.mrn) = ")
            .push_bind(exact.clone())
            .push(" OR p.email_folded = ")
            .push_bind(exact);
        if !self.digits.is_empty() {
            sql.push(" OR p.phone_digits = ")
                .push_bind(self.digits.clone());
        }
        sql.push(")");
    }
}

/// `WHERE doctor_id = …` for a doctor; everyone's rows for a receptionist (`owner_scope`).
fn push_scope(sql: &mut Statement, scope: Option<&str>) {
    sql.push(" WHERE 1 = 1");
    if let Some(doctor) = scope {
        sql.push(" AND p.doctor_id = ")
            .push_bind(doctor.to_string());
    }
}

fn keyset(sort: PatientSort) -> Keyset {
    let (scope, column, selected_as, ascending) = match sort {
        PatientSort::Name => ("patients:name", "p.name_folded", "name_folded", true),
        PatientSort::LastVisitDesc => (
            "patients:-last_visit",
            "p.last_visit_at",
            "last_visit_at",
            false,
        ),
        PatientSort::CreatedDesc => ("patients:-created_at", "p.created_at", "created_at", false),
    };
    Keyset {
        scope,
        column,
        selected_as,
        id_column: "p.id",
        ascending,
    }
}

pub(super) async fn list(
    store: &SqliteStore,
    actor: &Actor,
    query: &PatientListQuery,
) -> StoreResult<Page<PatientSummary>> {
    let keyset = keyset(query.sort);
    let term = query.search.as_deref().map(SearchTerm::new);
    let (cursor, offset) = keyset.start(&query.start)?;
    let scope = owner_scope(actor);

    let mut select = Statement::new(format!("SELECT {SUMMARY_COLUMNS} FROM patients p"));
    push_scope(&mut select, scope.as_deref());
    if let Some(term) = &term {
        term.push_match(&mut select);
    }
    if let Some(cursor) = &cursor {
        keyset.push_after(&mut select, cursor);
    }
    keyset.push_order_and_limit(&mut select, query.limit, cursor.as_ref(), offset);

    // Without a search the total is the running tally (migration 0004), not a count of rows.
    let count = match &term {
        Some(term) => {
            let mut count = Statement::new("SELECT COUNT(*) FROM patients p");
            push_scope(&mut count, scope.as_deref());
            term.push_match(&mut count);
            count
        }
        None => {
            let mut count =
                Statement::new("SELECT COALESCE(SUM(patients), 0) FROM patient_tallies p");
            push_scope(&mut count, scope.as_deref());
            count
        }
    };
    let limit = query.limit;
    let page = store
        .readers
        .read(move |conn| {
            let today = today();
            keyset.read_page(conn, &select, &count, limit, offset, |r| summary(r, today))
        })
        .await?;
    store
        .audit_read(actor, "patient.list", ("patient", None), None, "success")
        .await?;
    Ok(page)
}

/// Ends a search step begun with `WITH hits AS (SELECT p.id …` (and ordered, limited): selects
/// the summaries of the hits in the same order. The summary's subquery then runs for the page
/// only, not for every row the step sorts.
fn push_summaries_of_hits(sql: &mut Statement, order: &str) {
    sql.push(format!(
        ") SELECT {SUMMARY_COLUMNS} FROM hits h JOIN patients p ON p.id = h.id ORDER BY {order}"
    ));
}

/// From this many prefix candidates a search reads the patients in last-visit order instead
/// of ranking every candidate: with so many, the first page of matches comes early in that
/// order. Either way a search reads at most a few thousand rows (see `search`).
pub(super) const DENSE_PREFIX_CANDIDATES: i64 = 1000;

/// Below this many rows matching a term in the trigram index, the substring step looks them up
/// (each checked for the caller and the exact condition); from this many it reads in
/// last-visit order instead.
const SPARSE_SUBSTRING_CANDIDATES: i64 = 2000;

/// `AND p.mrn_seq IN (…)`: the patients whose indexed text holds the trigram `query`.
fn push_trigram_candidates(sql: &mut Statement, query: &str) {
    sql.push(" AND p.mrn_seq IN (SELECT rowid FROM patient_trigrams WHERE patient_trigrams MATCH ")
        .push_bind(query.to_string())
        .push(")");
}

/// The search in two steps, as on PostgreSQL, each using an index:
/// 1. the exact and prefix ranks. When the term's index ranges (a word of the name in
///    `patient_name_words`, the folded MRN, email and phone digits) hold fewer than
///    `DENSE_PREFIX_CANDIDATES` rows, those candidates are ranked and sorted. Otherwise the
///    exact matches are looked up by equality and the prefix matches read in last-visit order
///    until the page is full, which for so common a prefix is soon;
/// 2. only when that did not fill the page, and for a term with a word of three characters or
///    more, the substring rank: the trigram index's few candidates looked up, or, when it
///    holds thousands, a read in last-visit order that stops once the page is full.
///
/// The substring rank is below the other two, so the results simply follow each other, and
/// ranks, order and rows are those of a single ranked query over all matches.
/// Exact and prefix matches among few candidates: all of them ranked and sorted.
fn ranked_prefix_matches(
    conn: &Connection,
    term: &SearchTerm,
    scope: Option<&str>,
    limit: u32,
    today: NaiveDate,
) -> StoreResult<Vec<PatientSummary>> {
    let mut prefix = Statement::new("WITH hits AS (SELECT p.id, ");
    term.push_rank(&mut prefix);
    prefix.push(" AS rank FROM patients p WHERE 1 = 1");
    if let Some(doctor) = scope {
        // The unary `+` keeps SQLite from reading the doctor's whole index range for this
        // check (all of their patients): the candidates, scoped too, are looked up by id.
        prefix
            .push(" AND +p.doctor_id = ")
            .push_bind(doctor.to_string());
    }
    prefix.push(" AND p.id IN (");
    term.push_candidate_ids(&mut prefix, scope);
    prefix.push(") AND ");
    term.push_prefix(&mut prefix);
    prefix
        .push(" ORDER BY rank, p.last_visit_at DESC, p.id DESC LIMIT ")
        .push_bind(i64::from(limit));
    push_summaries_of_hits(&mut prefix, "h.rank, p.last_visit_at DESC, p.id DESC");
    prefix.rows(conn, |r| summary(r, today))
}

/// Exact and prefix matches among thousands of candidates: the exact ones by index equality,
/// then the prefixes read in last-visit order until the page is full.
fn prefix_matches_by_visit(
    conn: &Connection,
    term: &SearchTerm,
    scope: Option<&str>,
    limit: u32,
    today: NaiveDate,
) -> StoreResult<Vec<PatientSummary>> {
    let mut exact = Statement::new("WITH hits AS (SELECT p.id FROM patients p WHERE p.id IN (");
    term.push_exact_ids(&mut exact, scope);
    exact
        .push(") ORDER BY p.last_visit_at DESC, p.id DESC LIMIT ")
        .push_bind(i64::from(limit));
    push_summaries_of_hits(&mut exact, "p.last_visit_at DESC, p.id DESC");
    let mut found = exact.rows(conn, |r| summary(r, today))?;
    let rest = (limit as usize).saturating_sub(found.len());
    if rest > 0 {
        let mut prefix = Statement::new("WITH hits AS (SELECT p.id FROM patients p");
        push_scope(&mut prefix, scope);
        prefix.push(" AND ");
        term.push_prefix(&mut prefix);
        prefix.push(" AND NOT ");
        term.push_exact(&mut prefix);
        prefix
            .push(" ORDER BY p.last_visit_at DESC, p.id DESC LIMIT ")
            .push_bind(rest as i64);
        push_summaries_of_hits(&mut prefix, "p.last_visit_at DESC, p.id DESC");
        found.extend(prefix.rows(conn, |r| summary(r, today))?);
    }
    Ok(found)
}

/// Up to `rest` substring matches (the third rank), for a term with a word of three characters
/// or more: through the trigram index when it holds few candidates; else (a term found in
/// thousands of names) by reading patients in last-visit order, which for so common a
/// substring fills the page soon.
fn substring_matches(
    conn: &Connection,
    term: &SearchTerm,
    scope: Option<&str>,
    rest: usize,
    today: NaiveDate,
) -> StoreResult<Vec<PatientSummary>> {
    let Some(query) = term.trigram_query() else {
        return Ok(Vec::new());
    };
    let mut count = Statement::new(
        "SELECT COUNT(*) FROM (SELECT rowid FROM patient_trigrams WHERE patient_trigrams MATCH ",
    );
    count
        .push_bind(query.clone())
        .push(" LIMIT ")
        .push_bind(SPARSE_SUBSTRING_CANDIDATES)
        .push(")");
    let candidates = count.scalar(conn)?;
    let mut substring = Statement::new("WITH hits AS (SELECT p.id FROM patients p");
    if candidates < SPARSE_SUBSTRING_CANDIDATES {
        substring.push(" WHERE 1 = 1");
        if let Some(doctor) = scope {
            // The unary `+` keeps SQLite on the candidates rather than the doctor's range.
            substring
                .push(" AND +p.doctor_id = ")
                .push_bind(doctor.to_string());
        }
        push_trigram_candidates(&mut substring, &query);
    } else {
        push_scope(&mut substring, scope);
    }
    term.push_match(&mut substring);
    substring.push(" AND NOT ");
    term.push_prefix(&mut substring);
    substring
        .push(" ORDER BY p.last_visit_at DESC, p.id DESC LIMIT ")
        .push_bind(rest as i64);
    push_summaries_of_hits(&mut substring, "p.last_visit_at DESC, p.id DESC");
    substring.rows(conn, |r| summary(r, today))
}

/// The steps of `search` on one read connection.
fn search_steps(
    conn: &Connection,
    term: &SearchTerm,
    scope: Option<&str>,
    limit: u32,
    dense_prefix_candidates: i64,
) -> StoreResult<Vec<PatientSummary>> {
    let today = today();
    let mut count = Statement::new("SELECT COUNT(*) FROM (");
    let candidates = match term.push_candidate_ids(&mut count, scope) {
        Some(()) => {
            count
                .push(" LIMIT ")
                .push_bind(dense_prefix_candidates)
                .push(")");
            count.scalar(conn)?
        }
        None => dense_prefix_candidates,
    };
    let by_visit = candidates >= dense_prefix_candidates || {
        let mut patients =
            Statement::new("SELECT COALESCE(SUM(patients), 0) FROM patient_tallies p");
        push_scope(&mut patients, scope);
        prefix_by_visit(
            candidates.max(0) as u64,
            dense_prefix_candidates.max(0) as u64,
            patients.scalar(conn)?.max(0) as u64,
            limit,
            term.plain_words.len(),
        )
    };
    let mut found = if by_visit {
        prefix_matches_by_visit(conn, term, scope, limit, today)?
    } else {
        ranked_prefix_matches(conn, term, scope, limit, today)?
    };
    let rest = (limit as usize).saturating_sub(found.len());
    if rest > 0 {
        found.extend(substring_matches(conn, term, scope, rest, today)?);
    }
    // The steps read separately: a row renamed in between could come twice.
    let mut seen = std::collections::HashSet::new();
    found.retain(|patient| seen.insert(patient.id));
    Ok(found)
}

pub(super) async fn search(
    store: &SqliteStore,
    actor: &Actor,
    term: &str,
    limit: u32,
) -> StoreResult<Vec<PatientSummary>> {
    let term = SearchTerm::new(term);
    let scope = owner_scope(actor);
    let dense_prefix_candidates = store.dense_prefix_candidates;
    let items = store
        .readers
        .read(move |conn| {
            search_steps(
                conn,
                &term,
                scope.as_deref(),
                limit,
                dense_prefix_candidates,
            )
        })
        .await?;
    store
        .audit_read(actor, "patient.search", ("patient", None), None, "success")
        .await?;
    Ok(items)
}

/// The chart of the doctor's patient `id`.
fn chart_statement(doctor_id: Uuid, id: Uuid) -> Statement {
    let mut select = Statement::new(format!(
        "SELECT {SUMMARY_COLUMNS}, {CHART_COLUMNS} FROM patients p WHERE p.id = "
    ));
    select
        .push_bind(id.to_string())
        .push(" AND p.doctor_id = ")
        .push_bind(doctor_id.to_string());
    select
}

/// The chart as a write transaction sees it, to answer with what was stored.
async fn chart_in(tx: &mut WriteTx, doctor_id: Uuid, id: Uuid) -> StoreResult<Option<Patient>> {
    chart_statement(doctor_id, id)
        .first_in(tx, |r| chart(r, today()))
        .await
}

pub(super) async fn get(store: &SqliteStore, actor: &Actor, id: Uuid) -> StoreResult<Patient> {
    let select = chart_statement(actor.user_id, id);
    let found = store
        .readers
        .read(move |conn| select.first(conn, |r| chart(r, today())))
        .await?;
    let Some(patient) = found else {
        return Err(deny(store, actor, "patient.read", ("patient", id)).await);
    };
    store
        .audit_read(
            actor,
            "patient.read",
            ("patient", Some(id.to_string())),
            Some(id),
            "success",
        )
        .await?;
    Ok(patient)
}

/// Columns derived from what the doctor typed, kept in step on create and update.
fn derived(full_name: &str, phone: Option<&str>, email: Option<&str>) -> (String, String, String) {
    (
        fold_name(full_name),
        phone.map(digits_of).unwrap_or_default(),
        email.map(str::to_lowercase).unwrap_or_default(),
    )
}

pub(super) async fn create(
    store: &SqliteStore,
    actor: &Actor,
    doctor_id: Uuid,
    patient: &NewPatient,
) -> StoreResult<Patient> {
    let id = Uuid::now_v7();
    let stamp = format_timestamp(now());
    let mut tx = store.write_tx().await?;
    let role: Option<(String, i64)> =
        sqlx::query_as("SELECT role, disabled FROM users WHERE id = $1")
            .bind(doctor_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    if !matches!(&role, Some((r, 0)) if Role::parse(r) == Some(Role::Doctor)) {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "doctor_id",
            "is not an active doctor of this clinic",
        )]));
    }
    let mrn_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(mrn_seq), 0) + 1 FROM patients")
        .fetch_one(&mut *tx)
        .await?;
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
    .bind(id.to_string())
    .bind(doctor_id.to_string())
    .bind(mrn_seq)
    .bind(format!("MRN-{mrn_seq:06}"))
    .bind(&patient.full_name)
    .bind(name_folded)
    .bind(patient.date_of_birth.to_string())
    .bind(patient.sex.as_str())
    .bind(patient.phone.as_deref())
    .bind(phone_digits)
    .bind(patient.email.as_deref())
    .bind(email_folded)
    .bind(patient.address.as_deref())
    .bind(patient.referred_by.as_deref())
    .bind(patient.illness_duration.as_ref().map(rows::to_json).transpose()?)
    .bind(rows::to_json(&patient.allergies.clone().unwrap_or_default())?)
    .bind(rows::to_json(&patient.alerts)?)
    .bind(rows::to_json(&patient.symptoms)?)
    .bind(&stamp)
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
    let created = chart_in(&mut tx, owner.user_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(created)
}

pub(super) async fn update(
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    update: &PatientUpdate,
) -> StoreResult<Patient> {
    let mut tx = store.write_tx().await?;
    let Some(current) = chart_in(&mut tx, actor.user_id, id).await? else {
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
    .bind(id.to_string())
    .bind(actor.user_id.to_string())
    .bind(&full_name)
    .bind(name_folded)
    .bind(
        update
            .date_of_birth
            .unwrap_or(current.summary.date_of_birth)
            .to_string(),
    )
    .bind(update.sex.unwrap_or(current.summary.sex).as_str())
    .bind(phone.as_deref())
    .bind(phone_digits)
    .bind(email.as_deref())
    .bind(email_folded)
    .bind(update.address.clone().unwrap_or(current.address))
    .bind(update.referred_by.clone().unwrap_or(current.referred_by))
    .bind(illness_duration.as_ref().map(rows::to_json).transpose()?)
    .bind(rows::to_json(
        update.allergies.as_ref().unwrap_or(&current.allergies),
    )?)
    .bind(rows::to_json(
        update.alerts.as_ref().unwrap_or(&current.alerts),
    )?)
    .bind(rows::to_json(
        update.symptoms.as_ref().unwrap_or(&current.symptoms),
    )?)
    .bind(format_timestamp(now()))
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
    let updated = chart_in(&mut tx, actor.user_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(updated)
}
