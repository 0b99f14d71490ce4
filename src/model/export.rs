//! Exports: the formats a report or a patient's record is rendered to (`?format=`), the query
//! string that names one, and the record a patient export renders.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use utoipa::{IntoParams, ToSchema};

use super::consultation::Consultation;
use super::patient::{Allergies, Patient};
use super::report::Report;

/// What an export is rendered to.
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
pub enum ExportFormat {
    /// Markdown, UTF-8.
    Md,
    /// A4 PDF with embedded fonts, for printing.
    Pdf,
}

super::string_enum!(ExportFormat, ALL);

impl ExportFormat {
    /// The `Content-Type` the server answers with.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Md => "text/markdown; charset=utf-8",
            ExportFormat::Pdf => "application/pdf",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

/// `GET /reports/{id}/export` and `GET /patients/{id}/export`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `md` (Markdown) or `pdf`.
    #[param(inline)]
    pub format: ExportFormat,
}

/// A report as an export renders it: the report, and the allergies of its patient's chart for
/// the banner.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedReport {
    pub report: Report,
    pub allergies: Option<Allergies>,
}

/// A patient's record as an export renders it: the chart (banner, allergies, alerts), the
/// consultations newest first, and the reports with their addenda, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientRecord {
    pub patient: Patient,
    pub consultations: Vec<Consultation>,
    pub reports: Vec<Report>,
}

#[cfg(test)]
mod tests {
    use super::ExportFormat;

    #[test]
    fn names_agree_with_serde() {
        crate::model::string_enum_agrees_with_serde(ExportFormat::ALL, ExportFormat::as_str);
    }
}
