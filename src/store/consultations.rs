//! Consultations, on either engine: start (one in progress per patient), notes, stop (which
//! queues the report), cancel, and the history of a patient.
//!
//! Every change first reads the row it decides on with the dialect's row lock: the patient for a
//! start, the consultation for notes, stop and cancel. On PostgreSQL concurrent requests (from
//! any instance) therefore run one after the other and each sees what the previous one
//! committed; SQLite has one writer at a time. The partial unique index
//! `consultations_one_active` stays the last word on "one in progress per patient".

use uuid::Uuid;

use super::cipher;
use super::engine::{Engine, audit_actor, audit_read, deny, refuse};
use super::events::{self, NewEvent};
use super::sql::{self, Conn, Row, Statement, WriteTx};
use super::values::{duration_minutes, offset_pagination, session_code};
use super::{Actor, StoreError, StoreResult};
use crate::model::consultation::{
    Consultation, ConsultationHistory, ConsultationStatus, SessionType, StartConsultation,
};
use crate::model::envelope::code;
use crate::model::event::EventKind;
use crate::model::report::ReportStatus;
use crate::model::time::now;

const COLUMNS: &str = "c.id, c.session_code, c.patient_id, c.doctor_id, c.session_type, c.status, \
     c.chief_complaint, c.notes, c.started_at, c.ended_at, r.id AS report_id, r.status AS report_status";
const FROM: &str = "FROM consultations c LEFT JOIN reports r ON r.consultation_id = c.id";

pub(super) fn consultation(row: &dyn Row, with_notes: bool) -> StoreResult<Consultation> {
    let started_at = sql::time(row, "started_at")?;
    let ended_at = sql::opt_time(row, "ended_at")?;
    Ok(Consultation {
        id: sql::uuid(row, "id")?,
        session_code: sql::text(row, "session_code")?,
        patient_id: sql::uuid(row, "patient_id")?,
        doctor_id: sql::uuid(row, "doctor_id")?,
        session_type: sql::parsed(row, "session_type", SessionType::parse)?,
        status: sql::parsed(row, "status", ConsultationStatus::parse)?,
        chief_complaint: sql::sealed_opt_text(row, "chief_complaint")?,
        notes: if with_notes {
            Some(sql::sealed_text(row, "notes")?)
        } else {
            None
        },
        started_at,
        ended_at,
        duration_minutes: duration_minutes(started_at, ended_at),
        report_id: sql::opt_uuid(row, "report_id")?,
        report_status: sql::opt_parsed(row, "report_status", ReportStatus::parse)?,
    })
}

/// The caller's consultation `id`, with its notes; `lock` also locks its row until the
/// transaction ends (on engines that lock rows).
fn owned_statement(conn: &impl Conn, actor: &Actor, id: Uuid, lock: bool) -> Statement {
    let mut select = Statement::new(format!("SELECT {COLUMNS} {FROM} WHERE c.id = "));
    select
        .bind(id)
        .push(" AND c.doctor_id = ")
        .bind(actor.user_id);
    if lock {
        select.push(conn.dialect().lock_rows_of("c"));
    }
    select
}

async fn fetch_owned(
    conn: &mut impl Conn,
    actor: &Actor,
    id: Uuid,
    lock: bool,
) -> StoreResult<Option<Consultation>> {
    let select = owned_statement(conn, actor, id, lock);
    conn.first(&select, |r| consultation(r, true)).await
}

fn already_running(running: Uuid) -> StoreError {
    StoreError::Conflict {
        code: code::CONSULTATION_ACTIVE,
        message: "This patient already has a consultation in progress; resume it or stop it first."
            .into(),
        details: serde_json::json!({ "consultation_id": running }),
    }
}

