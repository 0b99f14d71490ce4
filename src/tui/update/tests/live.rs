//! Live events: an event marks what it touches as stale, the screen in view reloads (once for
//! a burst), a screen out of view reloads when the doctor comes back, the report being
//! generated is followed by events, and a notice's key opens its own report.

use super::*;
use crate::model::event::{Event, EventKind};

fn event(kind: EventKind) -> Event {
    Event {
        id: 1,
        kind,
        at: at(),
        patient_id: None,
        consultation_id: None,
        report_id: None,
        report_status: None,
    }
}

fn report_event(kind: EventKind, n: usize, status: ReportStatus) -> Event {
    Event {
        patient_id: Some(patient_id(0)),
        consultation_id: Some(CONSULTATION),
        report_id: Some(report_id(n)),
        report_status: Some(status),
        ..event(kind)
    }
}

fn consultation_event(kind: EventKind) -> Event {
    Event {
        patient_id: Some(patient_id(0)),
        consultation_id: Some(CONSULTATION),
        ..event(kind)
    }
}

fn live(state: &mut State, event: Event) -> Vec<Effect> {
    update(state, Action::ServerEvent(event))
}

fn connected(mut state: State) -> State {
    live(&mut state, event(EventKind::Ready));
    assert!(state.live.connected);
    state
}

/// The gathering time runs out: the reload calls asked for.
fn gathered(state: &mut State) -> Vec<(u64, Call)> {
    calls(&update(state, Action::Timer(Timer::LiveRefresh)))
}

fn gathers(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            Effect::After {
                timer: Timer::LiveRefresh,
                ..
            }
        )
    })
}

fn on_reports_list(rows: usize) -> State {
    let mut state = logged_in();
    let effects = update(&mut state, chr('2'));
    let request = request_of(&effects, |c| matches!(c, Call::Reports(_)));
    let items = (0..rows)
        .map(|n| report_summary(n, ReportStatus::Completed))
        .collect();
    respond(
        &mut state,
        request,
        Response::Reports(Ok(report_page(items, None))),
    );
    assert_eq!(state.screen, Screen::Reports);
    state
}

#[test]
fn signing_in_opens_the_event_stream() {
    let mut state = logged_out();
    let effects = respond(&mut state, 0, Response::Login(Ok(user())));
    assert!(effects.contains(&Effect::Subscribe), "{effects:?}");
    let mut state = logged_out();
    let effects = respond(&mut state, 0, Response::Resumed(Ok(user())));
    assert!(effects.contains(&Effect::Subscribe), "{effects:?}");
}

#[test]
fn a_report_event_reloads_the_list_in_view_once_keeping_the_place_and_the_selected_row() {
    let mut state = connected(on_reports_list(5));
    update(&mut state, chr('j'));
    update(&mut state, chr('j'));
    assert_eq!(state.reports.rows.selected, 2);

    // A new report and its generation: three events, one reload.
    let effects = live(
        &mut state,
        report_event(EventKind::ReportCreated, 9, ReportStatus::Pending),
    );
    assert!(gathers(&effects), "{effects:?}");
    for status in [ReportStatus::Generating, ReportStatus::Completed] {
        let effects = live(
            &mut state,
            report_event(EventKind::ReportStatusChanged, 9, status),
        );
        assert!(!gathers(&effects), "one reload for the burst: {effects:?}");
    }
    let reloads = gathered(&mut state);
    let (request, params) = reloads
        .iter()
        .find_map(|(r, c)| match c {
            Call::Reports(p) => Some((*r, p.clone())),
            _ => None,
        })
        .expect("the list is reloaded");
    assert_eq!(params.cursor, None, "from the first row");
    assert!(reloads.iter().any(|(_, c)| *c == Call::Unsigned));
    assert_eq!(state.reports.rows.items.len(), 5, "the rows stay meanwhile");

    // The new report comes first; the selection stays on the report it was on.
    let mut items = vec![report_summary(9, ReportStatus::Completed)];
    items.extend((0..5).map(|n| report_summary(n, ReportStatus::Completed)));
    respond(
        &mut state,
        request,
        Response::Reports(Ok(report_page(items, None))),
    );
    assert_eq!(state.reports.rows.items.len(), 6);
    assert_eq!(
        state.reports.rows.selected_item().map(|r| r.id),
        Some(report_id(2))
    );
}

#[test]
fn a_reload_asks_as_many_rows_as_are_loaded() {
    let mut state = connected(on_reports_list(80));
    live(
        &mut state,
        report_event(EventKind::ReportSigned, 3, ReportStatus::Signed),
    );
    let limit = gathered(&mut state)
        .into_iter()
        .find_map(|(_, c)| match c {
            Call::Reports(p) => p.limit,
            _ => None,
        })
        .expect("the list is reloaded");
    assert_eq!(limit, 80);
}

