//! `/auth/*`: login with lockout (and its second step, in `mfa`), rotating refresh, logout,
//! me, change-password; and `Caller`, the authenticated user every other handler starts from.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde_json::json;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, ApiResult, Success};
use super::extract::{Json, NoQuery, OptionalJson, PathId};
use super::middleware::{CheckedBearer, RequestMeta};
use super::openapi;
use super::tokens::{TokenProblem, new_refresh_token, refresh_token_hash};
use crate::model::auth::*;
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope, code};
use crate::model::time::{format_timestamp, now};
use crate::model::validate::{Checker, MAX_EMAIL};
use crate::store::{
    Actor, AuditEntry, NewRefreshToken, RefreshOutcome, RequestContext, SessionState, SessionUse,
};
use crate::telemetry::{self, Limited, Login};

/// The authenticated user of a request, with the session the token belongs to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    /// When the access token expires (seconds since the epoch): a long-lived answer (the
    /// event stream) ends then, so the client must show a fresh token to go on.
    pub expires_at: i64,
    /// The account has a confirmed second factor (signing then needs a code).
    pub mfa: bool,
    /// The account's role needs a second factor (`require_mfa`) and it has none: only the
    /// endpoints that take an [`Enrolling`] caller answer it.
    pub enrolment_due: bool,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user_id,
            role: self.role,
            request_id: self.meta.request_id.clone(),
            client_request_id: self.meta.client_request_id.clone(),
            ip: self.meta.ip.map(|ip| ip.to_string()),
            channel: None,
        }
    }

    /// Refuses roles that may not use this endpoint of clinical data, and audits the refusal
    /// (outcome `forbidden`, with the record the path names), as a refused record is audited.
    pub async fn permit(&self, app: &AppState, allowed: &[Role]) -> Result<Actor, ApiError> {
        let refusal = match self.require(allowed) {
            Ok(actor) => return Ok(actor),
            Err(refusal) => refusal,
        };
        let record = self.meta.path_record;
        let resource_id = record.map(|(_, id)| id.to_string());
        app.store
            .audit(
                &context(&self.meta),
                AuditEntry {
                    user_id: Some(self.user_id),
                    action: &self.meta.operation,
                    resource_type: record.map(|(kind, _)| kind),
                    resource_id,
                    patient_id: record
                        .filter(|(kind, _)| *kind == "patient")
                        .map(|(_, id)| id),
                    outcome: "forbidden",
                },
            )
            .await?;
        Err(refusal)
    }

    /// Refuses roles that may not use this endpoint.
    pub fn require(&self, allowed: &[Role]) -> Result<Actor, ApiError> {
        if allowed.contains(&self.role) {
            Ok(self.actor())
        } else {
            Err(ApiError::forbidden(format!(
                "Your role ({}) cannot use this. Ask your administrator if you need it.",
                self.role.as_str()
            )))
        }
    }
}

pub fn request_meta(parts: &Parts) -> RequestMeta {
    parts
        .extensions
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_else(|| RequestMeta {
            request_id: super::error::current_request_id(),
            client_request_id: None,
            ip: None,
            operation: String::new(),
            path_record: None,
        })
}

pub(super) fn context(meta: &RequestMeta) -> RequestContext {
    RequestContext {
        request_id: meta.request_id.clone(),
        client_request_id: meta.client_request_id.clone(),
        ip: meta.ip.map(|ip| ip.to_string()),
    }
}

fn session_revoked() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::SESSION_REVOKED,
        "This session has ended (logged out, password changed, or revoked). Log in again.",
    )
}

pub(super) fn account_disabled() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        code::ACCOUNT_DISABLED,
        "This account is disabled. Ask your administrator to enable it.",
    )
}

fn session_expired() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::SESSION_EXPIRED,
        "This session has ended: it was not used for a while, or it reached its time limit. Log in again.",
    )
}

/// Checks the bearer token and that its session is still open, counting the request as use.
pub async fn authenticate(app: &AppState, parts: &Parts) -> Result<Caller, ApiError> {
    authenticate_for(app, parts, SessionUse::Request).await
}

