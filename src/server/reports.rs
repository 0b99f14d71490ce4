//! `/reports*`: the filtered list, statistics, review, edit with a version, signing with the
//! password, and addenda. Doctors only, on their own patients' reports.

use axum::extract::State;

use super::AppState;
use super::auth::{Caller, verify_password};
use super::error::{ApiError, ApiResult, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::params;
use crate::model::auth::Role;
use crate::model::envelope::code;
use crate::model::query::{ReportListParams, ReportStatsParams};
use crate::model::report::*;
use crate::model::validate::{self, Checker, MAX_LONG_TEXT};
use crate::store::ReportListQuery;

pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportListParams>,
) -> ApiResult<ReportPage> {
    let actor = caller.require(&[Role::Doctor])?;
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

pub async fn stats(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportStatsParams>,
) -> ApiResult<ReportStats> {
    let actor = caller.require(&[Role::Doctor])?;
    let days = match params.days {
        None => 30,
        Some(d) if (1..=366).contains(&d) => d,
        Some(_) => return Err(ApiError::field("days", "must be between 1 and 366")),
    };
    Ok(Success(
        app.store
            .report_stats(&actor, params.patient_id, days)
            .await?,
    ))
}

pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<Report> {
    let actor = caller.require(&[Role::Doctor])?;
    Ok(Success(app.store.get_report(&actor, id).await?))
}

pub async fn edit(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<ReportEdit>,
) -> ApiResult<Report> {
    let actor = caller.require(&[Role::Doctor])?;
    let content = validate::report_content(body.content).map_err(ApiError::validation)?;
    Ok(Success(
        app.store
            .edit_report(&actor, id, &content, body.version)
            .await?,
    ))
}

pub async fn sign(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<SignReport>,
) -> ApiResult<Report> {
    let actor = caller.require(&[Role::Doctor])?;
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
    Ok(Success(app.store.sign_report(&actor, id).await?))
}

pub async fn add_addendum(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<NewAddendum>,
) -> ApiResult<Report> {
    let actor = caller.require(&[Role::Doctor])?;
    let mut check = Checker::new();
    let text = check.required("text", &body.text, MAX_LONG_TEXT);
    check.finish(()).map_err(ApiError::validation)?;
    Ok(Success(app.store.add_addendum(&actor, id, &text).await?))
}
