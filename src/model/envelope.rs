//! The two envelopes every response uses, and the error codes of API.md.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Ref, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema};

/// `{"status":"success","data":...,"request_id":...}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuccessEnvelope<T> {
    /// Always `success`.
    #[schema(schema_with = success_status)]
    pub status: String,
    pub data: T,
    /// The id of this request, as in the `X-Request-ID` header.
    pub request_id: String,
}

/// `{"status":"error","error":{...},"request_id":...}`: the body of every error (every
/// non-2xx status, unknown routes included). A 500 never leaks internals: the request id is
/// the handle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always `error`.
    #[schema(schema_with = error_status)]
    pub status: String,
    pub error: ErrorBody,
    /// The id of this request, as in the `X-Request-ID` header.
    pub request_id: String,
}

/// What went wrong: a stable code for programs, a message for people, and details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    #[schema(schema_with = error_code)]
    pub code: String,
    /// For a person: what happened and what to do next.
    pub message: String,
    #[serde(default)]
    #[schema(schema_with = error_details)]
    pub details: serde_json::Value,
}

/// One rejected field of a request, as in `details.fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field, as a path: `allergies.items[0].substance`.
    #[schema(example = "date_of_birth")]
    pub field: String,
    #[schema(example = "must be a past date")]
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

fn constant(value: &str) -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([value]))
            .build(),
    ))
}

fn success_status() -> RefOr<Schema> {
    constant("success")
}

fn error_status() -> RefOr<Schema> {
    constant("error")
}

/// Every code of [`code::ALL`], each with what it means.
fn error_code() -> RefOr<Schema> {
    let meanings: Vec<String> = code::ALL
        .iter()
        .map(|(code, meaning)| format!("- `{code}`: {meaning}"))
        .collect();
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(code::ALL.iter().map(|(code, _)| *code)))
            .description(Some(format!(
                "A stable code for programs:\n\n{}",
                meanings.join("\n")
            )))
            .build(),
    ))
}

/// `details`: always an object, `{}` when there is nothing to add; the documented keys.
fn error_details() -> RefOr<Schema> {
    let timestamp = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)));
    let uuid = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Code-specific: `fields` (422), `retry_after_s` (429), `locked_until` (423), \
                 `consultation_id` (409 `CONSULTATION_ACTIVE`).",
            ))
            .property(
                "fields",
                ArrayBuilder::new().items(Ref::from_schema_name(FieldError::name())),
            )
            .property(
                "retry_after_s",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .property("locked_until", timestamp)
            .property("consultation_id", uuid)
            .build(),
    ))
}

/// Declares each error code once: a constant the server answers with, and a row of [`ALL`]
/// (the code and what it means for a caller) that the OpenAPI document lists.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal: $meaning:literal,)*) => {
        $($(#[$doc])* pub const $name: &str = $code;)*

        /// Every code, with what it means for a caller.
        pub const ALL: &[(&str, &str)] = &[$(($code, $meaning)),*];
    };
}

/// The error codes of API.md (and the few this project added, documented in docs/API.md).
pub mod code {
    error_codes! {
        UNAUTHENTICATED = "UNAUTHENTICATED":
            "no bearer token, or one that is malformed or not valid",
        TOKEN_EXPIRED = "TOKEN_EXPIRED": "the access token has expired; refresh it",
        SESSION_REVOKED = "SESSION_REVOKED":
            "the session was logged out, disabled or revoked (refresh token reuse)",
        SESSION_EXPIRED = "SESSION_EXPIRED":
            "the session ended by the server's idle timeout or absolute lifetime; log in again",
        INVALID_CREDENTIALS = "INVALID_CREDENTIALS":
            "wrong email or password (the same answer for both)",
        ACCOUNT_LOCKED = "ACCOUNT_LOCKED":
            "too many failed logins; `details.locked_until` says until when",
        ACCOUNT_DISABLED = "ACCOUNT_DISABLED": "the account was disabled by an admin",
        FORBIDDEN = "FORBIDDEN": "the caller's role may not use this endpoint",
        NOT_FOUND = "NOT_FOUND":
            "no such resource, or it is not the caller's (the two are indistinguishable)",
        METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED": "the path exists but not with this method",
        VALIDATION_ERROR = "VALIDATION_ERROR":
            "malformed JSON, unknown or bad fields or query values; `details.fields` names each",
        PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE": "the request body is over 1 MiB",
        UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE": "the request body is not JSON",
        CONFLICT = "CONFLICT": "the resource already exists (e.g. an email in use)",
        CONSULTATION_ACTIVE = "CONSULTATION_ACTIVE":
            "the patient already has a consultation in progress; `details.consultation_id` names it",
        VERSION_CONFLICT = "VERSION_CONFLICT":
            "the report changed since it was read; reload it and edit the new version",
        REPORT_SIGNED = "REPORT_SIGNED": "the report is signed and its content immutable",
        INVALID_STATE = "INVALID_STATE":
            "the resource is not in a state that allows this (e.g. a consultation that ended)",
        RATE_LIMITED = "RATE_LIMITED":
            "too many requests; retry after `Retry-After` seconds (`details.retry_after_s`)",
        INTERNAL = "INTERNAL_ERROR":
            "an unexpected failure; the request id is the handle, nothing internal leaks",
        UNAVAILABLE = "SERVICE_UNAVAILABLE":
            "the service cannot answer now (e.g. the database is unreachable)",
        REQUEST_TIMEOUT = "REQUEST_TIMEOUT":
            "the request body did not arrive in time (`body_timeout_s`); send it again",
        MFA_REQUIRED = "MFA_REQUIRED":
            "the password is right and a second factor is needed: send `details.mfa_token` and a code to `/auth/mfa/verify`",
        MFA_CODE_INVALID = "MFA_CODE_INVALID":
            "the authenticator or recovery code is wrong, or was already used; it counts towards the lockout",
        MFA_ENROLLMENT_REQUIRED = "MFA_ENROLLMENT_REQUIRED":
            "the account's role needs a second factor: enrol with `/auth/mfa/enroll` and `/auth/mfa/confirm` first",
        MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED":
            "the account already has a second factor; an administrator can reset it",
    }

    /// What `code` means for a caller, or `""` for a code that is not one of [`ALL`].
    pub fn meaning(code: &str) -> &'static str {
        ALL.iter()
            .find(|(name, _)| *name == code)
            .map_or("", |(_, meaning)| meaning)
    }
}

/// The system of our error codes (`NOT_FOUND`, `VALIDATION_ERROR`, …) in the `issue.details`
/// of the FHIR API's OperationOutcomes.
pub const FHIR_ERROR_CODE_SYSTEM: &str = "urn:synapse:error-code";

/// Our error code and message from an OperationOutcome of the FHIR API, for its clients.
pub fn fhir_outcome_error(outcome: &serde_json::Value) -> Option<(String, String)> {
    let issue = outcome["issue"].get(0)?;
    let code = issue["details"]["coding"]
        .as_array()?
        .iter()
        .find(|c| c["system"] == FHIR_ERROR_CODE_SYSTEM)?["code"]
        .as_str()?
        .to_string();
    let message = issue["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Some((code, message))
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn every_code_is_listed_once_in_upper_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for (name, meaning) in code::ALL {
            assert!(seen.insert(*name), "{name} twice");
            assert!(!meaning.is_empty(), "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{name}"
            );
        }
        assert_eq!(code::meaning(code::INTERNAL), code::ALL[19].1);
        assert_eq!(code::meaning("NO_SUCH_CODE"), "");
    }
}
