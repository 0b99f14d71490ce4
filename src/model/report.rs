//! Reports: the structured document a consultation produces, its review, signature and addenda,
//! and the statistics over them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::page::Pagination;
use super::patient::Sex;
pub use super::status::ReportStatus;
use super::status::SessionType;

/// The days of the `daily` series of `GET /reports/stats` (`days`), ending today.
pub const DEFAULT_STATS_DAYS: u32 = 30;
pub const MAX_STATS_DAYS: u32 = 366;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportPatient {
    pub id: Uuid,
    pub mrn: String,
    pub full_name: String,
    /// Shown wherever a report is signed, so the doctor can tell two patients of one name apart.
    #[serde(serialize_with = "crate::model::time::date::serialize")]
    pub date_of_birth: NaiveDate,
    pub age: u32,
    pub sex: Sex,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportConsultation {
    pub id: Uuid,
    pub session_code: String,
    pub session_type: SessionType,
    pub chief_complaint: Option<String>,
    #[serde(with = "crate::model::time::millis")]
    pub started_at: DateTime<Utc>,
    pub duration_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportSummary {
    pub id: Uuid,
    pub status: ReportStatus,
    pub report_type: String,
    /// 0.0 to 1.0.
    #[schema(minimum = 0.0, maximum = 1.0)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_code)]
    pub code: Option<String>,
    #[schema(schema_with = super::schema::short_text)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Medication {
    #[schema(schema_with = super::schema::name)]
    pub drug: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_name)]
    pub dosage: Option<String>,
    /// How it is given (oral, inhaled, IV…). Left out of the JSON when not given, so reports
    /// written before it existed read and hash as they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_name)]
    pub route: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_name)]
    pub frequency: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_name)]
    pub duration: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_short_text)]
    pub instructions: Option<String>,
}

impl Medication {
    /// The medication on one line, its parts in the order a prescription reads: drug, dose,
    /// route, frequency, duration, instructions.
    pub fn summary(&self) -> String {
        [
            Some(&self.drug),
            self.dosage.as_ref(),
            self.route.as_ref(),
            self.frequency.as_ref(),
            self.duration.as_ref(),
            self.instructions.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" · ")
    }
}

/// The sections of a report. A section nobody wrote is `null` (or an empty list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_long_text)]
    pub history: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_long_text)]
    pub mental_status: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_long_text)]
    pub assessment: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::diagnosis_list)]
    pub diagnoses: Vec<Diagnosis>,
    #[serde(default)]
    #[schema(schema_with = super::schema::medication_list)]
    pub medication_plan: Vec<Medication>,
    #[serde(default)]
    #[schema(schema_with = super::schema::short_texts)]
    pub recommendations: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_long_text)]
    pub follow_up: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub full_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Addendum {
    pub id: Uuid,
    pub text: String,
    pub author: PersonRef,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportEdit {
    pub content: ReportContent,
    pub version: u32,
}

/// `POST /reports/{id}/sign`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignReport {
    pub password: String,
    /// The version the doctor read and is signing (`Report::version`).
    pub version: u32,
    /// The current code of the signer's authenticator app (or a recovery code): required
    /// when the signer has a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `POST /reports/{id}/addenda`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddendum {
    #[schema(schema_with = super::schema::long_text)]
    pub text: String,
}

/// The filters of `GET /reports/list`, echoed back as `filters_applied`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportSummary>,
    pub pagination: Pagination,
    pub filters_applied: ReportFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DailyCount {
    #[serde(serialize_with = "crate::model::time::date::serialize")]
    pub date: NaiveDate,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportStats {
    pub total: u64,
    pub by_status: StatusCounts,
    pub recent_7d: u64,
    pub unsigned: u64,
    pub average_confidence: Option<f64>,
    pub daily: Vec<DailyCount>,
}
