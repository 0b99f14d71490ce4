//! OperationOutcome: every failure of the FHIR API, from the API's own error (its status,
//! code and message for people) with FHIR's issue type beside our code.

use axum::http::StatusCode;
use serde_json::{Value, json};

pub use crate::model::envelope::FHIR_ERROR_CODE_SYSTEM as ERROR_CODE_SYSTEM;

/// FHIR's issue type for an answer of `status`.
pub fn issue_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 | 410 => "not-found",
        405 | 406 | 415 => "not-supported",
        409 => "conflict",
        413 => "too-costly",
        429 => "throttled",
        503 => "transient",
        _ => "exception",
    }
}

/// An OperationOutcome of one error issue.
pub fn error(status: StatusCode, code: &str, message: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "error",
            "code": issue_type(status),
            "details": {
                "coding": [{ "system": ERROR_CODE_SYSTEM, "code": code }],
                "text": message,
            },
            "diagnostics": message,
        }],
    })
}
