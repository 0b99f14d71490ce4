//! The two envelopes every response uses, and the error codes of API.md.

use serde::{Deserialize, Serialize};

/// `{"status":"success","data":...,"request_id":...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuccessEnvelope<T> {
    pub status: String,
    pub data: T,
    pub request_id: String,
}

/// `{"status":"error","error":{...},"request_id":...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub status: String,
    pub error: ErrorBody,
    pub request_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: serde_json::Value,
}

/// One rejected field of a request, as in `details.fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The error codes of API.md (and the few this project added, documented in docs/API.md).
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const TOKEN_EXPIRED: &str = "TOKEN_EXPIRED";
    pub const SESSION_REVOKED: &str = "SESSION_REVOKED";
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const ACCOUNT_LOCKED: &str = "ACCOUNT_LOCKED";
    pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const CONFLICT: &str = "CONFLICT";
    pub const CONSULTATION_ACTIVE: &str = "CONSULTATION_ACTIVE";
    pub const VERSION_CONFLICT: &str = "VERSION_CONFLICT";
    pub const REPORT_SIGNED: &str = "REPORT_SIGNED";
    pub const INVALID_STATE: &str = "INVALID_STATE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL_ERROR";
    pub const UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
}
