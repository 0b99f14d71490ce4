//! Consultations: a doctor's session with a patient, from start to stop or cancel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::page::Pagination;
use super::report::ReportStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    NewPatient,
    FollowUp,
    Consultation,
    Emergency,
}

impl SessionType {
    pub const ALL: [SessionType; 4] = [
        SessionType::NewPatient,
        SessionType::FollowUp,
        SessionType::Consultation,
        SessionType::Emergency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::NewPatient => "new_patient",
            SessionType::FollowUp => "follow_up",
            SessionType::Consultation => "consultation",
            SessionType::Emergency => "emergency",
        }
    }

    pub fn parse(text: &str) -> Option<SessionType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationStatus {
    InProgress,
    Completed,
    Cancelled,
}

impl ConsultationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationStatus::InProgress => "in_progress",
            ConsultationStatus::Completed => "completed",
            ConsultationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<ConsultationStatus> {
        match text {
            "in_progress" => Some(ConsultationStatus::InProgress),
            "completed" => Some(ConsultationStatus::Completed),
            "cancelled" => Some(ConsultationStatus::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consultation {
    pub id: Uuid,
    pub session_code: String,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    pub session_type: SessionType,
    pub status: ConsultationStatus,
    pub chief_complaint: Option<String>,
    /// Left out of history listings, which never carry notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(with = "crate::model::time::millis")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<u32>,
    pub report_id: Option<Uuid>,
    pub report_status: Option<ReportStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartConsultation {
    pub patient_id: Uuid,
    pub session_type: SessionType,
    #[serde(default)]
    pub chief_complaint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesUpdate {
    pub notes: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopConsultation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelConsultation {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActiveConsultations {
    pub items: Vec<Consultation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsultationHistory {
    pub patient_id: Uuid,
    pub patient_name: String,
    pub items: Vec<Consultation>,
    pub pagination: Pagination,
}
