//! Signing in again without leaving the screen: the password, then, for an account with a
//! second factor, the code of its authenticator app. The lock screen and the session-expired
//! dialog both ask it, so both go through these two steps the same way.

use crossterm::event::KeyEvent;
use ratatui::text::{Line, Span};

use crate::client::{ApiError, ErrorKind};
use crate::model::text::printable;
use crate::tui::effect::Call;
use crate::tui::input::Field;
use crate::tui::theme::Theme;

/// What has been typed, and where the answer stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reauth {
    pub password: Field,
    /// The code of the second step.
    pub code: Field,
    /// Set when the password was right and the server asks for a code: the token the code
    /// goes back with. The code field is shown instead of the password.
    pub mfa_token: Option<String>,
    pub error: Option<String>,
    pub busy: bool,
}

impl Reauth {
    /// The call Enter makes for `email`: the password at the first step, the code at the
    /// second; nothing while an answer is awaited or the field is empty.
    pub fn submit(&mut self, email: &str) -> Option<Call> {
        if self.busy {
            return None;
        }
        let call = match self.mfa_token.clone() {
            Some(mfa_token) => {
                let code = std::mem::take(&mut self.code).value.trim().to_string();
                if code.is_empty() {
                    self.error = Some("Enter the code your authenticator app shows.".into());
                    return None;
                }
                Call::UnlockCode { mfa_token, code }
            }
            None if self.password.value.is_empty() => return None,
            None => Call::Unlock {
                email: email.to_string(),
                password: std::mem::take(&mut self.password).value,
            },
        };
        self.busy = true;
        self.error = None;
        Some(call)
    }

    /// Esc: from the code back to the password. Answers whether there was a step to go back
    /// from.
    pub fn back(&mut self) -> bool {
        if self.busy || self.mfa_token.take().is_none() {
            return false;
        }
        self.code = Field::default();
        self.error = None;
        true
    }

    /// The field being typed in.
    pub fn field(&mut self) -> &mut Field {
        if self.mfa_token.is_some() {
            &mut self.code
        } else {
            &mut self.password
        }
    }

    pub fn edit(&mut self, key: &KeyEvent) {
        self.field().edit(key);
    }

    pub fn paste(&mut self, text: &str) {
        self.field().insert(text);
    }

    /// A refused answer. A right password of an account with a second factor moves to the
    /// code; a wrong code stays there to be typed again; anything else (a wrong password, an
    /// expired step, a lock) starts again from the password, saying why.
    pub fn refused(&mut self, error: ApiError) {
        self.busy = false;
        match error.kind {
            ErrorKind::MfaRequired { mfa_token } => {
                self.mfa_token = Some(mfa_token);
                self.code = Field::default();
                self.error = None;
            }
            ErrorKind::MfaCodeInvalid => self.error = Some(error.message),
            _ => {
                self.mfa_token = None;
                self.error = Some(error.message);
            }
        }
    }

    /// The lines of the field and what is going on: the field's own line first, so the
    /// cursor's column is `Reauth::CURSOR_COLUMN` plus `cursor()` on it.
    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let (label, shown) = match self.mfa_token {
            Some(_) => ("Code     ", self.code.value.clone()),
            None => ("Password ", "•".repeat(self.password.value.chars().count())),
        };
        let mut lines = vec![
            Line::from(vec![
                Span::raw(label),
                Span::styled(format!(" {shown:<30}"), theme.selected()),
            ]),
            Line::raw(""),
        ];
        if self.busy {
            lines.push(Line::styled("Checking…", theme.muted()));
        } else if let Some(error) = &self.error {
            lines.push(Line::styled(printable(error, true), theme.error()));
        } else if self.mfa_token.is_some() {
            lines.push(Line::styled(
                "A recovery code works too. Esc: back to the password.",
                theme.muted(),
            ));
        }
        lines
    }

    /// What the screen asks, above the field.
    pub fn prompt(&self, password_prompt: String) -> String {
        match self.mfa_token {
            Some(_) => "Enter the code your authenticator app shows.".to_string(),
            None => password_prompt,
        }
    }

    /// The column the field's text starts at on its line.
    pub const CURSOR_COLUMN: u16 = 10;

    /// The cursor's column within the field's text.
    pub fn cursor(&self) -> u16 {
        let field = match self.mfa_token {
            Some(_) => &self.code,
            None => &self.password,
        };
        field.cursor as u16
    }
}
