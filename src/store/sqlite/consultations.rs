//! Consultations on SQLite: start (one in progress per patient), notes, stop (which queues the
//! report), cancel, and the history of a patient.

use sqlx::SqliteConnection;
use uuid::Uuid;

use super::rows::Columns;
use super::statement::Statement;
use super::{SqliteStore, audit_actor, deny, rows};
use crate::model::consultation::*;
use crate::model::envelope::code;
use crate::model::report::ReportStatus;
use crate::model::time::{format_timestamp, now};
use crate::store::values::*;
use crate::store::*;

const COLUMNS: &str = "c.id, c.session_code, c.patient_id, c.doctor_id, c.session_type, c.status, \
     c.chief_complaint, c.notes, c.started_at, c.ended_at, r.id AS report_id, r.status AS report_status";
const FROM: &str = "FROM consultations c LEFT JOIN reports r ON r.consultation_id = c.id";

fn consultation(row: &(impl Columns + ?Sized), with_notes: bool) -> StoreResult<Consultation> {
    let started_at = rows::time(row, "started_at")?;
    let ended_at = rows::opt_time(row, "ended_at")?;
    Ok(Consultation {
        id: rows::uuid(row, "id")?,
        session_code: rows::text(row, "session_code")?,
        patient_id: rows::uuid(row, "patient_id")?,
        doctor_id: rows::uuid(row, "doctor_id")?,
        session_type: rows::parsed(row, "session_type", SessionType::parse)?,
        status: rows::parsed(row, "status", ConsultationStatus::parse)?,
        chief_complaint: rows::opt_text(row, "chief_complaint")?,
        notes: if with_notes {
            Some(rows::text(row, "notes")?)
        } else {
            None
        },
        started_at,
        ended_at,
        duration_minutes: duration_minutes(started_at, ended_at),
        report_id: rows::opt_uuid(row, "report_id")?,
        report_status: rows::opt_text(row, "report_status")?
            .map(|s| {
                ReportStatus::parse(&s).ok_or_else(|| StoreError::Corrupt("report status".into()))
            })
            .transpose()?,
    })
}

/// The caller's consultation `id`, with its notes.
fn owned_statement(actor: &Actor, id: Uuid) -> Statement {
    let mut select = Statement::new(format!("SELECT {COLUMNS} {FROM} WHERE c.id = "));
    select
        .push_bind(id.to_string())
        .push(" AND c.doctor_id = ")
        .push_bind(actor.user_id.to_string());
    select
}

/// The consultation as a write transaction sees it.
async fn fetch_owned(
    conn: &mut SqliteConnection,
    actor: &Actor,
    id: Uuid,
) -> StoreResult<Option<Consultation>> {
    owned_statement(actor, id)
        .first_in(conn, |r| consultation(r, true))
        .await
}

