//! `/admin/*`: accounts (list, create, unlock, disable, enable, reset a password, end the
//! sessions, reset the second factor) and the audit trail. Admins only; no clinical data is reachable from here. The
//! console's `synapse admin` calls the same store methods, so both leave the same audit rows.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::openapi;
use super::params;
use crate::model::admin::{
    AdminUser, AuditEvent, MfaReset, NewUser, PasswordReset, SessionsRevoked,
};
use crate::model::auth::Role;
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope, code};
use crate::model::page::Page;
use crate::model::query::{AuditParams, PageParams};
use crate::model::validate;
use crate::store::{Administrator, AuditQuery, PageStart};

/// The caller as an administrator, or 403 for other roles.
fn administrator(caller: &Caller) -> Result<Administrator, ApiError> {
    Ok(Administrator::Api(caller.require(&[Role::Admin])?))
}

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
    let by = administrator(&caller)?;
    let limit = params::list_limit(params.limit)?;
    let offset = params::offset(params.offset)?;
    Ok(Success(app.store.list_users(&by, limit, offset).await?))
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
    let by = administrator(&caller)?;
    let user = validate::new_user(body).map_err(ApiError::validation)?;
    let hash = app
        .passwords
        .hash(&user.password)
        .await
        .map_err(ApiError::internal)?;
    Ok(Created(
        app.store.create_user(Some(&by), &user, &hash).await?,
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
    let by = administrator(&caller)?;
    Ok(Success(app.store.unlock_user(&by, id).await?))
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
    let by = administrator(&caller)?;
    if id == caller.user_id {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            code::INVALID_STATE,
            "You cannot disable your own account; ask another administrator.",
        ));
    }
    Ok(Success(app.store.disable_user(&by, id).await?))
}

/// Enable a disabled account
///
/// It can log in again; the sessions that disabling revoked stay revoked.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/enable",
    tag = "admin",
    operation_id = "enableUser",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the user.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<AdminUser>),
    ),
)]
pub async fn enable_user(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<AdminUser> {
    let by = administrator(&caller)?;
    Ok(Success(app.store.enable_user(&by, id).await?))
}

/// Set a new password for an account
///
/// The account's sessions are revoked at once and its lockout is cleared; the password
/// follows the rules of a new account's. Your own password is changed with
/// `/auth/change-password` (which asks for the current one): resetting it here answers 409
/// `INVALID_STATE`.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/reset-password",
    tag = "admin",
    operation_id = "resetUserPassword",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the user.")),
    request_body = PasswordReset,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<AdminUser>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::INVALID_STATE]), body = ErrorEnvelope),
    ),
)]
pub async fn reset_password(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<PasswordReset>,
) -> ApiResult<AdminUser> {
    let by = administrator(&caller)?;
    validate::reset_password("password", &body.password).map_err(ApiError::validation)?;
    if id == caller.user_id {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            code::INVALID_STATE,
            "Change your own password with /auth/change-password, which asks for the current one.",
        ));
    }
    let hash = app
        .passwords
        .hash(&body.password)
        .await
        .map_err(ApiError::internal)?;
    Ok(Success(app.store.reset_password(&by, id, &hash).await?))
}

/// End every session of an account
///
/// Its access and refresh tokens stop working at once; the account can log in again.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/revoke-sessions",
    tag = "admin",
    operation_id = "revokeUserSessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the user.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<SessionsRevoked>),
    ),
)]
pub async fn revoke_sessions(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<SessionsRevoked> {
    let by = administrator(&caller)?;
    let revoked = app.store.revoke_sessions(&by, id).await?;
    Ok(Success(SessionsRevoked {
        user_id: id,
        revoked,
    }))
}

/// Reset an account's second factor
///
/// Removes its TOTP secret and recovery codes (a lost phone): the account logs in with its
/// password alone, and enrols again (at once, when its role is in `require_mfa`). Audited as
/// `admin.mfa_reset`. An unknown account answers 404.
///
/// Roles: admin.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/reset-mfa",
    tag = "admin",
    operation_id = "resetUserMfa",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the user.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<MfaReset>),
        (status = 404, description = openapi::errors("Not found", &[code::NOT_FOUND]), body = ErrorEnvelope),
    ),
)]
pub async fn reset_mfa(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<MfaReset> {
    let by = administrator(&caller)?;
    let had_mfa = app.store.reset_mfa(&by, id).await?;
    Ok(Success(MfaReset {
        user_id: id,
        had_mfa,
    }))
}

/// A page of audit events, newest first
///
/// Page with `cursor` (the previous page's `pagination.next_cursor`): a row written while
/// paging never repeats or skips an older row. `offset` still works for the first pages; a
/// cursor that is not this list's answers 422 naming `cursor`.
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
    let outcome = params
        .outcome
        .map(|o| validate::search_term("outcome", &o))
        .transpose()
        .map_err(ApiError::validation)?;
    let query = AuditQuery {
        user_id: params.user_id,
        patient_id: params.patient_id,
        action,
        outcome,
        since: params::time_bound("since", params.since.as_deref(), false)?,
        until: params::time_bound("until", params.until.as_deref(), true)?,
        limit: params::list_limit(params.limit)?,
        offset: 0,
        cursor: None,
    };
    let query = match params::page_start(params.offset, params.cursor)? {
        PageStart::Offset(offset) => AuditQuery { offset, ..query },
        PageStart::Cursor(cursor) => AuditQuery {
            cursor: Some(cursor),
            ..query
        },
    };
    Ok(Success(app.store.query_audit(&actor, &query).await?))
}
