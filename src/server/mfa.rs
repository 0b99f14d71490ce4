//! `/auth/mfa/*`: enrolling a TOTP second factor (a secret the server makes, confirmed with a
//! first code, ten recovery codes), the second step of a login, and the code check that
//! signing shares. A wrong code counts towards the login lockout like a wrong password.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use super::AppState;
use super::auth::{Caller, Enrolling, Meta, context, limit_login, locked, signed_in};
use super::error::{ApiError, ApiResult, Success};
use super::extract::{Json, NoQuery};
use super::openapi;
use super::tokens::MFA_TOKEN_TTL_S;
use super::totp::{self, Match, Typed};
use crate::model::auth::*;
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope, code};
use crate::store::cipher;
use crate::store::mfa::MfaRecord;
use crate::store::{RequestContext, UserRecord};
use crate::telemetry::{self, Login};

/// The login's answer when the password was right and a code is needed next.
pub fn mfa_required(app: &AppState, user_id: uuid::Uuid) -> Result<ApiError, ApiError> {
    let token = app.tokens.issue_mfa(user_id).map_err(ApiError::internal)?;
    Ok(ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::MFA_REQUIRED,
        "The password is right; this account also needs the code from its authenticator app (or a recovery code).",
    )
    .with_details(json!(MfaChallenge {
        mfa_token: token,
        expires_in: MFA_TOKEN_TTL_S,
    })))
}

fn code_invalid(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code::MFA_CODE_INVALID, message)
}

fn already_enabled() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        code::MFA_ALREADY_ENABLED,
        "This account already has a second factor. To enrol a new phone, ask an administrator to reset it.",
    )
}

/// Seconds since the epoch, as TOTP counts them.
fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// Checks a code (TOTP or recovery) of an account with a confirmed second factor. A TOTP code
/// is accepted once: its step must be later than the last accepted one. A wrong or used code
/// counts towards the lockout; a locked email is refused before any check.
pub async fn check_code(
    app: &AppState,
    ctx: &RequestContext,
    record: &UserRecord,
    mfa: &MfaRecord,
    typed: &str,
) -> Result<(), ApiError> {
    if let Some(until) = app.store.login_lock(ctx, &record.user.email).await? {
        return Err(locked(until));
    }
    let user_id = record.user.id;
    let refusal = match totp::classify(typed) {
        Typed::Totp(digits) => {
            let secret = opened_secret(mfa)?;
            match totp::match_code(&secret, &digits, unix_now(), mfa.last_step)
                .map_err(ApiError::internal)?
            {
                Match::Fresh(step) => {
                    let step = i64::try_from(step).unwrap_or(i64::MAX);
                    if app.store.accept_mfa_step(user_id, step).await? {
                        return Ok(());
                    }
                    "This code was just used. Wait for the next code of your authenticator app."
                }
                Match::Used => {
                    "This code was already used. Wait for the next code of your authenticator app."
                }
                Match::Wrong => {
                    "The code is not correct. Type the current code of your authenticator app, or a recovery code."
                }
            }
        }
        Typed::Recovery(text) => {
            if !text.is_empty()
                && app
                    .store
                    .use_recovery_code(ctx, user_id, &totp::recovery_hash(&text))
                    .await?
            {
                return Ok(());
            }
            "The code is not correct. Type the current code of your authenticator app, or a recovery code not used before."
        }
    };
    let failure = app
        .store
        .record_login_failure(ctx, &record.user.email, Some(user_id), app.config.lockout)
        .await?;
    Err(match failure.locked_until {
        Some(until) => {
            telemetry::lockout();
            locked(until)
        }
        None => code_invalid(refusal),
    })
}

