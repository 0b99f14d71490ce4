//! The running consultation: elapsed time, the notes editor (saved as the doctor types), and
//! after stop the report's status live until it is ready to open.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use uuid::Uuid;

use crate::client::{ApiError, ErrorKind};
use crate::model::consultation::{ActiveConsultations, Consultation, ConsultationStatus};
use crate::model::report::{Report, ReportStatus};
use crate::model::text::printable;
use crate::tui::action::Timer;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Notes;
use crate::tui::keymap::{Command, Key, Scope};
use crate::tui::state::{Dialog, Jump, Screen, State, ToastKind};
use crate::tui::ui::common::{banner_layout, notice, patient_banner};
use crate::tui::update::{call, handle_error, poll_later, run_command};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::StopConsultation,
    Command::CancelConsultation,
    Command::Open,
    Command::Back,
];

/// The commands this screen handles (stop and cancel while it runs, Enter once its report is
/// ready).
pub const COMMANDS: &[Command] = &[
    Command::StopConsultation,
    Command::CancelConsultation,
    Command::Open,
];

/// The running (or just stopped) consultation.
#[derive(Debug, Clone, Default)]
pub struct ConsultationState {
    pub consultation: Option<Consultation>,
    pub notes: Notes,
    /// Counts edits; the save timer carries the count it was set for.
    pub edits: u64,
    pub saved_edits: u64,
    pub saving: bool,
    pub save_error: Option<String>,
    /// The report being generated after stop.
    pub report_status: Option<ReportStatus>,
    pub started_ms: u64,
}

/// Whether a consultation is running: the notes editor takes the keys then.
pub(crate) fn running(state: &State) -> bool {
    state
        .consultation
        .consultation
        .as_ref()
        .is_some_and(|c| c.status == ConsultationStatus::InProgress)
}

/// Whether the running consultation's notes hold text the server has not confirmed.
pub(crate) fn notes_unsaved(state: &State) -> bool {
    let c = &state.consultation;
    running(state) && (c.edits != c.saved_edits || c.saving)
}

/// The running consultation and its notes, when they hold text the server has not confirmed:
/// what the workstation sends before it leaves on a signal.
pub fn pending_notes(state: &State) -> Option<(Uuid, String)> {
    let consultation = state.consultation.consultation.as_ref()?;
    notes_unsaved(state).then(|| (consultation.id, state.consultation.notes.text()))
}

/// Saves the notes if they changed since the last save.
pub(crate) fn save_notes(state: &mut State) -> Vec<Effect> {
    let c = &state.consultation;
    let Some(consultation) = &c.consultation else {
        return Vec::new();
    };
    if c.edits == c.saved_edits || consultation.status != ConsultationStatus::InProgress {
        return Vec::new();
    }
    let id = consultation.id;
    let notes = c.notes.text();
    state.consultation.saving = true;
    state.consultation.saved_edits = state.consultation.edits;
    vec![call(state, Call::SaveNotes { id, notes })]
}

fn notes_edited(state: &mut State) -> Vec<Effect> {
    state.consultation.edits += 1;
    vec![Effect::After {
        delay_ms: state.settings.notes_debounce_ms,
        timer: Timer::SaveNotes(state.consultation.edits),
    }]
}

/// The notes editor takes text keys; returns `None` for keys it leaves to the keymap.
pub(crate) fn notes_key(state: &mut State, key: &KeyEvent) -> Option<Vec<Effect>> {
    // The consultation's own keys (stop, cancel) win over typing, whatever they are bound to.
    if let Some(command) = state.settings.keymap.own_command(key, Scope::Consultation) {
        return Some(run_command(state, command));
    }
    // The editor's own control keys (undo, deleting a word) are its, unless bound to a command.
    let own_control =
        Notes::takes(key) && state.settings.keymap.command(key, Scope::Global).is_none();
    if !own_control && !editor_takes(&Key::from_event(key)) {
        return None;
    }
    if state.consultation.notes.edit(key) {
        Some(notes_edited(state))
    } else {
        Some(Vec::new())
    }
}

