//! Reports, on either engine: the filtered list, statistics, review (edit with a version),
//! signature, addenda, and the generation queue the reportgen worker drains.
//!
//! Edits, signatures and addenda first read the report with the dialect's row lock, so on
//! PostgreSQL of two edits of one version (from any instance) the second waits, then sees the
//! new version and gets the conflict; SQLite has one writer at a time. List totals and the
//! statistics of all of a doctor's reports come from the running tallies (kept by triggers)
//! rather than from counting rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use uuid::Uuid;

use super::cipher;
use super::cursor::Cursor;
use super::engine::{Engine, audit_actor, audit_read, deny, insert_audit, refuse};
use super::events::{self, NewEvent};
use super::paging::{KeyKind, Keyset, TOTAL_COLUMN};
use super::sql::{self, Conn, Dialect, Row, Statement, WriteTx};
use super::values::{
    StatsWindow, StatusTally, assemble_stats, counted_by_tallies, duration_minutes, today,
};
use super::{Actor, AuditEntry, GenerationJob, ReportListQuery, StoreError, StoreResult};
use crate::model::consultation::SessionType;
use crate::model::envelope::code;
use crate::model::event::EventKind;
use crate::model::patient::Sex;
use crate::model::report::{
    Addendum, PersonRef, Report, ReportConsultation, ReportContent, ReportFilter, ReportPage,
    ReportPatient, ReportStats, ReportStatus, ReportSummary,
};
use crate::model::time::{age_on, now};

const SUMMARY_COLUMNS: &str = "r.id, r.status, r.report_type, r.confidence, r.created_at, \
     r.updated_at, r.signed_at, p.id AS patient_id, p.mrn, p.full_name, p.date_of_birth, p.sex, \
     c.id AS consultation_id, c.session_code, c.session_type, c.chief_complaint, c.started_at, \
     c.ended_at";
const DETAIL_COLUMNS: &str = "r.version, r.content, r.generator, r.failure_reason, \
     r.signed_by, su.full_name AS signed_by_name";
const FROM: &str = "FROM reports r JOIN patients p ON p.id = r.patient_id \
     JOIN consultations c ON c.id = r.consultation_id";

const KEYSET: Keyset = Keyset {
    scope: "reports",
    column: "r.created_at",
    selected_as: "created_at",
    id_column: "r.id",
    ascending: false,
    kind: KeyKind::Time { never: false },
};

fn summary(row: &dyn Row, today: NaiveDate) -> StoreResult<ReportSummary> {
    let started_at = sql::time(row, "started_at")?;
    Ok(ReportSummary {
        id: sql::uuid(row, "id")?,
        status: sql::parsed(row, "status", ReportStatus::parse)?,
        report_type: sql::text(row, "report_type")?,
        confidence: sql::opt_real(row, "confidence")?,
        created_at: sql::time(row, "created_at")?,
        updated_at: sql::time(row, "updated_at")?,
        signed_at: sql::opt_time(row, "signed_at")?,
        patient: ReportPatient {
            id: sql::uuid(row, "patient_id")?,
            mrn: sql::text(row, "mrn")?,
            full_name: sql::text(row, "full_name")?,
            date_of_birth: sql::date(row, "date_of_birth")?,
            age: age_on(sql::date(row, "date_of_birth")?, today),
            sex: sql::parsed(row, "sex", Sex::parse)?,
        },
        consultation: ReportConsultation {
            id: sql::uuid(row, "consultation_id")?,
            session_code: sql::text(row, "session_code")?,
            session_type: sql::parsed(row, "session_type", SessionType::parse)?,
            chief_complaint: sql::sealed_opt_text(row, "chief_complaint")?,
            started_at,
            duration_minutes: duration_minutes(started_at, sql::opt_time(row, "ended_at")?),
        },
    })
}

/// A report row, without its addenda.
fn report(row: &dyn Row, today: NaiveDate) -> StoreResult<Report> {
    let signed_by = match (
        sql::opt_uuid(row, "signed_by")?,
        sql::opt_text(row, "signed_by_name")?,
    ) {
        (Some(id), Some(full_name)) => Some(PersonRef { id, full_name }),
        _ => None,
    };
    Ok(Report {
        summary: summary(row, today)?,
        version: sql::int(row, "version")?.max(0) as u32,
        content: sql::sealed_json(row, "content")?,
        generator: sql::opt_text(row, "generator")?,
        signed_by,
        addenda: Vec::new(),
        failure_reason: sql::opt_text(row, "failure_reason")?,
    })
}

