//! Turning a consultation's free-text notes into a structured draft report.
//!
//! Doctors write notes under familiar headings ("History:", "MSE:", "Dx:", "Rx:", "Plan:" …).
//! [`generate`] reads them line by line, files each line under the section its heading names,
//! and parses the list sections (diagnoses, medications, recommendations) into their fields.
//! It is pure, deterministic and allocation-light on purpose: it runs for every report the
//! server drafts and for hundreds of thousands of reports when synthetic data is seeded, so it
//! makes a single pass over the notes and uses no regular expressions.
//!
//! It never invents content. Whatever it cannot place stays in the text it came from (the
//! history, the drug name, the instructions), so the doctor reviewing the draft loses nothing.
//!
//! The work is split by concern: `sanitize` (control characters), `headings` (which section a
//! line opens), `draft` (filing lines into sections), `bullets` (list markers), `diagnosis`
//! (ICD-10 codes), `medication` with `prescription`, `tokens` and `vocabulary` (a prescription
//! line into drug, dose, frequency, duration and instructions) and `confidence` (how complete
//! a draft is).

mod bullets;
mod confidence;
mod diagnosis;
mod draft;
mod headings;
mod medication;
mod prescription;
mod sanitize;
mod tokens;
mod vocabulary;

use std::fmt;

use crate::model::report::ReportContent;
use draft::Draft;
use headings::{Section, heading};
use sanitize::sanitize;

pub use confidence::confidence_of;

/// Written into each report's `generator` field, so a report says what drafted it.
pub const GENERATOR: &str = "synapse-notes-v1";

/// A draft report and how complete its sections are.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedReport {
    pub content: ReportContent,
    /// 0.0–1.0, two decimals: the weighted share of the seven sections the notes filled.
    pub confidence: f64,
}

/// Why no draft could be built. `Display` is a sentence for the doctor; the server stores it as
/// the report's `failure_reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationError {
    /// The notes are empty or only whitespace.
    NoNotes,
    /// The notes hold headings but no text under any of them.
    NoContent,
}

impl fmt::Display for GenerationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GenerationError::NoNotes => {
                "The consultation has no notes to build a report from. \
                 Write the report by hand or add an addendum."
            }
            GenerationError::NoContent => {
                "The consultation notes have section headings but nothing written under them, \
                 so there is nothing to build a report from. \
                 Write the report by hand or add an addendum."
            }
        })
    }
}

impl std::error::Error for GenerationError {}

/// Builds a draft report from consultation notes.
///
/// `chief_complaint` is accepted so the caller hands over everything it knows about the
/// consultation, but it is deliberately never copied into a section: a draft that states an
/// assessment or history the doctor did not write would be an invented clinical statement.
pub fn generate(
    notes: &str,
    chief_complaint: Option<&str>,
) -> Result<GeneratedReport, GenerationError> {
    let _ = chief_complaint;
    let notes = sanitize(notes);
    if notes.trim().is_empty() {
        return Err(GenerationError::NoNotes);
    }

    let mut draft = Draft::default();
    // Text before the first heading, and notes with no headings at all, are history.
    let mut section = Section::History;
    for line in notes.split('\n') {
        match heading(line) {
            Some((next, rest)) => {
                section = next;
                draft.start(section);
                // Text after the colon is the section's first line; it is never a continuation.
                draft.line(section, rest, false);
            }
            None => draft.line(section, line, true),
        }
    }

    let content = draft.finish();
    if content == ReportContent::default() {
        return Err(GenerationError::NoContent);
    }
    let confidence = confidence_of(&content);
    Ok(GeneratedReport {
        content,
        confidence,
    })
}

#[cfg(test)]
mod tests;
