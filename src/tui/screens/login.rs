//! The login screen: the server, email and password (masked), then the authenticator's code
//! when the account has a second factor, errors, and the demo accounts when the workstation
//! runs its own demo server. Its state, keys, answers and view.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::client::ApiError;
use crate::client::error::ErrorKind;
use crate::model::auth::User;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::roles;
use crate::tui::state::{Screen, State};
use crate::tui::ui::centered;
use crate::tui::update::call;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginFocus {
    #[default]
    Email,
    Password,
    /// The second step: the code of the authenticator app (or a recovery code).
    Code,
}

#[derive(Debug, Clone, Default)]
pub struct LoginState {
    pub email: Field,
    pub password: Field,
    pub focus: LoginFocus,
    pub busy: bool,
    pub error: Option<String>,
    /// Set when the password was right and the server asks for a code: the token of the
    /// second step. The code field is shown instead of the email and password.
    pub mfa_token: Option<String>,
    pub code: Field,
}

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    match state.settings.keymap.command(key, Scope::Dialog) {
        // From the code, back to the password; before it there is nothing to go back to.
        Some(Command::Dismiss) => {
            if state.login.mfa_token.take().is_some() {
                state.login.code = Field::default();
                state.login.focus = LoginFocus::Password;
                state.login.error = None;
            }
            return Vec::new();
        }
        Some(Command::Submit) => return submit(state),
        _ => {}
    }
    let login = &mut state.login;
    match key.code {
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Down | KeyCode::Up => {
            login.focus = match login.focus {
                LoginFocus::Email => LoginFocus::Password,
                LoginFocus::Password => LoginFocus::Email,
                LoginFocus::Code => LoginFocus::Code,
            };
            Vec::new()
        }
        _ => {
            match login.focus {
                LoginFocus::Email => login.email.edit(key),
                LoginFocus::Password => login.password.edit(key),
                LoginFocus::Code => login.code.edit(key),
            };
            Vec::new()
        }
    }
}

/// Enter: from the email to the password, then log in.
fn submit(state: &mut State) -> Vec<Effect> {
    let login = &mut state.login;
    if login.busy {
        return Vec::new();
    }
    if let Some(mfa_token) = login.mfa_token.clone() {
        let code = login.code.value.trim().to_string();
        if code.is_empty() {
            login.error = Some("Enter the code your authenticator app shows.".into());
            return Vec::new();
        }
        login.code = Field::default();
        login.busy = true;
        login.error = None;
        return vec![call(state, Call::VerifyMfa { mfa_token, code })];
    }
    if login.focus == LoginFocus::Email {
        login.focus = LoginFocus::Password;
        return Vec::new();
    }
    let email = login.email.value.trim().to_string();
    if email.is_empty() || login.password.value.is_empty() {
        login.error = Some("Enter your email and password.".into());
        return Vec::new();
    }
    let password = std::mem::take(&mut login.password).value;
    login.busy = true;
    login.error = None;
    vec![call(state, Call::Login { email, password })]
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    match state.login.focus {
        LoginFocus::Email => state.login.email.insert(text),
        LoginFocus::Password => state.login.password.insert(text),
        LoginFocus::Code => state.login.code.insert(text),
    }
    Vec::new()
}

/// The answer to the login: the role's first screen, and for a doctor the unsigned count, any
/// running consultations and the live events, are asked for at once.
pub(crate) fn on_login(state: &mut State, result: Result<User, ApiError>) -> Vec<Effect> {
    state.login.busy = false;
    match result {
        Ok(user) => {
            state.session.user = Some(user);
            // Only an account with a second factor is asked for a code.
            state.session.second_factor = state.login.mfa_token.is_some();
            state.login = LoginState::default();
            // A new session starts without the last one's recent patients.
            state.recent = Default::default();
            state.history.clear();
            state.last_activity_ms = state.now_ms;
            arrive(state)
        }
        Err(ApiError {
            kind: ErrorKind::MfaRequired { mfa_token },
            ..
        }) => {
            // The password was right: the code comes next, in its own field.
            state.login.mfa_token = Some(mfa_token);
            state.login.code = Field::default();
            state.login.focus = LoginFocus::Code;
            state.login.error = None;
            Vec::new()
        }
        Err(error) => {
            if error.kind != ErrorKind::MfaCodeInvalid {
                // Anything but a wrong code (an expired step, a lock) starts again.
                state.login.mfa_token = None;
                if state.login.focus == LoginFocus::Code {
                    state.login.focus = LoginFocus::Password;
                }
            }
            state.login.error = Some(error.message.clone());
            Vec::new()
        }
    }
}

