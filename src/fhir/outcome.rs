//! OperationOutcome: every failure of the FHIR API, from the API's own error (its status,
//! code and message for people) with FHIR's issue type beside our code.

use axum::http::StatusCode;
use serde_json::{Value, json};

/// The system of our error codes (`NOT_FOUND`, `VALIDATION_ERROR`, …) in `issue.details`.
pub const ERROR_CODE_SYSTEM: &str = "urn:synapse:error-code";

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

/// Our error code and message from an OperationOutcome this API wrote, for its clients.
pub fn code_and_message(outcome: &Value) -> Option<(String, String)> {
    let issue = outcome["issue"].get(0)?;
    let code = issue["details"]["coding"]
        .as_array()?
        .iter()
        .find(|c| c["system"] == ERROR_CODE_SYSTEM)?["code"]
        .as_str()?
        .to_string();
    let message = issue["diagnostics"].as_str().unwrap_or_default().to_string();
    Some((code, message))
}