/// The second step of a login
///
/// Takes the `mfa_token` of the login's 401 `MFA_REQUIRED` answer and the current code of the
/// authenticator app, or one of the recovery codes (each works once). Answers the tokens, as a
/// login does. A code is accepted once; a wrong or used code answers 401 `MFA_CODE_INVALID`
/// and counts towards the lockout like a wrong password. Limited like logins, per address.
#[utoipa::path(
    post,
    path = "/api/v1/auth/mfa/verify",
    tag = "auth",
    operation_id = "verifyMfa",
    request_body = MfaVerifyRequest,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Tokens>),
        (status = 401, description = openapi::errors("Not authenticated", &[code::UNAUTHENTICATED, code::MFA_CODE_INVALID]), body = ErrorEnvelope),
        (status = 403, description = openapi::errors("Forbidden", &[code::ACCOUNT_DISABLED]), body = ErrorEnvelope),
        (status = 423, description = openapi::errors("Account locked", &[code::ACCOUNT_LOCKED]), body = ErrorEnvelope),
        (status = 429, description = openapi::errors("Too many requests", &[code::RATE_LIMITED]), body = ErrorEnvelope),
    ),
)]
pub async fn verify(
    State(app): State<AppState>,
    Meta(meta): Meta,
    _: NoQuery,
    headers: axum::http::HeaderMap,
    Json(body): Json<MfaVerifyRequest>,
) -> ApiResult<Tokens> {
    if body.code.trim().is_empty() {
        return Err(ApiError::field(
            "code",
            "must not be empty: type the code of your authenticator app",
        ));
    }
    if body.code.len() > 64 {
        return Err(ApiError::field("code", "is too long for a code"));
    }
    let expired = || {
        ApiError::unauthenticated(
            "This sign-in step is not valid or has expired (5 minutes). Log in again with your password.",
        )
    };
    if body.mfa_token.len() > 2048 {
        return Err(expired());
    }
    let user_id = app
        .tokens
        .check_mfa(&body.mfa_token)
        .map_err(|_| expired())?;
    limit_login(&app, meta.ip)?;
    let ctx = context(&meta);
    let record = app.store.user_by_id(user_id).await?.ok_or_else(expired)?;
    if record.disabled {
        telemetry::login(Login::Disabled);
        return Err(super::auth::account_disabled());
    }
    let mfa = app
        .store
        .mfa_record(user_id)
        .await?
        .filter(|m| m.enabled)
        .ok_or_else(expired)?;
    if let Err(error) = check_code(&app, &ctx, &record, &mfa, &body.code).await {
        telemetry::login(Login::Failure);
        return Err(error);
    }
    // The account has its second factor, so no enrolment is due.
    signed_in(&app, &ctx, &headers, record.user, false)
        .await
        .map(Success)
}