#[test]
fn a_chart_out_of_view_reloads_when_the_doctor_comes_back_to_it() {
    let reports = (0..2)
        .map(|n| report_summary(n, ReportStatus::Completed))
        .collect();
    let mut state = connected(on_chart_with(patient(0), reports));
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::Report(Ok(report(0, ReportStatus::Completed))),
    );
    assert_eq!(state.screen, Screen::Report);

    // Another workstation stopped a consultation of this patient: the report in view is
    // another one, so nothing of it reloads.
    live(
        &mut state,
        consultation_event(EventKind::ConsultationStopped),
    );
    let reloads = gathered(&mut state);
    assert!(
        !reloads.iter().any(|(_, c)| matches!(c, Call::Report(_))),
        "{reloads:?}"
    );

    let effects = update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Chart);
    let reloads: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert!(
        reloads.contains(&Call::Patient(patient_id(0))),
        "{reloads:?}"
    );
    assert!(
        reloads.contains(&Call::History(patient_id(0))),
        "{reloads:?}"
    );
    assert!(
        reloads.contains(&Call::PatientReports(patient_id(0))),
        "{reloads:?}"
    );
    // The chart stays drawn while it reloads, and a second visit asks nothing.
    assert!(state.chart.patient.ready().is_some());
    update(&mut state, key(KeyCode::Enter));
    assert!(calls(&update(&mut state, key(KeyCode::Esc))).is_empty());
}

#[test]
fn the_report_open_reloads_when_changed_but_not_under_a_dialog() {
    let mut state = connected(on_report(ReportStatus::Completed));
    update(&mut state, chr('S'));
    assert!(state.dialog.is_some(), "the sign dialog is open");
    live(
        &mut state,
        report_event(EventKind::ReportUpdated, 0, ReportStatus::Completed),
    );
    let reloads = gathered(&mut state);
    assert!(
        !reloads.iter().any(|(_, c)| matches!(c, Call::Report(_))),
        "the dialog may be editing what a reload would replace: {reloads:?}"
    );
    // The dialog closes: now the report is loaded again.
    let mut effects = Vec::new();
    for _ in 0..3 {
        if state.dialog.is_none() {
            break;
        }
        effects.extend(update(&mut state, key(KeyCode::Esc)));
    }
    assert_eq!(state.dialog, None);
    assert!(
        calls(&effects)
            .iter()
            .any(|(_, c)| *c == Call::Report(report_id(0))),
        "{effects:?}"
    );
}

#[test]
fn with_events_the_report_being_generated_is_not_polled_and_its_notice_opens_it_from_another_chart()
{
    let mut state = connected(in_consultation());
    type_text(&mut state, "Plan: review");
    let (request, _) = only_call(&update(&mut state, ctrl('s')));
    let mut stopped = consultation(ConsultationStatus::Completed);
    stopped.report_id = Some(report_id(5));
    stopped.report_status = Some(ReportStatus::Pending);
    let effects = respond(&mut state, request, Response::Stopped(Ok(stopped)));
    assert!(
        !effects.iter().any(|e| matches!(
            e,
            Effect::After {
                timer: Timer::PollReport(_),
                ..
            }
        )),
        "events say when it is ready: {effects:?}"
    );

    // The doctor goes on to another patient while the report is generated.
    update(&mut state, key(KeyCode::Esc));
    let effects = crate::tui::screens::chart::open(&mut state, patient_id(1));
    for (request, call) in calls(&effects) {
        let response = match call {
            Call::Patient(_) => Response::Patient(Ok(patient(1))),
            Call::History(id) => Response::History(Ok(ConsultationHistory {
                patient_id: id,
                patient_name: "Patient Number1".into(),
                items: vec![],
                pagination: pagination(0, None),
            })),
            Call::PatientReports(id) => Response::PatientReports(Ok(report_page(
                vec![report_summary(7, ReportStatus::Signed)],
                Some(id),
            ))),
            other => panic!("unexpected {other:?}"),
        };
        respond(&mut state, request, response);
    }
    assert_eq!(state.chart.patient_id, Some(patient_id(1)));

    live(
        &mut state,
        report_event(EventKind::ReportStatusChanged, 5, ReportStatus::Generating),
    );
    assert_eq!(
        state.consultation.report_status,
        Some(ReportStatus::Generating)
    );
    live(
        &mut state,
        report_event(EventKind::ReportStatusChanged, 5, ReportStatus::Completed),
    );
    let toast = state.toast.clone().expect("a notice");
    assert!(toast.text.contains("Ctrl-O opens it"), "{}", toast.text);
    assert_eq!(toast.open, Some(Jump::Report(report_id(5))));

    // The notice's key opens the report it is about, not the chart's selected one.
    let (_, call) = only_call(&update(&mut state, ctrl('o')));
    assert_eq!(call, Call::Report(report_id(5)));
    assert_eq!(state.screen, Screen::Report);
    assert_eq!(state.toast, None);
}