/// Checks the bearer token and its session; the role is the account's role now, from the
/// database, whatever the token says.
async fn authenticate_for(
    app: &AppState,
    parts: &Parts,
    usage: SessionUse,
) -> Result<Caller, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "Log in first: this request needs an Authorization: Bearer token.",
            )
        })?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::unauthenticated("Send the token as Authorization: Bearer <token>.")
        })?;
    // Checked already by the request context, for the rate limiter; checked here only when a
    // handler runs without that middleware.
    let checked = match parts.extensions.get::<CheckedBearer>() {
        Some(CheckedBearer(checked)) => checked.clone(),
        None => app.tokens.check_access(token.trim()),
    };
    let claims = checked.map_err(|problem| match problem {
        TokenProblem::Expired => ApiError::new(
            StatusCode::UNAUTHORIZED,
            code::TOKEN_EXPIRED,
            "The access token has expired. Refresh it, or log in again.",
        ),
        TokenProblem::Invalid => {
            ApiError::unauthenticated("The access token is not valid. Log in again.")
        }
    })?;
    let (role, mfa) = match app
        .store
        .session_state(claims.sid, claims.sub, app.config.sessions, usage)
        .await?
    {
        SessionState::Active { role, mfa } => (role, mfa),
        SessionState::Revoked => return Err(session_revoked()),
        SessionState::Disabled => return Err(account_disabled()),
        SessionState::Expired => return Err(session_expired()),
    };
    Ok(Caller {
        user_id: claims.sub,
        role,
        session_id: claims.sid,
        expires_at: claims.exp,
        mfa,
        enrolment_due: !mfa && app.config.require_mfa.contains(&role),
        meta: request_meta(parts),
    })
}

/// The answer of every endpoint but enrolment's to an account that must enrol first.
fn enrolment_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        code::MFA_ENROLLMENT_REQUIRED,
        "Your role needs a second factor: set up an authenticator app first (POST /auth/mfa/enroll, then /auth/mfa/confirm).",
    )
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = authenticate(app, parts).await?;
        if caller.enrolment_due {
            return Err(enrolment_required());
        }
        Ok(caller)
    }
}

/// The caller of the endpoints an account that must enrol a second factor can still use:
/// enrolment itself, `me`, its sessions.
pub struct Enrolling(pub Caller);

impl FromRequestParts<AppState> for Enrolling {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Enrolling(authenticate(app, parts).await?))
    }
}

/// The caller of a request that does not count as use of the session (opening an event
/// stream: a workstation reopens it whenever its token is refreshed, idle or not).
pub struct Watcher(pub Caller);

impl FromRequestParts<AppState> for Watcher {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = authenticate_for(app, parts, SessionUse::Watch).await?;
        if caller.enrolment_due {
            return Err(enrolment_required());
        }
        Ok(Watcher(caller))
    }
}

/// The request's id and address, for endpoints used before logging in.
pub struct Meta(pub RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(request_meta(parts)))
    }
}

/// Issues an access token and a refresh token for an open session.
pub(super) async fn issue_tokens(
    app: &AppState,
    user: User,
    session_id: Uuid,
    refresh_token: String,
    mfa_enrollment_required: bool,
) -> Result<Tokens, ApiError> {
    let access_token = app
        .tokens
        .issue_access(user.id, user.role, session_id)
        .map_err(ApiError::internal)?;
    Ok(Tokens {
        access_token,
        refresh_token,
        token_type: "bearer".to_string(),
        expires_in: app.tokens.access_ttl_s,
        refresh_expires_in: app
            .tokens
            .refresh_ttl_s
            .min(app.config.sessions.lifetime.num_seconds()),
        user_id: user.id,
        role: user.role,
        user,
        mfa_enrollment_required,
    })
}

pub(super) fn new_refresh(app: &AppState) -> (String, NewRefreshToken) {
    let token = new_refresh_token();
    let stored = NewRefreshToken {
        token_hash: refresh_token_hash(&token),
        expires_at: now() + chrono::Duration::seconds(app.tokens.refresh_ttl_s),
    };
    (token, stored)
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::INVALID_CREDENTIALS,
        "Email or password is not correct. Check them and try again.",
    )
}

/// The same answer whether or not the email has an account.
pub(super) fn locked(until: chrono::DateTime<chrono::Utc>) -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        code::ACCOUNT_LOCKED,
        format!(
            "Too many failed logins: logging in with this email is paused until {} UTC. Wait, or ask an administrator to unlock the account.",
            until.format("%H:%M")
        ),
    )
    .with_details(json!({ "locked_until": format_timestamp(until) }))
}

