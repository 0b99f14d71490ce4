//! An addendum to a signed report: the report stays as it is, the text is added below it,
//! for good. So it is written in a multi-line editor (Enter is a new line), previewed whole,
//! and sent only after an explicit yes; the dialog stays open until the server answers, so
//! nothing typed meanwhile runs as a report command, and a failure keeps the text.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::{Dialog, Step, View, inner_width};
use crate::client::ApiError;
use crate::model::report::Report;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Notes;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Load, State, ToastKind};
use crate::tui::update::{call, handle_error};

/// The addendum dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct AddendumDialog {
    pub report_id: Uuid,
    pub editor: Notes,
    pub step: AddendumStep,
    /// Why the last attempt failed; the text is still there to send again.
    pub error: Option<String>,
}

/// Where the addendum is: being written, previewed for the final yes, or on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddendumStep {
    Writing,
    /// Esc with text typed: discard it? (defaults to keeping it)
    Discard,
    /// The whole text shown: add it for good? (defaults to No)
    Preview {
        yes: bool,
    },
    Sending,
}

impl AddendumDialog {
    pub fn new(report_id: Uuid) -> AddendumDialog {
        AddendumDialog {
            report_id,
            editor: Notes::default(),
            step: AddendumStep::Writing,
            error: None,
        }
    }

    fn text(&self) -> String {
        self.editor.text().trim().to_string()
    }
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::Addendum(addendum) = dialog else {
        return Step::Stay(Vec::new());
    };
    let keymap = &state.settings.keymap;
    match addendum.step {
        AddendumStep::Writing => match keymap.command(key, Scope::ReportEditor) {
            Some(Command::Dismiss) if addendum.text().is_empty() => Step::Close(Vec::new()),
            Some(Command::Dismiss) => {
                addendum.step = AddendumStep::Discard;
                Step::Stay(Vec::new())
            }
            Some(Command::Save) if !addendum.text().is_empty() => {
                addendum.step = AddendumStep::Preview { yes: false };
                addendum.error = None;
                Step::Stay(Vec::new())
            }
            Some(Command::Save) => {
                addendum.error = Some("Write the addendum first; it is empty.".into());
                Step::Stay(Vec::new())
            }
            _ => {
                addendum.editor.edit(key);
                Step::Stay(Vec::new())
            }
        },
        AddendumStep::Discard => match keymap.command(key, Scope::SignConfirm) {
            Some(Command::Yes) => Step::Close(Vec::new()),
            // Anything else keeps the text: losing it takes the explicit y.
            _ => {
                addendum.step = AddendumStep::Writing;
                Step::Stay(Vec::new())
            }
        },
        AddendumStep::Preview { yes } => match keymap.command(key, Scope::SignConfirm) {
            Some(Command::NextChoice | Command::PreviousChoice) => {
                addendum.step = AddendumStep::Preview { yes: !yes };
                Step::Stay(Vec::new())
            }
            Some(Command::Yes) => send(state, addendum),
            Some(Command::Submit) if yes => send(state, addendum),
            // No, Esc, or Enter on the default No: back to the text, as it was.
            Some(Command::Submit | Command::No | Command::Dismiss) => {
                addendum.step = AddendumStep::Writing;
                Step::Stay(Vec::new())
            }
            _ => Step::Stay(Vec::new()),
        },
        AddendumStep::Sending => Step::Stay(Vec::new()),
    }
}

fn send(state: &mut State, addendum: &mut AddendumDialog) -> Step {
    addendum.step = AddendumStep::Sending;
    let call = call(
        state,
        Call::Addendum {
            id: addendum.report_id,
            text: addendum.text(),
        },
    );
    Step::Stay(vec![call])
}

/// The server's answer: added (the dialog closes on the report with its addendum), or back to
/// the text with the reason, nothing lost.
pub(crate) fn on_added(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => {
            if matches!(state.dialog, Some(Dialog::Addendum(_))) {
                state.dialog = None;
            }
            if state.report.report.ready().map(|r| r.summary.id) == Some(report.summary.id) {
                state.report.report = Load::Ready(report);
            }
            state.toast("Addendum added.", ToastKind::Info);
            Vec::new()
        }
        Err(error) => {
            if let Some(Dialog::Addendum(addendum)) = &mut state.dialog {
                addendum.step = AddendumStep::Writing;
                addendum.error = Some(format!(
                    "Not added: {} Your text is still here; Ctrl-S to try again.",
                    error.message
                ));
            }
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            Vec::new()
        }
    }
}

pub(super) fn view(state: &State, area: Rect, addendum: &AddendumDialog) -> View {
    let theme = &state.settings.theme;
    let editor_key = |command| state.settings.keymap.hint_key(command, Scope::ReportEditor);
    let choice_key = |command| state.settings.keymap.hint_key(command, Scope::SignConfirm);
    let mut lines = Vec::new();
    let mut cursor = None;
    match addendum.step {
        AddendumStep::Writing | AddendumStep::Discard => {
            lines.push(Line::raw(
                "The signed report stays as it is; the addendum is added below it.",
            ));
            lines.push(Line::raw(""));
            let layout = addendum.editor.layout(inner_width(area));
            if addendum.step == AddendumStep::Writing {
                let (row, column) = layout.cursor;
                cursor = Some((lines.len() + row, column as u16));
            }
            for row in layout.rows {
                lines.push(Line::styled(row, theme.selected()));
            }
            lines.push(Line::raw(""));
            if addendum.step == AddendumStep::Discard {
                lines.push(Line::styled(
                    format!(
                        "Discard this addendum? {} discards · any other key keeps writing",
                        choice_key(Command::Yes)
                    ),
                    theme.warning(),
                ));
            } else {
                lines.push(Line::styled(
                    format!(
                        "Enter new line · {} review and add · {} cancels",
                        editor_key(Command::Save),
                        editor_key(Command::Dismiss)
                    ),
                    theme.muted(),
                ));
            }
        }
        AddendumStep::Preview { .. } | AddendumStep::Sending => {
            let yes = matches!(addendum.step, AddendumStep::Preview { yes: true });
            lines.push(Line::styled(
                "Add this addendum? It becomes part of the signed record and can't be changed or removed.",
                theme.warning(),
            ));
            // The answer comes before the text, so a long text can't push it out of the box.
            if addendum.step == AddendumStep::Sending {
                lines.push(Line::styled("Adding…", theme.muted()));
            } else {
                let (no_style, yes_style) = if yes {
                    (theme.base(), theme.selected())
                } else {
                    (theme.selected(), theme.base())
                };
                lines.push(Line::from(vec![
                    Span::styled("  [ No ]  ", no_style),
                    Span::raw("   "),
                    Span::styled("  [ Yes ]  ", yes_style),
                    Span::styled(
                        format!(
                            "   {} adds · {} back to the text",
                            choice_key(Command::Yes),
                            choice_key(Command::No)
                        ),
                        theme.muted(),
                    ),
                ]));
            }
            lines.push(Line::raw(""));
            for line in addendum.text().lines() {
                lines.push(Line::raw(printable(line, true)));
            }
        }
    }
    if let Some(error) = &addendum.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    View {
        title: " Add an addendum ",
        lines,
        height,
        cursor,
    }
}
