//! An addendum to a signed report: the report stays as it is, the text is added below it.

use crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::{Dialog, Step, View};
use crate::tui::effect::Call;
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::State;
use crate::tui::update::call;

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::Addendum { report_id, text } = dialog else {
        return Step::Stay(Vec::new());
    };
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::Submit) if !text.value.trim().is_empty() => {
            let call = call(
                state,
                Call::Addendum {
                    id: *report_id,
                    text: text.value.trim().to_string(),
                },
            );
            Step::Close(vec![call])
        }
        _ => {
            text.edit(key);
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn view(state: &State, text: &Field) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::Dialog);
    View {
        title: " Add an addendum ",
        lines: vec![
            Line::raw("The signed report stays as it is; the addendum is added below it."),
            Line::raw(""),
            Line::styled(format!(" {:<56}", text.value), theme.selected()),
            Line::raw(""),
            Line::styled(
                format!(
                    "{} adds it · {} cancels",
                    key(Command::Submit),
                    key(Command::Dismiss)
                ),
                theme.muted(),
            ),
        ],
        height: 7,
    }
}
