//! Exports: a report, or a patient's whole record, rendered to Markdown or an A4 PDF. The
//! content is laid out once as a `Document` (`document`, from the model in `record`), and
//! each format renders that (`markdown`, `pdf`). Nothing here knows about HTTP or the
//! database: the server renders what the store read, and tests call it directly.

mod document;
mod markdown;
mod pdf;
mod record;

use chrono::{DateTime, Utc};

pub use document::{Banner, Block, Document, Section};

use crate::model::export::{ExportFormat, ExportedReport, PatientRecord};

/// Why an export could not be rendered (the PDF writer failed; never the content's fault).
#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be written: {0}")]
pub struct ExportError(String);

/// `report` rendered to `format`, stamped as exported at `at`.
pub fn report(
    report: &ExportedReport,
    format: ExportFormat,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, ExportError> {
    render(&record::report_document(report, at), format)
}

/// The patient's `record` rendered to `format`, stamped as exported at `at`.
pub fn patient_record(
    record: &PatientRecord,
    format: ExportFormat,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, ExportError> {
    render(&record::record_document(record, at), format)
}

/// `document` in `format`.
pub fn render(document: &Document, format: ExportFormat) -> Result<Vec<u8>, ExportError> {
    match format {
        ExportFormat::Md => Ok(markdown::render(document).into_bytes()),
        ExportFormat::Pdf => pdf::render(document),
    }
}

/// What was exported, for the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Report,
    Record,
}

/// The file name of an export: the MRN, what it is, the date and the extension, such as
/// `MRN-004211-report-2026-12-02.pdf`. Never the patient's name: file names end up in
/// download folders, mail attachments and shell histories. Anything in the MRN other than
/// ASCII letters, digits and `-` becomes `_`, so the name is safe in a header and a shell.
pub fn file_name(
    mrn: &str,
    kind: ExportKind,
    date: chrono::NaiveDate,
    format: ExportFormat,
) -> String {
    let mrn: String = mrn
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let what = match kind {
        ExportKind::Report => "report",
        ExportKind::Record => "record",
    };
    format!("{mrn}-{what}-{date}.{}", format.extension())
}

#[cfg(test)]
mod tests;
