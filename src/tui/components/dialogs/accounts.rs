//! The administrator's account dialogs: the confirmation a destructive action asks for
//! (disabling an account, ending its sessions), naming the account, which only an explicit yes
//! answers; a password reset, the new password typed twice in masked fields, the server's
//! rules deciding and its message shown on the field; and a new account, its password typed
//! twice the same way.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::{Dialog, Step, View};
use crate::client::{ApiError, ErrorKind};
use crate::model::admin::{AdminUser, NewUser};
use crate::model::auth::Role;
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

/// The fields of a new account, in the order Tab moves through them; the role is a choice.
pub const NEW_USER_FIELDS: [&str; 5] = ["Email", "Name", "Role", "Password", "Again"];

/// Where the role choice is among `NEW_USER_FIELDS`.
const ROLE_FIELD: usize = 2;

/// The roles a new account can have, in the order the choice steps through them.
const ROLES: [Role; 3] = [Role::Doctor, Role::Receptionist, Role::Admin];

/// A new account being written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUserDialog {
    /// Email, name, (the role's place, unused), password, the password again.
    pub fields: [Field; 5],
    pub role: Role,
    pub focus: usize,
    /// The field refused, and why (the server's words for its rules).
    pub error: Option<(usize, String)>,
    pub busy: bool,
}

impl Dialog {
    /// A new account, every field empty, a doctor's role offered.
    pub fn new_user() -> Dialog {
        Dialog::NewUser(NewUserDialog {
            fields: Default::default(),
            role: Role::Doctor,
            focus: 0,
            error: None,
            busy: false,
        })
    }
}

pub(super) fn new_user_key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::NewUser(new) = dialog else {
        return Step::Close(Vec::new());
    };
    if new.busy {
        return Step::Stay(Vec::new());
    }
    let count = NEW_USER_FIELDS.len();
    match (state.settings.keymap.command(key, Scope::Dialog), key.code) {
        (Some(Command::Dismiss), _) => Step::Close(Vec::new()),
        (_, KeyCode::Tab | KeyCode::Down) => {
            new.focus = (new.focus + 1) % count;
            Step::Stay(Vec::new())
        }
        (_, KeyCode::BackTab | KeyCode::Up) => {
            new.focus = (new.focus + count - 1) % count;
            Step::Stay(Vec::new())
        }
        (Some(Command::Submit), _) if new.focus + 1 < count => {
            new.focus += 1;
            Step::Stay(Vec::new())
        }
        (Some(Command::Submit), _) => Step::Stay(create(state, new)),
        (_, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) if new.focus == ROLE_FIELD => {
            let at = ROLES.iter().position(|r| *r == new.role).unwrap_or(0);
            let step = if key.code == KeyCode::Left {
                ROLES.len() - 1
            } else {
                1
            };
            new.role = ROLES[(at + step) % ROLES.len()];
            Step::Stay(Vec::new())
        }
        _ if new.focus == ROLE_FIELD => Step::Stay(Vec::new()),
        _ => {
            if new.fields[new.focus].edit(key) {
                new.error = None;
            }
            Step::Stay(Vec::new())
        }
    }
}

/// Sends the new account once the fields are filled and the passwords agree; the server
/// checks the rest (a valid, unused email; its password rules).
fn create(state: &mut State, new: &mut NewUserDialog) -> Vec<Effect> {
    let value = |n: usize| new.fields[n].value.trim().to_string();
    let missing = [
        (0, "Type the account's email."),
        (1, "Type the person's name."),
    ]
    .into_iter()
    .chain([(3, "Type the account's password.")])
    .find(|(n, _)| value(*n).is_empty());
    if let Some((field, message)) = missing {
        new.focus = field;
        new.error = Some((field, message.into()));
        return Vec::new();
    }
    if new.fields[3].value != new.fields[4].value {
        new.fields[4].clear();
        new.focus = 4;
        new.error = Some((4, "The two passwords differ: type it again.".into()));
        return Vec::new();
    }
    new.busy = true;
    new.error = None;
    vec![call(
        state,
        Call::CreateUser(NewUser {
            email: value(0),
            full_name: value(1),
            role: new.role,
            password: new.fields[3].value.clone(),
        }),
    )]
}

/// The server's answer to a new account: made, it joins the list; refused, the field the
/// server names shows why (the passwords emptied for the next try).
pub(crate) fn on_user_created(
    state: &mut State,
    result: Result<AdminUser, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(user) => {
            if matches!(state.dialog, Some(Dialog::NewUser(_))) {
                state.dialog = None;
            }
            state.toast(
                format!(
                    "Created {} ({})",
                    printable(&user.email, true),
                    user.role.as_str()
                ),
                ToastKind::Info,
            );
            users::load(state)
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                if let Some(Dialog::NewUser(new)) = &mut state.dialog {
                    new.busy = false;
                }
                return effects;
            }
            match &mut state.dialog {
                Some(Dialog::NewUser(new)) => {
                    let named = match &error.kind {
                        ErrorKind::Validation { fields } => fields.first().map(|f| f.field.clone()),
                        _ => None,
                    };
                    let field = match named.as_deref() {
                        Some("email") => 0,
                        Some("full_name") => 1,
                        Some("role") => ROLE_FIELD,
                        _ => 3,
                    };
                    new.busy = false;
                    new.fields[3].clear();
                    new.fields[4].clear();
                    new.focus = field;
                    new.error = Some((field, error.message));
                }
                _ => state.toast(error.message, ToastKind::Error),
            }
            Vec::new()
        }
    }
}

pub(super) fn new_user_paste(new: &mut NewUserDialog, text: &str) {
    if new.focus != ROLE_FIELD {
        new.fields[new.focus].insert(text);
    }
}

pub(super) fn new_user_view(state: &State, new: &NewUserDialog) -> View {
    let theme = &state.settings.theme;
    let mut lines = vec![
        Line::raw("A new account, which can sign in at once."),
        Line::raw(""),
    ];
    for (n, label) in NEW_USER_FIELDS.iter().enumerate() {
        let style = if n == new.focus {
            theme.selected()
        } else {
            theme.base()
        };
        let value = match n {
            ROLE_FIELD => format!("◂ {} ▸", new.role.as_str()),
            3 | 4 => "•".repeat(new.fields[n].value.chars().count()),
            _ => printable(&new.fields[n].value, true),
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{label:>9} ")),
            Span::styled(format!(" {value:<40}"), style),
        ]));
    }
    lines.push(Line::raw(""));
    if new.busy {
        lines.push(Line::styled("Creating the account…", theme.muted()));
    } else if let Some((_, message)) = &new.error {
        // The field has the keys; the message names it (the server's say `email: …`).
        lines.push(Line::styled(printable(message, true), theme.error()));
    } else {
        lines.push(Line::styled(
            "Enter the next field, then creates · ←/→ the role · Esc leaves",
            theme.muted(),
        ));
    }
    let cursor = (!new.busy && new.focus != ROLE_FIELD)
        .then(|| (2 + new.focus, 11 + new.fields[new.focus].cursor as u16));
    View {
        title: " New account ",
        height: lines.len() as u16 + 2,
        lines,
        cursor,
    }
}
