//! The report as it is filled: each line of notes filed under its section, free text kept as
//! written, list lines parsed into diagnoses, medications and recommendations.

use super::bullets::strip_bullet;
use super::diagnosis::diagnosis;
use super::headings::Section;
use super::medication::medication;
use crate::model::report::{Diagnosis, Medication, ReportContent};

/// A free-text section: lines kept in order, trimmed, runs of blank lines folded into one.
#[derive(Default)]
struct Text {
    text: String,
    blank_pending: bool,
}

impl Text {
    fn push_line(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            self.blank_pending = !self.text.is_empty();
            return;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
            if self.blank_pending {
                self.text.push('\n');
            }
        }
        self.blank_pending = false;
        self.text.push_str(line);
    }

    /// A repeated heading continues the section after a blank line.
    fn restart(&mut self) {
        self.blank_pending = !self.text.is_empty();
    }

    fn finish(self) -> Option<String> {
        (!self.text.is_empty()).then_some(self.text)
    }
}

#[derive(Default)]
pub(super) struct Draft {
    history: Text,
    mental_status: Text,
    assessment: Text,
    follow_up: Text,
    diagnoses: Vec<Diagnosis>,
    medications: Vec<Medication>,
    recommendations: Vec<String>,
    /// The last list line was a bullet, so an indented line without one continues that item
    /// (a long recommendation wrapped onto a second line).
    continues: bool,
}

impl Draft {
    pub(super) fn start(&mut self, section: Section) {
        self.continues = false;
        if let Some(text) = self.text_mut(section) {
            text.restart();
        }
    }

    fn text_mut(&mut self, section: Section) -> Option<&mut Text> {
        match section {
            Section::History => Some(&mut self.history),
            Section::MentalStatus => Some(&mut self.mental_status),
            Section::Assessment => Some(&mut self.assessment),
            Section::FollowUp => Some(&mut self.follow_up),
            Section::Diagnoses | Section::Medications | Section::Recommendations => None,
        }
    }

    /// Files one line of notes. `may_continue` is false for the text after a heading's colon.
    pub(super) fn line(&mut self, section: Section, line: &str, may_continue: bool) {
        if let Some(text) = self.text_mut(section) {
            text.push_line(line);
            return;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            self.continues = false;
            return;
        }
        let (bulleted, item) = strip_bullet(trimmed);
        let indented = line.starts_with([' ', '\t']);
        if !bulleted && indented && may_continue && self.continues && self.append(section, item) {
            return;
        }
        self.continues = bulleted;
        match section {
            Section::Diagnoses => self.diagnoses.extend(item.split(';').filter_map(diagnosis)),
            Section::Medications => {
                if !item.is_empty() {
                    self.medications.push(medication(item));
                }
            }
            _ => {
                if !item.is_empty() {
                    self.recommendations.push(item.to_string());
                }
            }
        }
    }

    /// Appends a wrapped line to the last item of a list section; false if there is none.
    fn append(&mut self, section: Section, more: &str) -> bool {
        let target = match section {
            Section::Diagnoses => self.diagnoses.last_mut().map(|d| &mut d.description),
            Section::Recommendations => self.recommendations.last_mut(),
            Section::Medications => match self.medications.last_mut() {
                Some(m) => Some(m.instructions.get_or_insert_with(String::new)),
                None => None,
            },
            _ => None,
        };
        match target {
            Some(text) => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(more);
                true
            }
            None => false,
        }
    }

    pub(super) fn finish(self) -> ReportContent {
        ReportContent {
            history: self.history.finish(),
            mental_status: self.mental_status.finish(),
            assessment: self.assessment.finish(),
            diagnoses: self.diagnoses,
            medication_plan: self.medications,
            recommendations: self.recommendations,
            follow_up: self.follow_up.finish(),
        }
    }
}
