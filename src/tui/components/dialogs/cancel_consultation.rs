//! Cancelling the running consultation: a reason is required and kept in the record; Enter
//! without one says so in the dialog.

use crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::{Dialog, Step, View};
use crate::tui::effect::Call;
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::State;
use crate::tui::update::call;

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::CancelConsultation { reason, error } = dialog else {
        return Step::Stay(Vec::new());
    };
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::Submit) if !reason.value.trim().is_empty() => {
            let Some(id) = state.consultation.consultation.as_ref().map(|c| c.id) else {
                return Step::Close(Vec::new());
            };
            let reason = reason.value.trim().to_string();
            Step::Close(vec![call(state, Call::Cancel { id, reason })])
        }
        Some(Command::Submit) => {
            *error = Some(
                "A reason is needed: type why it is cancelled (it is kept in the record).".into(),
            );
            Step::Stay(Vec::new())
        }
        _ => {
            if reason.edit(key) {
                *error = None;
            }
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn view(state: &State, reason: &Field, error: Option<&str>) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::Dialog);
    let mut lines = vec![
        Line::raw("Why is it cancelled? (kept in the record)"),
        Line::raw(""),
        Line::styled(format!(" {:<48}", reason.value), theme.selected()),
        Line::raw(""),
        Line::styled(
            format!(
                "{} cancels the consultation · {} keeps it running",
                key(Command::Submit),
                key(Command::Dismiss)
            ),
            theme.muted(),
        ),
    ];
    if let Some(error) = error {
        lines.push(Line::styled(error.to_string(), theme.error()));
    }
    View {
        title: " Cancel the consultation ",
        height: lines.len() as u16 + 2,
        lines,
        cursor: Some((2, 1 + reason.cursor as u16)),
    }
}