/// Log in with email and password
///
/// Answers an access token (JWT HS256, 15 minutes by default) and a single-use refresh token
/// (7 days). A wrong password and an unknown email answer the same 401, and lock alike: after
/// 5 failures from one address that address is refused for 15 minutes (423, even with the right
/// password), while the owner can still log in from elsewhere; after 20 failures from all
/// addresses together the account is refused from everywhere for 15 minutes. When the account
/// has a second factor, the right password answers 401 `MFA_REQUIRED` with `details.mfa_token`
/// (`MfaChallenge`) for `POST /auth/mfa/verify`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Tokens>),
        (status = 401, description = openapi::errors("Not authenticated", &[code::INVALID_CREDENTIALS, code::MFA_REQUIRED]), body = ErrorEnvelope),
        (status = 403, description = openapi::errors("Forbidden", &[code::ACCOUNT_DISABLED]), body = ErrorEnvelope),
        (status = 423, description = openapi::errors("Account locked", &[code::ACCOUNT_LOCKED]), body = ErrorEnvelope),
        (status = 429, description = openapi::errors("Too many requests", &[code::RATE_LIMITED]), body = ErrorEnvelope),
    ),
)]
pub async fn login(
    State(app): State<AppState>,
    Meta(meta): Meta,
    _: NoQuery,
    headers: axum::http::HeaderMap,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Tokens> {
    let mut check = Checker::new();
    let email = check
        .required("email", &body.email, MAX_EMAIL)
        .to_lowercase();
    if body.password.is_empty() {
        check.fail("password", "must not be empty");
    } else if body.password.len() > 1024 {
        check.fail("password", "is too long");
    }
    check.finish(()).map_err(ApiError::validation)?;
    limit_login(&app, meta.ip)?;
    let ctx = context(&meta);
    // Every step below runs alike whether or not the email has an account: the lock is kept
    // per email, an unknown email's password is checked against a decoy hash, and its failure
    // is counted by the same statements, so status, body, headers and time tell nothing.
    let record = app.store.user_by_email(&email).await?;
    let user_id = record.as_ref().map(|r| r.user.id);
    if let Some(until) = app.store.login_lock(&ctx, &email).await? {
        app.store
            .audit(
                &ctx,
                AuditEntry {
                    user_id,
                    action: "auth.login",
                    resource_type: Some("user"),
                    resource_id: user_id.map(|id| id.to_string()),
                    patient_id: None,
                    outcome: "locked",
                },
            )
            .await?;
        telemetry::login(Login::Locked);
        return Err(locked(until));
    }

    let matched = app
        .passwords
        .verify(
            &body.password,
            record.as_ref().map(|r| r.password_hash.as_str()),
        )
        .await
        .map_err(ApiError::internal)?;
    let record = match record {
        Some(record) if matched => record,
        _ => {
            let failure = app
                .store
                .record_login_failure(&ctx, &email, user_id, app.config.lockout)
                .await?;
            telemetry::login(Login::Failure);
            return Err(match failure.locked_until {
                Some(until) => {
                    telemetry::lockout();
                    locked(until)
                }
                None => invalid_credentials(),
            });
        }
    };
    if record.disabled {
        telemetry::login(Login::Disabled);
        return Err(account_disabled());
    }
    // The password is right; with a second factor the session opens only at its second step.
    let mfa = app.store.mfa_record(record.user.id).await?;
    if mfa.as_ref().is_some_and(|m| m.enabled) {
        return Err(super::mfa::mfa_required(&app, record.user.id)?);
    }
    let enrolment_due = app.config.require_mfa.contains(&record.user.role);
    signed_in(&app, &ctx, &headers, record.user, enrolment_due)
        .await
        .map(Success)
}

/// The login limiter's word on a sign-in attempt from `ip` (a password, or a second step's
/// code): a 429 naming the wait once the address has tried too often.
pub(super) fn limit_login(app: &AppState, ip: Option<std::net::IpAddr>) -> Result<(), ApiError> {
    let Err(wait) = app.login_limiter.attempt(ip) else {
        return Ok(());
    };
    telemetry::rate_limited(Limited::Login);
    telemetry::login(Login::RateLimited);
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::RATE_LIMITED,
        format!(
            "Too many login attempts from this address. Wait {} and try again.",
            super::middleware::seconds(wait)
        ),
    )
    .with_details(json!({ "retry_after_s": wait }));
    error.retry_after = Some(wait);
    Err(error)
}

/// Opens the session of a sign-in that is complete (the password, and the code where the
/// account has a second factor) and answers its tokens.
pub(super) async fn signed_in(
    app: &AppState,
    ctx: &RequestContext,
    headers: &axum::http::HeaderMap,
    user: User,
    enrolment_due: bool,
) -> Result<Tokens, ApiError> {
    let (refresh_token, stored) = new_refresh(app);
    let session_id = app
        .store
        .open_session(ctx, user.id, &stored, client_name(headers).as_deref())
        .await?;
    telemetry::login(Login::Success);
    issue_tokens(app, user, session_id, refresh_token, enrolment_due).await
}

