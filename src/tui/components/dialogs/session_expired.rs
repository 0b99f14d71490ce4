//! The session ended: the doctor's password continues where they were (it cannot be dismissed:
//! nothing works until the session is back).

use crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Dialog, Step, View};
use crate::model::text::printable;
use crate::tui::effect::Call;
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::State;
use crate::tui::update::call;

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::SessionExpired {
        password,
        error,
        busy,
    } = dialog
    else {
        return Step::Stay(Vec::new());
    };
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Submit) if !*busy && !password.value.is_empty() => {
            let Some(email) = state.session.user.as_ref().map(|u| u.email.clone()) else {
                return Step::Close(Vec::new());
            };
            let secret = std::mem::take(password).value;
            *error = None;
            *busy = true;
            Step::Stay(vec![call(
                state,
                Call::Unlock {
                    email,
                    password: secret,
                },
            )])
        }
        _ => {
            password.edit(key);
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn view(state: &State, password: &Field, error: Option<&str>, busy: bool) -> View {
    let theme = &state.settings.theme;
    let mut lines = vec![
        Line::raw("Your session has ended. Enter your password to continue"),
        Line::raw("where you were."),
        Line::raw(""),
        Line::from(vec![
            Span::raw("Password "),
            Span::styled(
                format!(" {:<30}", "•".repeat(password.value.chars().count())),
                theme.selected(),
            ),
        ]),
        Line::raw(""),
    ];
    if busy {
        lines.push(Line::styled("Checking…", theme.muted()));
    } else if let Some(error) = error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    View {
        title: " Session ended ",
        lines,
        height: 9,
        cursor: (!busy).then_some((3, 10 + password.cursor as u16)),
    }
}
