//! The patient chart: the banner, demographics and symptoms, this patient's reports and the
//! consultation history (newest first), each a pane that Tab moves between; Enter opens the
//! selected report, or a past consultation's notes to read. A consultation starts or resumes
//! from here.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};
use uuid::Uuid;

use super::{is_motion, moved};
use crate::client::ApiError;
use crate::model::consultation::{
    Consultation, ConsultationHistory, ConsultationStatus, SessionType,
};
use crate::model::patient::Patient;
use crate::model::report::{ReportPage, ReportSummary};
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect, ExportTarget};
use crate::tui::keymap::Command;
use crate::tui::state::{Dialog, Load, Screen, State, ToastKind};
use crate::tui::ui::common::{banner_layout, contact, loaded_rows, notice, patient_banner};
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::Open,
    Command::StartConsultation,
    Command::OpenConsultation,
    Command::EditPatient,
    Command::NextPane,
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
    Command::NextPane,
    Command::StartConsultation,
    Command::OpenConsultation,
    Command::PatientReports,
    Command::EditPatient,
    Command::Export,
];

/// The chart's panes that take the motion keys and Enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartPane {
    #[default]
    Reports,
    Consultations,
}

/// The patient in context.
#[derive(Debug, Clone, Default)]
pub struct ChartState {
    pub patient_id: Option<Uuid>,
    pub patient: Load<Patient>,
    pub history: Load<Vec<Consultation>>,
    pub reports: Load<Vec<ReportSummary>>,
    pub selected_report: usize,
    /// The pane the motion keys and Enter act on.
    pub pane: ChartPane,
    pub selected_consultation: usize,
}

/// Opens a patient's chart: exactly one patient is in context from now on.
pub(crate) fn open(state: &mut State, patient_id: Uuid) -> Vec<Effect> {
    state.chart = ChartState {
        patient_id: Some(patient_id),
        patient: Load::Loading,
        history: Load::Loading,
        reports: Load::Loading,
        ..ChartState::default()
    };
    state.overlay = None;
    state.go(Screen::Chart);
    vec![
        call(state, Call::Patient(patient_id)),
        call(state, Call::History(patient_id)),
        call(state, Call::PatientReports(patient_id)),
    ]
}

/// Opens the chart again, keeping where Esc goes back to.
pub(crate) fn refresh(state: &mut State) -> Vec<Effect> {
    let Some(id) = state.chart.patient_id else {
        return Vec::new();
    };
    state.screen = Screen::Patients;
    let previous = state.history.clone();
    // The pane and the rows selected stay where the doctor left them.
    let (pane, report, consultation) = (
        state.chart.pane,
        state.chart.selected_report,
        state.chart.selected_consultation,
    );
    let effects = open(state, id);
    state.history = previous;
    state.chart.pane = pane;
    state.chart.selected_report = report;
    state.chart.selected_consultation = consultation;
    effects
}

/// Loads the chart's record, consultations and reports again because something changed on
/// the server; what is shown stays until each answer replaces it.
pub(crate) fn reload(state: &mut State) -> Vec<Effect> {
    let Some(id) = state.chart.patient_id else {
        return Vec::new();
    };
    vec![
        call(state, Call::Patient(id)),
        call(state, Call::History(id)),
        call(state, Call::PatientReports(id)),
    ]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let reports_len = state.chart.reports.ready().map_or(0, Vec::len);
    let history_len = state.chart.history.ready().map_or(0, Vec::len);
    if is_motion(command) {
        let chart = &mut state.chart;
        match chart.pane {
            ChartPane::Reports => {
                chart.selected_report = moved(chart.selected_report, reports_len, command, page)
            }
            ChartPane::Consultations => {
                chart.selected_consultation =
                    moved(chart.selected_consultation, history_len, command, page)
            }
        }
        return Vec::new();
    }
    if command == Command::Export {
        let Some(patient) = state.chart.patient.ready() else {
            return Vec::new();
        };
        let id = patient.summary.id;
        let dir = state.settings.documents_dir.clone();
        state.toast("Exporting the record…", ToastKind::Info);
        return vec![call(state, Call::Export(ExportTarget::Record(id), dir))];
    }
    match command {
        Command::EditPatient => match state.chart.patient.ready() {
            Some(patient) => {
                let form = crate::tui::components::dialogs::PatientForm::chart(patient);
                crate::tui::components::dialogs::patient_form::open(state, form)
            }
            None => Vec::new(),
        },
        Command::NextPane => {
            state.chart.pane = match state.chart.pane {
                ChartPane::Reports => ChartPane::Consultations,
                ChartPane::Consultations => ChartPane::Reports,
            };
            Vec::new()
        }
        Command::Open if state.chart.pane == ChartPane::Consultations => open_consultation(state),
        Command::Open => {
            let Some(reports) = state.chart.reports.ready() else {
                return Vec::new();
            };
            let Some(selected) = reports.get(state.chart.selected_report) else {
                return Vec::new();
            };
            let id = selected.id;
            let siblings = reports.iter().map(|r| r.id).collect();
            super::report::open(state, id, siblings)
        }
        Command::StartConsultation => start_or_resume(state),
        Command::PatientReports => {
            let Some(patient) = state.patient() else {
                return Vec::new();
            };
            let chip = (patient.summary.id, patient.summary.full_name.clone());
            super::reports::leave_drafts(state);
            state.reports.patient = Some(chip);
            state.go(Screen::Reports);
            super::reports::load(state)
        }
        Command::OpenConsultation => match state
            .patient()
            .and_then(|p| p.summary.active_consultation_id)
        {
            Some(id) => vec![call(state, Call::Consultation(id))],
            None => {
                state.toast(
                    "No consultation is running for this patient.",
                    ToastKind::Info,
                );
                Vec::new()
            }
        },
        _ => Vec::new(),
    }
}

