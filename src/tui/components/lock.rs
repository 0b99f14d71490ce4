//! The inactivity lock: everything patient-related is hidden until the doctor signs in again
//! (`reauth`: the password, then a code for an account with a second factor); drafts and place
//! are kept. The answer also continues an ended session (the session-expired dialog asks the
//! same question).

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::reauth::Reauth;
use crate::client::ApiError;
use crate::model::auth::User;
use crate::model::text::printable;
use crate::tui::effect::Effect;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Dialog, State};
use crate::tui::ui::centered;
use crate::tui::update::call;

/// The inactivity lock: everything patient-related is hidden until the password (and, for
/// an account with a second factor, a code) is entered.
#[derive(Debug, Clone, Default)]
pub struct LockState {
    pub locked: bool,
    pub reauth: Reauth,
}

/// Hides everything behind the lock screen; drafts and place are kept.
pub(crate) fn lock(state: &mut State) {
    state.lock = LockState {
        locked: true,
        ..LockState::default()
    };
    state.dirty = true;
}

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Submit) => {
            let Some(email) = state.session.user.as_ref().map(|u| u.email.clone()) else {
                return Vec::new();
            };
            match state.lock.reauth.submit(&email) {
                Some(unlock) => vec![call(state, unlock)],
                None => Vec::new(),
            }
        }
        Some(Command::Dismiss) if state.lock.reauth.back() => Vec::new(),
        _ => {
            state.lock.reauth.edit(key);
            Vec::new()
        }
    }
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    state.lock.reauth.paste(text);
    Vec::new()
}

/// The password (or its code) checked, for the lock screen or the session-expired dialog.
pub(crate) fn on_unlock(state: &mut State, result: Result<User, ApiError>) -> Vec<Effect> {
    match result {
        Ok(user) => {
            state.session.user = Some(user);
            state.lock = LockState::default();
            if matches!(state.dialog, Some(Dialog::SessionExpired(_))) {
                state.dialog = None;
            }
            state.last_activity_ms = state.now_ms;
            // The stream ended with the session it belonged to; this one gets its own (only
            // a doctor has one).
            // Nor while a required setup of a second factor holds the session.
            if !crate::tui::roles::is_clinical(state)
                || crate::tui::screens::mfa_enroll::holds_session(state)
            {
                return Vec::new();
            }
            return vec![Effect::Subscribe];
        }
        Err(error) => {
            if state.lock.locked {
                state.lock.reauth.refused(error);
            } else if let Some(Dialog::SessionExpired(reauth)) = &mut state.dialog {
                reauth.refused(error);
            }
        }
    }
    Vec::new()
}

/// The lock screen: no names, no charts, nothing from the server except who is logged in.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let who = state
        .session
        .user
        .as_ref()
        .map(|u| printable(&u.email, true))
        .unwrap_or_default();
    let reauth = &state.lock.reauth;
    let mut lines = vec![
        Line::styled("Synapse is locked", theme.title()),
        Line::raw(""),
        Line::raw(reauth.prompt(format!("Enter the password of {who} to continue."))),
        Line::raw(""),
    ];
    lines.extend(reauth.lines(theme));
    let rect = centered(area, 60, 10);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered()),
        rect,
    );
    frame.set_cursor_position((
        rect.x + 1 + Reauth::CURSOR_COLUMN + reauth.cursor(),
        rect.y + 5,
    ));
}
