//! Reports on SQLite: the filtered list, statistics, review (edit with a version), signature,
//! addenda, and the generation queue the reportgen worker drains.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::Connection;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::paging::Keyset;
use super::rows::Columns;
use super::statement::Statement;
use super::{SqliteStore, audit_actor, deny, insert_audit, rows};
use crate::model::consultation::SessionType;
use crate::model::envelope::code;
use crate::model::patient::Sex;
use crate::model::report::*;
use crate::model::time::{age_on, format_timestamp, now};
use crate::store::values::*;
use crate::store::*;

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
};

fn summary(row: &(impl Columns + ?Sized), today: NaiveDate) -> StoreResult<ReportSummary> {
    let started_at = rows::time(row, "started_at")?;
    Ok(ReportSummary {
        id: rows::uuid(row, "id")?,
        status: rows::parsed(row, "status", ReportStatus::parse)?,
        report_type: rows::text(row, "report_type")?,
        confidence: rows::opt_real(row, "confidence")?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
        signed_at: rows::opt_time(row, "signed_at")?,
        patient: ReportPatient {
            id: rows::uuid(row, "patient_id")?,
            mrn: rows::text(row, "mrn")?,
            full_name: rows::text(row, "full_name")?,
            age: age_on(rows::date(row, "date_of_birth")?, today),
            sex: rows::parsed(row, "sex", Sex::parse)?,
        },
        consultation: ReportConsultation {
            id: rows::uuid(row, "consultation_id")?,
            session_code: rows::text(row, "session_code")?,
            session_type: rows::parsed(row, "session_type", SessionType::parse)?,
            chief_complaint: rows::opt_text(row, "chief_complaint")?,
            started_at,
            duration_minutes: duration_minutes(started_at, rows::opt_time(row, "ended_at")?),
        },
    })
}

/// The two statements that read a report of the caller: the report, and its addenda.
struct ReportStatements {
    report: Statement,
    addenda: Statement,
}

impl ReportStatements {
    fn new(actor: &Actor, id: Uuid) -> ReportStatements {
        let mut report = Statement::new(format!(
            "SELECT {SUMMARY_COLUMNS}, {DETAIL_COLUMNS} {FROM} LEFT JOIN users su ON su.id = r.signed_by
             WHERE r.id = "
        ));
        report
            .push_bind(id.to_string())
            .push(" AND r.doctor_id = ")
            .push_bind(actor.user_id.to_string());
        let mut addenda = Statement::new(
            "SELECT a.id, a.text, a.created_at, a.author_id, u.full_name
             FROM report_addenda a JOIN users u ON u.id = a.author_id
             WHERE a.report_id = ",
        );
        addenda
            .push_bind(id.to_string())
            .push(" ORDER BY a.created_at, a.id");
        ReportStatements { report, addenda }
    }

    /// The report on a read connection.
    fn read(&self, conn: &Connection) -> StoreResult<Option<Report>> {
        let today = today();
        let Some(report) = self.report.first(conn, |r| report(r, today))? else {
            return Ok(None);
        };
        let addenda = self.addenda.rows(conn, |a| addendum(a))?;
        Ok(Some(Report { addenda, ..report }))
    }

    /// The report as a write transaction sees it.
    async fn read_in(&self, conn: &mut SqliteConnection) -> StoreResult<Option<Report>> {
        let today = today();
        let Some(report) = self.report.first_in(conn, |r| report(r, today)).await? else {
            return Ok(None);
        };
        let addenda = self.addenda.rows_in(conn, addendum).await?;
        Ok(Some(Report { addenda, ..report }))
    }
}

/// A report row, without its addenda.
fn report(row: &(impl Columns + ?Sized), today: NaiveDate) -> StoreResult<Report> {
    let signed_by = match (
        rows::opt_uuid(row, "signed_by")?,
        rows::opt_text(row, "signed_by_name")?,
    ) {
        (Some(id), Some(full_name)) => Some(PersonRef { id, full_name }),
        _ => None,
    };
    Ok(Report {
        summary: summary(row, today)?,
        version: rows::int(row, "version")?.max(0) as u32,
        content: rows::json(row, "content")?,
        generator: rows::opt_text(row, "generator")?,
        signed_by,
        addenda: Vec::new(),
        failure_reason: rows::opt_text(row, "failure_reason")?,
    })
}

fn addendum(row: &(impl Columns + ?Sized)) -> StoreResult<Addendum> {
    Ok(Addendum {
        id: rows::uuid(row, "id")?,
        text: rows::text(row, "text")?,
        author: PersonRef {
            id: rows::uuid(row, "author_id")?,
            full_name: rows::text(row, "full_name")?,
        },
        created_at: rows::time(row, "created_at")?,
    })
}

