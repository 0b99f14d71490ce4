//! The mappings' own checks; the FHIR validator's are in tests/api_fhir.rs.

use super::*;

#[test]
fn narrative_is_escaped_xhtml_a_paragraph_a_line() {
    let div = narrative("a < b & c\n\nsecond \u{7}line")["div"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        div,
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a &lt; b &amp; c</p><p>second line</p></div>"
    );
}

#[test]
fn compact_drops_what_fhir_forbids_empty() {
    let value = compact(serde_json::json!({ "a": null, "b": [], "c": "", "d": 1 }));
    assert_eq!(value, serde_json::json!({ "d": 1 }));
}

#[test]
fn outcomes_carry_our_code_and_message_back() {
    use axum::http::StatusCode;
    let outcome = outcome::error(StatusCode::NOT_FOUND, "NOT_FOUND", "No such record.");
    assert_eq!(outcome["issue"][0]["code"], "not-found");
    assert_eq!(
        crate::model::envelope::fhir_outcome_error(&outcome),
        Some(("NOT_FOUND".to_string(), "No such record.".to_string()))
    );
    assert_eq!(outcome::issue_type(StatusCode::UNAUTHORIZED), "login");
    assert_eq!(outcome::issue_type(StatusCode::BAD_REQUEST), "invalid");
}

#[test]
fn report_statuses_search_as_they_map() {
    use crate::model::report::ReportStatus;
    for status in ReportStatus::ALL {
        let fhir = diagnostic_report::status(*status);
        if let Some(back) = diagnostic_report::searched_status(fhir) {
            assert_eq!(back, *status);
        } else {
            assert_eq!(fhir, "registered");
        }
    }
}
