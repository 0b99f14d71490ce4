//! Editing the text sections of a draft in place. Tab moves to the next section, keeping what
//! was typed in this one; the whole content is saved with the version it was read at, so a
//! concurrent change is caught. Nothing typed is lost without asking: Esc with changes asks
//! first, the dialog stays open until the save is answered, and when a colleague saved in
//! between, the doctor's text stays in the editor beside theirs, to save over it or discard.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Line;
use uuid::Uuid;

use super::{Dialog, Step, View};
use crate::client::{ApiError, ErrorKind};
use crate::model::report::{Report, ReportContent};
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Notes;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Load, State, ToastKind};
use crate::tui::update::{call, handle_error};

/// The text sections of a report a doctor can edit in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    History,
    MentalStatus,
    Assessment,
    FollowUp,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::History,
        Section::MentalStatus,
        Section::Assessment,
        Section::FollowUp,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::History => "History",
            Section::MentalStatus => "Mental status",
            Section::Assessment => "Assessment",
            Section::FollowUp => "Follow-up",
        }
    }

    pub fn next(self) -> Section {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Section::ALL[(i + 1) % Section::ALL.len()]
    }

    /// The section's text in a report's content.
    pub fn get(self, content: &ReportContent) -> Option<&String> {
        match self {
            Section::History => content.history.as_ref(),
            Section::MentalStatus => content.mental_status.as_ref(),
            Section::Assessment => content.assessment.as_ref(),
            Section::FollowUp => content.follow_up.as_ref(),
        }
    }

    pub fn set(self, content: &mut ReportContent, text: Option<String>) {
        match self {
            Section::History => content.history = text,
            Section::MentalStatus => content.mental_status = text,
            Section::Assessment => content.assessment = text,
            Section::FollowUp => content.follow_up = text,
        }
    }
}

/// The draft editor.
#[derive(Debug, Clone, PartialEq)]
pub struct EditDialog {
    pub report_id: Uuid,
    /// The version the edit is based on; the save names it.
    pub version: u32,
    pub section: Section,
    pub editor: Notes,
    /// The content as stored at `version`, to tell what the doctor changed.
    pub stored: ReportContent,
    /// The content with the doctor's changes to the sections left with Tab.
    pub working: ReportContent,
    pub step: EditStep,
    /// After a conflict: the version a colleague saved, whose text the editor shows beside
    /// the doctor's.
    pub theirs: Option<u32>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditStep {
    Editing,
    /// Esc with changes: discard them? (defaults to keeping them)
    Discard,
    Saving,
    /// The server said someone saved meanwhile; their version is on its way.
    Reloading,
}

impl EditDialog {
    /// Edits `section` of `report` as it is on screen.
    pub fn new(report: &Report, section: Section) -> EditDialog {
        let text = section.get(&report.content).cloned().unwrap_or_default();
        EditDialog {
            report_id: report.summary.id,
            version: report.version,
            section,
            editor: Notes::from_text(&text),
            stored: report.content.clone(),
            working: report.content.clone(),
            step: EditStep::Editing,
            theirs: None,
            error: None,
        }
    }

    /// The content as it would be saved now: the working copy with the editor's text.
    pub fn content(&self) -> ReportContent {
        let mut content = self.working.clone();
        let text = self.editor.text();
        let text = text.trim();
        self.section
            .set(&mut content, (!text.is_empty()).then(|| text.to_string()));
        content
    }