fn push_filters(sql: &mut Statement, actor: &Actor, filter: &ReportFilter) {
    sql.push(" WHERE r.doctor_id = ")
        .push_bind(actor.user_id.to_string());
    if let Some(patient_id) = filter.patient_id {
        sql.push(" AND r.patient_id = ")
            .push_bind(patient_id.to_string());
    }
    if let Some(status) = filter.status {
        sql.push(" AND r.status = ")
            .push_bind(status.as_str().to_string());
    }
    if let Some(session_type) = filter.session_type {
        sql.push(" AND r.session_type = ")
            .push_bind(session_type.as_str().to_string());
    }
    if let Some(from) = filter.date_from {
        sql.push(" AND r.created_at >= ")
            .push_bind(format_timestamp(from));
    }
    if let Some(to) = filter.date_to {
        sql.push(" AND r.created_at < ")
            .push_bind(format_timestamp(to));
    }
}

/// Counts the reports a list filter matches: from the running tallies when the filter is by
/// status at most (the browser's usual views), else by counting the rows.
fn count_statement(actor: &Actor, filter: &ReportFilter) -> Statement {
    if counted_by_tallies(filter) {
        let mut count = Statement::new(
            "SELECT COALESCE(SUM(reports), 0) FROM report_tallies WHERE doctor_id = ",
        );
        count.push_bind(actor.user_id.to_string());
        if let Some(status) = filter.status {
            count
                .push(" AND status = ")
                .push_bind(status.as_str().to_string());
        }
        count
    } else {
        let mut count = Statement::new("SELECT COUNT(*) FROM reports r");
        push_filters(&mut count, actor, filter);
        count
    }
}

pub(super) async fn list(
    store: &SqliteStore,
    actor: &Actor,
    query: &ReportListQuery,
) -> StoreResult<ReportPage> {
    let (cursor, offset) = KEYSET.start(&query.start)?;
    let mut select = Statement::new(format!("SELECT {SUMMARY_COLUMNS} {FROM}"));
    push_filters(&mut select, actor, &query.filter);
    if let Some(cursor) = &cursor {
        KEYSET.push_after(&mut select, cursor);
    }
    KEYSET.push_order_and_limit(&mut select, query.limit, cursor.as_ref(), offset);
    let count = count_statement(actor, &query.filter);
    let limit = query.limit;
    let page = store
        .readers
        .read(move |conn| {
            let today = today();
            KEYSET.read_page(conn, &select, &count, limit, offset, |r| summary(r, today))
        })
        .await?;
    store
        .audit_read(
            actor,
            "report.list",
            ("report", None),
            query.filter.patient_id,
            "success",
        )
        .await?;
    Ok(ReportPage {
        items: page.items,
        pagination: page.pagination,
        filters_applied: query.filter.clone(),
    })
}