/// Start enrolling a second factor
///
/// Makes a new TOTP secret (SHA-1, 6 digits, 30 s) for the caller and answers it as text and as
/// an `otpauth://` URI for a QR code. It is not in force until `POST /auth/mfa/confirm` brings
/// a first code; enrolling again before that replaces it. An account that has a second factor
/// already answers 409 `MFA_ALREADY_ENABLED` (an administrator can reset it). Every role.
#[utoipa::path(
    post,
    path = "/api/v1/auth/mfa/enroll",
    tag = "auth",
    operation_id = "enrollMfa",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<MfaEnrollment>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::MFA_ALREADY_ENABLED]), body = ErrorEnvelope),
    ),
)]
pub async fn enroll(
    State(app): State<AppState>,
    Enrolling(caller): Enrolling,
    _: NoQuery,
) -> ApiResult<MfaEnrollment> {
    if caller.mfa {
        return Err(already_enabled());
    }
    let record = app
        .store
        .user_by_id(caller.user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let secret = totp::new_secret();
    // Sealed under the data keys like every other secret of a record, so it follows their
    // rotation (`synapse admin rotate-key`) and not the token signing secret's.
    let sealed = cipher::seal(&totp::secret_text(&secret))?;
    if !app.store.begin_mfa(&caller.actor(), &sealed).await? {
        return Err(already_enabled());
    }
    Ok(Success(MfaEnrollment {
        secret: totp::secret_text(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, &record.user.email).map_err(ApiError::internal)?,
    }))
}

/// Turn the second factor on
///
/// Takes the current code of the app the enrolment's secret was put in. Answers ten
/// single-use recovery codes, shown this once (the server keeps only their hashes). From then
/// on a login needs a code after the password, and so does signing a report. A wrong code
/// answers 422 naming `code`; no enrolment started answers 409 `INVALID_STATE`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/mfa/confirm",
    tag = "auth",
    operation_id = "confirmMfa",
    security(("bearer" = [])),
    request_body = MfaConfirmRequest,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<MfaRecoveryCodes>),
        (status = 409, description = openapi::errors("Conflict with the resource's current state", &[code::MFA_ALREADY_ENABLED, code::INVALID_STATE]), body = ErrorEnvelope),
        (status = 422, description = openapi::errors("Validation failed", &[code::VALIDATION_ERROR]), body = ErrorEnvelope),
    ),
)]
pub async fn confirm(
    State(app): State<AppState>,
    Enrolling(caller): Enrolling,
    _: NoQuery,
    Json(body): Json<MfaConfirmRequest>,
) -> ApiResult<MfaRecoveryCodes> {
    let Some(mfa) = app.store.mfa_record(caller.user_id).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            code::INVALID_STATE,
            "No enrolment was started. Start one with POST /auth/mfa/enroll, then confirm its first code.",
        ));
    };
    if mfa.enabled {
        return Err(already_enabled());
    }
    let wrong = || {
        ApiError::field(
            "code",
            "is not the current code for this secret: check the app's clock and type the 6 digits it shows now",
        )
    };
    let Typed::Totp(digits) = totp::classify(&body.code) else {
        return Err(ApiError::field(
            "code",
            "must be the 6 digits your authenticator app shows",
        ));
    };
    let secret = opened_secret(&mfa)?;
    let Match::Fresh(step) =
        totp::match_code(&secret, &digits, unix_now(), 0).map_err(ApiError::internal)?
    else {
        return Err(wrong());
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if !app.store.enable_mfa(&caller.actor(), step, &hashes).await? {
        return Err(already_enabled());
    }
    Ok(Success(MfaRecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Signing's second factor: when the signer has one, `code` must be given and right.
pub async fn check_signing_code(
    app: &AppState,
    caller: &Caller,
    record: &UserRecord,
    typed: Option<&str>,
) -> Result<(), ApiError> {
    if !caller.mfa {
        return Ok(());
    }
    let Some(mfa) = app
        .store
        .mfa_record(caller.user_id)
        .await?
        .filter(|m| m.enabled)
    else {
        return Ok(());
    };
    let typed = typed.map(str::trim).unwrap_or_default();
    if typed.is_empty() {
        return Err(ApiError::field(
            "code",
            "is required to sign: your account has a second factor; type the current code of your authenticator app",
        ));
    }
    check_code(app, &context(&caller.meta), record, &mfa, typed)
        .await
        .map_err(|error| {
            if error.code == code::MFA_CODE_INVALID {
                code_invalid(
                    "The code is not correct, or was already used; the report was not signed. Type the current code of your authenticator app.",
                )
            } else {
                error
            }
        })
}

/// The shared secret of an enrolment, opened with the data keys. A key the server lacks is the
/// store's error naming it; a value that opens to no secret is an error saying how to recover.
fn opened_secret(mfa: &MfaRecord) -> Result<Vec<u8>, ApiError> {
    let text = cipher::open(&mfa.sealed_secret)?;
    totp::secret_from_text(&text).map_err(|error| {
        ApiError::internal(format!(
            "a second factor's stored secret cannot be read ({error}): an administrator resets it (synapse admin reset-mfa) and the account enrols again"
        ))
    })
}
