//! The administrator's users screen: every account with its role and state, locked accounts
//! standing out with when their lock ends. From here an account is created, unlocked, disabled or
//! enabled, has its password reset or its sessions ended; the destructive ones ask first,
//! naming the account (their dialogs are in `components::dialogs::accounts`).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use uuid::Uuid;

use super::{is_motion, moved};
use crate::client::ApiError;
use crate::model::admin::{AdminUser, SessionsRevoked};
use crate::model::text::printable;
use crate::tui::components::dialogs::{AccountAction, Dialog};
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::Command;
use crate::tui::state::{Load, Screen, State, ToastKind};
use crate::tui::ui::common::loaded_rows;
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::FilterRows,
    Command::NewUser,
    Command::UnlockUser,
    Command::DisableUser,
    Command::EnableUser,
    Command::ResetPassword,
    Command::EndSessions,
    Command::GoAudit,
];

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
    Command::FilterRows,
    Command::NewUser,
    Command::UnlockUser,
    Command::DisableUser,
    Command::EnableUser,
    Command::ResetPassword,
    Command::EndSessions,
    Command::GoUsers,
    Command::GoAudit,
];

/// The accounts, the filter typed over them and the selection among those it keeps.
#[derive(Debug, Clone, Default)]
pub struct UserList {
    pub rows: Load<Vec<AdminUser>>,
    /// Keeps the accounts whose email, name or role holds this text (any case).
    pub filter: Field,
    /// The filter has the keys.
    pub filtering: bool,
    /// The selected row among the accounts the filter keeps.
    pub selected: usize,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
}

