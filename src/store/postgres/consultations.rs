//! Consultations on PostgreSQL: start (one in progress per patient), notes, stop (which queues
//! the report), cancel, and the history of a patient.
//!
//! Every change first locks the row it decides on: the patient for a start, the consultation for
//! notes, stop and cancel. Concurrent requests (from any instance) therefore run one after the
//! other and each sees what the previous one committed; the partial unique index
//! `consultations_one_active` stays the last word on "one in progress per patient".

use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::statement::Statement;
use super::{PgStore, audit_actor, audit_read, deny, rows};
use crate::model::consultation::*;
use crate::model::envelope::code;
use crate::model::report::ReportStatus;
use crate::model::time::now;
use crate::store::values::*;
use crate::store::*;

const COLUMNS: &str = "c.id, c.session_code, c.patient_id, c.doctor_id, c.session_type, c.status, \
     c.chief_complaint, c.notes, c.started_at, c.ended_at, r.id AS report_id, r.status AS report_status";
const FROM: &str = "FROM consultations c LEFT JOIN reports r ON r.consultation_id = c.id";

fn consultation(row: &PgRow, with_notes: bool) -> StoreResult<Consultation> {
    let started_at = rows::get(row, "started_at")?;
    let ended_at = rows::get(row, "ended_at")?;
    Ok(Consultation {
        id: rows::get(row, "id")?,
        session_code: rows::get(row, "session_code")?,
        patient_id: rows::get(row, "patient_id")?,
        doctor_id: rows::get(row, "doctor_id")?,
        session_type: rows::parsed(row, "session_type", SessionType::parse)?,
        status: rows::parsed(row, "status", ConsultationStatus::parse)?,
        chief_complaint: rows::get(row, "chief_complaint")?,
        notes: if with_notes {
            Some(rows::get(row, "notes")?)
        } else {
            None
        },
        started_at,
        ended_at,
        duration_minutes: duration_minutes(started_at, ended_at),
        report_id: rows::get(row, "report_id")?,
        report_status: rows::opt_parsed(row, "report_status", ReportStatus::parse)?,
    })
}

/// A consultation of the caller; `lock` also locks its row until the transaction ends.
async fn fetch_owned(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> StoreResult<Option<Consultation>> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE c.id = $1 AND c.doctor_id = $2{}",
        if lock { " FOR NO KEY UPDATE OF c" } else { "" }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(actor.user_id)
        .fetch_optional(conn)
        .await?
        .map(|r| consultation(&r, true))
        .transpose()
}

fn already_running(running: Uuid) -> StoreError {
    StoreError::Conflict {
        code: code::CONSULTATION_ACTIVE,
        message: "This patient already has a consultation in progress; resume it or stop it first."
            .into(),
        details: serde_json::json!({ "consultation_id": running }),
    }
}

