//! Provenance: one per signature, saying who legally authenticated the report and when. The
//! signature is the doctor's password-confirmed act in Synapse, not a digital signature, so no
//! `signature` element claims one.

use serde_json::{Value, json};

use super::{instant, reference};
use crate::model::report::Report;

/// The Provenance of a signed report, `None` for an unsigned one; id `<report id>-signature`.
pub fn of_signature(report: &Report) -> Option<Value> {
    let signed_at = report.summary.signed_at?;
    let signer = report.signed_by.as_ref()?;
    let id = report.summary.id;
    Some(json!({
        "resourceType": "Provenance",
        "id": format!("{id}-signature"),
        "target": [reference("DiagnosticReport", id), reference("Composition", id)],
        "occurredDateTime": instant(signed_at),
        "recorded": instant(signed_at),
        "activity": {
            "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion",
                "code": "LA",
                "display": "legally authenticated",
            }],
        },
        "agent": [{
            "type": {
                "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                    "code": "attester",
                    "display": "Attester",
                }],
            },
            "who": { "display": signer.full_name },
        }],
    }))
}
