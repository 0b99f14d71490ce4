//! Reports on PostgreSQL: the filtered list, statistics, review (edit with a version), signature,
//! addenda, and the generation queue the reportgen worker drains.
//!
//! Edits, signatures and addenda lock the report row first, so of two edits of one version
//! (from any instance) the second waits, then sees the new version and gets the conflict.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use uuid::Uuid;

use super::paging::{KeyKind, Keyset};
use super::statement::Statement;
use super::{PgStore, audit_actor, audit_read, deny, insert_audit, millis, rows};
use crate::model::consultation::SessionType;
use crate::model::envelope::code;
use crate::model::patient::Sex;
use crate::model::report::*;
use crate::model::time::{age_on, now};
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
    kind: KeyKind::Time { never: false },
};

fn summary(row: &PgRow, today: NaiveDate) -> StoreResult<ReportSummary> {
    let started_at = rows::get(row, "started_at")?;
    Ok(ReportSummary {
        id: rows::get(row, "id")?,
        status: rows::parsed(row, "status", ReportStatus::parse)?,
        report_type: rows::get(row, "report_type")?,
        confidence: rows::get(row, "confidence")?,
        created_at: rows::get(row, "created_at")?,
        updated_at: rows::get(row, "updated_at")?,
        signed_at: rows::get(row, "signed_at")?,
        patient: ReportPatient {
            id: rows::get(row, "patient_id")?,
            mrn: rows::get(row, "mrn")?,
            full_name: rows::get(row, "full_name")?,
            age: age_on(rows::get(row, "date_of_birth")?, today),
            sex: rows::parsed(row, "sex", Sex::parse)?,
        },
        consultation: ReportConsultation {
            id: rows::get(row, "consultation_id")?,
            session_code: rows::get(row, "session_code")?,
            session_type: rows::parsed(row, "session_type", SessionType::parse)?,
            chief_complaint: rows::get(row, "chief_complaint")?,
            started_at,
            duration_minutes: duration_minutes(started_at, rows::get(row, "ended_at")?),
        },
    })
}

