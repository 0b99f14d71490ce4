//! DiagnosticReport: one per consultation report, its status in FHIR's words, the assessment
//! as the conclusion and the diagnoses as conclusion codes. The text itself is the report's
//! Composition.

use serde_json::{Value, json};

use super::{CONSULT_NOTE, compact, instant, reference};
use crate::model::report::{Diagnosis, Report, ReportStatus, ReportSummary};

/// Our status as FHIR's: a report waiting for its draft (or whose draft failed and is to be
/// written by hand) is `registered`; a draft being generated `partial`; a draft ready for
/// review `preliminary`; a signed report `final`.
pub fn status(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Pending | ReportStatus::Failed => "registered",
        ReportStatus::Generating => "partial",
        ReportStatus::Completed => "preliminary",
        ReportStatus::Signed => "final",
    }
}

/// The one status a FHIR status searches for; `registered` stands for two of ours and is not
/// searchable by itself (see `server::fhir`).
pub fn searched_status(fhir: &str) -> Option<ReportStatus> {
    match fhir {
        "partial" => Some(ReportStatus::Generating),
        "preliminary" => Some(ReportStatus::Completed),
        "final" => Some(ReportStatus::Signed),
        _ => None,
    }
}

fn code(report_type: &str) -> Value {
    json!({
        "coding": [{ "system": CONSULT_NOTE.0, "code": CONSULT_NOTE.1, "display": CONSULT_NOTE.2 }],
        "text": report_type,
    })
}

fn diagnosis(diagnosis: &Diagnosis) -> Value {
    // The code's system is not recorded with it, so it travels as text beside the words.
    let text = match &diagnosis.code {
        Some(code) => format!("{code} {}", diagnosis.description),
        None => diagnosis.description.clone(),
    };
    json!({ "text": text })
}

/// From a list row: what a search shows.
pub fn from_summary(summary: &ReportSummary) -> Value {
    resource(summary, None)
}

/// From the whole report, with its conclusion and the signer.
pub fn from_report(report: &Report) -> Value {
    resource(&report.summary, Some(report))
}

fn resource(summary: &ReportSummary, report: Option<&Report>) -> Value {
    let content = report.map(|r| &r.content);
    compact(json!({
        "resourceType": "DiagnosticReport",
        "id": summary.id.to_string(),
        "meta": { "lastUpdated": instant(summary.updated_at) },
        "status": status(summary.status),
        "code": code(&summary.report_type),
        "subject": reference("Patient", summary.patient.id),
        "encounter": reference("Encounter", summary.consultation.id),
        "effectiveDateTime": instant(summary.consultation.started_at),
        "issued": instant(summary.signed_at.unwrap_or(summary.updated_at)),
        "resultsInterpreter": report
            .and_then(|r| r.signed_by.as_ref())
            .map(|signer| vec![json!({ "display": signer.full_name })]),
        "conclusion": content.and_then(|c| c.assessment.clone()),
        "conclusionCode": content.map(|c| c.diagnoses.iter().map(diagnosis).collect::<Vec<_>>()),
    }))
}