fn addendum(row: &dyn Row) -> StoreResult<Addendum> {
    Ok(Addendum {
        id: sql::uuid(row, "id")?,
        text: sql::sealed_text(row, "text")?,
        author: PersonRef {
            id: sql::uuid(row, "author_id")?,
            full_name: sql::text(row, "full_name")?,
        },
        created_at: sql::time(row, "created_at")?,
    })
}

/// The two statements that read a report of the caller: the report (with the dialect's row
/// lock when `lock`, held until the transaction ends), and its addenda.
pub(super) struct ReportStatements {
    report: Statement,
    addenda: Statement,
}

impl ReportStatements {
    pub(super) fn new(dialect: Dialect, actor: &Actor, id: Uuid, lock: bool) -> ReportStatements {
        let mut report = Statement::new(format!(
            "SELECT {SUMMARY_COLUMNS}, {DETAIL_COLUMNS} {FROM} LEFT JOIN users su ON su.id = r.signed_by
             WHERE r.id = "
        ));
        report
            .bind(id)
            .push(" AND r.doctor_id = ")
            .bind(actor.user_id);
        if lock {
            report.push(dialect.lock_rows_of("r"));
        }
        let addenda = Statement::new(
            "SELECT a.id, a.text, a.created_at, a.author_id, u.full_name
             FROM report_addenda a JOIN users u ON u.id = a.author_id
             WHERE a.report_id = $1 ORDER BY a.created_at, a.id",
        )
        .arg(id);
        ReportStatements { report, addenda }
    }

    /// The report with its addenda, or `None` when the caller has no such report.
    pub(super) async fn read(&self, conn: &mut impl Conn) -> StoreResult<Option<Report>> {
        let today = today();
        let Some(report) = conn.first(&self.report, |r| report(r, today)).await? else {
            return Ok(None);
        };
        let addenda = conn.rows(&self.addenda, addendum).await?;
        Ok(Some(Report { addenda, ..report }))
    }
}

/// A filter's time bound as stored times compare with it: they keep milliseconds (SQLite's
/// text has no finer part), so the bound is cut to milliseconds too.
fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(3)
}

fn push_filters(sql: &mut Statement, actor: &Actor, filter: &ReportFilter) {
    sql.push(" WHERE r.doctor_id = ").bind(actor.user_id);
    if let Some(patient_id) = filter.patient_id {
        sql.push(" AND r.patient_id = ").bind(patient_id);
    }
    if let Some(status) = filter.status {
        sql.push(" AND r.status = ").bind(status.as_str());
    }
    if let Some(session_type) = filter.session_type {
        sql.push(" AND r.session_type = ")
            .bind(session_type.as_str());
    }
    if let Some(from) = filter.date_from {
        sql.push(" AND r.created_at >= ").bind(millis(from));
    }
    if let Some(to) = filter.date_to {
        sql.push(" AND r.created_at < ").bind(millis(to));
    }
}

/// `SELECT … AS value …`: how many reports a list filter matches; from the running tallies
/// when the filter is by status at most (the browser's usual views), else by counting rows.
fn push_count(sql: &mut Statement, actor: &Actor, filter: &ReportFilter) {
    if counted_by_tallies(filter) {
        sql.push(
            "SELECT CAST(COALESCE(SUM(reports), 0) AS BIGINT) AS value FROM report_tallies \
             WHERE doctor_id = ",
        )
        .bind(actor.user_id);
        if let Some(status) = filter.status {
            sql.push(" AND status = ").bind(status.as_str());
        }
    } else {
        sql.push("SELECT COUNT(*) AS value FROM reports r");
        push_filters(sql, actor, filter);
    }
}

/// Whether a page selects the list's total in each row (a subquery run once). On PostgreSQL
/// that saves a round trip; SQLite's reads run in process and count on their own.
fn total_in_rows(dialect: Dialect) -> bool {
    dialect == Dialect::Postgres
}

fn page_statements(
    dialect: Dialect,
    actor: &Actor,
    query: &ReportListQuery,
    cursor: Option<&Cursor>,
    offset: u64,
) -> StoreResult<(Statement, Statement)> {
    let mut count = Statement::default();
    push_count(&mut count, actor, &query.filter);
    let mut select = Statement::new(format!("SELECT {SUMMARY_COLUMNS}"));
    if total_in_rows(dialect) {
        select.push(", (");
        push_count(&mut select, actor, &query.filter);
        select.push(format!(") AS {TOTAL_COLUMN}"));
    }
    select.push(format!(" {FROM}"));
    push_filters(&mut select, actor, &query.filter);
    if let Some(cursor) = cursor {
        KEYSET.push_after(&mut select, cursor, dialect)?;
    }
    KEYSET.push_order_and_limit(&mut select, query.limit, cursor, offset);
    Ok((select, count))
}

