//! Administration: user accounts as an admin sees them, and audit events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdminUser {
    pub id: Uuid,
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    pub full_name: String,
    pub role: Role,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis_opt")]
    pub locked_until: Option<DateTime<Utc>>,
    pub failed_logins: u32,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    #[schema(schema_with = super::schema::name)]
    pub full_name: String,
    pub role: Role,
    #[schema(schema_with = super::schema::password)]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    #[serde(with = "crate::model::time::millis")]
    pub at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub patient_id: Option<Uuid>,
    pub outcome: String,
    /// The server's own id of the request.
    pub request_id: String,
    /// The `X-Request-ID` the client sent, if any: the client's claim, kept for correlation.
    #[serde(default)]
    pub client_request_id: Option<String>,
    pub ip: Option<String>,
}

/// The body of an administrator's password reset: the account's new password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    #[schema(schema_with = super::schema::password)]
    pub password: String,
}

/// The answer of resetting an account's second factor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaReset {
    pub user_id: Uuid,
    /// Whether the account had a second factor (or a pending enrolment) to remove.
    pub had_mfa: bool,
}

/// The answer of revoking an account's sessions: how many were open.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionsRevoked {
    pub user_id: Uuid,
    pub revoked: u64,
}
