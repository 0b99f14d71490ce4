//! `/consultation/*`: start, follow, take notes, stop (which queues the report), cancel, and a
//! patient's history. Doctors only; `doctor_id` always comes from the token.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, OptionalJson, PathId, Query};
use super::openapi;
use super::params;
use crate::model::auth::Role;
use crate::model::consultation::*;
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope, code};
use crate::model::query::PageParams;
use crate::model::validate::{Checker, MAX_NOTES, MAX_SHORT_TEXT};

/// Start a consultation
///
/// The doctor is the caller. One consultation in progress per patient.
///
/// Roles: doctor.
#[utoipa::path(
    post,
    path = "/api/v1/consultation/start",
    tag = "consultations",
    operation_id = "startConsultation",
    security(("bearer" = [])),
    request_body = StartConsultation,
    responses(
        (status = 201, description = "Created.", body = SuccessEnvelope<Consultation>),
        (status = 404, description = openapi::errors("Not found", &[code::NOT_FOUND]), body = ErrorEnvelope),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::CONSULTATION_ACTIVE]), body = ErrorEnvelope),
    ),
)]
pub async fn start(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
    Json(body): Json<StartConsultation>,
) -> Result<Created<Consultation>, ApiError> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
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

/// The caller's consultations in progress
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/consultation/active",
    tag = "consultations",
    operation_id = "listActiveConsultations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<ActiveConsultations>),
    ),
)]
pub async fn active(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
) -> ApiResult<ActiveConsultations> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    Ok(Success(ActiveConsultations {
        items: app.store.active_consultations(&actor).await?,
    }))
}

/// A consultation
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/consultation/{id}",
    tag = "consultations",
    operation_id = "getConsultation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the consultation.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Consultation>),
    ),
)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<Consultation> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    Ok(Success(app.store.get_consultation(&actor, id).await?))
}

fn check_notes(notes: &str) -> Result<String, ApiError> {
    let mut check = Checker::new();
    let notes = check.free_text("notes", notes, MAX_NOTES);
    check.finish(notes).map_err(ApiError::validation)
}

/// Save a consultation's notes
///
/// A consultation no longer in progress answers 409 `INVALID_STATE`.
///
/// Roles: doctor.
#[utoipa::path(
    patch,
    path = "/api/v1/consultation/{id}",
    tag = "consultations",
    operation_id = "updateConsultationNotes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the consultation.")),
    request_body = NotesUpdate,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Consultation>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
pub async fn update_notes(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<NotesUpdate>,
) -> ApiResult<Consultation> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let notes = check_notes(&body.notes)?;
    Ok(Success(app.store.update_notes(&actor, id, &notes).await?))
}

/// Complete a consultation
///
/// Answers the completed consultation with the `report_id` of the draft report it produces; the
/// report is generated asynchronously (`pending → generating → completed`, or `failed`). The body
/// is optional.
///
/// A consultation no longer in progress answers 409 `INVALID_STATE`.
///
/// Roles: doctor.
#[utoipa::path(
    post,
    path = "/api/v1/consultation/{id}/stop",
    tag = "consultations",
    operation_id = "stopConsultation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the consultation.")),
    request_body = Option<StopConsultation>,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Consultation>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
pub async fn stop(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    OptionalJson(body): OptionalJson<StopConsultation>,
) -> ApiResult<Consultation> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
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

/// Cancel a consultation
///
/// A consultation no longer in progress answers 409 `INVALID_STATE`.
///
/// Roles: doctor.
#[utoipa::path(
    post,
    path = "/api/v1/consultation/{id}/cancel",
    tag = "consultations",
    operation_id = "cancelConsultation",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the consultation.")),
    request_body = CancelConsultation,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Consultation>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
pub async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<CancelConsultation>,
) -> ApiResult<Consultation> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let mut check = Checker::new();
    let reason = check.required("reason", &body.reason, MAX_SHORT_TEXT);
    check.finish(()).map_err(ApiError::validation)?;
    Ok(Success(
        app.store.cancel_consultation(&actor, id, &reason).await?,
    ))
}

/// A patient's consultations, newest first
///
/// Items carry no `notes`.
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/consultation/history/{patient_id}",
    tag = "consultations",
    operation_id = "getConsultationHistory",
    security(("bearer" = [])),
    params(("patient_id" = Uuid, Path, description = "The id of the patient."), PageParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<ConsultationHistory>),
    ),
)]
pub async fn history(
    State(app): State<AppState>,
    caller: Caller,
    PathId(patient_id): PathId,
    Query(params): Query<PageParams>,
) -> ApiResult<ConsultationHistory> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let limit = params::list_limit(params.limit)?;
    let offset = params::offset(params.offset)?;
    Ok(Success(
        app.store
            .consultation_history(&actor, patient_id, limit, offset)
            .await?,
    ))
}
