//! The patients opened recently: each chart the doctor opened this session, the most recent
//! first, each once, at most `RECENT_LIMIT`. Kept in memory only, never on disk, and gone with
//! the session; Enter opens the chart again.

use chrono::{DateTime, NaiveDate, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use uuid::Uuid;

use super::{is_motion, moved};
use crate::model::patient::Patient;
use crate::tui::effect::Effect;
use crate::tui::keymap::Command;
use crate::tui::state::{Screen, State};
use crate::tui::ui::common::{name, notice};

/// The most patients the list keeps; the oldest goes when another is opened.
pub const RECENT_LIMIT: usize = 20;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[Command::Open, Command::Search, Command::Back];

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
    Command::Open,
];

/// A patient whose chart was opened, with what tells two namesakes apart.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentPatient {
    pub id: Uuid,
    pub mrn: String,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub opened_at: DateTime<Utc>,
}

/// The recent patients, most recent first, and the selection.
#[derive(Debug, Clone, Default)]
pub struct RecentPatients {
    pub items: Vec<RecentPatient>,
    pub selected: usize,
}

/// A chart was opened: its patient goes to the top, once.
pub(crate) fn remember(state: &mut State, patient: &Patient) {
    let s = &patient.summary;
    let recent = &mut state.recent;
    recent.items.retain(|r| r.id != s.id);
    recent.items.insert(
        0,
        RecentPatient {
            id: s.id,
            mrn: s.mrn.clone(),
            full_name: s.full_name.clone(),
            date_of_birth: s.date_of_birth,
            opened_at: state.wall_now,
        },
    );
    recent.items.truncate(RECENT_LIMIT);
    recent.selected = recent.selected.min(recent.items.len().saturating_sub(1));
}

/// Opens the list, the most recent selected.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    state.recent.selected = 0;
    state.go(Screen::Recent);
    Vec::new()
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let len = state.recent.items.len();
    if is_motion(command) {
        state.recent.selected = moved(state.recent.selected, len, command, page);
        return Vec::new();
    }
    match command {
        Command::Open => match state.recent.items.get(state.recent.selected) {
            Some(patient) => {
                let id = patient.id;
                super::chart::open(state, id)
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let items = &state.recent.items;
    let block = Block::bordered().title(Line::styled(
        format!(" Patients opened recently · {} ", items.len()),
        theme.title(),
    ));
    if items.is_empty() {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        return notice(
            frame,
            inner,
            state,
            "No chart opened yet in this session.",
            false,
        );
    }
    let rows = items.iter().map(|p| {
        Row::new(vec![
            Cell::from(name(state, &p.full_name)),
            Cell::from(if state.privacy {
                "••••-••-••".to_string()
            } else {
                p.date_of_birth.to_string()
            }),
            Cell::from(p.mrn.clone()),
            Cell::from(p.opened_at.format("%H:%M").to_string()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(11),
            Constraint::Length(12),
        ],
    )
    .header(Row::new(["Name", "Born", "MRN", "Opened (UTC)"]).style(theme.muted()))
    .row_highlight_style(theme.selected())
    .block(block);
    let mut table_state = TableState::default().with_selected(Some(state.recent.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
