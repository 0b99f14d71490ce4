//! Composition: a consultation report as a document, a section per part of its content (the
//! same parts, in the same order, as the export prints) and one per addendum, each with its
//! text as narrative. Signed reports are `final` and name their legal attester.

use serde_json::{Value, json};

use super::{CONSULT_NOTE, compact, instant, narrative, reference};
use crate::model::report::{Report, ReportStatus};

fn section(title: &str, text: &str) -> Value {
    json!({ "title": title, "text": narrative(text) })
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("• {item}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report as a Composition; `author` is the doctor whose patient it is (who wrote it).
pub fn from_report(report: &Report, author: &str) -> Value {
    let summary = &report.summary;
    let content = &report.content;
    let mut sections = Vec::new();
    let texts = [
        ("History", &content.history),
        ("Mental status", &content.mental_status),
        ("Assessment", &content.assessment),
    ];
    for (title, text) in texts {
        if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
            sections.push(section(title, text));
        }
    }
    if !content.diagnoses.is_empty() {
        let lines: Vec<String> = content
            .diagnoses
            .iter()
            .map(|d| match &d.code {
                Some(code) => format!("{code} {}", d.description),
                None => d.description.clone(),
            })
            .collect();
        sections.push(section("Diagnoses", &list(&lines)));
    }
    if !content.medication_plan.is_empty() {
        let lines: Vec<String> = content
            .medication_plan
            .iter()
            .map(|m| m.summary())
            .collect();
        sections.push(section("Medication plan", &list(&lines)));
    }
    if !content.recommendations.is_empty() {
        sections.push(section("Recommendations", &list(&content.recommendations)));
    }
    if let Some(text) = content
        .follow_up
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        sections.push(section("Follow-up", text));
    }
    for addendum in &report.addenda {
        sections.push(compact(json!({
            "title": format!("Addendum, {}", instant(addendum.created_at)),
            "author": [{ "display": addendum.author.full_name }],
            "text": narrative(&addendum.text),
        })));
    }
    let signed = summary.status == ReportStatus::Signed;
    let attester = match (signed, summary.signed_at, &report.signed_by) {
        (true, Some(at), Some(signer)) => Some(vec![json!({
            "mode": "legal",
            "time": instant(at),
            "party": { "display": signer.full_name },
        })]),
        _ => None,
    };
    compact(json!({
        "resourceType": "Composition",
        "id": summary.id.to_string(),
        "meta": { "lastUpdated": instant(summary.updated_at) },
        "status": if signed { "final" } else { "preliminary" },
        "type": {
            "coding": [{ "system": CONSULT_NOTE.0, "code": CONSULT_NOTE.1, "display": CONSULT_NOTE.2 }],
            "text": summary.report_type,
        },
        "subject": reference("Patient", summary.patient.id),
        "encounter": reference("Encounter", summary.consultation.id),
        "date": instant(summary.signed_at.unwrap_or(summary.updated_at)),
        "author": [{ "display": author }],
        "title": format!("Consultation report, {}", summary.consultation.started_at.date_naive()),
        "attester": attester,
        "section": sections,
    }))
}