pub(super) async fn start(
    store: &PgStore,
    actor: &Actor,
    start: &StartConsultation,
) -> StoreResult<Consultation> {
    let at = now();
    let mut tx = store.write_tx().await?;
    // Locking the patient queues simultaneous starts for it: the first inserts, the next ones
    // then see its consultation running.
    let owned: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM patients WHERE id = $1 AND doctor_id = $2 FOR NO KEY UPDATE",
    )
    .bind(start.patient_id)
    .bind(actor.user_id)
    .fetch_optional(&mut *tx)
    .await?;
    if owned.is_none() {
        tx.rollback().await?;
        return Err(deny(
            store,
            actor,
            "consultation.start",
            ("patient", start.patient_id),
        )
        .await);
    }
    let running: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM consultations WHERE patient_id = $1 AND status = 'in_progress'",
    )
    .bind(start.patient_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(running) = running {
        return Err(already_running(running));
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO consultations (id, session_code, patient_id, doctor_id, session_type, status,
             chief_complaint, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, $7, $7)",
    )
    .bind(id)
    .bind(session_code(id, at))
    .bind(start.patient_id)
    .bind(actor.user_id)
    .bind(start.session_type.as_str())
    .bind(start.chief_complaint.as_deref())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE patients SET last_visit_at = $2 WHERE id = $1 AND last_visit_at < $2")
        .bind(start.patient_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    audit_actor(
        &mut tx,
        actor,
        "consultation.start",
        ("consultation", Some(id.to_string())),
        Some(start.patient_id),
        "success",
    )
    .await?;
    let created = fetch_owned(&mut tx, actor, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(created)
}

pub(super) async fn active(store: &PgStore, actor: &Actor) -> StoreResult<Vec<Consultation>> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE c.doctor_id = $1 AND c.status = 'in_progress'
         ORDER BY c.started_at DESC, c.id DESC"
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(actor.user_id)
        .fetch_all(&store.pool)
        .await?;
    let items = found
        .iter()
        .map(|r| consultation(r, true))
        .collect::<StoreResult<Vec<_>>>()?;
    audit_read(
        store,
        actor,
        "consultation.active",
        ("consultation", None),
        None,
    )
    .await?;
    Ok(items)
}

pub(super) async fn get(store: &PgStore, actor: &Actor, id: Uuid) -> StoreResult<Consultation> {
    let mut conn = store.pool.acquire().await?;
    let Some(found) = fetch_owned(&mut conn, actor, id, false).await? else {
        drop(conn);
        return Err(deny(store, actor, "consultation.read", ("consultation", id)).await);
    };
    audit_actor(
        &mut conn,
        actor,
        "consultation.read",
        ("consultation", Some(id.to_string())),
        Some(found.patient_id),
        "success",
    )
    .await?;
    Ok(found)
}

/// Runs `change` on a consultation of the caller that is still in progress, audited as `action`.
async fn change_running(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    action: &str,
    change: impl AsyncFnOnce(&mut PgConnection, &Consultation) -> StoreResult<()>,
) -> StoreResult<Consultation> {
    let mut tx = store.write_tx().await?;
    let Some(current) = fetch_owned(&mut tx, actor, id, true).await? else {
        tx.rollback().await?;
        return Err(deny(store, actor, action, ("consultation", id)).await);
    };
    if current.status != ConsultationStatus::InProgress {
        return Err(StoreError::conflict(
            code::INVALID_STATE,
            format!(
                "This consultation is already {}; only a consultation in progress can change.",
                current.status.as_str().replace('_', " ")
            ),
        ));
    }
    change(&mut tx, &current).await?;
    audit_actor(
        &mut tx,
        actor,
        action,
        ("consultation", Some(id.to_string())),
        Some(current.patient_id),
        "success",
    )
    .await?;
    let changed = fetch_owned(&mut tx, actor, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(changed)
}

pub(super) async fn update_notes(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    notes: &str,
) -> StoreResult<Consultation> {
    change_running(store, actor, id, "consultation.notes", async |conn, _| {
        sqlx::query("UPDATE consultations SET notes = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(notes)
            .bind(now())
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

pub(super) async fn stop(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    notes: Option<&str>,
) -> StoreResult<Consultation> {
    change_running(
        store,
        actor,
        id,
        "consultation.stop",
        async |conn, current| {
            let at = now();
            sqlx::query(
                "UPDATE consultations SET status = 'completed', ended_at = $2, updated_at = $2,
                     notes = COALESCE($3, notes)
                 WHERE id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(notes)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO reports (id, consultation_id, patient_id, doctor_id, session_type, status,
                     report_type, queued_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', 'consultation', $6, $6, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(current.patient_id)
            .bind(actor.user_id)
            .bind(current.session_type.as_str())
            .bind(at)
            .execute(&mut *conn)
            .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn cancel(
    store: &PgStore,
    actor: &Actor,
    id: Uuid,
    reason: &str,
) -> StoreResult<Consultation> {
    change_running(store, actor, id, "consultation.cancel", async |conn, _| {
        sqlx::query(
            "UPDATE consultations SET status = 'cancelled', ended_at = $2, updated_at = $2,
                 cancel_reason = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(now())
        .bind(reason)
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

/// The statements of a history page: the page and the count of the patient's consultations.
pub fn history_statements(
    actor: &Actor,
    patient_id: Uuid,
    limit: u32,
    offset: u64,
) -> (Statement, Statement) {
    let mut select = Statement::new(format!("SELECT {COLUMNS} {FROM} WHERE c.patient_id = "));
    select
        .bind(patient_id)
        .push(" AND c.doctor_id = ")
        .bind(actor.user_id)
        .push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .bind(i64::from(limit))
        .push(" OFFSET ")
        .bind(offset as i64);
    let mut count =
        Statement::new("SELECT COUNT(*) AS total FROM consultations c WHERE c.patient_id = ");
    count
        .bind(patient_id)
        .push(" AND c.doctor_id = ")
        .bind(actor.user_id);
    (select, count)
}

pub(super) async fn history(
    store: &PgStore,
    actor: &Actor,
    patient_id: Uuid,
    limit: u32,
    offset: u64,
) -> StoreResult<ConsultationHistory> {
    let patient_name: Option<String> =
        sqlx::query_scalar("SELECT full_name FROM patients WHERE id = $1 AND doctor_id = $2")
            .bind(patient_id)
            .bind(actor.user_id)
            .fetch_optional(&store.pool)
            .await?;
    let Some(patient_name) = patient_name else {
        return Err(deny(
            store,
            actor,
            "consultation.history",
            ("patient", patient_id),
        )
        .await);
    };
    let (select, count) = history_statements(actor, patient_id, limit, offset);
    let found = select.query().fetch_all(&store.pool).await?;
    let total: i64 = rows::get(&count.query().fetch_one(&store.pool).await?, "total")?;
    let items = found
        .iter()
        .map(|r| consultation(r, false))
        .collect::<StoreResult<Vec<_>>>()?;
    audit_read(
        store,
        actor,
        "consultation.history",
        ("patient", Some(patient_id.to_string())),
        Some(patient_id),
    )
    .await?;
    Ok(ConsultationHistory {
        patient_id,
        patient_name,
        pagination: offset_pagination(total, limit, offset, items.len()),
        items,
    })
}