/// Enter on the consultations pane: a past consultation's notes open to read; the one still
/// running is resumed instead, as `o` would.
fn open_consultation(state: &mut State) -> Vec<Effect> {
    let Some(selected) = state
        .chart
        .history
        .ready()
        .and_then(|items| items.get(state.chart.selected_consultation))
    else {
        return Vec::new();
    };
    let id = selected.id;
    if selected.status == ConsultationStatus::InProgress {
        return vec![call(state, Call::Consultation(id))];
    }
    super::past_notes::open(state, id)
}

fn start_or_resume(state: &mut State) -> Vec<Effect> {
    let Some(patient) = state.patient() else {
        return Vec::new();
    };
    if let Some(running) = patient.summary.active_consultation_id {
        state.toast(
            "A consultation is already running for this patient: resuming it.",
            ToastKind::Info,
        );
        return vec![call(state, Call::Consultation(running))];
    }
    state.dialog = Some(Dialog::StartConsultation {
        session_type: SessionType::FollowUp,
        complaint: Default::default(),
    });
    Vec::new()
}

/// The patient's record; an answer for a patient no longer in context is dropped.
pub(crate) fn on_patient(state: &mut State, result: Result<Patient, ApiError>) -> Vec<Effect> {
    match result {
        Ok(patient) if Some(patient.summary.id) == state.chart.patient_id => {
            super::recent::remember(state, &patient);
            state.chart.patient = Load::Ready(patient);
        }
        Ok(_) => {}
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.chart.patient = Load::Failed(error.message);
        }
    }
    Vec::new()
}

pub(crate) fn on_history(
    state: &mut State,
    result: Result<ConsultationHistory, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(history) if Some(history.patient_id) == state.chart.patient_id => {
            state.chart.selected_consultation = state
                .chart
                .selected_consultation
                .min(history.items.len().saturating_sub(1));
            state.chart.history = Load::Ready(history.items);
        }
        Ok(_) => {}
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.chart.history = Load::Failed(error.message);
        }
    }
    Vec::new()
}