/// Whether the notes editor takes `key` as text or movement while a consultation runs; the
/// others (Esc, function keys, Ctrl and Alt combinations, the page keys) go to the keymap. Help
/// and the hint bar leave out the keys the editor takes.
pub(crate) fn editor_takes(key: &Key) -> bool {
    match key.code {
        KeyCode::Esc | KeyCode::F(_) | KeyCode::PageUp | KeyCode::PageDown => false,
        KeyCode::Char(_) => !(key.ctrl || key.alt),
        _ => true,
    }
}

/// Whether the stopped consultation's report can be opened (Enter).
pub(crate) fn report_ready(state: &State) -> bool {
    let c = &state.consultation;
    c.consultation.as_ref().and_then(|c| c.report_id).is_some()
        && matches!(
            c.report_status,
            Some(ReportStatus::Completed) | Some(ReportStatus::Failed)
        )
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if !running(state) {
        return Vec::new();
    }
    state.consultation.notes.insert(text);
    notes_edited(state)
}

pub(crate) fn command(state: &mut State, command: Command) -> Vec<Effect> {
    match command {
        // Empty notes make a failed report: that takes a yes.
        Command::StopConsultation
            if running(state) && state.consultation.notes.text().trim().is_empty() =>
        {
            state.dialog = Some(Dialog::StopWithoutNotes);
            Vec::new()
        }
        Command::StopConsultation if running(state) => stop(state),
        Command::CancelConsultation if running(state) => {
            state.dialog = Some(Dialog::CancelConsultation {
                reason: Default::default(),
                error: None,
            });
            Vec::new()
        }
        Command::Open => {
            let report = state
                .consultation
                .consultation
                .as_ref()
                .and_then(|c| c.report_id);
            match report {
                Some(id) if report_ready(state) => super::report::open(state, id, vec![id]),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// Stops the running consultation with its notes as they are now.
pub(crate) fn stop(state: &mut State) -> Vec<Effect> {
    if !running(state) {
        return Vec::new();
    }
    let Some(id) = state.consultation.consultation.as_ref().map(|c| c.id) else {
        return Vec::new();
    };
    let notes = state.consultation.notes.text();
    state.consultation.saved_edits = state.consultation.edits;
    vec![call(state, Call::Stop { id, notes })]
}

/// A consultation started or resumed: its screen opens with its notes.
pub(crate) fn on_consultation(
    state: &mut State,
    result: Result<Consultation, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(consultation) => {
            let notes = consultation.notes.clone().unwrap_or_default();
            state.consultation = ConsultationState {
                report_status: consultation.report_status,
                notes: Notes::from_text(&notes),
                consultation: Some(consultation),
                started_ms: state.now_ms,
                ..ConsultationState::default()
            };
            state.go(Screen::Consultation);
            Vec::new()
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            if let ErrorKind::ConsultationActive {
                consultation_id: Some(id),
            } = error.kind
            {
                state.toast(
                    "A consultation is already running: resuming it.",
                    ToastKind::Info,
                );
                return vec![call(state, Call::Consultation(id))];
            }
            state.toast(error.message, ToastKind::Error);
            Vec::new()
        }
    }
}

pub(crate) fn on_notes_saved(
    state: &mut State,
    result: Result<Consultation, ApiError>,
) -> Vec<Effect> {
    state.consultation.saving = false;
    match result {
        Ok(_) => {
            state.consultation.save_error = None;
            Vec::new()
        }
        Err(error) => {
            // Not saved: mark the notes unsaved and try again after a pause.
            state.consultation.save_error = Some(error.message.clone());
            state.consultation.saved_edits = state.consultation.edits.saturating_sub(1);
            let mut effects = handle_error(state, &error).unwrap_or_default();
            effects.push(Effect::After {
                delay_ms: state.settings.notes_debounce_ms * 3,
                timer: Timer::SaveNotes(state.consultation.edits),
            });
            effects
        }
    }
}

/// Stopped: the report is being generated and is followed until it is ready.
pub(crate) fn on_stopped(state: &mut State, result: Result<Consultation, ApiError>) -> Vec<Effect> {
    match result {
        Ok(consultation) => {
            let report = consultation.report_id;
            state.consultation.report_status = consultation.report_status;
            state.consultation.consultation = Some(consultation);
            state.toast(
                "Consultation stopped: the report is being generated.",
                ToastKind::Info,
            );
            match report {
                Some(id) => follow_report(state, id),
                None => Vec::new(),
            }
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.toast(error.message, ToastKind::Error);
            Vec::new()
        }
    }
}

/// The report this workstation's stopped consultation is generating, while it is not ready.
pub(crate) fn followed_report(state: &State) -> Option<Uuid> {
    let c = &state.consultation;
    let id = c.consultation.as_ref()?.report_id?;
    matches!(
        c.report_status,
        None | Some(ReportStatus::Pending | ReportStatus::Generating)
    )
    .then_some(id)
}

/// Waits for the report being generated: live events say when it is ready; only while the
/// event stream is down is it looked at again every little while.
pub(crate) fn follow_report(state: &State, id: Uuid) -> Vec<Effect> {
    if state.live.connected {
        Vec::new()
    } else {
        vec![poll_later(id)]
    }
}

/// The followed report moved on (an event, or a look at it): its status is shown, and when
/// it is ready (or failed) a notice says so wherever the doctor is, with a key that opens
/// this report, whatever screen is open then.
pub(crate) fn on_report_status(state: &mut State, id: Uuid, status: ReportStatus) -> Vec<Effect> {
    if followed_report(state) != Some(id) {
        return Vec::new();
    }
    state.consultation.report_status = Some(status);
    let key = state
        .settings
        .keymap
        .hint_key(Command::OpenNotice, Scope::Global);
    match status {
        ReportStatus::Pending | ReportStatus::Generating => follow_report(state, id),
        ReportStatus::Completed => {
            state.notice(
                format!("The report is ready: {key} opens it."),
                ToastKind::Info,
                Jump::Report(id),
            );
            state.unsigned = state.unsigned.map(|n| n + 1);
            Vec::new()
        }
        ReportStatus::Failed => {
            state.notice(
                format!("The report could not be generated: {key} opens it to write it by hand."),
                ToastKind::Error,
                Jump::Report(id),
            );
            Vec::new()
        }
        ReportStatus::Signed => Vec::new(),
    }
}

/// The report being generated, looked at again.
pub(crate) fn on_polled(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => on_report_status(state, report.summary.id, report.summary.status),
        Err(error) => {
            if error.is_offline() {
                // Keep following the report once the server is back.
                let id = followed_report(state);
                let mut effects = handle_error(state, &error).unwrap_or_default();
                if let Some(id) = id {
                    effects.push(poll_later(id));
                }
                return effects;
            }
            handle_error(state, &error).unwrap_or_default()
        }
    }
}

/// The open consultation, looked at again because an event said it changed (stopped or
/// cancelled at another workstation): its status follows, the notes on screen stay as typed.
pub(crate) fn on_changed(state: &mut State, result: Result<Consultation, ApiError>) -> Vec<Effect> {
    match result {
        Ok(changed) => {
            let Some(open) = &mut state.consultation.consultation else {
                return Vec::new();
            };
            if open.id != changed.id {
                return Vec::new();
            }
            let was_running = open.status == ConsultationStatus::InProgress;
            let status = changed.status;
            let notes = open.notes.take();
            *open = Consultation { notes, ..changed };
            if let Some(report_status) = open.report_status {
                state.consultation.report_status = Some(report_status);
            }
            if was_running && status != ConsultationStatus::InProgress {
                let how = match status {
                    ConsultationStatus::Cancelled => "cancelled",
                    _ => "stopped",
                };
                state.toast(
                    format!(
                        "This consultation was {how} at another workstation; the notes stay on screen."
                    ),
                    ToastKind::Info,
                );
            }
            Vec::new()
        }
        Err(error) => handle_error(state, &error).unwrap_or_default(),
    }
}

pub(crate) fn on_cancelled(
    state: &mut State,
    result: Result<Consultation, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(consultation) => {
            state.consultation.consultation = Some(consultation);
            state.toast("Consultation cancelled.", ToastKind::Info);
            if let Some(previous) = state.history.pop() {
                state.screen = previous;
            }
            Vec::new()
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.toast(error.message, ToastKind::Error);
            Vec::new()
        }
    }
}

/// After login: consultations left running are mentioned, so none is forgotten.
pub(crate) fn on_active(
    state: &mut State,
    result: Result<ActiveConsultations, ApiError>,
) -> Vec<Effect> {
    if let Ok(active) = result
        && !active.items.is_empty()
        && state.consultation.consultation.is_none()
    {
        // The toast names the key of the list of running consultations, or the palette's
        // word for it when the doctor left it without a key.
        let list = state
            .settings
            .keymap
            .keys_for(Command::RunningConsultations)
            .first()
            .map(|key| format!("press {} to see them", key.label()))
            .unwrap_or_else(|| {
                format!(
                    "the palette's \"{}\" lists them",
                    Command::RunningConsultations.description()
                )
            });
        state.toast(
            format!(
                "{} consultation{} still running: {list}.",
                active.items.len(),
                if active.items.len() == 1 {
                    " is"
                } else {
                    "s are"
                }
            ),
            ToastKind::Info,
        );
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let c = &state.consultation;
    let Some(consultation) = &c.consultation else {
        return notice(frame, area, state, "No consultation.", false);
    };
    let area = match state.patient() {
        Some(patient) if patient.summary.id == consultation.patient_id => {
            let [banner, rest] = banner_layout(area, state, patient);
            patient_banner(frame, banner, state, patient);
            rest
        }
        _ => area,
    };
    let [header, editor] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(area);
    let elapsed = state.wall_now - consultation.started_at;
    let seconds = elapsed.num_seconds().max(0);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    let save = if c.saving {
        Span::styled("saving…", theme.muted())
    } else if let Some(error) = &c.save_error {
        Span::styled(
            format!("not saved: {}", printable(error, true)),
            theme.error(),
        )
    } else if c.edits != c.saved_edits {
        Span::styled("unsaved changes", theme.warning())
    } else {
        Span::styled("saved", theme.ok())
    };
    let status = match consultation.status {
        ConsultationStatus::InProgress => Line::from(vec![
            Span::styled("● RUNNING ", theme.error()),
            Span::raw(format!(
                "{clock}  {}  {}  ",
                consultation.session_code,
                consultation.session_type.as_str()
            )),
            save,
        ]),
        ConsultationStatus::Cancelled => Line::styled("Cancelled.", theme.muted()),
        ConsultationStatus::Completed => {
            let report = match c.report_status {
                Some(ReportStatus::Pending) | Some(ReportStatus::Generating) | None => {
                    Span::styled("generating the report…", theme.muted())
                }
                Some(ReportStatus::Completed) => {
                    Span::styled("report ready — Enter opens it", theme.ok())
                }
                Some(ReportStatus::Failed) => {
                    Span::styled("report generation failed — Enter opens it", theme.error())
                }
                Some(ReportStatus::Signed) => Span::styled("report signed", theme.ok()),
            };
            Line::from(vec![
                Span::raw(format!(
                    "Stopped after {} min. ",
                    consultation.duration_minutes.unwrap_or(0)
                )),
                report,
            ])
        }
    };
    let complaint = Line::styled(
        format!(
            "Complaint: {}",
            consultation
                .chief_complaint
                .as_deref()
                .map(|x| printable(x, true))
                .unwrap_or_else(|| "—".into())
        ),
        theme.muted(),
    );
    frame.render_widget(Paragraph::new(vec![status, complaint]), header);
    let block = Block::bordered().title(" Notes (History:, Assessment:, Plan:, Medications:…) ");
    let inner = block.inner(editor);
    // Long lines wrap at the box's width; the cursor's row stays in view.
    let layout = c.notes.layout(usize::from(inner.width));
    let height = usize::from(inner.height);
    let (row, column) = layout.cursor;
    let top = row.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = layout
        .rows
        .into_iter()
        .skip(top)
        .take(height)
        .map(Line::raw)
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), editor);
    if consultation.status == ConsultationStatus::InProgress
        && state.dialog.is_none()
        && state.overlay.is_none()
        && inner.width > 0
    {
        let x = inner.x + (column as u16).min(inner.width - 1);
        let y = inner.y + (row - top) as u16;
        frame.set_cursor_position((x, y));
    }
}