/// The statements of a report list on `dialect`: the page and the total alone (for a page
/// without rows, or every page where the total is not selected in the rows).
pub fn list_statements(
    dialect: Dialect,
    actor: &Actor,
    query: &ReportListQuery,
) -> StoreResult<(Statement, Statement)> {
    let (cursor, offset) = KEYSET.start(&query.start)?;
    page_statements(dialect, actor, query, cursor.as_ref(), offset)
}

pub async fn list(
    engine: &impl Engine,
    actor: &Actor,
    query: &ReportListQuery,
) -> StoreResult<ReportPage> {
    let dialect = engine.dialect();
    let (cursor, offset) = KEYSET.start(&query.start)?;
    let (select, count) = page_statements(dialect, actor, query, cursor.as_ref(), offset)?;
    let limit = query.limit;
    let page = engine
        .read(move |conn| {
            Box::pin(async move {
                let today = today();
                KEYSET
                    .read_page(
                        conn,
                        &select,
                        &count,
                        total_in_rows(dialect),
                        limit,
                        offset,
                        |r| summary(r, today),
                    )
                    .await
            })
        })
        .await?;
    audit_read(
        engine,
        actor,
        "report.list",
        ("report", None),
        query.filter.patient_id,
    )
    .await?;
    Ok(ReportPage {
        items: page.items,
        pagination: page.pagination,
        filters_applied: query.filter.clone(),
    })
}

/// The statements of the statistics: reports by status (with their confidence), reports
/// since `window.recent_from` (one column, `value`), and reports by UTC day since the window's
/// first day. One patient's reports are few and counted directly; all of a doctor's come from
/// the running tallies.
pub fn stats_statements(
    dialect: Dialect,
    actor: &Actor,
    patient_id: Option<Uuid>,
    window: StatsWindow,
) -> [Statement; 3] {
    let doctor = actor.user_id;
    match patient_id {
        Some(patient) => {
            let groups = Statement::new(
                "SELECT status, COUNT(*) AS reports, COALESCE(SUM(confidence), 0.0) AS confidence_sum, \
                 COUNT(confidence) AS rated FROM reports WHERE doctor_id = $1 AND patient_id = $2 \
                 GROUP BY status",
            )
            .arg(doctor)
            .arg(patient);
            let recent = Statement::new(
                "SELECT COUNT(*) AS value FROM reports \
                 WHERE doctor_id = $1 AND patient_id = $2 AND created_at >= $3",
            )
            .arg(doctor)
            .arg(patient)
            .arg(window.recent_from);
            let daily = Statement::new(format!(
                "SELECT {} AS day, COUNT(*) AS reports FROM reports \
                 WHERE doctor_id = $1 AND patient_id = $2 AND created_at >= $3 GROUP BY day",
                dialect.utc_day("created_at")
            ))
            .arg(doctor)
            .arg(patient)
            .arg(window.first_instant());
            [groups, recent, daily]
        }
        None => {
            let (recent_day, recent_day_end) = window.recent_partial_day();
            let groups = Statement::new(
                "SELECT status, CAST(SUM(reports) AS BIGINT) AS reports, \
                 SUM(confidence_sum) AS confidence_sum, \
                 CAST(SUM(confidence_count) AS BIGINT) AS rated \
                 FROM report_tallies WHERE doctor_id = $1 GROUP BY status",
            )
            .arg(doctor);
            // Days after the one `recent_from` falls in count whole from the tallies; that
            // day's reports one by one.
            let recent = Statement::new(
                "SELECT CAST((SELECT COALESCE(SUM(reports), 0) FROM report_tallies \
                 WHERE doctor_id = $1 AND day > $2) AS BIGINT) \
                 + (SELECT COUNT(*) FROM reports \
                 WHERE doctor_id = $1 AND created_at >= $3 AND created_at < $4) AS value",
            )
            .arg(doctor)
            .arg(recent_day)
            .arg(window.recent_from)
            .arg(recent_day_end);
            let daily = Statement::new(
                "SELECT day, CAST(SUM(reports) AS BIGINT) AS reports FROM report_tallies \
                 WHERE doctor_id = $1 AND day >= $2 GROUP BY day",
            )
            .arg(doctor)
            .arg(window.first_day);
            [groups, recent, daily]
        }
    }
}

