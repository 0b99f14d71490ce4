//! `/consultation/*`: start, follow, take notes, stop (which queues the report), cancel, and a
//! patient's history. Doctors only; `doctor_id` always comes from the token.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, OptionalJson, PathId, Query};
use super::params;
use crate::model::auth::Role;
use crate::model::consultation::*;
use crate::model::query::PageParams;
use crate::model::validate::{Checker, MAX_NOTES, MAX_SHORT_TEXT};

pub async fn start(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
    Json(body): Json<StartConsultation>,
) -> Result<Created<Consultation>, ApiError> {
    let actor = caller.require(&[Role::Doctor])?;
    let mut check = Checker::new();
    let chief_complaint = check.optional(
        "chief_complaint",
        body.chief_complaint.as_deref(),
        MAX_SHORT_TEXT,
    );
    check.finish(()).map_err(ApiError::validation)?;
    let start = StartConsultation {
        chief_complaint,
        ..body
    };
    Ok(Created(app.store.start_consultation(&actor, &start).await?))
}

pub async fn active(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
) -> ApiResult<ActiveConsultations> {
    let actor = caller.require(&[Role::Doctor])?;
    Ok(Success(ActiveConsultations {
        items: app.store.active_consultations(&actor).await?,
    }))
}

pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<Consultation> {
    let actor = caller.require(&[Role::Doctor])?;
    Ok(Success(app.store.get_consultation(&actor, id).await?))
}

fn check_notes(notes: &str) -> Result<String, ApiError> {
    let mut check = Checker::new();
    let notes = check.free_text("notes", notes, MAX_NOTES);
    check.finish(notes).map_err(ApiError::validation)
}

pub async fn update_notes(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<NotesUpdate>,
) -> ApiResult<Consultation> {
    let actor = caller.require(&[Role::Doctor])?;
    let notes = check_notes(&body.notes)?;
    Ok(Success(app.store.update_notes(&actor, id, &notes).await?))
}

pub async fn stop(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    OptionalJson(body): OptionalJson<StopConsultation>,
) -> ApiResult<Consultation> {
    let actor = caller.require(&[Role::Doctor])?;
    let notes = body
        .and_then(|b| b.notes)
        .map(|n| check_notes(&n))
        .transpose()?;
    let stopped = app
        .store
        .stop_consultation(&actor, id, notes.as_deref())
        .await?;
    if let Some(report_id) = stopped.report_id {
        app.generation.enqueue(report_id);
    }
    Ok(Success(stopped))
}

pub async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<CancelConsultation>,
) -> ApiResult<Consultation> {
    let actor = caller.require(&[Role::Doctor])?;
    let mut check = Checker::new();
    let reason = check.required("reason", &body.reason, MAX_SHORT_TEXT);
    check.finish(()).map_err(ApiError::validation)?;
    Ok(Success(
        app.store.cancel_consultation(&actor, id, &reason).await?,
    ))
}

pub async fn history(
    State(app): State<AppState>,
    caller: Caller,
    PathId(patient_id): PathId,
    Query(params): Query<PageParams>,
) -> ApiResult<ConsultationHistory> {
    let actor = caller.require(&[Role::Doctor])?;
    let limit = params::list_limit(params.limit)?;
    let offset = params::offset(params.offset)?;
    Ok(Success(
        app.store
            .consultation_history(&actor, patient_id, limit, offset)
            .await?,
    ))
}
