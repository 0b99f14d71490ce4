//! The closed vocabularies that consultations and reports share: the kind of a session and
//! where a consultation and its report stand. Both `consultation` and `report` depend on this
//! module, never on each other.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use utoipa::ToSchema;

/// The kind of a consultation.
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
pub enum SessionType {
    NewPatient,
    FollowUp,
    Consultation,
    Emergency,
}

super::string_enum!(SessionType, ALL);

/// Where a consultation stands.
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
pub enum ConsultationStatus {
    InProgress,
    Completed,
    Cancelled,
}

super::string_enum!(ConsultationStatus);

/// Where a report stands: `pending → generating → completed → signed`, or `failed`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReportStatus {
    Pending,
    Generating,
    Completed,
    Signed,
    Failed,
}

super::string_enum!(ReportStatus, ALL);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::string_enum_agrees_with_serde;

    #[test]
    fn names_are_the_wire_names() {
        string_enum_agrees_with_serde(SessionType::VARIANTS, SessionType::as_str);
        string_enum_agrees_with_serde(ConsultationStatus::VARIANTS, ConsultationStatus::as_str);
        string_enum_agrees_with_serde(ReportStatus::VARIANTS, ReportStatus::as_str);
        assert_eq!(SessionType::ALL.len(), 4);
        assert_eq!(SessionType::parse("follow_up"), Some(SessionType::FollowUp));
        assert_eq!(SessionType::parse("FollowUp"), None);
        assert_eq!(ReportStatus::parse("signed"), Some(ReportStatus::Signed));
        assert_eq!(ConsultationStatus::InProgress.as_str(), "in_progress");
    }
}
