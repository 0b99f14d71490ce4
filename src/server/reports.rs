//! `/reports*`: the filtered list, statistics, review, edit with a version, signing with the
//! password, and addenda. Doctors only, on their own patients' reports.

use axum::extract::State;

use super::AppState;
use super::auth::{Caller, verify_password};
use super::error::{ApiError, ApiResult, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::openapi;
use super::params;
use crate::model::auth::Role;
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope, code};
use crate::model::query::{ReportListParams, ReportStatsParams};
use crate::model::report::*;
use crate::model::validate::{self, Checker, MAX_LONG_TEXT};
use crate::store::ReportListQuery;

/// A page of reports, newest first
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/reports/list",
    tag = "reports",
    operation_id = "listReports",
    security(("bearer" = [])),
    params(ReportListParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<ReportPage>),
    ),
)]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportListParams>,
) -> ApiResult<ReportPage> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let date_from = params::time_bound("date_from", params.date_from.as_deref(), false)?;
    let date_to = params::time_bound("date_to", params.date_to.as_deref(), true)?;
    if let (Some(from), Some(to)) = (date_from, date_to)
        && from >= to
    {
        return Err(ApiError::field("date_to", "must be after date_from"));
    }
    let query = ReportListQuery {
        filter: ReportFilter {
            patient_id: params.patient_id,
            status: params.status,
            session_type: params.session_type,
            date_from,
            date_to,
        },
        limit: params::list_limit(params.limit)?,
        start: params::page_start(params.offset, params.cursor)?,
    };
    Ok(Success(app.store.list_reports(&actor, &query).await?))
}

/// Report statistics
///
/// `total`, `by_status`, `recent_7d` and `average_confidence` cover all time; `days` shapes only
/// the `daily` series.
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/reports/stats",
    tag = "reports",
    operation_id = "getReportStats",
    security(("bearer" = [])),
    params(ReportStatsParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<ReportStats>),
        (status = 404, description = openapi::errors("Not found", &[code::NOT_FOUND]), body = ErrorEnvelope),
    ),
)]
pub async fn stats(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportStatsParams>,
) -> ApiResult<ReportStats> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let days = match params.days {
        None => DEFAULT_STATS_DAYS,
        Some(d) if (1..=MAX_STATS_DAYS).contains(&d) => d,
        Some(_) => {
            return Err(ApiError::field(
                "days",
                format!("must be between 1 and {MAX_STATS_DAYS}"),
            ));
        }
    };
    Ok(Success(
        app.store
            .report_stats(&actor, params.patient_id, days)
            .await?,
    ))
}

/// A report
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    tag = "reports",
    operation_id = "getReport",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the report.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Report>),
    ),
)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<Report> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    Ok(Success(app.store.get_report(&actor, id).await?))
}

/// Edit a report's content
///
/// `completed` and `failed` reports: a failed report written by hand becomes `completed`, to
/// sign. `version` is the version read: a stale one answers 409 `VERSION_CONFLICT`, a signed
/// report 409 `REPORT_SIGNED`, any other status 409 `INVALID_STATE`.
///
/// Roles: doctor.
#[utoipa::path(
    patch,
    path = "/api/v1/reports/{id}",
    tag = "reports",
    operation_id = "updateReport",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the report.")),
    request_body = ReportEdit,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Report>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::VERSION_CONFLICT, code::REPORT_SIGNED, code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
pub async fn edit(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<ReportEdit>,
) -> ApiResult<Report> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let content = validate::report_content(body.content).map_err(ApiError::validation)?;
    Ok(Success(
        app.store
            .edit_report(&actor, id, &content, body.version)
            .await?,
    ))
}

/// Sign a report
///
/// Re-authenticates with the caller's password (a wrong one answers 401 `INVALID_CREDENTIALS`),
/// and, when the signer has a second factor, with a fresh `code` (missing: 422 naming `code`;
/// wrong or used: 401 `MFA_CODE_INVALID`, counted towards the lockout like a wrong password).
/// `version` is the version the doctor read and is signing: a report changed since answers 409
/// `VERSION_CONFLICT` (with `current_version`) and nothing is signed. Only `completed` reports;
/// afterwards the content is immutable.
///
/// Roles: doctor.
#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/sign",
    tag = "reports",
    operation_id = "signReport",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the report.")),
    request_body = SignReport,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Report>),
        (status = 401, description = openapi::errors("Not authenticated", &[code::INVALID_CREDENTIALS, code::MFA_CODE_INVALID]), body = ErrorEnvelope),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::VERSION_CONFLICT, code::REPORT_SIGNED, code::INVALID_STATE]), body = ErrorEnvelope),
        (status = 423, description = openapi::errors("Account locked", &[code::ACCOUNT_LOCKED]), body = ErrorEnvelope),
    ),
)]
pub async fn sign(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<SignReport>,
) -> ApiResult<Report> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    if body.password.is_empty() {
        return Err(ApiError::field(
            "password",
            "is required to sign: enter your password",
        ));
    }
    let record = app
        .store
        .user_by_id(caller.user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !verify_password(&app, &caller, &record, &body.password).await? {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            code::INVALID_CREDENTIALS,
            "The password is not correct; the report was not signed.",
        ));
    }
    super::mfa::check_signing_code(&app, &caller, &record, body.code.as_deref()).await?;
    Ok(Success(
        app.store.sign_report(&actor, id, body.version).await?,
    ))
}

/// Add an addendum to a signed report
///
/// Only signed reports (any other status answers 409 `INVALID_STATE`).
///
/// Roles: doctor.
#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/addenda",
    tag = "reports",
    operation_id = "addReportAddendum",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the report.")),
    request_body = NewAddendum,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Report>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
pub async fn add_addendum(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<NewAddendum>,
) -> ApiResult<Report> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let mut check = Checker::new();
    let text = check.required("text", &body.text, MAX_LONG_TEXT);
    check.finish(()).map_err(ApiError::validation)?;
    Ok(Success(app.store.add_addendum(&actor, id, &text).await?))
}
