//! The running consultations: every consultation of the doctor still in progress, with its
//! patient, when it started and how long it has run, so none is forgotten. Enter opens the
//! patient's chart and resumes the consultation on it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use super::{is_motion, moved};
use crate::client::ApiError;
use crate::model::consultation::Consultation;
use crate::model::patient::PatientSummary;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::state::{Load, State};
use crate::tui::ui::common::{loaded_rows, name};
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::Open,
    Command::Refresh,
    Command::Search,
    Command::Back,
];

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

/// A running consultation with the patient it is about (`None` when that record could not be
/// read: the row still shows, with its MRN unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct RunningConsultation {
    pub consultation: Consultation,
    pub patient: Option<PatientSummary>,
}

/// The list and its selection.
#[derive(Debug, Clone, Default)]
pub struct RunningList {
    pub rows: Load<Vec<RunningConsultation>>,
    pub selected: usize,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
}

/// Opens the list, asking the server what runs now.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    state.go(crate::tui::state::Screen::Running);
    load(state)
}

/// Asks again; the rows shown stay until the answer replaces them.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    if state.running.rows.ready().is_none() {
        state.running.rows = Load::Loading;
    }
    let effect = call(state, Call::Running);
    if let Effect::Call { request, .. } = &effect {
        state.running.request = *request;
    }
    vec![effect]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let len = state.running.rows.ready().map_or(0, Vec::len);
    if is_motion(command) {
        state.running.selected = moved(state.running.selected, len, command, page);
        return Vec::new();
    }
    match command {
        Command::Open => {
            let Some(row) = state
                .running
                .rows
                .ready()
                .and_then(|rows| rows.get(state.running.selected))
            else {
                return Vec::new();
            };
            let (patient_id, id) = (row.consultation.patient_id, row.consultation.id);
            // The chart first, so the consultation opens under the patient's banner and Esc
            // from it goes back to the chart, then here.
            let mut effects = super::chart::open(state, patient_id);
            effects.push(call(state, Call::Consultation(id)));
            effects
        }
        _ => Vec::new(),
    }
}

/// The list's answer: newest first. An answer to an older request is dropped.
pub(crate) fn on_list(
    state: &mut State,
    request: u64,
    result: Result<Vec<RunningConsultation>, ApiError>,
) -> Vec<Effect> {
    if request != state.running.request {
        return Vec::new();
    }
    match result {
        Ok(mut rows) => {
            rows.sort_by_key(|row| std::cmp::Reverse(row.consultation.started_at));
            state.running.selected = state.running.selected.min(rows.len().saturating_sub(1));
            state.running.rows = Load::Ready(rows);
            Vec::new()
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.running.rows = Load::Failed(error.message);
            Vec::new()
        }
    }
}

/// How long a consultation has run, to the minute: "45 min", "2 h 05 min", "3 d 4 h".
pub fn elapsed(minutes: i64) -> String {
    let minutes = minutes.max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins:02} min")
    } else {
        format!("{mins} min")
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let count = state
        .running
        .rows
        .ready()
        .map(|rows| format!(" · {}", rows.len()))
        .unwrap_or_default();
    let block = Block::bordered().title(Line::styled(
        format!(" Running consultations{count} "),
        theme.title(),
    ));
    let Some(rows) = loaded_rows(
        frame,
        area,
        state,
        &block,
        &state.running.rows,
        (
            "No consultation is running.",
            "Loading the running consultations…",
        ),
    ) else {
        return;
    };
    let with_complaint = area.width >= 100;
    let lines = rows.iter().map(|row| {
        let c = &row.consultation;
        let minutes = (state.wall_now - c.started_at).num_minutes();
        let (patient, mrn) = match &row.patient {
            Some(p) => (name(state, &p.full_name), p.mrn.clone()),
            None => ("(patient not available)".to_string(), "—".to_string()),
        };
        let mut cells = vec![
            Cell::from(patient),
            Cell::from(mrn),
            Cell::from(c.started_at.format("%Y-%m-%d %H:%M").to_string()),
            Cell::from(Span::styled(elapsed(minutes), theme.highlight())),
            Cell::from(c.session_type.as_str()),
        ];
        if with_complaint {
            cells.push(Cell::from(
                c.chief_complaint
                    .as_deref()
                    .map(|x| printable(x, true))
                    .unwrap_or_default(),
            ));
        }
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Min(16),
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Length(11),
        Constraint::Length(12),
    ];
    let mut header = vec!["Patient", "MRN", "Started (UTC)", "Running", "Type"];
    if with_complaint {
        widths.push(Constraint::Min(12));
        header.push("Complaint");
    }
    let table = Table::new(lines, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(state.running.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}

#[cfg(test)]
mod tests {
    use super::elapsed;

    #[test]
    fn elapsed_reads_in_minutes_hours_and_days() {
        assert_eq!(elapsed(-3), "0 min");
        assert_eq!(elapsed(45), "45 min");
        assert_eq!(elapsed(125), "2 h 05 min");
        assert_eq!(elapsed(3 * 1440 + 4 * 60 + 7), "3 d 4 h");
    }
}
