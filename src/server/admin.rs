//! `/admin/*`: accounts (list, create, unlock, disable) and the audit trail. Admins only; no
//! clinical data is reachable from here.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::openapi;
use super::params;
use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::auth::Role;
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope, code};
use crate::model::page::Page;
use crate::model::query::{AuditParams, PageParams};
use crate::model::validate;
use crate::store::AuditQuery;

/// A page of user accounts
///
/// Roles: admin.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    operation_id = "listUsers",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Page<AdminUser>>),
    ),
)]
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

/// Create a user account
///
/// An email already in use answers 422 naming `email`.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    operation_id = "createUser",
    security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created.", body = SuccessEnvelope<AdminUser>),
    ),
)]
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

/// Unlock a locked account
///
/// Clears `locked_until` and `failed_logins`.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unlock",
    tag = "admin",
    operation_id = "unlockUser",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the user.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<AdminUser>),
    ),
)]
pub async fn unlock_user(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<AdminUser> {
    let actor = caller.require(&[Role::Admin])?;
    Ok(Success(app.store.unlock_user(&actor, id).await?))
}

/// Disable an account
///
/// Its sessions are revoked at once and it can no longer log in. Disabling yourself answers 409
/// `INVALID_STATE`.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/disable",
    tag = "admin",
    operation_id = "disableUser",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the user.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<AdminUser>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
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

/// A page of audit events, newest first
///
/// Roles: admin.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    operation_id = "listAuditEvents",
    security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Page<AuditEvent>>),
    ),
)]
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
