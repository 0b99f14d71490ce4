//! Patients: the list row (`PatientSummary`), the full chart (`Patient`) and the create/update
//! requests.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<Sex> {
        match text {
            "female" => Some(Sex::Female),
            "male" => Some(Sex::Male),
            "other" => Some(Sex::Other),
            "unknown" => Some(Sex::Unknown),
            _ => None,
        }
    }
}

/// A span of time as a doctor says it: "3 weeks".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpan {
    pub value: u32,
    pub unit: TimeUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Days,
    Weeks,
    Months,
    Years,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub id: Uuid,
    pub mrn: String,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub age: u32,
    pub sex: Sex,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(with = "crate::model::time::millis_opt")]
    pub last_visit_at: Option<DateTime<Utc>>,
    pub active_consultation_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AllergyStatus {
    Known,
    NoneKnown,
    #[default]
    NotRecorded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allergy {
    pub substance: String,
    #[serde(default)]
    pub reaction: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Allergies {
    pub status: AllergyStatus,
    #[serde(default)]
    pub items: Vec<Allergy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Symptom {
    pub name: String,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub duration: Option<TimeSpan>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    #[serde(flatten)]
    pub summary: PatientSummary,
    pub address: Option<String>,
    pub referred_by: Option<String>,
    pub illness_duration: Option<TimeSpan>,
    pub allergies: Allergies,
    pub alerts: Vec<String>,
    pub symptoms: Vec<Symptom>,
    pub consultation_count: u64,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis")]
    pub updated_at: DateTime<Utc>,
}

/// `POST /patients`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    pub full_name: String,
    #[serde(deserialize_with = "crate::model::time::date::deserialize")]
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illness_duration: Option<TimeSpan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allergies: Option<Allergies>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<Symptom>,
    /// Only a receptionist sends this: the doctor the patient is registered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<Uuid>,
}

/// `PATCH /patients/{id}`: an omitted field is left alone, `null` clears an optional one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientUpdate {
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub full_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::model::time::date::deserialize_present",
        skip_serializing_if = "Option::is_none"
    )]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub sex: Option<Sex>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub referred_by: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub illness_duration: Option<Option<TimeSpan>>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub allergies: Option<Allergies>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub alerts: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub symptoms: Option<Vec<Symptom>>,
}

/// The sort orders of `GET /patients/list/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PatientSort {
    #[serde(rename = "name")]
    Name,
    #[default]
    #[serde(rename = "-last_visit")]
    LastVisitDesc,
    #[serde(rename = "-created_at")]
    CreatedDesc,
}
