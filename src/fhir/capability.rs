//! CapabilityStatement: exactly what `/fhir/r4` serves, no more: the reads, the searches and
//! their parameters, `$everything`, JSON only, and the resource kinds that appear only inside
//! `$everything`.

use serde_json::{Value, json};

use super::{Context, FHIR_VERSION, MEDIA_TYPE};

fn param(name: &str, kind: &str, documentation: &str) -> Value {
    json!({ "name": name, "type": kind, "documentation": documentation })
}

/// `date` is when these capabilities were built (the build's date).
pub fn statement(context: &Context, date: &str) -> Value {
    let read = json!({ "code": "read" });
    let search = json!({ "code": "search-type" });
    let only_in_everything = |kind: &str| {
        json!({
            "type": kind,
            "documentation": "Not read or searched by itself: it comes in Patient/{id}/$everything.",
        })
    };
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Synapse",
        "kind": "instance",
        "software": { "name": "Synapse", "version": env!("CARGO_PKG_VERSION") },
        "implementation": {
            "description": "Synapse clinical API, read-only FHIR R4 view",
            "url": context.base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": [MEDIA_TYPE, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. Results page by `_count` (1-100, default 20) and the `next` link. Unknown search parameters answer 400. Another doctor's patient is not found.",
            "security": {
                "cors": false,
                "description": "A Synapse access token as `Authorization: Bearer` (POST /api/v1/auth/login), of a doctor account; each doctor reads only their own patients. Every read is audited.",
            },
            "resource": [
                {
                    "type": "Patient",
                    "interaction": [read, search],
                    "searchParam": [
                        param("name", "string", "Every word starts a word of the name, ignoring case and accents."),
                        param("identifier", "token", "The MRN, as `system|value` or `value`."),
                        param("birthdate", "date", "The date of birth, a full date (YYYY-MM-DD), equal only."),
                    ],
                    "operation": [{
                        "name": "everything",
                        "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                        "documentation": "The whole record, without parameters: Patient, AllergyIntolerance, Encounter, DiagnosticReport, Composition, Provenance.",
                    }],
                },
                {
                    "type": "Encounter",
                    "interaction": [read, search],
                    "searchParam": [
                        param("patient", "reference", "Required: `Patient/{id}` or the id."),
                    ],
                },
                {
                    "type": "DiagnosticReport",
                    "interaction": [read, search],
                    "searchParam": [
                        param("patient", "reference", "`Patient/{id}` or the id."),
                        param("status", "token", "One of partial, preliminary, final."),
                    ],
                },
                only_in_everything("AllergyIntolerance"),
                only_in_everything("Composition"),
                only_in_everything("Provenance"),
            ],
        }],
    })
}
