//! The user's own sessions: every workstation and script logged in as them, with when each
//! was opened and last used, from where, and when the server will end it. A session left open
//! elsewhere (a colleague's machine, a laptop at home) is ended here with `x`; this
//! workstation's own session is ended by logging out, not from this list.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use uuid::Uuid;

use super::{is_motion, moved};
use crate::client::ApiError;
use crate::model::auth::{SessionEnded, SessionInfo, SessionList};
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::state::{Load, Screen, State, ToastKind};
use crate::tui::ui::common::loaded_rows;
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[Command::EndOwnSession, Command::Refresh, Command::Back];

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
    Command::EndOwnSession,
];

/// The sessions as the server listed them, and the selection.
#[derive(Debug, Clone, Default)]
pub struct OwnSessions {
    pub rows: Load<Vec<SessionInfo>>,
    pub selected: usize,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
}

/// Opens the list, loading it.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    state.own_sessions.selected = 0;
    state.go(Screen::Sessions);
    load(state)
}

/// Asks for the sessions again; the rows shown stay until the answer replaces them.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    if state.own_sessions.rows.ready().is_none() {
        state.own_sessions.rows = Load::Loading;
    }
    let effect = call(state, Call::OwnSessions);
    if let Effect::Call { request, .. } = &effect {
        state.own_sessions.request = *request;
    }
    vec![effect]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let len = state.own_sessions.rows.ready().map_or(0, Vec::len);
    if is_motion(command) {
        state.own_sessions.selected = moved(state.own_sessions.selected, len, command, page);
        return Vec::new();
    }
    if command != Command::EndOwnSession {
        return Vec::new();
    }
    let Some(session) = state
        .own_sessions
        .rows
        .ready()
        .and_then(|rows| rows.get(state.own_sessions.selected))
    else {
        return Vec::new();
    };
    if session.current {
        state.toast(
            "That is this workstation's own session: quit (Ctrl-C) to end it.",
            ToastKind::Error,
        );
        return Vec::new();
    }
    let id = session.id;
    vec![call(state, Call::EndOwnSession(id))]
}

/// The sessions' answer. An answer to an older request is dropped.
pub(crate) fn on_list(
    state: &mut State,
    request: u64,
    result: Result<SessionList, ApiError>,
) -> Vec<Effect> {
    if request != state.own_sessions.request {
        return Vec::new();
    }
    match result {
        Ok(list) => {
            let len = list.items.len();
            state.own_sessions.rows = Load::Ready(list.items);
            state.own_sessions.selected = state.own_sessions.selected.min(len.saturating_sub(1));
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.own_sessions.rows = Load::Failed(error.message);
        }
    }
    Vec::new()
}

/// A session was ended: its row goes, and a notice says so.
pub(crate) fn on_ended(
    state: &mut State,
    id: Uuid,
    result: Result<SessionEnded, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(_) => {
            if let Load::Ready(rows) = &mut state.own_sessions.rows {
                rows.retain(|s| s.id != id);
                state.own_sessions.selected = state
                    .own_sessions
                    .selected
                    .min(rows.len().saturating_sub(1));
            }
            state.toast(
                "Session ended: its workstation must log in again.",
                ToastKind::Info,
            );
            Vec::new()
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.toast(error.message, ToastKind::Error);
            // Ended already, perhaps by its own logout: show the list as it is now.
            load(state)
        }
    }
}

/// A time as the list shows it: in UTC, like the audit trail, to the minute.
fn at(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M").to_string()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let sessions = &state.own_sessions;
    let count = sessions
        .rows
        .ready()
        .map(|rows| format!(" · {}", rows.len()))
        .unwrap_or_default();
    let block = Block::bordered().title(Line::styled(
        format!(" Your sessions{count} (times in UTC) "),
        theme.title(),
    ));
    let Some(rows) = loaded_rows(
        frame,
        area,
        state,
        &block,
        &sessions.rows,
        ("No open sessions.", "Loading your sessions…"),
    ) else {
        return;
    };
    let wide = area.width >= 110;
    let lines = rows.iter().map(|s| {
        let mut cells = vec![
            Cell::from(if s.current {
                "this workstation".to_string()
            } else {
                printable(s.client.as_deref().unwrap_or("—"), true)
            }),
            Cell::from(printable(s.ip.as_deref().unwrap_or("—"), true)),
            Cell::from(at(s.created_at)),
            Cell::from(at(s.last_used_at)),
        ];
        if wide {
            cells.push(Cell::from(at(s.idle_expires_at)));
        }
        let row = Row::new(cells);
        if s.current {
            row.style(theme.muted())
        } else {
            row
        }
    });
    let mut widths = vec![
        Constraint::Min(18),
        Constraint::Length(16),
        Constraint::Length(16),
        Constraint::Length(16),
    ];
    let mut header = vec!["Client", "Address", "Opened", "Last used"];
    if wide {
        widths.push(Constraint::Length(16));
        header.push("Ends unless used");
    }
    let table = Table::new(lines, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(sessions.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
