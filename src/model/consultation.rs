//! Consultations: a doctor's session with a patient, from start to stop or cancel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::page::Pagination;
use super::status::ReportStatus;
pub use super::status::{ConsultationStatus, SessionType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Consultation {
    pub id: Uuid,
    pub session_code: String,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    pub session_type: SessionType,
    pub status: ConsultationStatus,
    #[schema(schema_with = super::schema::opt_short_text)]
    pub chief_complaint: Option<String>,
    /// Left out of history listings, which never carry notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_notes)]
    pub notes: Option<String>,
    #[serde(with = "crate::model::time::millis")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<u32>,
    pub report_id: Option<Uuid>,
    pub report_status: Option<ReportStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConsultation {
    pub patient_id: Uuid,
    pub session_type: SessionType,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_short_text)]
    pub chief_complaint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesUpdate {
    #[schema(schema_with = super::schema::notes)]
    pub notes: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopConsultation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_notes)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelConsultation {
    #[schema(schema_with = super::schema::short_text)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActiveConsultations {
    pub items: Vec<Consultation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsultationHistory {
    pub patient_id: Uuid,
    pub patient_name: String,
    pub items: Vec<Consultation>,
    pub pagination: Pagination,
}
