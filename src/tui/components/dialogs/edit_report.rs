//! Editing one text section of a draft in place; Tab moves to the next section, and the whole
//! content is saved with the version it was read at, so a concurrent change is caught.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::{Dialog, Step, View};
use crate::model::report::ReportContent;
use crate::tui::effect::Call;
use crate::tui::input::Notes;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::State;
use crate::tui::update::call;

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
    pub fn get(self, content: &crate::model::report::ReportContent) -> Option<&String> {
        match self {
            Section::History => content.history.as_ref(),
            Section::MentalStatus => content.mental_status.as_ref(),
            Section::Assessment => content.assessment.as_ref(),
            Section::FollowUp => content.follow_up.as_ref(),
        }
    }

    pub fn set(self, content: &mut crate::model::report::ReportContent, text: Option<String>) {
        match self {
            Section::History => content.history = text,
            Section::MentalStatus => content.mental_status = text,
            Section::Assessment => content.assessment = text,
            Section::FollowUp => content.follow_up = text,
        }
    }
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::EditReport {
        report_id,
        version,
        section,
        editor,
    } = dialog
    else {
        return Step::Stay(Vec::new());
    };
    let Some(report) = state.report.report.ready() else {
        return Step::Close(Vec::new());
    };
    // The content as it will be saved: the report's sections with this one replaced.
    let mut content: ReportContent = report.content.clone();
    match state.settings.keymap.command(key, Scope::ReportEditor) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::Save) => {
            let text = editor.text();
            section.set(
                &mut content,
                Some(text.trim().to_string()).filter(|t| !t.is_empty()),
            );
            let call = call(
                state,
                Call::EditReport {
                    id: *report_id,
                    content,
                    version: *version,
                },
            );
            Step::Close(vec![call])
        }
        Some(Command::NextSection) => {
            *section = section.next();
            let text = section.get(&content).cloned().unwrap_or_default();
            *editor = Notes::from_text(&text);
            Step::Stay(Vec::new())
        }
        _ => {
            editor.edit(key);
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn view(state: &State, area: Rect, section: Section, editor: &Notes) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::ReportEditor);
    let mut lines = vec![
        Line::styled(
            format!(
                "{} ({}: next section)",
                section.label(),
                key(Command::NextSection)
            ),
            theme.title(),
        ),
        Line::raw(""),
    ];
    for line in &editor.lines {
        lines.push(Line::raw(line.replace('\t', "    ")));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "{} saves · {} discards",
            key(Command::Save),
            key(Command::Dismiss)
        ),
        theme.muted(),
    ));
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    View {
        title: " Edit draft ",
        lines,
        height,
    }
}