#[test]
fn while_the_stream_is_down_the_report_being_generated_is_polled() {
    let mut state = connected(in_consultation());
    type_text(&mut state, "Plan: review");
    let (request, _) = only_call(&update(&mut state, ctrl('s')));
    let mut stopped = consultation(ConsultationStatus::Completed);
    stopped.report_id = Some(report_id(5));
    stopped.report_status = Some(ReportStatus::Pending);
    respond(&mut state, request, Response::Stopped(Ok(stopped)));

    let effects = update(&mut state, Action::EventsDown { lasting: false });
    assert!(matches!(
        effects.as_slice(),
        [Effect::After { timer: Timer::PollReport(id), .. }] if *id == report_id(5)
    ));
    // More failures of the stream do not start more polling.
    assert!(update(&mut state, Action::EventsDown { lasting: false }).is_empty());

    // The stream is back: one look catches up, then events again.
    let effects = live(&mut state, event(EventKind::Ready));
    assert!(
        calls(&effects)
            .iter()
            .any(|(_, c)| *c == Call::PollReport(report_id(5))),
        "{effects:?}"
    );
}

#[test]
fn a_consultation_stopped_at_another_workstation_keeps_the_notes_typed_here() {
    let mut state = connected(in_consultation());
    type_text(&mut state, "Sleeps better");
    live(
        &mut state,
        consultation_event(EventKind::ConsultationStopped),
    );
    let reloads = gathered(&mut state);
    let request = reloads
        .iter()
        .find(|(_, c)| *c == Call::ConsultationChanged(CONSULTATION))
        .expect("the consultation is looked at again")
        .0;
    let mut stopped = consultation(ConsultationStatus::Completed);
    stopped.notes = Some("other text".into());
    respond(
        &mut state,
        request,
        Response::ConsultationChanged(Ok(stopped)),
    );
    assert_eq!(state.screen, Screen::Consultation);
    assert_eq!(state.consultation.notes.text(), "Sleeps better");
    assert_eq!(
        state.consultation.consultation.as_ref().map(|c| c.status),
        Some(ConsultationStatus::Completed)
    );
    let toast = state.toast.as_ref().expect("a notice");
    assert!(toast.text.contains("another workstation"), "{}", toast.text);
}

#[test]
fn a_reset_reloads_everything_shown() {
    let mut state = connected(with_patients(3, None));
    live(&mut state, event(EventKind::Reset));
    let reloads = gathered(&mut state);
    assert!(
        reloads
            .iter()
            .any(|(_, c)| matches!(c, Call::ListPatients(_))),
        "{reloads:?}"
    );
    assert!(reloads.iter().any(|(_, c)| *c == Call::Unsigned));
}

#[test]
fn a_new_stream_after_the_session_ended_reloads_everything_shown() {
    let mut state = connected(with_patients(3, None));
    assert!(update(&mut state, Action::EventsDown { lasting: true }).is_empty());
    assert!(!state.live.connected);
    let effects = live(&mut state, event(EventKind::Ready));
    assert!(gathers(&effects), "{effects:?}");
    let reloads = gathered(&mut state);
    assert!(
        reloads
            .iter()
            .any(|(_, c)| matches!(c, Call::ListPatients(_))),
        "{reloads:?}"
    );
}

#[test]
fn a_chart_left_loading_while_offline_is_loaded_when_the_server_answers_again() {
    let mut state = with_patients(3, None);
    let effects = update(&mut state, key(KeyCode::Enter));
    for (request, call) in calls(&effects) {
        let response = match call {
            Call::Patient(_) => Response::Patient(Err(ApiError::unreachable("r"))),
            Call::History(_) => Response::History(Err(ApiError::unreachable("r"))),
            Call::PatientReports(_) => Response::PatientReports(Err(ApiError::unreachable("r"))),
            other => panic!("unexpected {other:?}"),
        };
        respond(&mut state, request, response);
    }
    assert_eq!(state.chart.patient, Load::Loading);
    assert!(state.offline.is_some());

    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    assert_eq!(call, Call::Unsigned);
    let effects = respond(&mut state, request, Response::Unsigned(Ok(stats(1))));
    assert_eq!(state.offline, None);
    let reloads: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert!(
        reloads.contains(&Call::Patient(patient_id(0))),
        "{reloads:?}"
    );
    assert!(
        reloads.contains(&Call::History(patient_id(0))),
        "{reloads:?}"
    );
}

#[test]
fn the_wait_before_trying_an_unreachable_server_again_grows() {
    let mut state = with_patients(3, None);
    let (request, _) = only_call(&update(&mut state, chr('r')));
    let mut delays = Vec::new();
    let mut effects = respond(
        &mut state,
        request,
        Response::Patients(Err(ApiError::unreachable("r"))),
    );
    for _ in 0..6 {
        let [
            Effect::After {
                delay_ms,
                timer: Timer::Reconnect,
            },
        ] = effects.as_slice()
        else {
            panic!("a retry: {effects:?}");
        };
        delays.push(*delay_ms);
        let (request, _) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
        effects = respond(
            &mut state,
            request,
            Response::Unsigned(Err(ApiError::unreachable("r"))),
        );
    }
    assert_eq!(delays, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
}
