//! Live events: what the workstation does when the server says something changed in the
//! doctor's records. An event marks what it touches as stale; the screen in view reloads its
//! stale part at once (quietly: what is shown stays until the answer replaces it), and a screen
//! out of view reloads when the doctor comes back to it. A burst of events is one reload. The
//! report a stopped consultation is generating is followed by its events, with a notice when it
//! is ready; polling is only the fallback while the stream is down.

use uuid::Uuid;

use super::action::Timer;
use super::effect::{Call, Effect};
use super::roles;
use super::screens::{chart, consultation, patients, report, reports, stats};
use super::state::{Screen, State};
use super::update::call;
use crate::model::consultation::ConsultationStatus;
use crate::model::event::{Event, EventKind};

/// How long events are gathered before the reload they cause: the events of one change
/// (a report created, then generating, then completed) arrive within a few milliseconds.
pub const GATHER_MS: u64 = 150;

/// The live event stream as the workstation knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    /// Whether the stream is open: its `ready` arrived and it has not broken since.
    pub connected: bool,
    /// The stream ended for good (the session ended): the next stream starts without a
    /// place to resume from, so everything shown is loaded again when it opens.
    pub lost: bool,
    /// What events said changed and was not loaded again yet.
    pub stale: Stale,
    /// A reload is set to run (`Timer::LiveRefresh`).
    pub gathering: bool,
}

/// The parts of the workstation an event made stale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stale {
    pub patients: bool,
    pub reports: bool,
    pub stats: bool,
    pub unsigned: bool,
    /// The chart of this patient.
    pub chart: Option<Uuid>,
    /// This report, on the report screen.
    pub report: Option<Uuid>,
    /// This consultation, on the consultation screen.
    pub consultation: Option<Uuid>,
}

impl Stale {
    /// Everything shown.
    fn everything(state: &State) -> Stale {
        Stale {
            patients: true,
            reports: true,
            stats: true,
            unsigned: true,
            chart: state.chart.patient_id,
            report: state.report.report.ready().map(|r| r.summary.id),
            consultation: state.consultation.consultation.as_ref().map(|c| c.id),
        }
    }
}

/// An event arrived from the stream.
pub(crate) fn on_event(state: &mut State, event: Event) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.offline.is_some() {
        effects.extend(back_online(state));
    }
    match event.kind {
        EventKind::Ready => {
            state.live.connected = true;
            if std::mem::take(&mut state.live.lost) {
                state.live.stale = Stale::everything(state);
                effects.extend(gather(state));
            }
            // The report being generated may have moved on while the stream was being
            // opened: one look, then its events say the rest.
            if let Some(id) = consultation::followed_report(state) {
                effects.push(call(state, Call::PollReport(id)));
            }
            return effects;
        }
        // The events missed are no longer kept: whatever they were, load everything again.
        EventKind::Reset => state.live.stale = Stale::everything(state),
        EventKind::PatientCreated | EventKind::PatientUpdated => {
            state.live.stale.patients = true;
            mark_chart(state, event.patient_id);
        }
        EventKind::ConsultationStarted
        | EventKind::ConsultationStopped
        | EventKind::ConsultationCancelled => {
            // The list's last visit and the chart's running consultation.
            state.live.stale.patients = true;
            mark_chart(state, event.patient_id);
            let open = state.consultation.consultation.as_ref();
            if let Some(open) = open
                && Some(open.id) == event.consultation_id
                && open.status == ConsultationStatus::InProgress
                && event.kind != EventKind::ConsultationStarted
            {
                state.live.stale.consultation = Some(open.id);
            }
        }
        // Saved notes change nothing another screen shows.
        EventKind::ConsultationNotesSaved => {}
        EventKind::ReportCreated
        | EventKind::ReportStatusChanged
        | EventKind::ReportUpdated
        | EventKind::ReportSigned => {
            let stale = &mut state.live.stale;
            stale.reports = true;
            stale.stats = true;
            stale.unsigned = true;
            mark_chart(state, event.patient_id);
            if event.report_id.is_some()
                && state.report.report.ready().map(|r| r.summary.id) == event.report_id
            {
                state.live.stale.report = event.report_id;
            }
            if let (Some(id), Some(status)) = (event.report_id, event.report_status) {
                effects.extend(consultation::on_report_status(state, id, status));
            }
        }
    }
    effects.extend(gather(state));
    effects
}