fn status_tally(row: &dyn Row) -> StoreResult<StatusTally> {
    Ok(StatusTally {
        status: sql::parsed(row, "status", ReportStatus::parse)?,
        reports: sql::count(row, "reports")?,
        confidence_sum: sql::real(row, "confidence_sum")?,
        rated: sql::count(row, "rated")?,
    })
}

pub async fn stats(
    engine: &impl Engine,
    actor: &Actor,
    patient_id: Option<Uuid>,
    days: u32,
) -> StoreResult<ReportStats> {
    // Statistics of one patient: only of the caller's own.
    let owned = patient_id.map(|patient_id| {
        Statement::new("SELECT 1 AS value FROM patients WHERE id = $1 AND doctor_id = $2")
            .arg(patient_id)
            .arg(actor.user_id)
    });
    let window = StatsWindow::new(now(), days);
    let [groups, recent, daily] = stats_statements(engine.dialect(), actor, patient_id, window);
    let counted = engine
        .read(move |conn| {
            Box::pin(async move {
                if let Some(owned) = &owned
                    && conn.scalar(owned).await?.is_none()
                {
                    return Ok(None);
                }
                let tallies = conn.rows(&groups, status_tally).await?;
                let recent = conn.scalar(&recent).await?.unwrap_or(0);
                let per_day = conn
                    .rows(&daily, |row| {
                        Ok((sql::date(row, "day")?, sql::count(row, "reports")?))
                    })
                    .await?
                    .into_iter()
                    .collect::<HashMap<_, _>>();
                Ok(Some((tallies, recent, per_day)))
            })
        })
        .await?;
    let Some((tallies, recent, per_day)) = counted else {
        let patient_id = patient_id.unwrap_or_default();
        return Err(deny(engine, actor, "report.stats", ("patient", patient_id)).await);
    };
    audit_read(engine, actor, "report.stats", ("report", None), patient_id).await?;
    Ok(assemble_stats(
        &tallies,
        recent.max(0) as u64,
        &per_day,
        window,
    ))
}

pub async fn get(engine: &impl Engine, actor: &Actor, id: Uuid) -> StoreResult<Report> {
    let statements = ReportStatements::new(engine.dialect(), actor, id, false);
    let found = engine
        .read(move |conn| Box::pin(async move { statements.read(conn).await }))
        .await?;
    let Some(report) = found else {
        return Err(deny(engine, actor, "report.read", ("report", id)).await);
    };
    audit_read(
        engine,
        actor,
        "report.read",
        ("report", Some(id.to_string())),
        Some(report.summary.patient.id),
    )
    .await?;
    Ok(report)
}

/// Why a report in `status` cannot take a change allowed in the `allowed` states.
fn wrong_state(status: ReportStatus, allowed: &[ReportStatus]) -> StoreError {
    match status {
        ReportStatus::Signed => StoreError::conflict(
            code::REPORT_SIGNED,
            "This report is signed and can no longer change; add an addendum instead.",
        ),
        _ if allowed == [ReportStatus::Signed] => StoreError::conflict(
            code::INVALID_STATE,
            "Addenda can be added to signed reports only; edit or sign the draft instead.",
        ),
        _ if allowed.contains(&ReportStatus::Failed) => StoreError::conflict(
            code::INVALID_STATE,
            format!(
                "This report is {}; only a completed draft or a failed report can be edited; \
                 wait for generation to finish.",
                status.as_str()
            ),
        ),
        _ => StoreError::conflict(
            code::INVALID_STATE,
            format!(
                "This report is {}; only a completed draft can be signed{}.",
                status.as_str(),
                if status == ReportStatus::Failed {
                    "; write it by hand (edit it) first"
                } else {
                    ""
                }
            ),
        ),
    }
}