pub(crate) fn on_reports(state: &mut State, result: Result<ReportPage, ApiError>) -> Vec<Effect> {
    match result {
        Ok(page) if page.filters_applied.patient_id == state.chart.patient_id => {
            // A reload keeps the selected report selected, wherever it moved.
            let selected = state
                .chart
                .reports
                .ready()
                .and_then(|reports| reports.get(state.chart.selected_report))
                .map(|r| r.id);
            let position = selected.and_then(|id| page.items.iter().position(|r| r.id == id));
            state.chart.selected_report = position
                .unwrap_or(state.chart.selected_report)
                .min(page.items.len().saturating_sub(1));
            state.chart.reports = Load::Ready(page.items);
        }
        Ok(_) => {}
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.chart.reports = Load::Failed(error.message);
        }
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let patient = match &state.chart.patient {
        Load::Ready(p) => p,
        Load::Failed(error) => return notice(frame, area, state, error, true),
        _ => return notice(frame, area, state, "Loading the chart…", false),
    };
    let [banner, body] = banner_layout(area, state, patient);
    patient_banner(frame, banner, state, patient);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
    let s = &patient.summary;
    let mut details = vec![
        Line::from(vec![
            Span::styled("Phone    ", theme.muted()),
            Span::raw(contact(state, s.phone.as_ref())),
        ]),
        Line::from(vec![
            Span::styled("Email    ", theme.muted()),
            Span::raw(contact(state, s.email.as_ref())),
        ]),
        Line::from(vec![
            Span::styled("Address  ", theme.muted()),
            Span::raw(contact(state, patient.address.as_ref())),
        ]),
        Line::from(vec![
            Span::styled("Referred ", theme.muted()),
            Span::raw(
                patient
                    .referred_by
                    .as_deref()
                    .map(|r| printable(r, true))
                    .unwrap_or_else(|| "—".into()),
            ),
        ]),
        Line::raw(""),
        Line::styled("Symptoms", theme.title()),
    ];
    if patient.symptoms.is_empty() {
        details.push(Line::styled("none recorded", theme.muted()));
    }
    for symptom in &patient.symptoms {
        let extra = [symptom.severity.as_deref(), symptom.frequency.as_deref()]
            .into_iter()
            .flatten()
            .map(|x| printable(x, true))
            .collect::<Vec<_>>()
            .join(", ");
        details.push(Line::raw(format!(
            "• {}{}",
            printable(&symptom.name, true),
            if extra.is_empty() {
                String::new()
            } else {
                format!(" ({extra})")
            }
        )));
    }
    frame.render_widget(
        Paragraph::new(details)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Patient ")),
        left,
    );
    let [reports_area, history_area] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(right);
    draw_history(frame, history_area, state);
    let right = reports_area;
    let block = pane_block(state, ChartPane::Reports, "Reports");
    let Some(items) = loaded_rows(
        frame,
        right,
        state,
        &block,
        &state.chart.reports,
        ("No reports for this patient.", "Loading reports…"),
    ) else {
        return;
    };
    let rows = items.iter().map(|r| {
        Row::new(vec![
            Cell::from(r.created_at.format("%Y-%m-%d").to_string()),
            Cell::from(Span::styled(r.status.as_str(), theme.status(r.status))),
            Cell::from(r.consultation.session_type.as_str()),
            Cell::from(
                r.consultation
                    .chief_complaint
                    .as_deref()
                    .map(|x| printable(x, true))
                    .unwrap_or_default(),
            ),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["Date", "Status", "Type", "Complaint"]).style(theme.muted()))
    .row_highlight_style(theme.selected())
    .block(block);
    let selected = (state.chart.pane == ChartPane::Reports).then_some(state.chart.selected_report);
    let mut table_state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, right, &mut table_state);
}

/// A pane's box: the focused one says so in its title, with the key that moves on.
fn pane_block(state: &State, pane: ChartPane, title: &str) -> Block<'static> {
    let theme = &state.settings.theme;
    if state.chart.pane == pane {
        Block::bordered()
            .border_style(theme.title())
            .title(Line::styled(format!(" ▸ {title} "), theme.title()))
    } else {
        let key = state
            .settings
            .keymap
            .keys_in(Command::NextPane, crate::tui::keymap::Scope::Chart)
            .first()
            .map(|k| format!(" ({})", k.label()))
            .unwrap_or_default();
        Block::bordered().title(Line::styled(format!(" {title}{key} "), theme.muted()))
    }
}

/// The consultations pane: newest first; Enter opens the selected one's notes to read.
fn draw_history(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let block = pane_block(state, ChartPane::Consultations, "Consultations");
    let Some(items) = loaded_rows(
        frame,
        area,
        state,
        &block,
        &state.chart.history,
        ("No consultations yet.", "Loading consultations…"),
    ) else {
        return;
    };
    let rows = items.iter().map(|c| {
        Row::new(vec![
            Cell::from(c.started_at.format("%Y-%m-%d").to_string()),
            Cell::from(c.session_type.as_str()),
            Cell::from(c.status.as_str()),
            Cell::from(
                c.chief_complaint
                    .as_deref()
                    .map(|x| printable(x, true))
                    .unwrap_or_default(),
            ),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(11),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["Date", "Type", "Status", "Complaint"]).style(theme.muted()))
    .row_highlight_style(theme.selected())
    .block(block);
    let selected =
        (state.chart.pane == ChartPane::Consultations).then_some(state.chart.selected_consultation);
    let mut table_state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut table_state);
}