/// The answer to resuming a remembered session at start.
pub(crate) fn on_resumed(state: &mut State, result: Result<User, ApiError>) -> Vec<Effect> {
    match result {
        Ok(user) => {
            state.session.user = Some(user);
            land(state)
        }
        Err(error) => {
            state.login.error = Some(error.message);
            Vec::new()
        }
    }
}

/// Signed in and free to work: the role's first screen, and for a doctor the running
/// consultations too (see `land`).
pub(crate) fn arrive(state: &mut State) -> Vec<Effect> {
    let mut effects = land(state);
    if roles::is_clinical(state) {
        effects.push(call(state, Call::Active));
    }
    effects
}

/// Logged in: the role's first screen, loaded; for a doctor the unsigned count and the live
/// events too (the other roles' would answer 403, `tui::roles`).
fn land(state: &mut State) -> Vec<Effect> {
    let Some(role) = roles::role(state) else {
        return Vec::new();
    };
    state.screen = roles::home(role);
    let mut effects = match state.screen {
        Screen::Patients => super::patients::load(state),
        Screen::Users => super::users::open(state),
        _ => Vec::new(),
    };
    if roles::clinical(role) {
        effects.push(call(state, Call::Unsigned));
        effects.push(Effect::Subscribe);
    }
    effects
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let login = &state.login;
    let field = |label: &str, value: String, focused: bool| {
        let style = if focused {
            theme.selected()
        } else {
            theme.base()
        };
        Line::from(vec![
            Span::raw(format!("{label:>10} ")),
            Span::styled(format!(" {value:<36}"), style),
        ])
    };
    let masked: String = "•".repeat(login.password.value.chars().count());
    let second_step = login.mfa_token.is_some();
    let mut lines = vec![
        Line::styled("Log in to Synapse", theme.title()),
        Line::raw(""),
        Line::from(vec![
            Span::raw(format!("{:>10} ", "Server")),
            Span::styled(printable(&state.session.server, true), theme.muted()),
        ]),
        Line::raw(""),
    ];
    if second_step {
        lines.extend([
            Line::styled(
                "Type the code your authenticator app shows (or a recovery code).",
                theme.muted(),
            ),
            Line::raw(""),
            field("Code", login.code.value.clone(), true),
            Line::raw(""),
        ]);
    } else {
        lines.extend([
            field(
                "Email",
                login.email.value.clone(),
                login.focus == LoginFocus::Email,
            ),
            Line::raw(""),
            field("Password", masked, login.focus == LoginFocus::Password),
            Line::raw(""),
        ]);
    }
    if login.busy {
        lines.push(Line::styled("Logging in…", theme.muted()));
    } else if let Some(error) = &login.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    } else {
        lines.push(Line::raw(""));
    }
    if !state.session.demo_accounts.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Demo accounts (password password123):",
            theme.muted(),
        ));
        for account in &state.session.demo_accounts {
            lines.push(Line::styled(format!("  {account}"), theme.muted()));
        }
    }
    let height = lines.len() as u16 + 2;
    let rect = centered(area, 60, height);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered()), rect);
    // Put the terminal cursor in the focused field.
    let (field_row, column) = match login.focus {
        LoginFocus::Email => (4, login.email.cursor),
        LoginFocus::Password => (6, login.password.cursor),
        LoginFocus::Code => (6, login.code.cursor),
    };
    if !login.busy {
        frame.set_cursor_position((rect.x + 1 + 12 + column as u16, rect.y + 1 + field_row));
    }
}
