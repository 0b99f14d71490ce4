//! AllergyIntolerance: one per allergy on the chart, or one "no known allergy" when the chart
//! says none are known; nothing when allergies were never recorded (FHIR's absence of a
//! resource means exactly "not recorded").

use serde_json::{Value, json};

use super::{compact, reference};
use crate::model::patient::{Allergy, AllergyStatus, Patient};

const CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
const VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
/// SNOMED CT 716186003 "No known allergy", the code FHIR's guidance gives for that statement.
const NO_KNOWN_ALLERGY: (&str, &str, &str) =
    ("http://snomed.info/sct", "716186003", "No known allergy");

/// The chart's allergies as resources, with ids `<patient id>-allergy-<n>` (n from 1, in the
/// chart's order) and `<patient id>-no-known-allergy`.
pub fn of_chart(patient: &Patient) -> Vec<Value> {
    let id = patient.summary.id;
    match patient.allergies.status {
        AllergyStatus::NotRecorded => Vec::new(),
        AllergyStatus::NoneKnown => vec![json!({
            "resourceType": "AllergyIntolerance",
            "id": format!("{id}-no-known-allergy"),
            "clinicalStatus": status(CLINICAL, "active", "Active"),
            "verificationStatus": status(VERIFICATION, "confirmed", "Confirmed"),
            "code": {
                "coding": [{
                    "system": NO_KNOWN_ALLERGY.0,
                    "code": NO_KNOWN_ALLERGY.1,
                    "display": NO_KNOWN_ALLERGY.2,
                }],
                "text": "No known allergies",
            },
            "patient": reference("Patient", id),
        })],
        AllergyStatus::Known => patient
            .allergies
            .items
            .iter()
            .enumerate()
            .map(|(n, allergy)| item(patient, n + 1, allergy))
            .collect(),
    }
}

fn status(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }] })
}

/// FHIR's reaction severity, when the chart's words are one of its three.
fn severity(text: &str) -> Option<&'static str> {
    match text.trim().to_lowercase().as_str() {
        "mild" => Some("mild"),
        "moderate" => Some("moderate"),
        "severe" => Some("severe"),
        _ => None,
    }
}

fn item(patient: &Patient, n: usize, allergy: &Allergy) -> Value {
    let coded_severity = allergy.severity.as_deref().and_then(severity);
    // A severity in other words, or one without a reaction to hang it on, is kept as a note.
    let severity_note = match (&allergy.reaction, &allergy.severity, coded_severity) {
        (Some(_), Some(_), Some(_)) | (_, None, _) => None,
        (_, Some(words), _) => Some(format!("Severity: {words}")),
    };
    let reaction = allergy.reaction.as_ref().map(|reaction| {
        vec![compact(json!({
            "manifestation": [{ "text": reaction }],
            "severity": coded_severity,
        }))]
    });
    compact(json!({
        "resourceType": "AllergyIntolerance",
        "id": format!("{}-allergy-{n}", patient.summary.id),
        "clinicalStatus": status(CLINICAL, "active", "Active"),
        "code": { "text": allergy.substance },
        "patient": reference("Patient", patient.summary.id),
        "reaction": reaction,
        "note": severity_note.map(|text| vec![json!({ "text": text })]),
    }))
}