/// Exchange a refresh token for new tokens
///
/// Rotates: every call answers a new refresh token and the old one stops working. Presenting an
/// already-used refresh token revokes the whole session (401 `SESSION_REVOKED`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    operation_id = "refreshTokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Tokens>),
        (status = 401, description = openapi::errors("Not authenticated", &[code::UNAUTHENTICATED, code::SESSION_REVOKED, code::SESSION_EXPIRED]), body = ErrorEnvelope),
        (status = 403, description = openapi::errors("Forbidden", &[code::ACCOUNT_DISABLED]), body = ErrorEnvelope),
    ),
)]
pub async fn refresh(
    State(app): State<AppState>,
    Meta(meta): Meta,
    _: NoQuery,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<Tokens> {
    if body.refresh_token.is_empty() || body.refresh_token.len() > 256 {
        return Err(ApiError::field(
            "refresh_token",
            "must be the refresh token from login",
        ));
    }
    let (refresh_token, stored) = new_refresh(&app);
    let outcome = app
        .store
        .rotate_refresh_token(
            &context(&meta),
            &refresh_token_hash(&body.refresh_token),
            &stored,
            app.config.sessions,
        )
        .await?;
    match outcome {
        RefreshOutcome::Rotated { user, session_id } => {
            // A refresh keeps telling a workstation that enrolment is still due.
            let due = app.config.require_mfa.contains(&user.role)
                && !app
                    .store
                    .mfa_record(user.id)
                    .await?
                    .is_some_and(|m| m.enabled);
            Ok(Success(
                issue_tokens(&app, user, session_id, refresh_token, due).await?,
            ))
        }
        RefreshOutcome::Reused => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            code::SESSION_REVOKED,
            "This refresh token was already used, so the session was ended to protect the account. Log in again.",
        )),
        RefreshOutcome::Revoked => Err(session_revoked()),
        RefreshOutcome::Expired => Err(ApiError::unauthenticated(
            "The session has expired. Log in again.",
        )),
        RefreshOutcome::TimedOut => Err(session_expired()),
        RefreshOutcome::Unknown => Err(ApiError::unauthenticated(
            "This refresh token is not known. Log in again.",
        )),
        RefreshOutcome::Disabled => Err(account_disabled()),
    }
}

/// Ends the session of the bearer token, or of the refresh token in the body.
/// Log out: revoke the session
///
/// The session's access and refresh tokens stop working at once. The body is optional: without a
/// bearer token, the session of its `refresh_token` ends.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    operation_id = "logout",
    request_body = Option<LogoutRequest>,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<LoggedOut>),
        (status = 401, description = openapi::errors("Not authenticated", &[code::UNAUTHENTICATED, code::TOKEN_EXPIRED, code::SESSION_REVOKED, code::SESSION_EXPIRED]), body = ErrorEnvelope),
    ),
)]
pub async fn logout(
    State(app): State<AppState>,
    _: NoQuery,
    parts: axum::http::request::Parts,
    OptionalJson(body): OptionalJson<LogoutRequest>,
) -> ApiResult<LoggedOut> {
    let refresh_token = body.and_then(|b| b.refresh_token);
    let has_bearer = parts.headers.contains_key(AUTHORIZATION);
    let (actor, session_id) = if has_bearer || refresh_token.is_none() {
        let caller = authenticate(&app, &parts).await?;
        (caller.actor(), caller.session_id)
    } else {
        let token = refresh_token.unwrap_or_default();
        let Some((session_id, user_id)) = app
            .store
            .session_of_refresh_token(&refresh_token_hash(&token))
            .await?
        else {
            return Err(ApiError::unauthenticated(
                "This refresh token is not known; there is nothing to log out.",
            ));
        };
        let record = app
            .store
            .user_by_id(user_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let meta = request_meta(&parts);
        let actor = Actor {
            user_id,
            role: record.user.role,
            request_id: meta.request_id,
            client_request_id: meta.client_request_id,
            ip: meta.ip.map(|ip| ip.to_string()),
            channel: None,
        };
        (actor, session_id)
    };
    app.store
        .revoke_session(&actor, session_id, "logged out")
        .await?;
    Ok(Success(LoggedOut { logged_out: true }))
}

/// The program that logged in, from its User-Agent: printable, at most 100 characters.
pub(super) fn client_name(headers: &axum::http::HeaderMap) -> Option<String> {
    let agent = headers.get(axum::http::header::USER_AGENT)?.to_str().ok()?;
    let name: String = agent
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// The caller's open sessions
///
/// Every session of the caller's account that has not ended, newest first: when it was opened
/// and last used, when it will end, and the address and program that opened it.
#[utoipa::path(
    get,
    path = "/api/v1/auth/sessions",
    tag = "auth",
    operation_id = "listSessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<SessionList>),
    ),
)]
pub async fn list_sessions(
    State(app): State<AppState>,
    Enrolling(caller): Enrolling,
    _: NoQuery,
) -> ApiResult<SessionList> {
    let policy = app.config.sessions;
    let items = app
        .store
        .open_sessions(caller.user_id, policy)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            idle_expires_at: (s.last_used_at + policy.idle).min(s.created_at + policy.lifetime),
            expires_at: s.created_at + policy.lifetime,
            ip: s.ip,
            client: s.client,
            current: s.id == caller.session_id,
        })
        .collect();
    Ok(Success(SessionList { items }))
}

