//! The administrator's account dialogs: the confirmation a destructive action asks for
//! (disabling an account, ending its sessions), naming the account, which only an explicit yes
//! answers; and a password reset, the new password typed twice in masked fields, the server's
//! rules deciding and its message shown on the field.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::{Dialog, Step, View};
use crate::client::ApiError;
use crate::model::admin::AdminUser;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::users;
use crate::tui::state::{State, ToastKind};
use crate::tui::update::{call, handle_error};

/// What an administrator does to an account from the users screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Unlock,
    Enable,
    /// Asks first: the account can no longer sign in and its sessions end.
    Disable,
    /// Asks first: whoever uses the account is signed out everywhere.
    EndSessions,
}

impl AccountAction {
    /// The notice's first word once it is done.
    pub fn done(self) -> &'static str {
        match self {
            AccountAction::Unlock => "Unlocked",
            AccountAction::Enable => "Enabled",
            AccountAction::Disable => "Disabled",
            AccountAction::EndSessions => "Ended the sessions of",
        }
    }

    /// The question the confirmation asks, about `email`.
    fn question(self, email: &str) -> String {
        match self {
            AccountAction::Disable => {
                format!("Disable {email}? It can no longer sign in and its sessions end.")
            }
            AccountAction::EndSessions => {
                format!("End every session of {email}? Whoever uses it must sign in again.")
            }
            AccountAction::Unlock | AccountAction::Enable => format!("{email}?"),
        }
    }

    /// The call that does it to the account `id`.
    pub fn call(self, id: Uuid) -> Call {
        match self {
            AccountAction::EndSessions => Call::EndSessions(id),
            _ => Call::Account(self, id),
        }
    }
}

/// A password reset under way.
#[derive(Debug, Clone, PartialEq)]
pub struct ResetDialog {
    pub user_id: Uuid,
    pub email: String,
    pub password: Field,
    pub again: Field,
    /// The second field has the keys.
    pub on_again: bool,
    /// Why the password was not taken: the fields differ, or the server's rule.
    pub error: Option<String>,
    pub busy: bool,
}

impl Dialog {
    /// The confirmation of a destructive action on the account `id` (`email`).
    pub fn confirm_account(action: AccountAction, user_id: Uuid, email: String) -> Dialog {
        Dialog::ConfirmAccount {
            action,
            user_id,
            email,
        }
    }

    /// A password reset of the account `id` (`email`), both fields empty.
    pub fn reset_password(user_id: Uuid, email: String) -> Dialog {
        Dialog::ResetPassword(ResetDialog {
            user_id,
            email,
            password: Field::default(),
            again: Field::default(),
            on_again: false,
            error: None,
            busy: false,
        })
    }
}

pub(super) fn confirm_key(state: &mut State, dialog: &Dialog, key: &KeyEvent) -> Step {
    let Dialog::ConfirmAccount {
        action, user_id, ..
    } = dialog
    else {
        return Step::Close(Vec::new());
    };
    match state.settings.keymap.command(key, Scope::SignConfirm) {
        Some(Command::Yes) => Step::Close(vec![call(state, action.call(*user_id))]),
        // Anything else leaves the account as it is.
        _ => Step::Close(Vec::new()),
    }
}

pub(super) fn confirm_view(state: &State, action: AccountAction, email: &str) -> View {
    let theme = &state.settings.theme;
    let yes = state
        .settings
        .keymap
        .hint_key(Command::Yes, Scope::SignConfirm);
    let lines = vec![
        Line::raw(action.question(&printable(email, true))),
        Line::raw(""),
        Line::styled(
            format!("{yes} does it · any other key leaves the account as it is"),
            theme.warning(),
        ),
    ];
    View {
        title: match action {
            AccountAction::Disable => " Disable the account ",
            _ => " End the sessions ",
        },
        height: lines.len() as u16 + 2,
        lines,
        cursor: None,
    }
}

