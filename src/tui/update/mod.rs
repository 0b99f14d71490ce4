//! `update`: the only place the workstation's state changes. An action in, state changed in
//! place, effects out; it never waits and never touches the terminal or the network, so every
//! behaviour can be tested with plain values.

mod dialogs;
mod keys;
mod responses;

pub use keys::palette_matches;

use uuid::Uuid;

use super::action::{Action, Timer};
use super::effect::{Call, Effect};
use super::state::*;
use crate::client::{ApiError, ErrorKind};
use crate::model::query::{PatientListParams, ReportListParams, ReportStatsParams};

/// Rows fetched per page of the patient list.
pub const PAGE_SIZE: u32 = 50;
/// Fetch the next page when the selection comes this close to the end of what is loaded.
pub const PREFETCH_MARGIN: usize = 15;
const RECONNECT_MS: u64 = 2_000;
const POLL_REPORT_MS: u64 = 400;
const UNSIGNED_REFRESH_MS: u64 = 60_000;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Tick(now) => tick(state, now),
        Action::Resize(width, height) => {
            state.width = width;
            state.height = height;
            state.dirty = true;
            Vec::new()
        }
        Action::Key(key) => {
            state.last_activity_ms = state.now_ms;
            state.dirty = true;
            keys::key(state, key)
        }
        Action::Mouse(mouse) => {
            state.last_activity_ms = state.now_ms;
            state.dirty = true;
            keys::mouse(state, mouse)
        }
        Action::Paste(text) => {
            state.last_activity_ms = state.now_ms;
            state.dirty = true;
            keys::paste(state, &text)
        }
        Action::Response {
            request,
            latency_ms,
            response,
        } => {
            state.latency_ms = Some(latency_ms);
            state.dirty = true;
            responses::response(state, request, *response)
        }
        Action::Timer(timer) => on_timer(state, timer),
        Action::Online => {
            state.offline = None;
            state.dirty = true;
            Vec::new()
        }
        Action::Terminate => {
            state.quit = true;
            vec![Effect::Quit]
        }
    }
}

fn tick(state: &mut State, now: u64) -> Vec<Effect> {
    let previous = state.now_ms;
    state.now_ms = now;
    let mut effects = Vec::new();
    if let Some(toast) = &state.toast
        && toast.until_ms <= now
    {
        state.toast = None;
        state.dirty = true;
    }
    let logged_in = state.session.user.is_some();
    if logged_in
        && !state.lock.locked
        && now.saturating_sub(state.last_activity_ms) >= state.settings.lock_after_ms
    {
        lock(state);
    }
    // The consultation clock shows seconds.
    if state.screen == Screen::Consultation && previous / 1000 != now / 1000 {
        state.dirty = true;
    }
    // While offline the reconnect loop does the asking; a refresh failing too would start a
    // second loop.
    if logged_in
        && state.offline.is_none()
        && previous / UNSIGNED_REFRESH_MS != now / UNSIGNED_REFRESH_MS
    {
        effects.push(call(state, Call::Unsigned));
    }
    effects
}

/// Hides everything behind the lock screen; drafts and place are kept.
pub fn lock(state: &mut State) {
    state.lock = LockState {
        locked: true,
        ..LockState::default()
    };
    state.dirty = true;
}

fn on_timer(state: &mut State, timer: Timer) -> Vec<Effect> {
    match timer {
        Timer::Search(edits) if edits == state.search.edits => search_now(state),
        Timer::SaveNotes(edits) if edits == state.consultation.edits => save_notes(state),
        Timer::PollReport(id) => vec![call(state, Call::PollReport(id))],
        Timer::Reconnect if state.offline.is_some() => vec![call(state, Call::Unsigned)],
        _ => Vec::new(),
    }
}

/// A numbered API call.
pub fn call(state: &mut State, call: Call) -> Effect {
    Effect::Call {
        request: state.request(),
        call,
    }
}

/// Runs the search for what is typed now; answers to earlier searches will be dropped.
pub fn search_now(state: &mut State) -> Vec<Effect> {
    let term = state.search.input.value.trim().to_string();
    if term.is_empty() {
        state.search.results.clear();
        state.search.searched = None;
        state.search.loading = false;
        return Vec::new();
    }
    let request = state.request();
    state.search.request = request;
    state.search.loading = true;
    vec![Effect::Call {
        request,
        call: Call::Search(term),
    }]
}

/// Saves the notes if they changed since the last save.
pub fn save_notes(state: &mut State) -> Vec<Effect> {
    let c = &state.consultation;
    let Some(consultation) = &c.consultation else {
        return Vec::new();
    };
    if c.edits == c.saved_edits
        || consultation.status != crate::model::consultation::ConsultationStatus::InProgress
    {
        return Vec::new();
    }
    let id = consultation.id;
    let notes = c.notes.text();
    state.consultation.saving = true;
    state.consultation.saved_edits = state.consultation.edits;
    vec![call(state, Call::SaveNotes { id, notes })]
}

