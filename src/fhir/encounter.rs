//! Encounter: one per consultation, with its status, class, period and reason.

use serde_json::{Value, json};

use super::{compact, instant, reference};
use crate::model::consultation::Consultation;
use crate::model::status::{ConsultationStatus, SessionType};

const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

fn status(status: ConsultationStatus) -> &'static str {
    match status {
        ConsultationStatus::InProgress => "in-progress",
        ConsultationStatus::Completed => "finished",
        ConsultationStatus::Cancelled => "cancelled",
    }
}

/// The session type in words, as the workstation names it.
pub fn session_words(session_type: SessionType) -> &'static str {
    match session_type {
        SessionType::NewPatient => "New patient",
        SessionType::FollowUp => "Follow-up",
        SessionType::Consultation => "Consultation",
        SessionType::Emergency => "Emergency",
    }
}

pub fn from_consultation(consultation: &Consultation) -> Value {
    let class = match consultation.session_type {
        SessionType::Emergency => {
            json!({ "system": ACT_CODE, "code": "EMER", "display": "emergency" })
        }
        _ => json!({ "system": ACT_CODE, "code": "AMB", "display": "ambulatory" }),
    };
    let period = compact(json!({
        "start": instant(consultation.started_at),
        "end": consultation.ended_at.map(instant),
    }));
    compact(json!({
        "resourceType": "Encounter",
        "id": consultation.id.to_string(),
        "identifier": [{ "value": consultation.session_code }],
        "status": status(consultation.status),
        "class": class,
        "type": [{
            "coding": [{ "code": consultation.session_type.as_str() }],
            "text": session_words(consultation.session_type),
        }],
        "subject": reference("Patient", consultation.patient_id),
        "period": period,
        "length": consultation.duration_minutes.map(|minutes| json!({
            "value": minutes,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        })),
        "reasonCode": consultation
            .chief_complaint
            .as_ref()
            .map(|reason| vec![json!({ "text": reason })]),
    }))
}