pub(super) fn reset_key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::ResetPassword(reset) = dialog else {
        return Step::Close(Vec::new());
    };
    if reset.busy {
        return Step::Stay(Vec::new());
    }
    match (state.settings.keymap.command(key, Scope::Dialog), key.code) {
        (Some(Command::Dismiss), _) => Step::Close(Vec::new()),
        (_, KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down) => {
            reset.on_again = !reset.on_again;
            Step::Stay(Vec::new())
        }
        (Some(Command::Submit), _) if !reset.on_again => {
            reset.on_again = true;
            Step::Stay(Vec::new())
        }
        (Some(Command::Submit), _) => Step::Stay(submit(state, reset)),
        _ => {
            let field = if reset.on_again {
                &mut reset.again
            } else {
                &mut reset.password
            };
            if field.edit(key) {
                reset.error = None;
            }
            Step::Stay(Vec::new())
        }
    }
}

/// Sends the new password when both fields agree; the server checks its rules.
fn submit(state: &mut State, reset: &mut ResetDialog) -> Vec<Effect> {
    if reset.password.value.is_empty() {
        reset.on_again = false;
        reset.error = Some("Type the new password.".into());
        return Vec::new();
    }
    if reset.password.value != reset.again.value {
        reset.again.clear();
        reset.error = Some("The two passwords differ: type the new one again.".into());
        return Vec::new();
    }
    reset.busy = true;
    reset.error = None;
    vec![call(
        state,
        Call::ResetPassword {
            id: reset.user_id,
            password: reset.password.value.clone(),
        },
    )]
}

/// The server's answer to a reset: done closes the dialog; a refused password shows why on
/// the field, both fields emptied for the next try.
pub(crate) fn on_password_reset(
    state: &mut State,
    result: Result<AdminUser, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(user) => {
            if matches!(state.dialog, Some(Dialog::ResetPassword(_))) {
                state.dialog = None;
            }
            state.toast(
                format!(
                    "New password set for {}; its sessions ended",
                    printable(&user.email, true)
                ),
                ToastKind::Info,
            );
            users::replace_row(state, user);
            Vec::new()
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                if let Some(Dialog::ResetPassword(reset)) = &mut state.dialog {
                    reset.busy = false;
                }
                return effects;
            }
            match &mut state.dialog {
                Some(Dialog::ResetPassword(reset)) => {
                    reset.busy = false;
                    reset.password.clear();
                    reset.again.clear();
                    reset.on_again = false;
                    reset.error = Some(error.message);
                }
                _ => state.toast(error.message, ToastKind::Error),
            }
            Vec::new()
        }
    }
}

pub(super) fn reset_paste(reset: &mut ResetDialog, text: &str) {
    if reset.on_again {
        reset.again.insert(text);
    } else {
        reset.password.insert(text);
    }
}

pub(super) fn reset_view(state: &State, reset: &ResetDialog) -> View {
    let theme = &state.settings.theme;
    let field = |label: &str, value: &Field, focused: bool| {
        Line::from(vec![
            Span::raw(format!("{label:>9} ")),
            Span::styled(
                format!(" {:<30}", "•".repeat(value.value.chars().count())),
                if focused {
                    theme.selected()
                } else {
                    theme.base()
                },
            ),
        ])
    };
    let mut lines = vec![
        Line::raw(format!(
            "A new password for {}. Its sessions end and its lock is cleared.",
            printable(&reset.email, true)
        )),
        Line::raw(""),
        field("Password", &reset.password, !reset.on_again),
        field("Again", &reset.again, reset.on_again),
        Line::raw(""),
    ];
    if reset.busy {
        lines.push(Line::styled("Setting the password…", theme.muted()));
    } else if let Some(error) = &reset.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    } else {
        lines.push(Line::styled(
            "Enter moves on, then sets it · Tab the other field · Esc leaves it unchanged",
            theme.muted(),
        ));
    }
    let (row, focused) = if reset.on_again {
        (3, &reset.again)
    } else {
        (2, &reset.password)
    };
    let column = 11 + focused.cursor as u16;
    View {
        title: " Reset the password ",
        height: lines.len() as u16 + 2,
        lines,
        cursor: (!reset.busy).then_some((row, column)),
    }
}
