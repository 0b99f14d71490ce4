//! Patient: the chart's demographics and contacts, the MRN as an `identifier` of the
//! configured system, and the doctor the patient is registered with.

use serde_json::{Value, json};

use super::{Context, compact, instant};
use crate::model::patient::{Patient, PatientSummary, Sex};

/// HL7's identifier type "Medical record number".
const MR: (&str, &str, &str) = (
    "http://terminology.hl7.org/CodeSystem/v2-0203",
    "MR",
    "Medical record number",
);

fn gender(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Other => "other",
        Sex::Unknown => "unknown",
    }
}

/// The name as written, and split as the patient list sorts it: the last word the family
/// name, the words before it the given names.
fn name(full_name: &str) -> Value {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    let (family, given) = match words.split_last() {
        Some((family, given)) => (Some(*family), given.to_vec()),
        None => (None, Vec::new()),
    };
    compact(json!({
        "use": "official",
        "text": full_name,
        "family": family,
        "given": given,
    }))
}

/// The MRN as an identifier of `system`.
pub fn mrn_identifier(context: &Context, mrn: &str) -> Value {
    json!({
        "use": "usual",
        "type": { "coding": [{ "system": MR.0, "code": MR.1, "display": MR.2 }] },
        "system": context.mrn_system,
        "value": mrn,
    })
}

/// A patient from a list row (search results).
pub fn from_summary(context: &Context, summary: &PatientSummary) -> Value {
    resource(context, summary, None, None)
}

/// A patient from the chart.
pub fn from_chart(context: &Context, patient: &Patient) -> Value {
    resource(
        context,
        &patient.summary,
        patient.address.as_deref(),
        Some(patient),
    )
}

fn resource(
    context: &Context,
    summary: &PatientSummary,
    address: Option<&str>,
    chart: Option<&Patient>,
) -> Value {
    let mut telecom = Vec::new();
    if let Some(phone) = &summary.phone {
        telecom.push(json!({ "system": "phone", "value": phone }));
    }
    if let Some(email) = &summary.email {
        telecom.push(json!({ "system": "email", "value": email }));
    }
    compact(json!({
        "resourceType": "Patient",
        "id": summary.id.to_string(),
        "meta": chart.map(|p| json!({ "lastUpdated": instant(p.updated_at) })),
        "identifier": [mrn_identifier(context, &summary.mrn)],
        "active": true,
        "name": [name(&summary.full_name)],
        "telecom": telecom,
        "gender": gender(summary.sex),
        "birthDate": summary.date_of_birth.to_string(),
        "address": address.map(|text| vec![json!({ "text": text })]),
        "generalPractitioner": [{ "display": summary.doctor.full_name }],
    }))
}