pub(super) async fn start(
    store: &SqliteStore,
    actor: &Actor,
    start: &StartConsultation,
) -> StoreResult<Consultation> {
    let at = now();
    let stamp = format_timestamp(at);
    let mut tx = store.write_tx().await?;
    let owned: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM patients WHERE id = $1 AND doctor_id = $2")
            .bind(start.patient_id.to_string())
            .bind(actor.user_id.to_string())
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
    let running: Option<String> = sqlx::query_scalar(
        "SELECT id FROM consultations WHERE patient_id = $1 AND status = 'in_progress'",
    )
    .bind(start.patient_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(running) = running {
        return Err(StoreError::Conflict {
            code: code::CONSULTATION_ACTIVE,
            message:
                "This patient already has a consultation in progress; resume it or stop it first."
                    .into(),
            details: serde_json::json!({ "consultation_id": running }),
        });
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO consultations (id, session_code, patient_id, doctor_id, session_type, status,
             chief_complaint, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, $7, $7)",
    )
    .bind(id.to_string())
    .bind(session_code(id, at))
    .bind(start.patient_id.to_string())
    .bind(actor.user_id.to_string())
    .bind(start.session_type.as_str())
    .bind(start.chief_complaint.as_deref())
    .bind(&stamp)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE patients SET last_visit_at = $2 WHERE id = $1 AND last_visit_at < $2")
        .bind(start.patient_id.to_string())
        .bind(&stamp)
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
    let created = fetch_owned(&mut tx, actor, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(created)
}

pub(super) async fn active(store: &SqliteStore, actor: &Actor) -> StoreResult<Vec<Consultation>> {
    let mut select = Statement::new(format!("SELECT {COLUMNS} {FROM} WHERE c.doctor_id = "));
    select
        .push_bind(actor.user_id.to_string())
        .push(" AND c.status = 'in_progress' ORDER BY c.started_at DESC, c.id DESC");
    let items = store
        .readers
        .read(move |conn| select.rows(conn, |r| consultation(r, true)))
        .await?;
    store
        .audit_read(
            actor,
            "consultation.active",
            ("consultation", None),
            None,
            "success",
        )
        .await?;
    Ok(items)
}

pub(super) async fn get(store: &SqliteStore, actor: &Actor, id: Uuid) -> StoreResult<Consultation> {
    let select = owned_statement(actor, id);
    let found = store
        .readers
        .read(move |conn| select.first(conn, |r| consultation(r, true)))
        .await?;
    let Some(found) = found else {
        return Err(deny(store, actor, "consultation.read", ("consultation", id)).await);
    };
    store
        .audit_read(
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
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    action: &str,
    change: impl AsyncFnOnce(&mut SqliteConnection, &Consultation) -> StoreResult<()>,
) -> StoreResult<Consultation> {
    let mut tx = store.write_tx().await?;
    let Some(current) = fetch_owned(&mut tx, actor, id).await? else {
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
    let changed = fetch_owned(&mut tx, actor, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(changed)
}

pub(super) async fn update_notes(
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    notes: &str,
) -> StoreResult<Consultation> {
    change_running(store, actor, id, "consultation.notes", async |conn, _| {
        sqlx::query("UPDATE consultations SET notes = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(notes)
            .bind(format_timestamp(now()))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

pub(super) async fn stop(
    store: &SqliteStore,
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
            let stamp = format_timestamp(now());
            sqlx::query(
                "UPDATE consultations SET status = 'completed', ended_at = $2, updated_at = $2,
                 notes = COALESCE($3, notes)
             WHERE id = $1",
            )
            .bind(id.to_string())
            .bind(&stamp)
            .bind(notes)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
            "INSERT INTO reports (id, consultation_id, patient_id, doctor_id, session_type, status,
                 report_type, queued_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 'consultation', $6, $6, $6)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(id.to_string())
        .bind(current.patient_id.to_string())
        .bind(actor.user_id.to_string())
        .bind(current.session_type.as_str())
        .bind(&stamp)
        .execute(&mut *conn)
        .await?;
            Ok(())
        },
    )
    .await
}

pub(super) async fn cancel(
    store: &SqliteStore,
    actor: &Actor,
    id: Uuid,
    reason: &str,
) -> StoreResult<Consultation> {
    change_running(store, actor, id, "consultation.cancel", async |conn, _| {
        let stamp = format_timestamp(now());
        sqlx::query(
            "UPDATE consultations SET status = 'cancelled', ended_at = $2, updated_at = $2,
                 cancel_reason = $3
             WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(&stamp)
        .bind(reason)
        .execute(conn)
        .await?;
        Ok(())
    })
    .await
}

pub(super) async fn history(
    store: &SqliteStore,
    actor: &Actor,
    patient_id: Uuid,
    limit: u32,
    offset: u64,
) -> StoreResult<ConsultationHistory> {
    let doctor = actor.user_id.to_string();
    let mut name = Statement::new("SELECT full_name FROM patients WHERE id = ");
    name.push_bind(patient_id.to_string())
        .push(" AND doctor_id = ")
        .push_bind(doctor.clone());
    let mut select = Statement::new(format!("SELECT {COLUMNS} {FROM} WHERE c.patient_id = "));
    select
        .push_bind(patient_id.to_string())
        .push(" AND c.doctor_id = ")
        .push_bind(doctor.clone())
        .push(" ORDER BY c.started_at DESC, c.id DESC LIMIT ")
        .push_bind(i64::from(limit))
        .push(" OFFSET ")
        .push_bind(offset as i64);
    let mut count = Statement::new("SELECT COUNT(*) FROM consultations WHERE patient_id = ");
    count
        .push_bind(patient_id.to_string())
        .push(" AND doctor_id = ")
        .push_bind(doctor);
    let found = store
        .readers
        .read(move |conn| {
            let Some(patient_name) = name.first(conn, |r| rows::text(r, "full_name"))? else {
                return Ok(None);
            };
            let items = select.rows(conn, |r| consultation(r, false))?;
            Ok(Some((patient_name, items, count.scalar(conn)?)))
        })
        .await?;
    let Some((patient_name, items, total)) = found else {
        return Err(deny(
            store,
            actor,
            "consultation.history",
            ("patient", patient_id),
        )
        .await);
    };
    store
        .audit_read(
            actor,
            "consultation.history",
            ("patient", Some(patient_id.to_string())),
            Some(patient_id),
            "success",
        )
        .await?;
    Ok(ConsultationHistory {
        patient_id,
        patient_name,
        pagination: offset_pagination(total, limit, offset, items.len()),
        items,
    })
}
