//! Reports: the structured document a consultation produces, its review, signature and addenda,
//! and the statistics over them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::consultation::SessionType;
use super::page::Pagination;
use super::patient::Sex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Pending,
    Generating,
    Completed,
    Signed,
    Failed,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::Pending,
        ReportStatus::Generating,
        ReportStatus::Completed,
        ReportStatus::Signed,
        ReportStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Pending => "pending",
            ReportStatus::Generating => "generating",
            ReportStatus::Completed => "completed",
            ReportStatus::Signed => "signed",
            ReportStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ReportStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPatient {
    pub id: Uuid,
    pub mrn: String,
    pub full_name: String,
    pub age: u32,
    pub sex: Sex,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportConsultation {
    pub id: Uuid,
    pub session_code: String,
    pub session_type: SessionType,
    pub chief_complaint: Option<String>,
    #[serde(with = "crate::model::time::millis")]
    pub started_at: DateTime<Utc>,
    pub duration_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub id: Uuid,
    pub status: ReportStatus,
    pub report_type: String,
    pub confidence: Option<f64>,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis_opt")]
    pub signed_at: Option<DateTime<Utc>>,
    pub patient: ReportPatient,
    pub consultation: ReportConsultation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    #[serde(default)]
    pub code: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Medication {
    pub drug: String,
    #[serde(default)]
    pub dosage: Option<String>,
    #[serde(default)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub duration: Option<String>,
    #[serde(default)]
    pub instructions: Option<String>,
}

/// The sections of a report. A section nobody wrote is `null` (or an empty list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    #[serde(default)]
    pub history: Option<String>,
    #[serde(default)]
    pub mental_status: Option<String>,
    #[serde(default)]
    pub assessment: Option<String>,
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    #[serde(default)]
    pub medication_plan: Vec<Medication>,
    #[serde(default)]
    pub recommendations: Vec<String>,
    #[serde(default)]
    pub follow_up: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: Uuid,
    pub full_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Addendum {
    pub id: Uuid,
    pub text: String,
    pub author: PersonRef,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    #[serde(flatten)]
    pub summary: ReportSummary,
    pub version: u32,
    pub content: ReportContent,
    pub generator: Option<String>,
    pub signed_by: Option<PersonRef>,
    pub addenda: Vec<Addendum>,
    pub failure_reason: Option<String>,
}

/// `PATCH /reports/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEdit {
    pub content: ReportContent,
    pub version: u32,
}

/// `POST /reports/{id}/sign`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignReport {
    pub password: String,
}

/// `POST /reports/{id}/addenda`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAddendum {
    pub text: String,
}

/// The filters of `GET /reports/list`, echoed back as `filters_applied`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ReportStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_type: Option<SessionType>,
    #[serde(
        with = "crate::model::time::millis_opt",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub date_from: Option<DateTime<Utc>>,
    #[serde(
        with = "crate::model::time::millis_opt",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub date_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportPage {
    pub items: Vec<ReportSummary>,
    pub pagination: Pagination,
    pub filters_applied: ReportFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub pending: u64,
    pub generating: u64,
    pub completed: u64,
    pub signed: u64,
    pub failed: u64,
}

impl StatusCounts {
    pub fn add(&mut self, status: ReportStatus, count: u64) {
        match status {
            ReportStatus::Pending => self.pending += count,
            ReportStatus::Generating => self.generating += count,
            ReportStatus::Completed => self.completed += count,
            ReportStatus::Signed => self.signed += count,
            ReportStatus::Failed => self.failed += count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    pub date: NaiveDate,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportStats {
    pub total: u64,
    pub by_status: StatusCounts,
    pub recent_7d: u64,
    pub unsigned: u64,
    pub average_confidence: Option<f64>,
    pub daily: Vec<DailyCount>,
}