pub(super) async fn stats(
    store: &SqliteStore,
    actor: &Actor,
    patient_id: Option<Uuid>,
    days: u32,
) -> StoreResult<ReportStats> {
    // Statistics of one patient: only of the caller's own.
    let owned = patient_id.map(|patient_id| {
        let mut owned = Statement::new("SELECT 1 FROM patients WHERE id = ");
        owned
            .push_bind(patient_id.to_string())
            .push(" AND doctor_id = ")
            .push_bind(actor.user_id.to_string());
        owned
    });
    let window = StatsWindow::new(now(), days);
    let doctor = actor.user_id.to_string();
    let (recent_day, recent_day_end) = window.recent_partial_day();
    let (groups_sql, recent_sql, daily_sql) = match patient_id {
        // One patient's reports are few: counted directly.
        Some(patient_id) => {
            let patient = patient_id.to_string();
            let mut groups = Statement::new(
                "SELECT status, COUNT(*) AS reports, COALESCE(SUM(confidence), 0.0) AS confidence_sum, \
                 COUNT(confidence) AS rated FROM reports WHERE doctor_id = ",
            );
            groups
                .push_bind(doctor.clone())
                .push(" AND patient_id = ")
                .push_bind(patient.clone())
                .push(" GROUP BY status");
            let mut recent = Statement::new("SELECT COUNT(*) FROM reports WHERE doctor_id = ");
            recent
                .push_bind(doctor.clone())
                .push(" AND patient_id = ")
                .push_bind(patient.clone())
                .push(" AND created_at >= ")
                .push_bind(format_timestamp(window.recent_from));
            let mut daily = Statement::new(
                "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS reports FROM reports \
                 WHERE doctor_id = ",
            );
            daily
                .push_bind(doctor)
                .push(" AND patient_id = ")
                .push_bind(patient)
                .push(" AND created_at >= ")
                .push_bind(format_timestamp(window.first_instant()))
                .push(" GROUP BY day");
            (groups, recent, daily)
        }
        // All of the doctor's reports: read from the running tallies (see migration 0004).
        None => {
            let mut groups = Statement::new(
                "SELECT status, SUM(reports) AS reports, TOTAL(confidence_sum) AS confidence_sum, \
                 SUM(confidence_count) AS rated FROM report_tallies WHERE doctor_id = ",
            );
            groups.push_bind(doctor.clone()).push(" GROUP BY status");
            let mut recent = Statement::new(
                "SELECT (SELECT COALESCE(SUM(reports), 0) FROM report_tallies WHERE doctor_id = ",
            );
            recent
                .push_bind(doctor.clone())
                .push(" AND day > ")
                .push_bind(recent_day.to_string())
                .push(") + (SELECT COUNT(*) FROM reports WHERE doctor_id = ")
                .push_bind(doctor.clone())
                .push(" AND created_at >= ")
                .push_bind(format_timestamp(window.recent_from))
                .push(" AND created_at < ")
                .push_bind(format_timestamp(recent_day_end))
                .push(")");
            let mut daily = Statement::new(
                "SELECT day, SUM(reports) AS reports FROM report_tallies WHERE doctor_id = ",
            );
            daily
                .push_bind(doctor)
                .push(" AND day >= ")
                .push_bind(window.first_day.to_string())
                .push(" GROUP BY day");
            (groups, recent, daily)
        }
    };
    let counted = store
        .readers
        .read(move |conn| {
            if let Some(owned) = &owned
                && owned.first(conn, |_| Ok(()))?.is_none()
            {
                return Ok(None);
            }
            let tallies = groups_sql.rows(conn, |row| {
                Ok(StatusTally {
                    status: rows::parsed(row, "status", ReportStatus::parse)?,
                    reports: rows::int(row, "reports")?.max(0) as u64,
                    confidence_sum: rows::real(row, "confidence_sum")?,
                    rated: rows::int(row, "rated")?.max(0) as u64,
                })
            })?;
            let recent = recent_sql.scalar(conn)?;
            let per_day = daily_sql
                .rows(conn, |row| {
                    Ok((
                        rows::date(row, "day")?,
                        rows::int(row, "reports")?.max(0) as u64,
                    ))
                })?
                .into_iter()
                .collect::<HashMap<_, _>>();
            Ok(Some((tallies, recent, per_day)))
        })
        .await?;
    let Some((tallies, recent, per_day)) = counted else {
        let patient_id = patient_id.unwrap_or_default();
        return Err(deny(store, actor, "report.stats", ("patient", patient_id)).await);
    };

    store
        .audit_read(
            actor,
            "report.stats",
            ("report", None),
            patient_id,
            "success",
        )
        .await?;
    Ok(assemble_stats(
        &tallies,
        recent.max(0) as u64,
        &per_day,
        window,
    ))
}

pub(super) async fn get(store: &SqliteStore, actor: &Actor, id: Uuid) -> StoreResult<Report> {
    let statements = ReportStatements::new(actor, id);
    let found = store
        .readers
        .read(move |conn| statements.read(conn))
        .await?;
    let Some(report) = found else {
        return Err(deny(store, actor, "report.read", ("report", id)).await);
    };
    store
        .audit_read(
            actor,
            "report.read",
            ("report", Some(id.to_string())),
            Some(report.summary.patient.id),
            "success",
        )
        .await?;
    Ok(report)
}