pub async fn start(
    engine: &impl Engine,
    actor: &Actor,
    start: &StartConsultation,
) -> StoreResult<Consultation> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    // Locking the patient queues simultaneous starts for it: the first inserts, the next ones
    // then see its consultation running.
    let owned = Statement::new(format!(
        "SELECT 1 AS value FROM patients WHERE id = $1 AND doctor_id = $2{}",
        tx.dialect().lock_rows()
    ))
    .arg(start.patient_id)
    .arg(actor.user_id);
    if tx.scalar(&owned).await?.is_none() {
        tx.rollback().await?;
        return Err(deny(
            engine,
            actor,
            "consultation.start",
            ("patient", start.patient_id),
        )
        .await);
    }
    let running = Statement::new(
        "SELECT id FROM consultations WHERE patient_id = $1 AND status = 'in_progress'",
    )
    .arg(start.patient_id);
    if let Some(running) = tx.first(&running, |r| sql::uuid(r, "id")).await? {
        tx.rollback().await?;
        let resource = ("patient", start.patient_id);
        let refusal = already_running(running);
        return Err(refuse(
            engine,
            actor,
            "consultation.start",
            resource,
            start.patient_id,
            refusal,
        )
        .await);
    }
    let id = Uuid::now_v7();
    let insert = Statement::new(
        "INSERT INTO consultations (id, session_code, patient_id, doctor_id, session_type, status,
             chief_complaint, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, $7, $7)",
    )
    .arg(id)
    .arg(session_code(id, at))
    .arg(start.patient_id)
    .arg(actor.user_id)
    .arg(start.session_type.as_str())
    .arg(cipher::seal_opt(start.chief_complaint.as_deref())?)
    .arg(at);
    tx.execute(&insert).await?;
    let visited = Statement::new(
        "UPDATE patients SET last_visit_at = $2 WHERE id = $1 AND last_visit_at < $2",
    )
    .arg(start.patient_id)
    .arg(at);
    tx.execute(&visited).await?;
    audit_actor(
        &mut tx,
        actor,
        "consultation.start",
        ("consultation", Some(id.to_string())),
        Some(start.patient_id),
        "success",
    )
    .await?;
    events::record(
        &mut tx,
        &[NewEvent::consultation(
            EventKind::ConsultationStarted,
            actor.user_id,
            start.patient_id,
            id,
        )],
    )
    .await?;
    let created = fetch_owned(&mut tx, actor, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(created)
}

pub async fn active(engine: &impl Engine, actor: &Actor) -> StoreResult<Vec<Consultation>> {
    let mut select = Statement::new(format!("SELECT {COLUMNS} {FROM} WHERE c.doctor_id = "));
    select
        .bind(actor.user_id)
        .push(" AND c.status = 'in_progress' ORDER BY c.started_at DESC, c.id DESC");
    let items = engine
        .read(move |conn| {
            Box::pin(async move { conn.rows(&select, |r| consultation(r, true)).await })
        })
        .await?;
    audit_read(
        engine,
        actor,
        "consultation.active",
        ("consultation", None),
        None,
    )
    .await?;
    Ok(items)
}

pub async fn get(engine: &impl Engine, actor: &Actor, id: Uuid) -> StoreResult<Consultation> {
    let actor_owned = actor.clone();
    let found = engine
        .read(move |conn| Box::pin(async move { fetch_owned(conn, &actor_owned, id, false).await }))
        .await?;
    let Some(found) = found else {
        return Err(deny(engine, actor, "consultation.read", ("consultation", id)).await);
    };
    audit_read(
        engine,
        actor,
        "consultation.read",
        ("consultation", Some(id.to_string())),
        Some(found.patient_id),
    )
    .await?;
    Ok(found)
}

/// Runs `change` on a consultation of the caller that is still in progress, audited as `action`
/// and announced as a `kind` event, followed by the further events `change` answers.
async fn change_running<E: Engine>(
    engine: &E,
    actor: &Actor,
    id: Uuid,
    (action, kind): (&str, EventKind),
    change: impl AsyncFnOnce(&mut E::Tx, &Consultation) -> StoreResult<Vec<NewEvent>>,
) -> StoreResult<Consultation> {
    let mut tx = engine.write_tx().await?;
    let Some(current) = fetch_owned(&mut tx, actor, id, true).await? else {
        tx.rollback().await?;
        return Err(deny(engine, actor, action, ("consultation", id)).await);
    };
    if current.status != ConsultationStatus::InProgress {
        tx.rollback().await?;
        let refusal = StoreError::conflict(
            code::INVALID_STATE,
            format!(
                "This consultation is already {}; only a consultation in progress can change.",
                current.status.as_str().replace('_', " ")
            ),
        );
        let resource = ("consultation", id);
        return Err(refuse(engine, actor, action, resource, current.patient_id, refusal).await);
    }
    let further = change(&mut tx, &current).await?;
    audit_actor(
        &mut tx,
        actor,
        action,
        ("consultation", Some(id.to_string())),
        Some(current.patient_id),
        "success",
    )
    .await?;
    let mut announced = vec![NewEvent::consultation(
        kind,
        actor.user_id,
        current.patient_id,
        id,
    )];
    announced.extend(further);
    events::record(&mut tx, &announced).await?;
    let changed = fetch_owned(&mut tx, actor, id, false)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(changed)
}