/// Loads the first page of the patient list.
pub fn load_patients(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    let list = &mut state.patients;
    list.request = request;
    list.loading = true;
    list.error = None;
    list.next_cursor = None;
    vec![Effect::Call {
        request,
        call: Call::ListPatients(PatientListParams {
            limit: Some(PAGE_SIZE),
            sort: Some(list.sort),
            ..PatientListParams::default()
        }),
    }]
}

/// Loads the next page when the selection nears the end of what is loaded.
pub fn prefetch_patients(state: &mut State) -> Vec<Effect> {
    let list = &state.patients;
    let near_end = list.selected + PREFETCH_MARGIN >= list.items.len();
    let Some(cursor) = list.next_cursor.clone() else {
        return Vec::new();
    };
    if !near_end || list.loading {
        return Vec::new();
    }
    let request = state.request();
    let sort = state.patients.sort;
    state.patients.request = request;
    state.patients.loading = true;
    vec![Effect::Call {
        request,
        call: Call::ListPatients(PatientListParams {
            limit: Some(PAGE_SIZE),
            cursor: Some(cursor),
            sort: Some(sort),
            ..PatientListParams::default()
        }),
    }]
}

/// Opens a patient's chart: exactly one patient is in context from now on.
pub fn open_chart(state: &mut State, patient_id: Uuid) -> Vec<Effect> {
    state.chart = ChartState {
        patient_id: Some(patient_id),
        patient: Load::Loading,
        history: Load::Loading,
        reports: Load::Loading,
        selected_report: 0,
    };
    state.overlay = None;
    state.go(Screen::Chart);
    vec![
        call(state, Call::Patient(patient_id)),
        call(state, Call::History(patient_id)),
        call(state, Call::PatientReports(patient_id)),
    ]
}

pub fn load_reports(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    state.reports.request = request;
    state.reports.items = Load::Loading;
    state.reports.preview = None;
    vec![Effect::Call {
        request,
        call: Call::Reports(ReportListParams {
            status: state.reports.status,
            session_type: state.reports.session_type,
            patient_id: state.reports.patient.as_ref().map(|(id, _)| *id),
            date_from: state.reports.within_days.map(|days| {
                (state.wall_now.date_naive() - chrono::Duration::days(i64::from(days) - 1))
                    .to_string()
            }),
            limit: Some(100),
            ..ReportListParams::default()
        }),
    }]
}

pub fn preview_selected_report(state: &mut State) -> Vec<Effect> {
    let Some(id) = state
        .reports
        .items
        .ready()
        .and_then(|items| items.get(state.reports.selected))
        .map(|r| r.id)
    else {
        return Vec::new();
    };
    let request = state.request();
    state.reports.preview_request = request;
    vec![Effect::Call {
        request,
        call: Call::ReportPreview(id),
    }]
}

pub fn load_stats(state: &mut State) -> Vec<Effect> {
    state.stats.stats = Load::Loading;
    vec![call(
        state,
        Call::Stats(ReportStatsParams {
            patient_id: None,
            days: Some(30),
        }),
    )]
}

/// Opens a report, remembering the list it came from for `n`/`p`.
pub fn open_report(state: &mut State, id: Uuid, siblings: Vec<Uuid>) -> Vec<Effect> {
    let position = siblings.iter().position(|s| *s == id).unwrap_or(0);
    state.report = ReportView {
        report: Load::Loading,
        scroll: 0,
        siblings,
        position,
    };
    state.go(Screen::Report);
    vec![call(state, Call::Report(id))]
}

/// What every failed call does first: an ended session asks for the password, a lost server
/// shows the offline banner and retries; anything else is the caller's to show.
pub fn handle_error(state: &mut State, error: &ApiError) -> Option<Vec<Effect>> {
    if error.needs_login() && state.session.user.is_some() {
        if state.dialog.is_none() || !matches!(state.dialog, Some(Dialog::SessionExpired { .. })) {
            state.dialog = Some(Dialog::SessionExpired {
                password: Default::default(),
                error: None,
                busy: false,
            });
        }
        return Some(Vec::new());
    }
    if error.is_offline() {
        let first = state.offline.is_none();
        state.offline = Some(error.message.clone());
        if first {
            return Some(vec![Effect::After {
                delay_ms: RECONNECT_MS,
                timer: Timer::Reconnect,
            }]);
        }
        return Some(Vec::new());
    }
    if error.kind == ErrorKind::Forbidden {
        state.toast(error.message.clone(), ToastKind::Error);
        return Some(Vec::new());
    }
    None
}

/// After a successful answer while offline: back online.
pub fn mark_online(state: &mut State) {
    state.offline = None;
}

pub(super) fn poll_later(report_id: Uuid) -> Effect {
    Effect::After {
        delay_ms: POLL_REPORT_MS,
        timer: Timer::PollReport(report_id),
    }
}

pub(super) fn reconnect_later() -> Effect {
    Effect::After {
        delay_ms: RECONNECT_MS,
        timer: Timer::Reconnect,
    }
}

#[cfg(test)]
mod tests;
