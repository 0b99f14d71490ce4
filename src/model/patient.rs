//! Patients: the list row (`PatientSummary`), the full chart (`Patient`) and the create/update
//! requests.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

super::string_enum!(Sex);

/// A span of time as a doctor says it: "3 weeks".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSpan {
    #[schema(schema_with = super::schema::span_value)]
    pub value: u32,
    pub unit: TimeUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Days,
    Weeks,
    Months,
    Years,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatientSummary {
    pub id: Uuid,
    #[schema(example = "MRN-004211")]
    pub mrn: String,
    #[schema(schema_with = super::schema::name)]
    pub full_name: String,
    #[serde(serialize_with = "crate::model::time::date::serialize")]
    pub date_of_birth: NaiveDate,
    pub age: u32,
    pub sex: Sex,
    #[schema(schema_with = super::schema::opt_phone)]
    pub phone: Option<String>,
    #[schema(schema_with = super::schema::opt_email)]
    pub email: Option<String>,
    #[serde(with = "crate::model::time::millis_opt")]
    pub last_visit_at: Option<DateTime<Utc>>,
    pub active_consultation_id: Option<Uuid>,
    /// The doctor the patient is registered with (a receptionist's list spans every doctor).
    pub doctor: DoctorSummary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllergyStatus {
    Known,
    NoneKnown,
    #[default]
    NotRecorded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Allergy {
    #[schema(schema_with = super::schema::name)]
    pub substance: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_short_text)]
    pub reaction: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_name)]
    pub severity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Allergies {
    pub status: AllergyStatus,
    #[serde(default)]
    #[schema(schema_with = super::schema::allergy_list)]
    pub items: Vec<Allergy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Symptom {
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_name)]
    pub severity: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_name)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub duration: Option<TimeSpan>,
    #[serde(default)]
    #[schema(schema_with = super::schema::opt_long_text)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Patient {
    #[serde(flatten)]
    pub summary: PatientSummary,
    #[schema(schema_with = super::schema::opt_short_text)]
    pub address: Option<String>,
    #[schema(schema_with = super::schema::opt_name)]
    pub referred_by: Option<String>,
    pub illness_duration: Option<TimeSpan>,
    pub allergies: Allergies,
    #[schema(schema_with = super::schema::short_texts)]
    pub alerts: Vec<String>,
    #[schema(schema_with = super::schema::symptom_list)]
    pub symptoms: Vec<Symptom>,
    pub consultation_count: u64,
    #[serde(with = "crate::model::time::millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::model::time::millis")]
    pub updated_at: DateTime<Utc>,
}

/// A doctor a patient can be registered with: a row of `GET /doctors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DoctorSummary {
    pub id: Uuid,
    #[schema(schema_with = super::schema::name)]
    pub full_name: String,
}

/// `POST /patients`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    #[schema(schema_with = super::schema::name)]
    pub full_name: String,
    #[serde(deserialize_with = "crate::model::time::date::deserialize")]
    #[schema(value_type = NaiveDate)]
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_phone)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_email)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_short_text)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::schema::opt_name)]
    pub referred_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illness_duration: Option<TimeSpan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allergies: Option<Allergies>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(schema_with = super::schema::short_texts)]
    pub alerts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(schema_with = super::schema::symptom_list)]
    pub symptoms: Vec<Symptom>,
    /// Only a receptionist sends this: the doctor the patient is registered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<Uuid>,
}

/// `PATCH /patients/{id}`: an omitted field is left alone, `null` clears an optional one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientUpdate {
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::name)]
    pub full_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::model::time::date::deserialize_present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = NaiveDate)]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Sex)]
    pub sex: Option<Sex>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::opt_phone)]
    pub phone: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::opt_email)]
    pub email: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::opt_short_text)]
    pub address: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::opt_name)]
    pub referred_by: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<TimeSpan>)]
    pub illness_duration: Option<Option<TimeSpan>>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Allergies)]
    pub allergies: Option<Allergies>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::short_texts)]
    pub alerts: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "super::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = super::schema::symptom_list)]
    pub symptoms: Option<Vec<Symptom>>,
}

impl PatientUpdate {
    /// The clinical fields this update changes, by wire name: a receptionist may change a
    /// patient's demographics and contacts only, so any of these refuses their update.
    pub fn clinical_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.illness_duration.is_some() {
            fields.push("illness_duration");
        }
        if self.allergies.is_some() {
            fields.push("allergies");
        }
        if self.alerts.is_some() {
            fields.push("alerts");
        }
        if self.symptoms.is_some() {
            fields.push("symptoms");
        }
        fields
    }
}

/// The sort orders of `GET /patients/list/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum PatientSort {
    #[serde(rename = "name")]
    Name,
    #[default]
    #[serde(rename = "-last_visit")]
    LastVisitDesc,
    #[serde(rename = "-created_at")]
    CreatedDesc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sex_names_are_the_wire_names() {
        crate::model::string_enum_agrees_with_serde(Sex::VARIANTS, Sex::as_str);
        assert_eq!(Sex::parse("unknown"), Some(Sex::Unknown));
        assert_eq!(Sex::parse("Female"), None);
    }
}