/// A report of the caller with its addenda; `lock` also locks the report row until the
/// transaction ends.
async fn fetch_owned(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> StoreResult<Option<Report>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, {DETAIL_COLUMNS} {FROM} LEFT JOIN users su ON su.id = r.signed_by
         WHERE r.id = $1 AND r.doctor_id = $2{}",
        if lock { " FOR NO KEY UPDATE OF r" } else { "" }
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(actor.user_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let addenda_rows = sqlx::query(
        "SELECT a.id, a.text, a.created_at, a.author_id, u.full_name
         FROM report_addenda a JOIN users u ON u.id = a.author_id
         WHERE a.report_id = $1 ORDER BY a.created_at, a.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let addenda = addenda_rows
        .iter()
        .map(|a| {
            Ok(Addendum {
                id: rows::get(a, "id")?,
                text: rows::get(a, "text")?,
                author: PersonRef {
                    id: rows::get(a, "author_id")?,
                    full_name: rows::get(a, "full_name")?,
                },
                created_at: rows::get(a, "created_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let signed_by = match (
        rows::get::<Option<Uuid>>(&row, "signed_by")?,
        rows::get::<Option<String>>(&row, "signed_by_name")?,
    ) {
        (Some(id), Some(full_name)) => Some(PersonRef { id, full_name }),
        _ => None,
    };
    Ok(Some(Report {
        summary: summary(&row, today())?,
        version: rows::get::<i32>(&row, "version")?.max(0) as u32,
        content: rows::json(&row, "content")?,
        generator: rows::get(&row, "generator")?,
        signed_by,
        addenda,
        failure_reason: rows::get(&row, "failure_reason")?,
    }))
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

/// The statements of a report list: the page, which also selects the total (`total`, a
/// subquery run once) to save a round trip, and the total alone, for a page without rows.
pub fn list_statements(
    actor: &Actor,
    query: &ReportListQuery,
) -> StoreResult<(Statement, Statement)> {
    let (cursor, offset) = KEYSET.start(&query.start)?;
    let push_total = |sql: &mut Statement| {
        // By status at most (the browser's usual views): from the running tallies.
        if counted_by_tallies(&query.filter) {
            sql.push(
                "SELECT COALESCE(SUM(reports), 0)::bigint AS total FROM report_tallies WHERE doctor_id = ",
            );
            sql.bind(actor.user_id);
            if let Some(status) = query.filter.status {
                sql.push(" AND status = ").bind(status.as_str());
            }
        } else {
            sql.push("SELECT COUNT(*) AS total FROM reports r");
            push_filters(sql, actor, &query.filter);
        }
    };
    let mut count = Statement::new("");
    push_total(&mut count);

    let mut select = Statement::new(format!("SELECT {SUMMARY_COLUMNS}, ("));
    push_total(&mut select);
    select.push(&format!(") AS total {FROM}"));
    push_filters(&mut select, actor, &query.filter);
    if let Some(cursor) = &cursor {
        KEYSET.push_after(&mut select, cursor)?;
    }
    KEYSET.push_order_and_limit(&mut select, query.limit, cursor.as_ref(), offset);
    Ok((select, count))
}

pub(super) async fn list(
    store: &PgStore,
    actor: &Actor,
    query: &ReportListQuery,
) -> StoreResult<ReportPage> {
    let (_, offset) = KEYSET.start(&query.start)?;
    let (select, count) = list_statements(actor, query)?;
    let mut found = select.query().fetch_all(&store.pool).await?;
    let total: i64 = match found.first() {
        Some(row) => rows::get(row, "total")?,
        None => rows::get(&count.query().fetch_one(&store.pool).await?, "total")?,
    };
    let (has_more, next_cursor) = KEYSET.finish(&mut found, query.limit, offset)?;

    let today = today();
    let items = found
        .iter()
        .map(|r| summary(r, today))
        .collect::<StoreResult<Vec<_>>>()?;
    audit_read(
        store,
        actor,
        "report.list",
        ("report", None),
        query.filter.patient_id,
    )
    .await?;
    let mut pagination = offset_pagination(total, query.limit, offset, items.len());
    pagination.has_more = has_more;
    pagination.next_cursor = next_cursor;
    Ok(ReportPage {
        items,
        pagination,
        filters_applied: query.filter.clone(),
    })
}

/// The statements of the statistics as of `at`: reports by status (with their confidence),
/// reports since `recent_from`, and reports by UTC day since the window's first day. One
/// patient's reports are counted directly; all of a doctor's come from the running tallies.
pub fn stats_statements(
    actor: &Actor,
    patient_id: Option<Uuid>,
    window: StatsWindow,
) -> [Statement; 3] {
    let doctor = actor.user_id;
    match patient_id {
        Some(patient) => {
            let mut groups = Statement::new(
                "SELECT status, COUNT(*) AS reports, COALESCE(SUM(confidence), 0) AS confidence_sum, \
                 COUNT(confidence) AS rated FROM reports WHERE doctor_id = ",
            );
            groups
                .bind(doctor)
                .push(" AND patient_id = ")
                .bind(patient)
                .push(" GROUP BY status");
            let mut recent =
                Statement::new("SELECT COUNT(*) AS total FROM reports WHERE doctor_id = ");
            recent
                .bind(doctor)
                .push(" AND patient_id = ")
                .bind(patient)
                .push(" AND created_at >= ")
                .bind(window.recent_from);
            let mut daily = Statement::new(
                "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, COUNT(*) AS total \
                 FROM reports WHERE doctor_id = ",
            );
            daily
                .bind(doctor)
                .push(" AND patient_id = ")
                .bind(patient)
                .push(" AND created_at >= ")
                .bind(window.first_instant())
                .push(" GROUP BY day");
            [groups, recent, daily]
        }
        None => {
            let (recent_day, recent_day_end) = window.recent_partial_day();
            let mut groups = Statement::new(
                "SELECT status, SUM(reports)::bigint AS reports, SUM(confidence_sum) AS confidence_sum, \
                 SUM(confidence_count)::bigint AS rated FROM report_tallies WHERE doctor_id = ",
            );
            groups.bind(doctor).push(" GROUP BY status");
            let mut recent = Statement::new(
                "SELECT (SELECT COALESCE(SUM(reports), 0) FROM report_tallies WHERE doctor_id = ",
            );
            recent
                .bind(doctor)
                .push(" AND day > ")
                .bind(recent_day)
                .push(")::bigint + (SELECT COUNT(*) FROM reports WHERE doctor_id = ")
                .bind(doctor)
                .push(" AND created_at >= ")
                .bind(window.recent_from)
                .push(" AND created_at < ")
                .bind(recent_day_end)
                .push(") AS total");
            let mut daily = Statement::new(
                "SELECT day, SUM(reports)::bigint AS total FROM report_tallies WHERE doctor_id = ",
            );
            daily
                .bind(doctor)
                .push(" AND day >= ")
                .bind(window.first_day)
                .push(" GROUP BY day");
            [groups, recent, daily]
        }
    }
}

pub(super) async fn stats(
    store: &PgStore,
    actor: &Actor,
    patient_id: Option<Uuid>,
    days: u32,
) -> StoreResult<ReportStats> {
    if let Some(patient_id) = patient_id {
        let owned: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM patients WHERE id = $1 AND doctor_id = $2")
                .bind(patient_id)
                .bind(actor.user_id)
                .fetch_optional(&store.pool)
                .await?;
        if owned.is_none() {
            return Err(deny(store, actor, "report.stats", ("patient", patient_id)).await);
        }
    }
    let window = StatsWindow::new(now(), days);
    let [groups_sql, recent_sql, daily_sql] = stats_statements(actor, patient_id, window);
    let mut conn = store.pool.acquire().await?;
    let tallies = groups_sql
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|group| {
            Ok(StatusTally {
                status: rows::parsed(group, "status", ReportStatus::parse)?,
                reports: rows::count(group, "reports")?,
                confidence_sum: rows::get(group, "confidence_sum")?,
                rated: rows::count(group, "rated")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let recent = rows::count(&recent_sql.query().fetch_one(&mut *conn).await?, "total")?;
    let per_day: HashMap<NaiveDate, u64> = daily_sql
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((rows::get(row, "day")?, rows::count(row, "total")?)))
        .collect::<StoreResult<_>>()?;
    drop(conn);

    audit_read(store, actor, "report.stats", ("report", None), patient_id).await?;
    Ok(assemble_stats(&tallies, recent, &per_day, window))
}

pub(super) async fn get(store: &PgStore, actor: &Actor, id: Uuid) -> StoreResult<Report> {
    let mut conn = store.pool.acquire().await?;
    let Some(report) = fetch_owned(&mut conn, actor, id, false).await? else {
        drop(conn);
        return Err(deny(store, actor, "report.read", ("report", id)).await);
    };
    audit_actor(
        &mut conn,
        actor,
        "report.read",
        ("report", Some(id.to_string())),
        Some(report.summary.patient.id),
        "success",
    )
    .await?;
    Ok(report)
}

/// Runs `change` on a report of the caller in the `allowed` state, audited as `action`.
async fn change_report(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    action: &str,
    allowed: ReportStatus,
    change: impl AsyncFnOnce(&mut PgConnection, &Report) -> StoreResult<()>,
) -> StoreResult<Report> {
    let mut tx = store.write_tx().await?;
    let Some(current) = fetch_owned(&mut tx, actor, id, true).await? else {
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
    let changed = fetch_owned(&mut tx, actor, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(changed)
}

pub(super) async fn edit(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    content: &ReportContent,
    version: u32,
) -> StoreResult<Report> {
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
            .bind(id)
            .bind(Json(content))
            .bind(now())
            .execute(conn)
            .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn sign(store: &PgStore, actor: &Actor, id: Uuid) -> StoreResult<Report> {
    change_report(
        store,
        actor,
        id,
        "report.sign",
        ReportStatus::Completed,
        async |conn, _| {
            sqlx::query(
                "UPDATE reports SET status = 'signed', signed_at = $2, signed_by = $3, updated_at = $2
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now())
            .bind(actor.user_id)
            .execute(conn)
            .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn add_addendum(
    store: &PgStore,
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
            let at = now();
            sqlx::query(
                "INSERT INTO report_addenda (id, report_id, author_id, text, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(actor.user_id)
            .bind(text)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE reports SET updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn queued(store: &PgStore) -> StoreResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM reports WHERE queued_at IS NOT NULL AND status IN ('pending', 'generating')
         ORDER BY queued_at",
    )
    .fetch_all(&store.pool)
    .await?)
}

pub(super) async fn claim_generation(
    store: &PgStore,
    report_id: Uuid,
) -> StoreResult<Option<GenerationJob>> {
    let mut tx = store.write_tx().await?;
    let consultation_id: Option<Uuid> = sqlx::query_scalar(
        "UPDATE reports SET status = 'generating', updated_at = $2
         WHERE id = $1 AND queued_at IS NOT NULL AND status IN ('pending', 'generating')
         RETURNING consultation_id",
    )
    .bind(report_id)
    .bind(now())
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
    store: &PgStore,
    report_id: Uuid,
    result: Result<(&ReportContent, f64, &str), &str>,
) -> StoreResult<()> {
    let at = now();
    let mut tx = store.write_tx().await?;
    let update = match result {
        Ok((content, confidence, generator)) => sqlx::query_scalar(
            "UPDATE reports SET status = 'completed', content = $2, confidence = $3, generator = $4,
                 failure_reason = NULL, queued_at = NULL, updated_at = $5
             WHERE id = $1 AND status = 'generating' RETURNING patient_id",
        )
        .bind(report_id)
        .bind(Json(content))
        .bind(confidence)
        .bind(generator)
        .bind(at),
        Err(reason) => sqlx::query_scalar(
            "UPDATE reports SET status = 'failed', failure_reason = $2, queued_at = NULL, updated_at = $3
             WHERE id = $1 AND status = 'generating' RETURNING patient_id",
        )
        .bind(report_id)
        .bind(reason)
        .bind(at),
    };
    let patient_id: Option<Uuid> = update.fetch_optional(&mut *tx).await?;
    insert_audit(
        &mut tx,
        "reportgen",
        None,
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
    tx.commit().await?;
    Ok(())
}
