//! Signing a report: first a confirmation that defaults to No, then the doctor's password.

use crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use super::{Dialog, Step, View};
use crate::client::{ApiError, ErrorKind};
use crate::model::report::Report;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Load, State, ToastKind};
use crate::tui::update::{call, handle_error};

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::Sign {
        report_id,
        confirmed,
        yes,
        password,
        error,
        busy,
    } = dialog
    else {
        return Step::Stay(Vec::new());
    };
    if *busy {
        return Step::Stay(Vec::new());
    }
    let keymap = &state.settings.keymap;
    if !*confirmed {
        return match keymap.command(key, Scope::SignConfirm) {
            Some(Command::Dismiss | Command::No) => Step::Close(Vec::new()),
            // Two choices: either direction moves to the other.
            Some(Command::NextChoice | Command::PreviousChoice) => {
                *yes = !*yes;
                Step::Stay(Vec::new())
            }
            Some(Command::Yes) => {
                *confirmed = true;
                *yes = true;
                Step::Stay(Vec::new())
            }
            Some(Command::Submit) if *yes => {
                *confirmed = true;
                Step::Stay(Vec::new())
            }
            // Enter on the default (No) closes without signing.
            Some(Command::Submit) => Step::Close(Vec::new()),
            _ => Step::Stay(Vec::new()),
        };
    }
    match keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::Submit) if !password.value.is_empty() => {
            let secret = std::mem::take(password).value;
            let id = *report_id;
            *error = None;
            *busy = true;
            Step::Stay(vec![call(
                state,
                Call::Sign {
                    id,
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

/// The answer: signed, or a wrong password asked again, or the dialog closes on an error.
pub(crate) fn on_signed(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => {
            state.dialog = None;
            state.report.report = Load::Ready(report);
            state.unsigned = state.unsigned.map(|n| n.saturating_sub(1));
            state.toast("Report signed.", ToastKind::Info);
            Vec::new()
        }
        Err(error) => {
            if error.kind == ErrorKind::InvalidCredentials {
                if let Some(Dialog::Sign { error: e, busy, .. }) = &mut state.dialog {
                    *busy = false;
                    *e = Some("The password is not correct. Try again, or Esc to cancel.".into());
                }
                return Vec::new();
            }
            state.dialog = None;
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.toast(error.message, ToastKind::Error);
            Vec::new()
        }
    }
}

pub(super) fn view(
    state: &State,
    confirmed: bool,
    yes: bool,
    password: &Field,
    error: Option<&str>,
    busy: bool,
) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::SignConfirm);
    let mut lines = if !confirmed {
        let (no_style, yes_style) = if yes {
            (theme.base(), theme.selected())
        } else {
            (theme.selected(), theme.base())
        };
        vec![
            Line::raw("Sign this report? Signed reports can no longer change."),
            Line::raw(""),
            Line::from(vec![
                Span::styled("  [ No ]  ", no_style),
                Span::raw("   "),
                Span::styled("  [ Yes ]  ", yes_style),
            ]),
            Line::raw(""),
            Line::styled(
                format!(
                    "{}/{} choose · {} confirms · {} cancels",
                    key(Command::PreviousChoice),
                    key(Command::NextChoice),
                    key(Command::Submit),
                    key(Command::Dismiss)
                ),
                theme.muted(),
            ),
        ]
    } else {
        vec![
            Line::raw("Enter your password to sign."),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Password "),
                Span::styled(
                    format!(" {:<30}", "•".repeat(password.value.chars().count())),
                    theme.selected(),
                ),
            ]),
            Line::raw(""),
        ]
    };
    if busy {
        lines.push(Line::styled("Signing…", theme.muted()));
    } else if let Some(error) = error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    View {
        title: " Sign report ",
        lines,
        height: 8,
    }
}
