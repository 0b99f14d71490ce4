//! `/admin/*`: accounts (list, create, unlock, disable) and the audit trail. Admins only; no
//! clinical data is reachable from here.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::params;
use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::auth::Role;
use crate::model::envelope::code;
use crate::model::page::Page;
use crate::model::query::{AuditParams, PageParams};
use crate::model::validate;
use crate::store::AuditQuery;

pub async fn list_users(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<Page<AdminUser>> {
    let actor = caller.require(&[Role::Admin])?;
    let limit = params::list_limit(params.limit)?;
    let offset = params::offset(params.offset)?;
    Ok(Success(app.store.list_users(&actor, limit, offset).await?))
}

pub async fn create_user(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
    Json(body): Json<NewUser>,
) -> Result<Created<AdminUser>, ApiError> {
    let actor = caller.require(&[Role::Admin])?;
    let user = validate::new_user(body).map_err(ApiError::validation)?;
    let hash = app
        .passwords
        .hash(&user.password)
        .await
        .map_err(ApiError::internal)?;
    Ok(Created(
        app.store.create_user(Some(&actor), &user, &hash).await?,
    ))
}

pub async fn unlock_user(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<AdminUser> {
    let actor = caller.require(&[Role::Admin])?;
    Ok(Success(app.store.unlock_user(&actor, id).await?))
}

pub async fn disable_user(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<AdminUser> {
    let actor = caller.require(&[Role::Admin])?;
    if id == caller.user_id {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            code::INVALID_STATE,
            "You cannot disable your own account; ask another administrator.",
        ));
    }
    Ok(Success(app.store.disable_user(&actor, id).await?))
}

pub async fn audit(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditParams>,
) -> ApiResult<Page<AuditEvent>> {
    let actor = caller.require(&[Role::Admin])?;
    let action = params
        .action
        .map(|a| validate::search_term("action", &a))
        .transpose()
        .map_err(ApiError::validation)?;
    let query = AuditQuery {
        user_id: params.user_id,
        patient_id: params.patient_id,
        action,
        since: params::time_bound("since", params.since.as_deref(), false)?,
        until: params::time_bound("until", params.until.as_deref(), true)?,
        limit: params::list_limit(params.limit)?,
        offset: params::offset(params.offset)?,
    };
    Ok(Success(app.store.query_audit(&actor, &query).await?))
}