/// End one of the caller's sessions
///
/// Its tokens stop working at once, on every instance. Ending the caller's own current session
/// is a logout. Another account's session, or one already ended, answers 404.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/sessions/{id}",
    tag = "auth",
    operation_id = "endSession",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session's id, from `GET /auth/sessions`.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<SessionEnded>),
        (status = 404, description = openapi::errors("Not found", &[code::NOT_FOUND]), body = ErrorEnvelope),
    ),
)]
pub async fn end_session(
    State(app): State<AppState>,
    Enrolling(caller): Enrolling,
    _: NoQuery,
    PathId(id): PathId,
) -> ApiResult<SessionEnded> {
    if !app
        .store
        .revoke_session(&caller.actor(), id, "ended by the user")
        .await?
    {
        return Err(ApiError::not_found());
    }
    Ok(Success(SessionEnded { ended: true }))
}

/// The caller's account
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    operation_id = "getMe",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<User>),
    ),
)]
pub async fn me(
    State(app): State<AppState>,
    Enrolling(caller): Enrolling,
    _: NoQuery,
) -> ApiResult<User> {
    let record = app
        .store
        .user_by_id(caller.user_id)
        .await?
        .ok_or_else(session_revoked)?;
    Ok(Success(record.user))
}

/// Change the caller's password
///
/// Needs the current password (a wrong one answers 401 `INVALID_CREDENTIALS`). The user's other
/// sessions are revoked.
#[utoipa::path(
    post,
    path = "/api/v1/auth/change-password",
    tag = "auth",
    operation_id = "changePassword",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<PasswordChanged>),
        (status = 401, description = openapi::errors("Not authenticated", &[code::INVALID_CREDENTIALS]), body = ErrorEnvelope),
        (status = 423, description = openapi::errors("Account locked", &[code::ACCOUNT_LOCKED]), body = ErrorEnvelope),
    ),
)]
pub async fn change_password(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
    Json(body): Json<ChangePasswordRequest>,
) -> ApiResult<PasswordChanged> {
    let mut check = Checker::new();
    check.password("new_password", &body.new_password);
    if body.new_password == body.current_password {
        check.fail("new_password", "must differ from the current password");
    }
    check.finish(()).map_err(ApiError::validation)?;
    let record = app
        .store
        .user_by_id(caller.user_id)
        .await?
        .ok_or_else(session_revoked)?;
    if !verify_password(&app, &caller, &record, &body.current_password).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_CREDENTIALS,
            "The current password is not correct; the password was not changed.",
        ));
    }
    let hash = app
        .passwords
        .hash(&body.new_password)
        .await
        .map_err(ApiError::internal)?;
    app.store
        .change_password(&caller.actor(), caller.session_id, &hash)
        .await?;
    Ok(Success(PasswordChanged { changed: true }))
}

/// Re-checks the caller's password (change-password, signing). A wrong one counts towards the
/// lockout like a failed login, so re-authentication cannot be used to guess.
pub async fn verify_password(
    app: &AppState,
    caller: &Caller,
    record: &crate::store::UserRecord,
    candidate: &str,
) -> Result<bool, ApiError> {
    let ctx = context(&caller.meta);
    if let Some(until) = app.store.login_lock(&ctx, &record.user.email).await? {
        return Err(locked(until));
    }
    let matched = app
        .passwords
        .verify(candidate, Some(&record.password_hash))
        .await
        .map_err(ApiError::internal)?;
    if !matched {
        let failure = app
            .store
            .record_login_failure(
                &ctx,
                &record.user.email,
                Some(caller.user_id),
                app.config.lockout,
            )
            .await?;
        if let Some(until) = failure.locked_until {
            return Err(locked(until));
        }
    }
    Ok(matched)
}