/// Runs `change` on a report of the caller in one of the `allowed` states, audited as `action`
/// and announced as a `kind` event with the report's status after the change.
async fn change_report<E: Engine>(
    engine: &E,
    actor: &Actor,
    id: Uuid,
    (action, kind): (&str, EventKind),
    allowed: &[ReportStatus],
    change: impl AsyncFnOnce(&mut E::Tx, &Report) -> StoreResult<()>,
) -> StoreResult<Report> {
    let mut tx = engine.write_tx().await?;
    let dialect = tx.dialect();
    let Some(current) = ReportStatements::new(dialect, actor, id, true)
        .read(&mut tx)
        .await?
    else {
        tx.rollback().await?;
        return Err(deny(engine, actor, action, ("report", id)).await);
    };
    let patient_id = current.summary.patient.id;
    if !allowed.contains(&current.summary.status) {
        tx.rollback().await?;
        let refusal = wrong_state(current.summary.status, allowed);
        return Err(refuse(engine, actor, action, ("report", id), patient_id, refusal).await);
    }
    if let Err(refusal) = change(&mut tx, &current).await {
        // A version read before someone else's save is refused like a wrong state; any other
        // error is the database's and is answered as it is.
        if !matches!(refusal, StoreError::Conflict { .. }) {
            return Err(refusal);
        }
        tx.rollback().await?;
        return Err(refuse(engine, actor, action, ("report", id), patient_id, refusal).await);
    }
    audit_actor(
        &mut tx,
        actor,
        action,
        ("report", Some(id.to_string())),
        Some(current.summary.patient.id),
        "success",
    )
    .await?;
    let changed = ReportStatements::new(dialect, actor, id, false)
        .read(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let summary = &changed.summary;
    events::record(
        &mut tx,
        &[NewEvent::report(
            kind,
            actor.user_id,
            (summary.patient.id, Some(summary.consultation.id)),
            id,
            summary.status,
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}

pub async fn edit(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    content: &ReportContent,
    version: u32,
) -> StoreResult<Report> {
    let content = cipher::seal_json(content)?;
    change_report(
        engine,
        actor,
        id,
        ("report.edit", EventKind::ReportUpdated),
        // A failed report is written by hand: the edit makes it a completed draft to sign.
        &[ReportStatus::Completed, ReportStatus::Failed],
        async |tx, current| {
            still_at(current.version, version, "make your change again")?;
            let update = Statement::new(
                "UPDATE reports SET status = 'completed', failure_reason = NULL, content = $2,
                 version = version + 1, updated_at = $3 WHERE id = $1",
            )
            .arg(id)
            .arg(content)
            .arg(now());
            tx.execute(&update).await?;
            Ok(())
        },
    )
    .await
}

/// `VERSION_CONFLICT` unless the report is still at the `version` the caller read; `then` says
/// what to do after reloading.
fn still_at(current: u32, read: u32, then: &str) -> StoreResult<()> {
    if current == read {
        return Ok(());
    }
    Err(StoreError::Conflict {
        code: code::VERSION_CONFLICT,
        message: format!(
            "Someone saved this report since you opened it (version {current} now, yours {read}); reload it and {then}."
        ),
        details: serde_json::json!({ "current_version": current }),
    })
}

/// Signs what the doctor read: the version is checked in the same transaction that signs, so
/// an edit in between can't slip under the signature.
pub async fn sign(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    version: u32,
) -> StoreResult<Report> {
    change_report(
        engine,
        actor,
        id,
        ("report.sign", EventKind::ReportSigned),
        &[ReportStatus::Completed],
        async |tx, current| {
            still_at(current.version, version, "read it again before signing")?;
            let update = Statement::new(
                "UPDATE reports SET status = 'signed', signed_at = $2, signed_by = $3, updated_at = $2
                 WHERE id = $1",
            )
            .arg(id)
            .arg(now())
            .arg(actor.user_id);
            tx.execute(&update).await?;
            Ok(())
        },
    )
    .await
}

pub async fn add_addendum(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    text: &str,
) -> StoreResult<Report> {
    change_report(
        engine,
        actor,
        id,
        ("report.addendum", EventKind::ReportUpdated),
        &[ReportStatus::Signed],
        async |tx, _| {
            let at = now();
            let insert = Statement::new(
                "INSERT INTO report_addenda (id, report_id, author_id, text, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .arg(Uuid::now_v7())
            .arg(id)
            .arg(actor.user_id)
            .arg(cipher::seal(text)?)
            .arg(at);
            tx.execute(&insert).await?;
            let touched = Statement::new("UPDATE reports SET updated_at = $2 WHERE id = $1")
                .arg(id)
                .arg(at);
            tx.execute(&touched).await?;
            Ok(())
        },
    )
    .await
}

/// The reports waiting for generation (or interrupted in it), oldest first.
pub async fn queued(engine: &impl Engine) -> StoreResult<Vec<Uuid>> {
    let select = Statement::new(
        "SELECT id FROM reports WHERE queued_at IS NOT NULL AND status IN ('pending', 'generating')
         ORDER BY queued_at",
    );
    let ids = engine
        .read(move |conn| {
            // An id that cannot be read is skipped rather than stopping the whole queue.
            Box::pin(async move {
                conn.rows(&select, |r| Ok(r.opt_uuid("id").ok().flatten()))
                    .await
            })
        })
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// Marks a queued report as generating and hands over its consultation's notes; `None` when
/// the report is no longer queued.
pub async fn claim_generation(
    engine: &impl Engine,
    report_id: Uuid,
) -> StoreResult<Option<GenerationJob>> {
    let mut tx = engine.write_tx().await?;
    let claim = Statement::new(
        "UPDATE reports SET status = 'generating', updated_at = $2
         WHERE id = $1 AND queued_at IS NOT NULL AND status IN ('pending', 'generating')
         RETURNING consultation_id, patient_id, doctor_id",
    )
    .arg(report_id)
    .arg(now());
    let Some((consultation_id, patient_id, doctor_id)) = tx
        .first(&claim, |r| {
            Ok((
                sql::uuid(r, "consultation_id")?,
                sql::uuid(r, "patient_id")?,
                sql::uuid(r, "doctor_id")?,
            ))
        })
        .await?
    else {
        return Ok(None);
    };
    let notes = Statement::new("SELECT notes, chief_complaint FROM consultations WHERE id = $1")
        .arg(consultation_id);
    let (notes, chief_complaint) = tx
        .first(&notes, |r| {
            Ok((
                sql::sealed_text(r, "notes")?,
                sql::sealed_opt_text(r, "chief_complaint")?,
            ))
        })
        .await?
        .ok_or(StoreError::NotFound)?;
    events::record(
        &mut tx,
        &[NewEvent::report(
            EventKind::ReportStatusChanged,
            doctor_id,
            (patient_id, Some(consultation_id)),
            report_id,
            ReportStatus::Generating,
        )],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(GenerationJob {
        report_id,
        notes,
        chief_complaint,
    }))
}

/// Stores a generation's outcome: the draft and its confidence, or why it failed; audited as
/// the worker's.
pub async fn finish_generation(
    engine: &impl Engine,
    report_id: Uuid,
    result: Result<(&ReportContent, f64, &str), &str>,
) -> StoreResult<()> {
    let at = now();
    let update = match result {
        Ok((content, confidence, generator)) => Statement::new(
            "UPDATE reports SET status = 'completed', content = $2, confidence = $3, generator = $4,
                 failure_reason = NULL, queued_at = NULL, updated_at = $5
             WHERE id = $1 AND status = 'generating'
             RETURNING patient_id, consultation_id, doctor_id",
        )
        .arg(report_id)
        .arg(cipher::seal_json(content)?)
        .arg(confidence)
        .arg(generator)
        .arg(at),
        Err(reason) => Statement::new(
            "UPDATE reports SET status = 'failed', failure_reason = $2, queued_at = NULL, updated_at = $3
             WHERE id = $1 AND status = 'generating'
             RETURNING patient_id, consultation_id, doctor_id",
        )
        .arg(report_id)
        .arg(reason)
        .arg(at),
    };
    let mut tx = engine.write_tx().await?;
    let finished = tx
        .first(&update, |r| {
            Ok((
                sql::uuid(r, "patient_id")?,
                sql::uuid(r, "consultation_id")?,
                sql::uuid(r, "doctor_id")?,
            ))
        })
        .await?;
    let patient_id = finished.map(|(patient_id, _, _)| patient_id);
    let worker = super::RequestContext {
        request_id: "reportgen".to_string(),
        client_request_id: None,
        ip: None,
    };
    insert_audit(
        &mut tx,
        &worker,
        &AuditEntry {
            user_id: None,
            action: "report.generate",
            resource_type: Some("report"),
            resource_id: Some(report_id.to_string()),
            patient_id,
            outcome: if result.is_ok() { "success" } else { "failure" },
        },
    )
    .await?;
    if let Some((patient_id, consultation_id, doctor_id)) = finished {
        let status = match result {
            Ok(_) => ReportStatus::Completed,
            Err(_) => ReportStatus::Failed,
        };
        events::record(
            &mut tx,
            &[NewEvent::report(
                EventKind::ReportStatusChanged,
                doctor_id,
                (patient_id, Some(consultation_id)),
                report_id,
                status,
            )],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