/// Runs `change` on a report of the caller in one of the `allowed` states, audited as `action`.
async fn change_report(
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    action: &str,
    allowed: ReportStatus,
    change: impl AsyncFnOnce(&mut SqliteConnection, &Report) -> StoreResult<()>,
) -> StoreResult<Report> {
    let mut tx = store.write_tx().await?;
    let statements = ReportStatements::new(actor, id);
    let Some(current) = statements.read_in(&mut tx).await? else {
        tx.rollback().await?;
        return Err(deny(store, actor, action, ("report", id)).await);
    };
    let status = current.summary.status;
    if status != allowed {
        return Err(match (status, allowed) {
            (ReportStatus::Signed, _) => StoreError::conflict(
                code::REPORT_SIGNED,
                "This report is signed and can no longer change; add an addendum instead.",
            ),
            (_, ReportStatus::Signed) => StoreError::conflict(
                code::INVALID_STATE,
                "Addenda can be added to signed reports only; edit or sign the draft instead.",
            ),
            _ => StoreError::conflict(
                code::INVALID_STATE,
                format!(
                    "This report is {}; only a completed draft can be edited or signed.",
                    status.as_str()
                ),
            ),
        });
    }
    change(&mut tx, &current).await?;
    audit_actor(
        &mut tx,
        actor,
        action,
        ("report", Some(id.to_string())),
        Some(current.summary.patient.id),
        "success",
    )
    .await?;
    let changed = statements
        .read_in(&mut tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(changed)
}

pub(super) async fn edit(
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    content: &ReportContent,
    version: u32,
) -> StoreResult<Report> {
    let content = rows::to_json(content)?;
    change_report(
        store,
        actor,
        id,
        "report.edit",
        ReportStatus::Completed,
        async |conn, current| {
            if current.version != version {
                return Err(StoreError::Conflict {
                    code: code::VERSION_CONFLICT,
                    message: format!(
                        "Someone saved this report since you opened it (version {} now, yours {version}); reload it and make your change again.",
                        current.version
                    ),
                    details: serde_json::json!({ "current_version": current.version }),
                });
            }
            sqlx::query(
                "UPDATE reports SET content = $2, version = version + 1, updated_at = $3 WHERE id = $1",
            )
            .bind(id.to_string())
            .bind(content)
            .bind(format_timestamp(now()))
            .execute(conn)
            .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn sign(store: &SqliteStore, actor: &Actor, id: Uuid) -> StoreResult<Report> {
    change_report(
        store,
        actor,
        id,
        "report.sign",
        ReportStatus::Completed,
        async |conn, _| {
            let stamp = format_timestamp(now());
            sqlx::query(
                "UPDATE reports SET status = 'signed', signed_at = $2, signed_by = $3, updated_at = $2
                 WHERE id = $1",
            )
            .bind(id.to_string())
            .bind(stamp)
            .bind(actor.user_id.to_string())
            .execute(conn)
            .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn add_addendum(
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    text: &str,
) -> StoreResult<Report> {
    change_report(
        store,
        actor,
        id,
        "report.addendum",
        ReportStatus::Signed,
        async |conn, _| {
            let stamp = format_timestamp(now());
            sqlx::query(
                "INSERT INTO report_addenda (id, report_id, author_id, text, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(id.to_string())
            .bind(actor.user_id.to_string())
            .bind(text)
            .bind(&stamp)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE reports SET updated_at = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(&stamp)
                .execute(&mut *conn)
                .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn queued(store: &SqliteStore) -> StoreResult<Vec<Uuid>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM reports WHERE queued_at IS NOT NULL AND status IN ('pending', 'generating')
         ORDER BY queued_at",
    )
    .fetch_all(&store.pool)
    .await?;
    Ok(ids
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect())
}

pub(super) async fn claim_generation(
    store: &SqliteStore,
    report_id: Uuid,
) -> StoreResult<Option<GenerationJob>> {
    let mut tx = store.write_tx().await?;
    let consultation_id: Option<String> = sqlx::query_scalar(
        "UPDATE reports SET status = 'generating', updated_at = $2
         WHERE id = $1 AND queued_at IS NOT NULL AND status IN ('pending', 'generating')
         RETURNING consultation_id",
    )
    .bind(report_id.to_string())
    .bind(format_timestamp(now()))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(consultation_id) = consultation_id else {
        return Ok(None);
    };
    let (notes, chief_complaint): (String, Option<String>) =
        sqlx::query_as("SELECT notes, chief_complaint FROM consultations WHERE id = $1")
            .bind(consultation_id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(Some(GenerationJob {
        report_id,
        notes,
        chief_complaint,
    }))
}

pub(super) async fn finish_generation(
    store: &SqliteStore,
    report_id: Uuid,
    result: Result<(&ReportContent, f64, &str), &str>,
) -> StoreResult<()> {
    let stamp = format_timestamp(now());
    let mut tx = store.write_tx().await?;
    let update = match result {
        Ok((content, confidence, generator)) => sqlx::query_scalar(
            "UPDATE reports SET status = 'completed', content = $2, confidence = $3, generator = $4,
                 failure_reason = NULL, queued_at = NULL, updated_at = $5
             WHERE id = $1 AND status = 'generating' RETURNING patient_id",
        )
        .bind(report_id.to_string())
        .bind(rows::to_json(content)?)
        .bind(confidence)
        .bind(generator)
        .bind(&stamp),
        Err(reason) => sqlx::query_scalar(
            "UPDATE reports SET status = 'failed', failure_reason = $2, queued_at = NULL, updated_at = $3
             WHERE id = $1 AND status = 'generating' RETURNING patient_id",
        )
        .bind(report_id.to_string())
        .bind(reason)
        .bind(&stamp),
    };
    let patient_id: Option<String> = update.fetch_optional(&mut *tx).await?;
    insert_audit(
        &mut tx,
        "reportgen",
        None,
        &AuditEntry {
            user_id: None,
            action: "report.generate",
            resource_type: Some("report"),
            resource_id: Some(report_id.to_string()),
            patient_id: patient_id.and_then(|p| Uuid::parse_str(&p).ok()),
            outcome: if result.is_ok() { "success" } else { "failure" },
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