impl UserList {
    /// The accounts the filter keeps, in the server's order.
    pub fn visible(&self) -> Vec<&AdminUser> {
        let needle = self.filter.value.trim().to_lowercase();
        self.rows
            .ready()
            .map(|rows| {
                rows.iter()
                    .filter(|u| {
                        needle.is_empty()
                            || u.email.to_lowercase().contains(&needle)
                            || u.full_name.to_lowercase().contains(&needle)
                            || u.role.as_str().contains(&needle)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The selected account, if the list has one.
    pub fn selected_user(&self) -> Option<&AdminUser> {
        self.visible().get(self.selected).copied()
    }
}

/// Opens the screen (an admin's first screen after signing in), loading the accounts.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    state.history.clear();
    state.screen = Screen::Users;
    load(state)
}

/// Asks for the accounts again; the rows shown stay until the answer replaces them.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    if state.users.rows.ready().is_none() {
        state.users.rows = Load::Loading;
    }
    let effect = call(state, Call::Users);
    if let Effect::Call { request, .. } = &effect {
        state.users.request = *request;
    }
    vec![effect]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let len = state.users.visible().len();
    if is_motion(command) {
        state.users.selected = moved(state.users.selected, len, command, page);
        return Vec::new();
    }
    if command == Command::FilterRows {
        state.users.filtering = true;
        return Vec::new();
    }
    if command == Command::GoAudit {
        return super::audit::open(state);
    }
    if command == Command::NewUser {
        state.dialog = Some(Dialog::new_user());
        return Vec::new();
    }
    let Some(user) = state.users.selected_user() else {
        return Vec::new();
    };
    let (id, email) = (user.id, user.email.clone());
    match command {
        Command::UnlockUser => vec![call(state, Call::Account(AccountAction::Unlock, id))],
        Command::EnableUser => vec![call(state, Call::Account(AccountAction::Enable, id))],
        Command::DisableUser => {
            state.dialog = Some(Dialog::confirm_account(AccountAction::Disable, id, email));
            Vec::new()
        }
        Command::EndSessions => {
            state.dialog = Some(Dialog::confirm_account(
                AccountAction::EndSessions,
                id,
                email,
            ));
            Vec::new()
        }
        Command::ResetPassword => {
            state.dialog = Some(Dialog::reset_password(id, email));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// A key while the filter has the keys: text edits it (the selection goes back to the top);
/// Enter keeps it and Esc clears it, both giving the keys back to the list.
pub(crate) fn filter_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Enter => state.users.filtering = false,
        KeyCode::Esc => {
            state.users.filtering = false;
            state.users.filter.clear();
            state.users.selected = 0;
        }
        _ => {
            if state.users.filter.edit(key) {
                state.users.selected = 0;
            }
        }
    }
    Vec::new()
}

/// The accounts' answer. An answer to an older request is dropped.
pub(crate) fn on_list(
    state: &mut State,
    request: u64,
    result: Result<Vec<AdminUser>, ApiError>,
) -> Vec<Effect> {
    if request != state.users.request {
        return Vec::new();
    }
    match result {
        Ok(rows) => {
            state.users.rows = Load::Ready(rows);
            let len = state.users.visible().len();
            state.users.selected = state.users.selected.min(len.saturating_sub(1));
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.users.rows = Load::Failed(error.message);
        }
    }
    Vec::new()
}

/// An account changed by an action: its row shows the account as the server now has it.
pub(crate) fn on_changed(
    state: &mut State,
    action: AccountAction,
    result: Result<AdminUser, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(user) => {
            state.toast(
                format!("{} {}", action.done(), printable(&user.email, true)),
                ToastKind::Info,
            );
            replace_row(state, user);
            Vec::new()
        }
        Err(error) => failed(state, &error),
    }
}

/// The answer to ending an account's sessions: how many there were.
pub(crate) fn on_sessions_ended(
    state: &mut State,
    result: Result<SessionsRevoked, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(revoked) => {
            let email = state
                .users
                .rows
                .ready()
                .and_then(|rows| rows.iter().find(|u| u.id == revoked.user_id))
                .map(|u| printable(&u.email, true))
                .unwrap_or_else(|| "the account".into());
            let sessions = match revoked.revoked {
                1 => "1 session".to_string(),
                n => format!("{n} sessions"),
            };
            state.toast(format!("Ended {sessions} of {email}"), ToastKind::Info);
            Vec::new()
        }
        Err(error) => failed(state, &error),
    }
}

/// A refused or failed action, said in a notice.
fn failed(state: &mut State, error: &ApiError) -> Vec<Effect> {
    if let Some(effects) = handle_error(state, error) {
        return effects;
    }
    state.toast(error.message.clone(), ToastKind::Error);
    Vec::new()
}

/// Puts the account as the server answered it in place of its row.
pub(crate) fn replace_row(state: &mut State, user: AdminUser) {
    if let Load::Ready(rows) = &mut state.users.rows
        && let Some(row) = rows.iter_mut().find(|row| row.id == user.id)
    {
        *row = user;
    }
}

/// The account with this id, as the list has it.
pub(crate) fn email_of(state: &State, id: Uuid) -> Option<String> {
    state
        .users
        .rows
        .ready()
        .and_then(|rows| rows.iter().find(|u| u.id == id))
        .map(|u| u.email.clone())
}

/// What the state column says: disabled, locked (until when, in UTC as the audit trail
/// and the server's logs have it), or active.
fn account_state(state: &State, user: &AdminUser) -> (String, bool) {
    if user.disabled {
        return ("disabled".into(), false);
    }
    match user.locked_until {
        Some(until) if until > state.wall_now => (
            format!("LOCKED until {}", until.format("%Y-%m-%d %H:%M UTC")),
            true,
        ),
        _ => ("active".into(), false),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let users = &state.users;
    let show_filter = users.filtering || !users.filter.value.is_empty();
    let [filter_area, list_area] = if show_filter {
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area)
    } else {
        [Rect::default(), area]
    };
    if show_filter {
        let style = if users.filtering {
            theme.selected()
        } else {
            theme.base()
        };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" Filter ", theme.muted()),
                Span::styled(format!(" {} ", users.filter.value), style),
            ])),
            filter_area,
        );
        if users.filtering {
            let column = 9 + users.filter.cursor as u16;
            frame.set_cursor_position((
                filter_area.x + column.min(filter_area.width.saturating_sub(1)),
                filter_area.y,
            ));
        }
    }
    let visible = users.visible();
    let count = match users.rows.ready() {
        Some(rows) if visible.len() != rows.len() => {
            format!(" · {} of {}", visible.len(), rows.len())
        }
        Some(rows) => format!(" · {}", rows.len()),
        None => String::new(),
    };
    let block = Block::bordered().title(Line::styled(format!(" Users{count} "), theme.title()));
    if loaded_rows(
        frame,
        list_area,
        state,
        &block,
        &users.rows,
        ("No accounts.", "Loading the accounts…"),
    )
    .is_none()
    {
        return;
    }
    if visible.is_empty() {
        let inner = block.inner(list_area);
        frame.render_widget(block, list_area);
        crate::tui::ui::common::notice(
            frame,
            inner,
            state,
            "No account matches the filter (Esc in the filter clears it).",
            false,
        );
        return;
    }
    let wide = area.width >= 100;
    let lines = visible.iter().map(|user| {
        let (text, locked) = account_state(state, user);
        let mut cells = vec![
            Cell::from(printable(&user.email, true)),
            Cell::from(printable(&user.full_name, true)),
            Cell::from(user.role.as_str()),
            Cell::from(Span::styled(
                text,
                if locked {
                    theme.warning()
                } else if user.disabled {
                    theme.muted()
                } else {
                    theme.base()
                },
            )),
        ];
        if wide {
            cells.push(Cell::from(user.failed_logins.to_string()));
            cells.push(Cell::from(user.created_at.format("%Y-%m-%d").to_string()));
        }
        let row = Row::new(cells);
        if locked {
            row.style(theme.warning())
        } else {
            row
        }
    });
    let mut widths = vec![
        Constraint::Min(16),
        Constraint::Min(10),
        Constraint::Length(12),
        Constraint::Length(33),
    ];
    let mut header = vec!["Email", "Name", "Role", "State"];
    if wide {
        widths.extend([Constraint::Length(8), Constraint::Length(10)]);
        header.extend(["Failures", "Created"]);
    }
    let table = Table::new(lines, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(users.selected));
    frame.render_stateful_widget(table, list_area, &mut table_state);
}