fn mark_chart(state: &mut State, patient_id: Option<Uuid>) {
    if patient_id.is_some() && patient_id == state.chart.patient_id {
        state.live.stale.chart = patient_id;
    }
}

/// Sets the reload to run after the burst, unless it is set already.
fn gather(state: &mut State) -> Vec<Effect> {
    if state.live.gathering {
        return Vec::new();
    }
    state.live.gathering = true;
    vec![Effect::After {
        delay_ms: GATHER_MS,
        timer: Timer::LiveRefresh,
    }]
}

/// The gathering time ran out: what is in view reloads.
pub(crate) fn on_gathered(state: &mut State) -> Vec<Effect> {
    state.live.gathering = false;
    reload_in_view(state)
}

/// The stream broke. While it is down the report being generated is looked at every little
/// while instead; a stream that ended for good is opened again at the next sign-in.
pub(crate) fn on_down(state: &mut State, lasting: bool) -> Vec<Effect> {
    let was_connected = std::mem::take(&mut state.live.connected);
    if lasting {
        state.live.lost = true;
    }
    match consultation::followed_report(state) {
        Some(id) if was_connected => consultation::follow_report(state, id),
        _ => Vec::new(),
    }
}

/// The server answers again after being unreachable: what failed to load meanwhile (a chart
/// left on "Loading…", a list that kept its old rows) is loaded again.
pub(crate) fn back_online(state: &mut State) -> Vec<Effect> {
    state.offline = None;
    state.reconnects = 0;
    state.live.stale = Stale::everything(state);
    reload_in_view(state)
}

/// Runs after every action: a screen that comes into view (the doctor went back to it, a
/// dialog over it closed, the screen was unlocked) reloads what events made stale meanwhile.
pub(crate) fn settle(state: &mut State, before: (Screen, bool, bool)) -> Vec<Effect> {
    let now = (state.screen, state.dialog.is_some(), state.lock.locked);
    if now == before || state.live.gathering {
        return Vec::new();
    }
    reload_in_view(state)
}

/// Reloads the stale part of the screen in view, and the status bar's count. A screen under
/// a dialog or the lock waits: the dialog may be editing what a reload would replace.
fn reload_in_view(state: &mut State) -> Vec<Effect> {
    // A required setup of a second factor holds the session: every reload would answer 403,
    // and what is stale is loaded once it is done.
    if state.session.user.is_none()
        || state.offline.is_some()
        || crate::tui::screens::mfa_enroll::holds_session(state)
    {
        return Vec::new();
    }
    let mut effects = Vec::new();
    // Only a doctor has the count (`tui::roles`).
    if std::mem::take(&mut state.live.stale.unsigned) && roles::is_clinical(state) {
        effects.push(call(state, Call::Unsigned));
    }
    if state.dialog.is_some() || state.lock.locked {
        return effects;
    }
    let stale = &mut state.live.stale;
    match state.screen {
        Screen::Patients if std::mem::take(&mut stale.patients) => {
            effects.extend(patients::reload(state));
        }
        Screen::Reports if std::mem::take(&mut stale.reports) => {
            effects.extend(reports::reload(state));
        }
        Screen::Stats if std::mem::take(&mut stale.stats) => effects.extend(stats::load(state)),
        Screen::Chart if stale.chart.is_some() && stale.chart == state.chart.patient_id => {
            stale.chart = None;
            effects.extend(chart::reload(state));
        }
        Screen::Report => {
            let shown = state.report.report.ready().map(|r| r.summary.id);
            if shown.is_some() && stale.report == shown {
                stale.report = None;
                effects.extend(report::refresh(state));
            }
        }
        Screen::Consultation => {
            let shown = state.consultation.consultation.as_ref().map(|c| c.id);
            if let Some(id) = shown
                && stale.consultation == Some(id)
            {
                stale.consultation = None;
                effects.push(call(state, Call::ConsultationChanged(id)));
            }
        }
        _ => {}
    }
    effects
}
