//! The session ended: the doctor signs in again where they were (the password, then a code for
//! an account with a second factor, as `reauth` asks it). It cannot be dismissed: nothing works
//! until the session is back.

use crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::{Dialog, Step, View};
use crate::tui::components::reauth::Reauth;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::State;
use crate::tui::update::call;

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::SessionExpired(reauth) = dialog else {
        return Step::Stay(Vec::new());
    };
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Submit) => {
            let Some(email) = state.session.user.as_ref().map(|u| u.email.clone()) else {
                return Step::Close(Vec::new());
            };
            match reauth.submit(&email) {
                Some(unlock) => Step::Stay(vec![call(state, unlock)]),
                None => Step::Stay(Vec::new()),
            }
        }
        Some(Command::Dismiss) => {
            reauth.back();
            Step::Stay(Vec::new())
        }
        _ => {
            reauth.edit(key);
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn view(state: &State, reauth: &Reauth) -> View {
    let theme = &state.settings.theme;
    let mut lines = match reauth.mfa_token {
        Some(_) => vec![
            Line::raw(reauth.prompt(String::new())),
            Line::raw(""),
            Line::raw(""),
        ],
        None => vec![
            Line::raw("Your session has ended. Enter your password to continue"),
            Line::raw("where you were."),
            Line::raw(""),
        ],
    };
    lines.extend(reauth.lines(theme));
    View {
        title: " Session ended ",
        lines,
        height: 9,
        cursor: (!reauth.busy).then_some((3, Reauth::CURSOR_COLUMN + reauth.cursor())),
    }
}