pub async fn update_notes(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    notes: &str,
) -> StoreResult<Consultation> {
    change_running(
        engine,
        actor,
        id,
        ("consultation.notes", EventKind::ConsultationNotesSaved),
        async |tx, _| {
            let update = Statement::new(
                "UPDATE consultations SET notes = $2, updated_at = $3 WHERE id = $1",
            )
            .arg(id)
            .arg(cipher::seal(notes)?)
            .arg(now());
            tx.execute(&update).await?;
            Ok(Vec::new())
        },
    )
    .await
}

pub async fn stop(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    notes: Option<&str>,
) -> StoreResult<Consultation> {
    change_running(
        engine,
        actor,
        id,
        ("consultation.stop", EventKind::ConsultationStopped),
        async |tx, current| {
            let at = now();
            let report_id = Uuid::now_v7();
            let update = Statement::new(
                "UPDATE consultations SET status = 'completed', ended_at = $2, updated_at = $2,
                 notes = COALESCE($3, notes)
             WHERE id = $1",
            )
            .arg(id)
            .arg(at)
            .arg(cipher::seal_opt(notes)?);
            tx.execute(&update).await?;
            let report = Statement::new(
            "INSERT INTO reports (id, consultation_id, patient_id, doctor_id, session_type, status,
                 report_type, queued_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 'consultation', $6, $6, $6)",
        )
        .arg(report_id)
        .arg(id)
        .arg(current.patient_id)
        .arg(actor.user_id)
        .arg(current.session_type.as_str())
        .arg(at);
            tx.execute(&report).await?;
            Ok(vec![NewEvent::report(
                EventKind::ReportCreated,
                actor.user_id,
                (current.patient_id, Some(id)),
                report_id,
                ReportStatus::Pending,
            )])
        },
    )
    .await
}

pub async fn cancel(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    reason: &str,
) -> StoreResult<Consultation> {
    change_running(
        engine,
        actor,
        id,
        ("consultation.cancel", EventKind::ConsultationCancelled),
        async |tx, _| {
            let update = Statement::new(
                "UPDATE consultations SET status = 'cancelled', ended_at = $2, updated_at = $2,
                 cancel_reason = $3
             WHERE id = $1",
            )
            .arg(id)
            .arg(now())
            .arg(reason);
            tx.execute(&update).await?;
            Ok(Vec::new())
        },
    )
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
        .bind(i64::try_from(offset).unwrap_or(i64::MAX));
    let mut count =
        Statement::new("SELECT COUNT(*) AS value FROM consultations c WHERE c.patient_id = ");
    count
        .bind(patient_id)
        .push(" AND c.doctor_id = ")
        .bind(actor.user_id);
    (select, count)
}

pub async fn history(
    engine: &impl Engine,
    actor: &Actor,
    patient_id: Uuid,
    limit: u32,
    offset: u64,
) -> StoreResult<ConsultationHistory> {
    let name = Statement::new("SELECT full_name FROM patients WHERE id = $1 AND doctor_id = $2")
        .arg(patient_id)
        .arg(actor.user_id);
    let (select, count) = history_statements(actor, patient_id, limit, offset);
    let found = engine
        .read(move |conn| {
            Box::pin(async move {
                let Some(patient_name) = conn.first(&name, |r| sql::text(r, "full_name")).await?
                else {
                    return Ok(None);
                };
                let items = conn.rows(&select, |r| consultation(r, false)).await?;
                let total = conn.scalar(&count).await?.unwrap_or(0);
                Ok(Some((patient_name, items, total)))
            })
        })
        .await?;
    let Some((patient_name, items, total)) = found else {
        return Err(deny(
            engine,
            actor,
            "consultation.history",
            ("patient", patient_id),
        )
        .await);
    };
    audit_read(
        engine,
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
