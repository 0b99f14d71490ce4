//! A past consultation's notes, read-only: opened from the chart's consultations pane under
//! the patient's banner. Nothing here edits; the keys scroll, Esc goes back to the chart.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use uuid::Uuid;

use crate::client::ApiError;
use crate::model::consultation::Consultation;
use crate::model::patient::Patient;
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::state::{Load, Screen, State};
use crate::tui::ui::common::{banner_layout, notice, patient_banner};
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[Command::Down, Command::PageDown, Command::Back];

/// The commands this screen handles: it only scrolls.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
];

/// The consultation whose notes are shown, and how far they are scrolled.
#[derive(Debug, Clone, Default)]
pub struct PastNotes {
    pub id: Option<Uuid>,
    pub consultation: Load<Consultation>,
    pub scroll: u16,
}

/// Opens a consultation's notes to read.
pub(crate) fn open(state: &mut State, id: Uuid) -> Vec<Effect> {
    state.past_notes = PastNotes {
        id: Some(id),
        consultation: Load::Loading,
        scroll: 0,
    };
    state.go(Screen::PastNotes);
    vec![call(state, Call::PastConsultation(id))]
}

/// Asks for the notes again.
pub(crate) fn refresh(state: &mut State) -> Vec<Effect> {
    match state.past_notes.id {
        Some(id) => vec![call(state, Call::PastConsultation(id))],
        None => Vec::new(),
    }
}

/// The consultation; an answer for another one (the doctor moved on) is dropped.
pub(crate) fn on_consultation(
    state: &mut State,
    result: Result<Consultation, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(consultation) if Some(consultation.id) == state.past_notes.id => {
            state.past_notes.consultation = Load::Ready(consultation);
        }
        Ok(_) => {}
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.past_notes.consultation = Load::Failed(error.message);
        }
    }
    Vec::new()
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let lines = state
        .past_notes
        .consultation
        .ready()
        .and_then(|c| c.notes.as_deref())
        .map_or(0, |notes| notes.lines().count());
    let last = u16::try_from(lines.saturating_sub(1)).unwrap_or(u16::MAX);
    let page = u16::try_from(page).unwrap_or(u16::MAX);
    let scroll = &mut state.past_notes.scroll;
    *scroll = match command {
        Command::Up => scroll.saturating_sub(1),
        Command::Down => scroll.saturating_add(1),
        Command::PageUp => scroll.saturating_sub(page),
        Command::PageDown => scroll.saturating_add(page),
        Command::Top => 0,
        Command::Bottom => last,
        _ => *scroll,
    }
    .min(last);
    Vec::new()
}

/// The patient pinned above the notes: the chart's, when the notes are that patient's.
pub fn banner(state: &State) -> Option<&Patient> {
    let patient = state.chart.patient.ready()?;
    match state.past_notes.consultation.ready() {
        Some(c) if c.patient_id != patient.summary.id => None,
        _ => Some(patient),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let area = match banner(state) {
        Some(patient) => {
            let [top, rest] = banner_layout(area, state, patient);
            patient_banner(frame, top, state, patient);
            rest
        }
        None => area,
    };
    let consultation = match &state.past_notes.consultation {
        Load::Ready(c) => c,
        Load::Failed(error) => return notice(frame, area, state, error, true),
        _ => return notice(frame, area, state, "Loading the notes…", false),
    };
    let [header, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(area);
    let duration = consultation
        .duration_minutes
        .map(|m| format!("{m} min"))
        .unwrap_or_else(|| "—".into());
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(consultation.session_code.clone(), theme.title()),
                Span::raw(format!(
                    "  {}  {}  {}  {duration}",
                    consultation.started_at.format("%Y-%m-%d %H:%M"),
                    consultation.session_type.as_str(),
                    consultation.status.as_str(),
                )),
            ]),
            Line::styled(
                format!(
                    "Complaint: {}",
                    consultation
                        .chief_complaint
                        .as_deref()
                        .map(|x| printable(x, true))
                        .unwrap_or_else(|| "—".into())
                ),
                theme.muted(),
            ),
        ]),
        header,
    );
    let block = Block::bordered().title(Line::styled(
        " Notes — read-only (Esc back) ",
        theme.title(),
    ));
    let text: Vec<Line> = match consultation.notes.as_deref() {
        Some(notes) if !notes.trim().is_empty() => notes
            .lines()
            .map(|line| Line::raw(printable(line, true)))
            .collect(),
        _ => vec![Line::styled("No notes were written.", theme.muted())],
    };
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((state.past_notes.scroll, 0))
            .block(block),
        body,
    );
}
