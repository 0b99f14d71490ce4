//! Users, roles, tokens and the auth requests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use utoipa::ToSchema;
use uuid::Uuid;

/// A user's role: what the API lets them do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Doctor,
    Admin,
    Receptionist,
}

super::string_enum!(Role);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    pub full_name: String,
    pub role: Role,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tokens {
    /// JWT HS256; send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque and single use.
    pub refresh_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: String,
    /// Seconds.
    pub expires_in: i64,
    /// Seconds.
    pub refresh_expires_in: i64,
    pub user_id: Uuid,
    pub role: Role,
    pub user: User,
    /// The account's role needs a second factor and it has none yet: every endpoint but
    /// `/auth/mfa/enroll`, `/auth/mfa/confirm`, `/auth/me`, `/auth/sessions`, `/auth/refresh`
    /// and `/auth/logout` answers 403 `MFA_ENROLLMENT_REQUIRED` until it is enrolled.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mfa_enrollment_required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    #[schema(schema_with = super::schema::password)]
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoggedOut {
    pub logged_out: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordChanged {
    pub changed: bool,
}

/// One of the caller's open sessions (`GET /auth/sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub id: Uuid,
    /// When the session was opened by a login.
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
    /// When it was last used, to within a thirtieth of the idle timeout.
    #[serde(with = "crate::model::time::millis")]
    pub last_used_at: DateTime<Utc>,
    /// When the idle timeout ends it unless it is used again.
    #[serde(with = "crate::model::time::millis")]
    pub idle_expires_at: DateTime<Utc>,
    /// When its absolute lifetime ends it.
    #[serde(with = "crate::model::time::millis")]
    pub expires_at: DateTime<Utc>,
    /// The client address that logged in, as the server saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The program that logged in (its User-Agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Whether this is the session of the token that asked.
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionEnded {
    pub ended: bool,
}

/// `POST /auth/mfa/verify`: the second step of a login that answered `MFA_REQUIRED`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaVerifyRequest {
    /// `details.mfa_token` of the login's `MFA_REQUIRED` answer.
    pub mfa_token: String,
    /// The current 6-digit code of the authenticator app, or one of the recovery codes.
    pub code: String,
}

/// `details` of a login's 401 `MFA_REQUIRED`: what `POST /auth/mfa/verify` needs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaChallenge {
    /// Short-lived (5 minutes) and good only for `POST /auth/mfa/verify`.
    pub mfa_token: String,
    /// Seconds.
    pub expires_in: i64,
}

/// `POST /auth/mfa/enroll`: a new secret for the authenticator app, not in force until
/// confirmed with a first code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaEnrollment {
    /// The shared secret in base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://totp/…` URI (SHA-1, 6 digits, 30 s), for a QR code.
    pub otpauth_uri: String,
}

/// `POST /auth/mfa/confirm`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaConfirmRequest {
    /// The current code of the app the secret was put in.
    pub code: String,
}

/// The answer of `POST /auth/mfa/confirm`: the second factor is on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaRecoveryCodes {
    /// Ten single-use codes, shown this once (the server keeps only their hashes).
    pub recovery_codes: Vec<String>,
}

/// The claims of a login's `mfa_token` (JWT HS256, `typ:"mfa"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MfaClaims {
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub typ: String,
}

/// The claims of an access token (JWT HS256).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub typ: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_the_wire_names() {
        crate::model::string_enum_agrees_with_serde(Role::VARIANTS, Role::as_str);
        assert_eq!(Role::parse("receptionist"), Some(Role::Receptionist));
        assert_eq!(Role::parse("root"), None);
    }
}