    /// Whether saving now would change the stored report: what leaving would lose.
    pub fn changed(&self) -> bool {
        self.content() != self.stored
    }
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::EditReport(edit) = dialog else {
        return Step::Stay(Vec::new());
    };
    let keymap = &state.settings.keymap;
    match edit.step {
        EditStep::Editing => match keymap.command(key, Scope::ReportEditor) {
            Some(Command::Dismiss) if !edit.changed() => Step::Close(Vec::new()),
            Some(Command::Dismiss) => {
                edit.step = EditStep::Discard;
                Step::Stay(Vec::new())
            }
            Some(Command::Save) => {
                edit.step = EditStep::Saving;
                edit.error = None;
                let call = call(
                    state,
                    Call::EditReport {
                        id: edit.report_id,
                        content: edit.content(),
                        version: edit.version,
                    },
                );
                Step::Stay(vec![call])
            }
            Some(Command::NextSection) => {
                edit.working = edit.content();
                edit.section = edit.section.next();
                let text = edit.section.get(&edit.working).cloned().unwrap_or_default();
                edit.editor = Notes::from_text(&text);
                Step::Stay(Vec::new())
            }
            _ => {
                edit.editor.edit(key);
                Step::Stay(Vec::new())
            }
        },
        EditStep::Discard => match keymap.command(key, Scope::SignConfirm) {
            Some(Command::Yes) => Step::Close(Vec::new()),
            // Anything else keeps the text: losing it takes the explicit y.
            _ => {
                edit.step = EditStep::Editing;
                Step::Stay(Vec::new())
            }
        },
        // Waiting for the server: keys must not become text the doctor doesn't see saved.
        EditStep::Saving | EditStep::Reloading => Step::Stay(Vec::new()),
    }
}

/// The save answered: saved (the dialog closes), or a colleague's save found (their version is
/// fetched, the doctor's text kept), or another failure shown in the dialog, text kept.
pub(crate) fn on_saved(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => {
            if matches!(state.dialog, Some(Dialog::EditReport(_))) {
                state.dialog = None;
            }
            if state.report.report.ready().map(|r| r.summary.id) == Some(report.summary.id) {
                state.report.report = Load::Ready(report);
            }
            state.toast("Saved.", ToastKind::Info);
            Vec::new()
        }
        Err(error) => {
            let Some(Dialog::EditReport(edit)) = &mut state.dialog else {
                return handle_error(state, &error).unwrap_or_default();
            };
            if let ErrorKind::VersionConflict { .. } = error.kind {
                edit.step = EditStep::Reloading;
                let id = edit.report_id;
                return vec![call(state, Call::Report(id))];
            }
            edit.step = EditStep::Editing;
            edit.error = Some(format!(
                "Not saved: {} Your text is still here.",
                error.message
            ));
            handle_error(state, &error).unwrap_or_default()
        }
    }
}

/// The report fetched again after a conflict: the edit is now based on the colleague's
/// version, with the doctor's text still in the editor. Returns the report back when no
/// editor waits for it.
pub(crate) fn on_reloaded(state: &mut State, report: Report) -> Option<Report> {
    let Some(Dialog::EditReport(edit)) = &mut state.dialog else {
        return Some(report);
    };
    if edit.step != EditStep::Reloading || edit.report_id != report.summary.id {
        return Some(report);
    }
    // The doctor's changes on top of the colleague's version: a section the doctor did not
    // touch takes theirs, so saving can't quietly undo their other edits.
    let mine = edit.content();
    let mut rebased = report.content.clone();
    for section in Section::ALL {
        if section.get(&mine) != section.get(&edit.stored) {
            section.set(&mut rebased, section.get(&mine).cloned());
        }
    }
    edit.working = rebased;
    edit.version = report.version;
    edit.stored = report.content.clone();
    edit.theirs = Some(report.version);
    edit.step = EditStep::Editing;
    state.report.report = Load::Ready(report);
    None
}

pub(super) fn view(state: &State, area: Rect, edit: &EditDialog) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::ReportEditor);
    let mut lines = vec![Line::styled(
        format!(
            "{} ({}: next section)",
            edit.section.label(),
            key(Command::NextSection)
        ),
        theme.title(),
    )];
    if let Some(version) = edit.theirs {
        lines.push(Line::styled(
            format!(
                "Someone saved version {version} while you edited. Their {}:",
                edit.section.label()
            ),
            theme.warning(),
        ));
        let theirs = edit
            .section
            .get(&edit.stored)
            .map(String::as_str)
            .unwrap_or("—");
        for line in printable(theirs, false).lines() {
            lines.push(Line::styled(format!("│ {line}"), theme.muted()));
        }
        lines.push(Line::styled(
            format!(
                "Your text is kept below: {} saves it over version {version}, {} discards it.",
                key(Command::Save),
                key(Command::Dismiss)
            ),
            theme.warning(),
        ));
    }
    lines.push(Line::raw(""));
    for line in &edit.editor.lines {
        lines.push(Line::raw(printable(&line.replace('\t', "    "), true)));
    }
    lines.push(Line::raw(""));
    let footer = match edit.step {
        EditStep::Discard => Line::styled(
            "Discard your changes? y discards · any other key keeps editing",
            theme.warning(),
        ),
        EditStep::Saving => Line::styled("Saving…", theme.muted()),
        EditStep::Reloading => Line::styled("Loading the version saved meanwhile…", theme.muted()),
        EditStep::Editing => Line::styled(
            format!(
                "{} saves · {} closes",
                key(Command::Save),
                key(Command::Dismiss)
            ),
            theme.muted(),
        ),
    };
    lines.push(footer);
    if let Some(error) = &edit.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    View {
        title: " Edit draft ",
        lines,
        height,
    }
}
