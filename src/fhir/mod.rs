//! The FHIR R4 view of a patient's record: each resource kind the FHIR API serves (`/fhir/r4`)
//! mapped from the model's types, one file per kind, and the Bundle, OperationOutcome and
//! CapabilityStatement around them. Plain JSON (`serde_json::Value`) built to the R4 shapes;
//! no HTTP, no database: the server's handlers read through the store and call these.

pub mod allergy;
pub mod bundle;
pub mod capability;
pub mod composition;
pub mod diagnostic_report;
pub mod encounter;
pub mod everything;
pub mod outcome;
pub mod patient;
pub mod provenance;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

/// The media type of every FHIR answer.
pub const MEDIA_TYPE: &str = "application/fhir+json";

/// The FHIR version served, as CapabilityStatement.fhirVersion names it.
pub const FHIR_VERSION: &str = "4.0.1";

/// LOINC's "Consult note", the document type of a consultation report.
pub const CONSULT_NOTE: (&str, &str, &str) = ("http://loinc.org", "11488-4", "Consult note");

/// What every mapping needs to know about where it is served from.
#[derive(Debug, Clone)]
pub struct Context {
    /// The service base URL, `https://host/fhir/r4`, without a trailing slash.
    pub base: String,
    /// The `system` of the MRN identifier (`fhir_mrn_system`).
    pub mrn_system: String,
}

impl Context {
    /// The absolute URL of a resource, as a Bundle entry's `fullUrl`.
    pub fn full_url(&self, kind: &str, id: &str) -> String {
        format!("{}/{kind}/{id}", self.base)
    }
}

/// `{"reference": "Kind/id"}`.
pub fn reference(kind: &str, id: Uuid) -> Value {
    json!({ "reference": format!("{kind}/{id}") })
}

/// An FHIR `instant`/`dateTime`: RFC 3339 with a zone, to the millisecond as the API keeps it.
pub fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `{"text": text}`: a concept known only by its words.
pub fn text_concept(text: &str) -> Value {
    json!({ "text": text })
}

/// A concept with one coding.
pub fn coded(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }] })
}

/// Narrative XHTML of plain text: escaped, a paragraph per line.
pub fn narrative(text: &str) -> Value {
    let paragraphs: String = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("<p>{}</p>", escape_xml(line)))
        .collect();
    let body = if paragraphs.is_empty() {
        "<p></p>".to_string()
    } else {
        paragraphs
    };
    json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>"),
    })
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // XHTML cannot hold control characters other than tab.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Drops the `null`s and empty arrays of an object, which FHIR JSON forbids ("elements must
/// have a value or children").
pub fn compact(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| match v {
            Value::Null => false,
            Value::Array(items) => !items.is_empty(),
            Value::String(s) => !s.is_empty(),
            _ => true,
        });
    }
    value
}

#[cfg(test)]
mod tests;
