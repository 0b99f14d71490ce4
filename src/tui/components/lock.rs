//! The inactivity lock: everything patient-related is hidden until the doctor's password is
//! entered again; drafts and place are kept. The password's answer also continues an ended
//! session (the session-expired dialog asks the same question).

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::client::ApiError;
use crate::model::auth::User;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Dialog, State};
use crate::tui::ui::centered;
use crate::tui::update::call;

/// The inactivity lock: everything patient-related is hidden until the password is entered.
#[derive(Debug, Clone, Default)]
pub struct LockState {
    pub locked: bool,
    pub password: Field,
    pub error: Option<String>,
    pub busy: bool,
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
        Some(Command::Submit) if !state.lock.busy && !state.lock.password.value.is_empty() => {
            let Some(email) = state.session.user.as_ref().map(|u| u.email.clone()) else {
                return Vec::new();
            };
            let password = std::mem::take(&mut state.lock.password).value;
            state.lock.busy = true;
            state.lock.error = None;
            vec![call(state, Call::Unlock { email, password })]
        }
        _ => {
            state.lock.password.edit(key);
            Vec::new()
        }
    }
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    state.lock.password.insert(text);
    Vec::new()
}

/// The password checked, for the lock screen or the session-expired dialog.
pub(crate) fn on_unlock(state: &mut State, result: Result<User, ApiError>) -> Vec<Effect> {
    match result {
        Ok(user) => {
            state.session.user = Some(user);
            state.lock = LockState::default();
            if matches!(state.dialog, Some(Dialog::SessionExpired { .. })) {
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
            let message = error.message.clone();
            if state.lock.locked {
                state.lock.busy = false;
                state.lock.error = Some(message);
            } else if let Some(Dialog::SessionExpired { error: e, busy, .. }) = &mut state.dialog {
                *busy = false;
                *e = Some(message);
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
    let masked = "•".repeat(state.lock.password.value.chars().count());
    let mut lines = vec![
        Line::styled("Synapse is locked", theme.title()),
        Line::raw(""),
        Line::raw(format!("Enter the password of {who} to continue.")),
        Line::raw(""),
        Line::from(vec![
            Span::raw("Password "),
            Span::styled(format!(" {masked:<30}"), theme.selected()),
        ]),
        Line::raw(""),
    ];
    if state.lock.busy {
        lines.push(Line::styled("Checking…", theme.muted()));
    } else if let Some(error) = &state.lock.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    let rect = centered(area, 60, 10);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered()), rect);
    frame.set_cursor_position((rect.x + 11 + state.lock.password.cursor as u16, rect.y + 5));
}
