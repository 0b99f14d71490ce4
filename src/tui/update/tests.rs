//! `update` with plain values: a state, an action, the state after and the effects asked for.
//! No terminal, no network; answers are fed back as `Action::Response` with the request number
//! the effect carried.

use chrono::{DateTime, NaiveDate, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use super::update;
use crate::client::{ApiError, ErrorKind};
use crate::model::auth::{Role, User};
use crate::model::consultation::{
    ActiveConsultations, Consultation, ConsultationHistory, ConsultationStatus, SessionType,
    StartConsultation,
};
use crate::model::page::MAX_LIMIT;
use crate::model::page::{Page, Pagination, SearchResults};
use crate::model::patient::{Allergies, Patient, PatientSort, PatientSummary, Sex};
use crate::model::query::{PatientListParams, ReportListParams, ReportStatsParams};
use crate::model::report::{
    Report, ReportConsultation, ReportContent, ReportFilter, ReportPage, ReportPatient,
    ReportStats, ReportStatus, ReportSummary,
};
use crate::tui::action::{Action, Response, Timer};
use crate::tui::components::dialogs::{AddendumStep, EditDialog, EditStep, SectionChange};
use crate::tui::components::reauth::Reauth;
use crate::tui::effect::{Call, Effect};
use crate::tui::screens::patients::{PAGE_SIZE, PREFETCH_MARGIN};
use crate::tui::screens::reports::PAGE_SIZE as REPORT_PAGE;
use crate::tui::state::*;

/// Live events and the reloads they cause.
mod live;
/// What each role is offered and what its keys send.
mod roles;

/// The administrator's users screen and audit browser.
mod admin;

/// The patient form: registration, a receptionist's change, a doctor's change of the chart.
mod patient_form;

/// The user's own sessions: listed, another one ended, this one kept.
mod sessions;

/// The second factor: the login's code step and signing with a code.
mod mfa;

// ---------------------------------------------------------------------------------------------
// Keys and plumbing

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A typed character; capitals come with SHIFT, as terminals report them.
fn chr(c: char) -> Action {
    let modifiers = if c.is_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Action::Key(KeyEvent::new(KeyCode::Char(c), modifiers))
}

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Types each character of `text`; returns every effect asked for, in order.
fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(state, chr(c))).collect()
}

fn respond(state: &mut State, request: u64, response: Response) -> Vec<Effect> {
    update(
        state,
        Action::Response {
            request,
            latency_ms: 12,
            response: Box::new(response),
        },
    )
}

/// The API calls among the effects, with their request numbers.
fn calls(effects: &[Effect]) -> Vec<(u64, Call)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Call { request, call } => Some((*request, call.clone())),
            _ => None,
        })
        .collect()
}

/// The single effect, which must be a call.
fn only_call(effects: &[Effect]) -> (u64, Call) {
    assert_eq!(effects.len(), 1, "expected one call, got {effects:?}");
    calls(effects).pop().expect("a call")
}

/// The request number of the call matching `wanted`.
fn request_of(effects: &[Effect], wanted: impl Fn(&Call) -> bool) -> u64 {
    calls(effects)
        .into_iter()
        .find(|(_, c)| wanted(c))
        .unwrap_or_else(|| panic!("no such call in {effects:?}"))
        .0
}

fn error(kind: ErrorKind, message: &str) -> ApiError {
    ApiError::new(kind, message, Some("req-test".into()))
}

// ---------------------------------------------------------------------------------------------
// Sample data

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_000_000, 0).unwrap()
}

fn user() -> User {
    User {
        id: Uuid::from_u128(1),
        email: "dr.grey@clinic.test".into(),
        full_name: "Dr Meredith Grey".into(),
        role: Role::Doctor,
        created_at: at(),
    }
}

fn patient_id(n: usize) -> Uuid {
    Uuid::from_u128(0x1000 + n as u128)
}

fn report_id(n: usize) -> Uuid {
    Uuid::from_u128(0x2000 + n as u128)
}

const CONSULTATION: Uuid = Uuid::from_u128(0x3000);

fn summary(n: usize) -> PatientSummary {
    PatientSummary {
        id: patient_id(n),
        mrn: format!("MRN-{n:05}"),
        full_name: format!("Patient Number{n}"),
        date_of_birth: NaiveDate::from_ymd_opt(1980, 4, 2).unwrap(),
        age: 45,
        sex: Sex::Female,
        phone: Some("+44 20 7946 0000".into()),
        email: Some(format!("p{n}@mail.test")),
        last_visit_at: Some(at()),
        active_consultation_id: None,
        doctor: crate::model::patient::DoctorSummary {
            id: user().id,
            full_name: user().full_name,
        },
    }
}

fn patient(n: usize) -> Patient {
    Patient {
        summary: summary(n),
        address: None,
        referred_by: None,
        illness_duration: None,
        allergies: Allergies::default(),
        alerts: vec![],
        symptoms: vec![],
        consultation_count: 2,
        created_at: at(),
        updated_at: at(),
    }
}

fn pagination(total: u64, cursor: Option<&str>) -> Pagination {
    Pagination {
        total,
        limit: PAGE_SIZE,
        offset: 0,
        has_more: cursor.is_some(),
        next_cursor: cursor.map(str::to_string),
    }
}

fn patient_page(rows: std::ops::Range<usize>, cursor: Option<&str>) -> Page<PatientSummary> {
    Page {
        items: rows.map(summary).collect(),
        pagination: pagination(200, cursor),
    }
}

fn report_summary(n: usize, status: ReportStatus) -> ReportSummary {
    ReportSummary {
        id: report_id(n),
        status,
        report_type: "psychiatric_evaluation".into(),
        confidence: Some(0.9),
        created_at: at(),
        updated_at: at(),
        signed_at: None,
        patient: ReportPatient {
            id: patient_id(0),
            mrn: "MRN-00000".into(),
            full_name: "Patient Number0".into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 3, 14).unwrap(),
            age: 45,
            sex: Sex::Female,
        },
        consultation: ReportConsultation {
            id: CONSULTATION,
            session_code: "S-0001".into(),
            session_type: SessionType::FollowUp,
            chief_complaint: Some("low mood".into()),
            started_at: at(),
            duration_minutes: Some(25),
        },
    }
}

fn report(n: usize, status: ReportStatus) -> Report {
    Report {
        summary: report_summary(n, status),
        version: 3,
        content: ReportContent {
            history: Some("Low mood for three weeks.".into()),
            assessment: Some("Stable.".into()),
            ..ReportContent::default()
        },
        generator: Some("test".into()),
        signed_by: None,
        addenda: vec![],
        failure_reason: None,
    }
}

fn report_page(items: Vec<ReportSummary>, patient: Option<Uuid>) -> ReportPage {
    ReportPage {
        pagination: pagination(items.len() as u64, None),
        items,
        filters_applied: ReportFilter {
            patient_id: patient,
            ..ReportFilter::default()
        },
    }
}

fn consultation(status: ConsultationStatus) -> Consultation {
    Consultation {
        id: CONSULTATION,
        session_code: "S-0001".into(),
        patient_id: patient_id(0),
        doctor_id: user().id,
        session_type: SessionType::FollowUp,
        status,
        chief_complaint: Some("low mood".into()),
        notes: None,
        started_at: at(),
        ended_at: None,
        duration_minutes: None,
        report_id: None,
        report_status: None,
    }
}

fn stats(unsigned: u64) -> ReportStats {
    ReportStats {
        total: 9,
        by_status: Default::default(),
        recent_7d: 4,
        unsigned,
        average_confidence: Some(0.8),
        daily: vec![],
    }
}

// ---------------------------------------------------------------------------------------------
// States to start from

fn logged_out() -> State {
    State::new(
        SessionInfo {
            server: "http://synapse.test".into(),
            ..SessionInfo::default()
        },
        Settings::default(),
    )
}

/// Logged in, on the (empty) patient list.
fn logged_in() -> State {
    let mut state = logged_out();
    state.session.user = Some(user());
    state.screen = Screen::Patients;
    state
}

/// Logged in with the first page of the patient list loaded.
fn with_patients(rows: usize, cursor: Option<&str>) -> State {
    let mut state = logged_in();
    let (request, _) = only_call(&crate::tui::screens::patients::load(&mut state));
    let effects = respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(0..rows, cursor))),
    );
    assert!(effects.is_empty(), "{effects:?}");
    state
}

/// Patient 0's chart open (from the list), with its reports loaded.
fn on_chart_with(patient: Patient, reports: Vec<ReportSummary>) -> State {
    let mut state = with_patients(3, None);
    let effects = update(&mut state, key(KeyCode::Enter));
    for (request, call) in calls(&effects) {
        let response = match call {
            Call::Patient(_) => Response::Patient(Ok(patient.clone())),
            Call::History(id) => Response::History(Ok(ConsultationHistory {
                patient_id: id,
                patient_name: patient.summary.full_name.clone(),
                items: vec![],
                pagination: pagination(0, None),
            })),
            Call::PatientReports(id) => {
                Response::PatientReports(Ok(report_page(reports.clone(), Some(id))))
            }
            other => panic!("unexpected call {other:?}"),
        };
        assert!(respond(&mut state, request, response).is_empty());
    }
    assert_eq!(state.screen, Screen::Chart);
    state
}

fn on_chart() -> State {
    on_chart_with(patient(0), vec![])
}

/// A consultation started from patient 0's chart and running.
fn in_consultation() -> State {
    let mut state = on_chart();
    assert!(update(&mut state, chr('c')).is_empty());
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(
        &mut state,
        request,
        Response::Consultation(Ok(consultation(ConsultationStatus::InProgress))),
    );
    assert!(effects.is_empty());
    assert_eq!(state.screen, Screen::Consultation);
    state
}

/// Report 0 of three (all with `status`) open from patient 0's chart.
fn on_report(status: ReportStatus) -> State {
    let reports = (0..3).map(|n| report_summary(n, status)).collect();
    let mut state = on_chart_with(patient(0), reports);
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Report(report_id(0)));
    respond(&mut state, request, Response::Report(Ok(report(0, status))));
    assert_eq!(state.screen, Screen::Report);
    state
}

fn report_status(state: &State) -> ReportStatus {
    state
        .report
        .report
        .ready()
        .expect("a report")
        .summary
        .status
}

// ---------------------------------------------------------------------------------------------
// Login

#[test]
fn login_tab_moves_focus_and_enter_on_email_goes_to_password() {
    let mut state = logged_out();
    assert_eq!(state.login.focus, LoginFocus::Email);
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.login.focus, LoginFocus::Password);
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.login.focus, LoginFocus::Email);

    type_text(&mut state, "dr.grey@clinic.test");
    assert_eq!(state.login.email.value, "dr.grey@clinic.test");
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty());
    assert_eq!(state.login.focus, LoginFocus::Password);
    // Letters that are commands elsewhere are text here.
    type_text(&mut state, "q/?:");
    assert_eq!(state.login.password.value, "q/?:");
    assert!(!state.quit);
    assert_eq!(state.overlay, None);
}

#[test]
fn login_with_empty_fields_shows_an_error_and_calls_nothing() {
    let mut state = logged_out();
    update(&mut state, key(KeyCode::Tab));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty());
    assert!(state.login.error.is_some());
    assert!(!state.login.busy);

    // An email without a password is not enough either.
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "dr.grey@clinic.test");
    update(&mut state, key(KeyCode::Tab));
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(state.login.error.is_some());
}

#[test]
fn login_submits_shows_errors_and_opens_the_patient_list() {
    let mut state = logged_out();
    type_text(&mut state, "  dr.grey@clinic.test ");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "s3cret");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Login {
            email: "dr.grey@clinic.test".into(),
            password: "s3cret".into(),
        }
    );
    assert!(state.login.busy);
    // The password does not linger in the state.
    assert_eq!(state.login.password.value, "");
    // A second Enter while waiting sends nothing.
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());

    let effects = respond(
        &mut state,
        request,
        Response::Login(Err(error(
            ErrorKind::InvalidCredentials,
            "Email or password is not correct.",
        ))),
    );
    assert!(effects.is_empty());
    assert!(!state.login.busy);
    assert_eq!(
        state.login.error.as_deref(),
        Some("Email or password is not correct.")
    );
    assert_eq!(state.screen, Screen::Login);
    assert!(state.session.user.is_none());

    type_text(&mut state, "s3cret!");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(&mut state, request, Response::Login(Ok(user())));
    assert_eq!(state.screen, Screen::Patients);
    assert_eq!(state.session.user, Some(user()));
    assert!(state.history.is_empty());
    assert!(state.login.error.is_none());
    let asked: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert!(asked.contains(&Call::ListPatients(PatientListParams {
        limit: Some(PAGE_SIZE),
        sort: Some(PatientSort::LastVisitDesc),
        ..PatientListParams::default()
    })));
    assert!(asked.contains(&Call::Unsigned));
    assert!(state.patients.rows.loading);
}

// ---------------------------------------------------------------------------------------------
// Patient list

#[test]
fn patient_list_moves_with_j_k_arrows_g_and_page_keys() {
    let mut state = with_patients(40, None);
    let page = state.height as usize - 8;
    assert_eq!(state.patients.rows.selected, 0);
    update(&mut state, chr('j'));
    update(&mut state, key(KeyCode::Down));
    assert_eq!(state.patients.rows.selected, 2);
    update(&mut state, chr('k'));
    assert_eq!(state.patients.rows.selected, 1);
    update(&mut state, key(KeyCode::Up));
    update(&mut state, key(KeyCode::Up));
    assert_eq!(state.patients.rows.selected, 0, "stops at the top");
    update(&mut state, chr('G'));
    assert_eq!(state.patients.rows.selected, 39);
    update(&mut state, chr('j'));
    assert_eq!(state.patients.rows.selected, 39, "stops at the bottom");
    update(&mut state, chr('g'));
    assert_eq!(state.patients.rows.selected, 0);
    update(&mut state, key(KeyCode::PageDown));
    assert_eq!(state.patients.rows.selected, page);
    update(&mut state, key(KeyCode::PageUp));
    assert_eq!(state.patients.rows.selected, 0);
    update(&mut state, key(KeyCode::End));
    assert_eq!(state.patients.rows.selected, 39);
    update(&mut state, key(KeyCode::Home));
    assert_eq!(state.patients.rows.selected, 0);
}

#[test]
fn the_next_page_is_fetched_with_the_cursor_when_the_selection_nears_the_end() {
    let mut state = with_patients(50, Some("cursor-2"));
    state.patients.rows.selected = 50 - PREFETCH_MARGIN - 2;
    assert!(update(&mut state, chr('j')).is_empty(), "not near yet");

    let (request, call) = only_call(&update(&mut state, chr('j')));
    assert_eq!(
        call,
        Call::ListPatients(PatientListParams {
            limit: Some(PAGE_SIZE),
            cursor: Some("cursor-2".into()),
            sort: Some(PatientSort::LastVisitDesc),
            ..PatientListParams::default()
        })
    );
    assert!(state.patients.rows.loading);
    // Moving on while the page is on its way does not ask again.
    assert!(update(&mut state, chr('j')).is_empty());
    let selected = state.patients.rows.selected;

    let effects = respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(50..100, None))),
    );
    assert!(effects.is_empty(), "no further page: {effects:?}");
    assert_eq!(state.patients.rows.items.len(), 100);
    assert_eq!(state.patients.rows.items[50].id, patient_id(50));
    assert_eq!(
        state.patients.rows.selected, selected,
        "the selection stays put"
    );
    assert_eq!(state.patients.rows.next_cursor, None);
    assert!(!state.patients.rows.loading);
    // At the very end with no cursor left: nothing more to fetch.
    assert!(update(&mut state, chr('G')).is_empty());
}

#[test]
fn a_stale_page_answer_is_dropped() {
    let mut state = with_patients(50, Some("cursor-2"));
    let (old, _) = only_call(&update(&mut state, chr('G')));
    update(&mut state, chr('g'));
    // Reloading supersedes the page on its way.
    let (new, _) = only_call(&update(&mut state, chr('r')));
    assert_ne!(old, new);

    let effects = respond(
        &mut state,
        old,
        Response::Patients(Ok(patient_page(50..100, None))),
    );
    assert!(effects.is_empty());
    assert_eq!(
        state.patients.rows.items.len(),
        50,
        "the old page was not appended"
    );
    assert!(state.patients.rows.loading, "still waiting for the reload");

    respond(
        &mut state,
        new,
        Response::Patients(Ok(patient_page(0..50, Some("cursor-2b")))),
    );
    assert_eq!(state.patients.rows.items.len(), 50);
    assert_eq!(
        state.patients.rows.next_cursor.as_deref(),
        Some("cursor-2b")
    );
    assert!(!state.patients.rows.loading);
}

#[test]
fn sort_cycles_and_reloads_from_the_first_page() {
    let mut state = with_patients(50, Some("cursor-2"));
    state.patients.rows.selected = 7;
    for expected in [
        PatientSort::Name,
        PatientSort::CreatedDesc,
        PatientSort::LastVisitDesc,
    ] {
        let (_, call) = only_call(&update(&mut state, chr('s')));
        assert_eq!(state.patients.sort, expected);
        assert_eq!(state.patients.rows.selected, 0);
        assert!(state.patients.rows.items.is_empty());
        assert_eq!(
            call,
            Call::ListPatients(PatientListParams {
                limit: Some(PAGE_SIZE),
                sort: Some(expected),
                ..PatientListParams::default()
            })
        );
    }
}

#[test]
fn enter_on_the_list_opens_the_selected_chart() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('j'));
    let effects = update(&mut state, key(KeyCode::Enter));
    let asked: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        asked,
        vec![
            Call::Patient(patient_id(1)),
            Call::History(patient_id(1)),
            Call::PatientReports(patient_id(1)),
        ]
    );
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.chart.patient_id, Some(patient_id(1)));
    assert_eq!(state.history, vec![Screen::Patients]);
}

// ---------------------------------------------------------------------------------------------
// Search

#[test]
fn typing_in_search_debounces_and_only_the_latest_timer_searches() {
    let mut state = with_patients(3, None);
    assert!(update(&mut state, chr('/')).is_empty());
    assert_eq!(state.overlay, Some(Overlay::Search));

    let debounce = state.settings.search_debounce_ms;
    assert_eq!(
        update(&mut state, chr('a')),
        vec![Effect::After {
            delay_ms: debounce,
            timer: Timer::Search(1),
        }]
    );
    assert_eq!(
        update(&mut state, chr('d')),
        vec![Effect::After {
            delay_ms: debounce,
            timer: Timer::Search(2),
        }]
    );
    // The first timer is out of date: the doctor typed again.
    assert!(update(&mut state, Action::Timer(Timer::Search(1))).is_empty());
    let (_, call) = only_call(&update(&mut state, Action::Timer(Timer::Search(2))));
    assert_eq!(call, Call::Search("ad".into()));
    assert!(state.search.loading);
}

#[test]
fn a_rate_limited_search_backs_off_until_the_server_lets_it_search_again() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    type_text(&mut state, "ad");
    let (request, _) = only_call(&update(&mut state, Action::Timer(Timer::Search(2))));
    let limited = Response::Search(Err(error(
        ErrorKind::RateLimited { retry_after_s: 7 },
        "Too many requests from this account. Wait 7 seconds and try again.",
    )));
    assert_eq!(
        respond(&mut state, request, limited),
        vec![Effect::After {
            delay_ms: 7000,
            timer: Timer::SearchResume,
        }]
    );
    assert!(state.search.error.as_deref().unwrap().contains("wait 7 s"));
    // Typing goes on, but no search is sent while the server asks to wait.
    type_text(&mut state, "a");
    assert!(update(&mut state, Action::Timer(Timer::Search(3))).is_empty());
    // Then what is typed by now is searched, once.
    let (_, call) = only_call(&update(&mut state, Action::Timer(Timer::SearchResume)));
    assert_eq!(call, Call::Search("ada".into()));
    assert!(state.search.error.is_none());
}

#[test]
fn the_latest_search_wins_and_an_older_answer_is_dropped() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    type_text(&mut state, "ad");
    let (older, _) = only_call(&update(&mut state, Action::Timer(Timer::Search(2))));
    type_text(&mut state, "a");
    let (newer, call) = only_call(&update(&mut state, Action::Timer(Timer::Search(3))));
    assert_eq!(call, Call::Search("ada".into()));
    assert_eq!(state.search.request, newer);

    let found = |rows: Vec<usize>| {
        Response::Search(Ok(SearchResults {
            count: rows.len(),
            items: rows.into_iter().map(summary).collect(),
        }))
    };
    // The newer answer arrives first; the older one after it must not replace it.
    assert!(respond(&mut state, newer, found(vec![7, 8])).is_empty());
    assert!(respond(&mut state, older, found(vec![1, 2, 3])).is_empty());
    let ids: Vec<Uuid> = state.search.results.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![patient_id(7), patient_id(8)]);
    assert_eq!(state.search.searched.as_deref(), Some("ada"));
    assert!(!state.search.loading);

    // Enter opens the selected result's chart.
    update(&mut state, key(KeyCode::Down));
    let effects = update(&mut state, key(KeyCode::Enter));
    let asked: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        asked,
        vec![
            Call::Patient(patient_id(8)),
            Call::History(patient_id(8)),
            Call::PatientReports(patient_id(8)),
        ]
    );
    assert_eq!(state.chart.patient_id, Some(patient_id(8)));
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.overlay, None);
}

#[test]
fn enter_before_the_debounce_searches_at_once() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    type_text(&mut state, "lee");
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Search("lee".into()));
    assert_eq!(state.overlay, Some(Overlay::Search));
}

#[test]
fn enter_with_the_rows_of_an_older_search_opens_the_first_result_of_what_is_typed() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    type_text(&mut state, "ad");
    let (request, _) = only_call(&update(&mut state, Action::Timer(Timer::Search(2))));
    let found = |rows: Vec<usize>| {
        Response::Search(Ok(SearchResults {
            count: rows.len(),
            items: rows.into_iter().map(summary).collect(),
        }))
    };
    respond(&mut state, request, found(vec![1, 2]));
    // More typed, Enter at once: the rows shown are "ad"'s, not "adams"'s.
    type_text(&mut state, "ams");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Search("adams".into()));
    assert_eq!(state.overlay, Some(Overlay::Search), "nothing opened yet");
    assert_eq!(state.chart.patient_id, None);
    // The answer opens its first result: one Enter was enough.
    let effects = respond(&mut state, request, found(vec![5, 6]));
    assert!(calls(&effects).contains(&(state.next_request - 3, Call::Patient(patient_id(5)))));
    assert_eq!(state.chart.patient_id, Some(patient_id(5)));
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.overlay, None);
}

#[test]
fn an_answer_after_more_typing_does_not_open_anything() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    type_text(&mut state, "lee");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    // Typing again after Enter: the doctor is not done.
    type_text(&mut state, "s");
    respond(
        &mut state,
        request,
        Response::Search(Ok(SearchResults {
            count: 1,
            items: vec![summary(4)],
        })),
    );
    assert_eq!(state.overlay, Some(Overlay::Search));
    assert_eq!(state.chart.patient_id, None);
    // Those rows are "lee"'s: Enter now searches "lees" rather than open one of them.
    assert_eq!(state.search.searched.as_deref(), Some("lee"));
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Search("lees".into()));
}

#[test]
fn esc_closes_search_and_leaves_the_screen_as_it_was() {
    let mut state = on_chart();
    let history = state.history.clone();
    update(&mut state, chr('/'));
    type_text(&mut state, "jq");
    assert_eq!(state.search.input.value, "jq", "j and q are text in search");
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.overlay, None);
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.history, history);
    assert_eq!(state.chart.patient_id, Some(patient_id(0)));
    assert!(!state.quit);
}

#[test]
fn reopening_search_selects_the_last_text_so_typing_replaces_it() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    type_text(&mut state, "gomez");
    update(&mut state, key(KeyCode::Esc));

    // Open again: the last text is there, selected.
    assert!(update(&mut state, chr('/')).is_empty());
    assert_eq!(state.overlay, Some(Overlay::Search));
    assert_eq!(state.search.input.value, "gomez");
    assert!(state.search.input.selected);
    // The first key typed replaces it, and searches (after the pause) for what it typed.
    let (edits, debounce) = (state.search.edits, state.settings.search_debounce_ms);
    assert_eq!(
        update(&mut state, chr('m')),
        vec![Effect::After {
            delay_ms: debounce,
            timer: Timer::Search(edits + 1),
        }]
    );
    type_text(&mut state, "ul");
    assert_eq!(state.search.input.value, "mul");
    assert!(!state.search.input.selected);
    let (_, call) = only_call(&update(&mut state, Action::Timer(Timer::Search(edits + 3))));
    assert_eq!(call, Call::Search("mul".into()));

    // End (or an arrow) keeps the text to edit: typing then adds to it.
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, chr('/'));
    assert!(state.search.input.selected);
    assert!(update(&mut state, key(KeyCode::End)).is_empty());
    assert!(!state.search.input.selected);
    type_text(&mut state, "ler");
    assert_eq!(state.search.input.value, "muller");
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, chr('/'));
    update(&mut state, key(KeyCode::Left));
    type_text(&mut state, "x");
    assert_eq!(state.search.input.value, "xmuller");

    // A paste replaces the selected text too; Backspace removes it.
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, chr('/'));
    update(&mut state, Action::Paste("Fernández".into()));
    assert_eq!(state.search.input.value, "Fernández");
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, chr('/'));
    update(&mut state, key(KeyCode::Backspace));
    assert_eq!(state.search.input.value, "");
}

// ---------------------------------------------------------------------------------------------
// Chart and consultation

#[test]
fn the_chart_fills_in_from_its_three_answers() {
    let state = on_chart_with(patient(0), vec![report_summary(0, ReportStatus::Completed)]);
    assert_eq!(state.patient().map(|p| p.summary.id), Some(patient_id(0)));
    assert_eq!(state.chart.history, Load::Ready(vec![]));
    assert_eq!(state.chart.reports.ready().map(Vec::len), Some(1));
}

#[test]
fn an_answer_for_another_patient_does_not_fill_the_chart() {
    let mut state = with_patients(3, None);
    let effects = update(&mut state, key(KeyCode::Enter));
    let request = request_of(&effects, |c| matches!(c, Call::Patient(_)));
    respond(&mut state, request, Response::Patient(Ok(patient(2))));
    assert_eq!(state.chart.patient, Load::Loading);
}

#[test]
fn c_on_the_chart_opens_the_start_dialog_and_enter_starts() {
    let mut state = on_chart();
    assert!(update(&mut state, chr('c')).is_empty());
    assert!(matches!(
        state.dialog,
        Some(Dialog::StartConsultation {
            session_type: SessionType::FollowUp,
            ..
        })
    ));
    update(&mut state, key(KeyCode::Tab));
    assert!(matches!(
        state.dialog,
        Some(Dialog::StartConsultation {
            session_type: SessionType::Consultation,
            ..
        })
    ));
    type_text(&mut state, "Poor sleep");
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Start(StartConsultation {
            patient_id: patient_id(0),
            session_type: SessionType::Consultation,
            chief_complaint: Some("Poor sleep".into()),
        })
    );
    assert_eq!(state.dialog, None);
}

#[test]
fn esc_closes_the_start_dialog_without_starting() {
    let mut state = on_chart();
    update(&mut state, chr('c'));
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.dialog, None);
    assert_eq!(state.screen, Screen::Chart);
}

#[test]
fn a_running_consultation_is_resumed_not_started_again() {
    // Known from the chart: `c` resumes it straight away.
    let mut running = patient(0);
    running.summary.active_consultation_id = Some(CONSULTATION);
    let mut state = on_chart_with(running, vec![]);
    let (_, call) = only_call(&update(&mut state, chr('c')));
    assert_eq!(call, Call::Consultation(CONSULTATION));
    assert_eq!(state.dialog, None);

    // Only the server knew: a ConsultationActive answer resumes it.
    let mut state = on_chart();
    update(&mut state, chr('c'));
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(
        &mut state,
        request,
        Response::Consultation(Err(error(
            ErrorKind::ConsultationActive {
                consultation_id: Some(CONSULTATION),
            },
            "A consultation is already running for this patient.",
        ))),
    );
    let (request, call) = only_call(&effects);
    assert_eq!(call, Call::Consultation(CONSULTATION));
    let mut resumed = consultation(ConsultationStatus::InProgress);
    resumed.notes = Some("Earlier notes".into());
    respond(&mut state, request, Response::Consultation(Ok(resumed)));
    assert_eq!(state.screen, Screen::Consultation);
    assert_eq!(state.consultation.notes.text(), "Earlier notes");
    assert_eq!(state.history, vec![Screen::Patients, Screen::Chart]);
}

#[test]
fn notes_autosave_after_a_pause_and_only_for_the_latest_edit() {
    let mut state = in_consultation();
    let debounce = state.settings.notes_debounce_ms;
    // Keys that are commands elsewhere are text in the notes.
    let effects = type_text(&mut state, "qj/");
    assert_eq!(
        effects,
        (1..=3)
            .map(|n| Effect::After {
                delay_ms: debounce,
                timer: Timer::SaveNotes(n),
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(state.consultation.notes.text(), "qj/");
    assert!(!state.quit);
    assert_eq!(state.overlay, None);

    assert!(update(&mut state, Action::Timer(Timer::SaveNotes(1))).is_empty());
    assert!(update(&mut state, Action::Timer(Timer::SaveNotes(2))).is_empty());
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::SaveNotes(3))));
    assert_eq!(
        call,
        Call::SaveNotes {
            id: CONSULTATION,
            notes: "qj/".into(),
        }
    );
    assert!(state.consultation.saving);
    // Saved already: the same timer again does nothing.
    assert!(update(&mut state, Action::Timer(Timer::SaveNotes(3))).is_empty());
    respond(
        &mut state,
        request,
        Response::NotesSaved(Ok(consultation(ConsultationStatus::InProgress))),
    );
    assert!(!state.consultation.saving);
    assert_eq!(state.consultation.save_error, None);
}

#[test]
fn esc_from_the_consultation_saves_at_once_and_goes_back() {
    let mut state = in_consultation();
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "Mood better");
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Esc)));
    assert_eq!(
        call,
        Call::SaveNotes {
            id: CONSULTATION,
            notes: "\nMood better".into(),
        }
    );
    assert_eq!(state.screen, Screen::Chart);
    // The pending debounce finds nothing left to save.
    let edits = state.consultation.edits;
    assert!(update(&mut state, Action::Timer(Timer::SaveNotes(edits))).is_empty());
}

#[test]
fn stop_generates_the_report_which_is_polled_until_ready_and_enter_opens_it() {
    let mut state = in_consultation();
    type_text(&mut state, "Plan: review");
    let (request, call) = only_call(&update(&mut state, ctrl('s')));
    assert_eq!(
        call,
        Call::Stop {
            id: CONSULTATION,
            notes: "Plan: review".into(),
        }
    );
    // The notes went with the stop; the pending autosave has nothing left to do.
    let edits = state.consultation.edits;
    assert!(update(&mut state, Action::Timer(Timer::SaveNotes(edits))).is_empty());

    let mut stopped = consultation(ConsultationStatus::Completed);
    stopped.report_id = Some(report_id(5));
    stopped.report_status = Some(ReportStatus::Pending);
    let effects = respond(&mut state, request, Response::Stopped(Ok(stopped)));
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::PollReport(id),
            ..
        }] if *id == report_id(5)
    ));
    assert!(state.toast.is_some());
    // Enter does nothing while the report is being generated.
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert_eq!(state.screen, Screen::Consultation);

    let (request, call) = only_call(&update(
        &mut state,
        Action::Timer(Timer::PollReport(report_id(5))),
    ));
    assert_eq!(call, Call::PollReport(report_id(5)));
    let effects = respond(
        &mut state,
        request,
        Response::Polled(Ok(report(5, ReportStatus::Generating))),
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::PollReport(_),
            ..
        }]
    ));
    assert_eq!(
        state.consultation.report_status,
        Some(ReportStatus::Generating)
    );

    let (request, _) = only_call(&update(
        &mut state,
        Action::Timer(Timer::PollReport(report_id(5))),
    ));
    state.unsigned = Some(2);
    let effects = respond(
        &mut state,
        request,
        Response::Polled(Ok(report(5, ReportStatus::Completed))),
    );
    assert!(effects.is_empty(), "no more polling: {effects:?}");
    assert_eq!(
        state.consultation.report_status,
        Some(ReportStatus::Completed)
    );
    let toast = state.toast.as_ref().expect("a toast");
    assert_eq!(toast.kind, ToastKind::Info);
    assert!(toast.text.contains("ready"), "{}", toast.text);
    assert_eq!(state.unsigned, Some(3));

    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Report(report_id(5)));
    assert_eq!(state.screen, Screen::Report);
    assert_eq!(state.report.siblings, vec![report_id(5)]);
}

#[test]
fn stopping_with_empty_notes_asks_first() {
    let mut state = in_consultation();
    type_text(&mut state, "  ");
    assert!(update(&mut state, ctrl('s')).is_empty(), "nothing sent yet");
    assert_eq!(state.dialog, Some(Dialog::StopWithoutNotes));
    // Any key but yes keeps it running.
    assert!(update(&mut state, chr('n')).is_empty());
    assert_eq!(state.dialog, None);
    assert_eq!(state.screen, Screen::Consultation);
    update(&mut state, ctrl('s'));
    let (_, call) = only_call(&update(&mut state, chr('y')));
    assert!(matches!(call, Call::Stop { .. }), "{call:?}");

    // With notes it stops at once.
    let mut state = in_consultation();
    type_text(&mut state, "Low mood");
    let (_, call) = only_call(&update(&mut state, ctrl('s')));
    assert!(matches!(call, Call::Stop { .. }), "{call:?}");
}

#[test]
fn the_notes_editor_undoes_and_deletes_words() {
    let mut state = in_consultation();
    type_text(&mut state, "Low mood");
    update(&mut state, ctrl('w'));
    assert_eq!(state.consultation.notes.text(), "Low ");
    update(&mut state, ctrl('z'));
    assert_eq!(state.consultation.notes.text(), "Low mood");
}

#[test]
fn ctrl_x_asks_a_reason_before_cancelling() {
    let mut state = in_consultation();
    assert!(update(&mut state, ctrl('x')).is_empty());
    assert!(matches!(
        state.dialog,
        Some(Dialog::CancelConsultation { .. })
    ));
    assert!(
        update(&mut state, key(KeyCode::Enter)).is_empty(),
        "no reason yet"
    );
    // The dialog says what is missing, and typing clears it.
    let error = |state: &State| match &state.dialog {
        Some(Dialog::CancelConsultation { error, .. }) => error.clone(),
        other => panic!("expected the cancel dialog, got {other:?}"),
    };
    assert!(
        error(&state).is_some_and(|e| e.contains("A reason is needed")),
        "{:?}",
        error(&state)
    );
    type_text(&mut state, "Patient left");
    assert_eq!(error(&state), None);
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Cancel {
            id: CONSULTATION,
            reason: "Patient left".into(),
        }
    );
    respond(
        &mut state,
        request,
        Response::Cancelled(Ok(consultation(ConsultationStatus::Cancelled))),
    );
    assert_eq!(state.screen, Screen::Chart);
}

// ---------------------------------------------------------------------------------------------
// Reports

#[test]
fn n_and_p_move_through_the_list_the_report_came_from() {
    let mut state = on_report(ReportStatus::Completed);
    assert_eq!(
        state.report.siblings,
        vec![report_id(0), report_id(1), report_id(2)]
    );
    assert!(update(&mut state, chr('p')).is_empty(), "already first");

    let (_, call) = only_call(&update(&mut state, chr('n')));
    assert_eq!(call, Call::Report(report_id(1)));
    assert_eq!(state.report.position, 1);
    assert_eq!(state.report.report, Load::Loading);
    let (_, call) = only_call(&update(&mut state, chr('n')));
    assert_eq!(call, Call::Report(report_id(2)));
    assert!(update(&mut state, chr('n')).is_empty(), "already last");
    let (_, call) = only_call(&update(&mut state, chr('p')));
    assert_eq!(call, Call::Report(report_id(1)));
    assert_eq!(state.report.position, 1);
}

#[test]
fn sign_defaults_to_no_and_enter_closes_without_signing() {
    let mut state = on_report(ReportStatus::Completed);
    assert!(update(&mut state, chr('S')).is_empty());
    assert!(matches!(
        state.dialog,
        Some(Dialog::Sign(SignDialog {
            confirmed: false,
            yes: false,
            ..
        }))
    ));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty());
    assert_eq!(state.dialog, None);
    assert_eq!(report_status(&state), ReportStatus::Completed);
    assert_eq!(state.screen, Screen::Report);

    // n also says no.
    update(&mut state, chr('S'));
    update(&mut state, chr('n'));
    assert_eq!(state.dialog, None);
}

#[test]
fn sign_asks_the_password_and_a_wrong_one_keeps_the_dialog() {
    let mut state = on_report(ReportStatus::Completed);
    state.unsigned = Some(4);

    // → then Enter confirms …
    update(&mut state, chr('S'));
    update(&mut state, key(KeyCode::Right));
    assert!(matches!(
        state.dialog,
        Some(Dialog::Sign(SignDialog { yes: true, .. }))
    ));
    update(&mut state, key(KeyCode::Enter));
    assert!(matches!(
        state.dialog,
        Some(Dialog::Sign(SignDialog {
            confirmed: true,
            ..
        }))
    ));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.dialog, None);

    // … and so does y.
    update(&mut state, chr('S'));
    assert!(update(&mut state, chr('y')).is_empty());
    assert!(matches!(
        state.dialog,
        Some(Dialog::Sign(SignDialog {
            confirmed: true,
            ..
        }))
    ));
    assert!(
        update(&mut state, key(KeyCode::Enter)).is_empty(),
        "no password yet"
    );
    type_text(&mut state, "wrong");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Sign {
            id: report_id(0),
            version: 3,
            password: "wrong".into(),
            code: None,
        }
    );
    assert!(matches!(
        state.dialog,
        Some(Dialog::Sign(SignDialog { busy: true, .. }))
    ));

    let effects = respond(
        &mut state,
        request,
        Response::Signed(Err(error(
            ErrorKind::InvalidCredentials,
            "Password is not correct.",
        ))),
    );
    assert!(effects.is_empty());
    match &state.dialog {
        Some(Dialog::Sign(SignDialog {
            confirmed,
            busy,
            error,
            password,
            ..
        })) => {
            assert!(*confirmed);
            assert!(!*busy);
            assert!(error.is_some());
            assert_eq!(password.value, "");
        }
        other => panic!("the sign dialog should stay open, got {other:?}"),
    }
    assert_eq!(report_status(&state), ReportStatus::Completed);

    type_text(&mut state, "right");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Sign {
            id: report_id(0),
            version: 3,
            password: "right".into(),
            code: None,
        }
    );
    let effects = respond(
        &mut state,
        request,
        Response::Signed(Ok(report(0, ReportStatus::Signed))),
    );
    assert!(effects.is_empty());
    assert_eq!(state.dialog, None);
    assert_eq!(report_status(&state), ReportStatus::Signed);
    assert_eq!(state.unsigned, Some(3));
}

#[test]
fn a_signed_report_cannot_be_signed_or_edited_again() {
    let mut state = on_report(ReportStatus::Signed);
    update(&mut state, chr('S'));
    assert_eq!(state.dialog, None);
    assert!(state.toast.is_some());
    state.toast = None;
    update(&mut state, chr('e'));
    assert_eq!(state.dialog, None);
    assert!(state.toast.is_some());
}

fn edit_dialog(state: &State) -> EditDialog {
    match &state.dialog {
        Some(Dialog::EditReport(edit)) => (**edit).clone(),
        other => panic!("expected the edit dialog, got {other:?}"),
    }
}

#[test]
fn edit_saves_the_changed_section_and_a_version_conflict_keeps_the_doctors_text() {
    let mut state = on_report(ReportStatus::Completed);
    assert!(update(&mut state, chr('e')).is_empty());
    let edit = edit_dialog(&state);
    assert_eq!(edit.report_id, report_id(0));
    assert_eq!(edit.version, 3);
    assert_eq!(edit.section, Section::Assessment);
    assert_eq!(edit.editor.text(), "Stable.");
    // Keys are text in the editor, not commands.
    type_text(&mut state, " Sleeping better, no risk.");
    assert_eq!(state.screen, Screen::Report);
    let (request, call) = only_call(&update(&mut state, ctrl('s')));
    let mut expected = report(0, ReportStatus::Completed).content;
    expected.assessment = Some("Stable. Sleeping better, no risk.".into());
    assert_eq!(
        call,
        Call::EditReport {
            id: report_id(0),
            content: expected.clone(),
            version: 3,
        }
    );
    // The editor stays until the server answers.
    assert_eq!(edit_dialog(&state).step, EditStep::Saving);

    let effects = respond(
        &mut state,
        request,
        Response::ReportSaved(Err(error(
            ErrorKind::VersionConflict {
                current_version: Some(4),
            },
            "The report changed.",
        ))),
    );
    let (request, call) = only_call(&effects);
    assert_eq!(call, Call::Report(report_id(0)));
    assert_eq!(edit_dialog(&state).step, EditStep::Reloading);

    // A colleague changed the assessment and the history: the doctor's assessment stays in
    // the editor beside theirs, and their history is kept.
    let mut theirs = report(0, ReportStatus::Completed);
    theirs.version = 4;
    theirs.content.assessment = Some("Stable; reviewed by the registrar.".into());
    theirs.content.history = Some("Low mood for four weeks.".into());
    respond(&mut state, request, Response::Report(Ok(theirs.clone())));
    assert_eq!(state.report.report, Load::Ready(theirs));
    let edit = edit_dialog(&state);
    assert_eq!(edit.step, EditStep::Editing);
    assert_eq!(edit.theirs, Some(4));
    assert_eq!(edit.editor.text(), "Stable. Sleeping better, no risk.");

    let (_, call) = only_call(&update(&mut state, ctrl('s')));
    let mut rebased = expected;
    rebased.history = Some("Low mood for four weeks.".into());
    assert_eq!(
        call,
        Call::EditReport {
            id: report_id(0),
            content: rebased,
            version: 4,
        }
    );
}

#[test]
fn edit_tab_moves_to_the_next_section_keeping_what_was_typed() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    type_text(&mut state, " Better.");
    // Every section of the report, in reading order, then round to the first.
    let mut order = Vec::new();
    for _ in 0..7 {
        update(&mut state, key(KeyCode::Tab));
        order.push(edit_dialog(&state).section);
    }
    assert_eq!(
        order,
        [
            Section::Diagnoses,
            Section::Medications,
            Section::Recommendations,
            Section::FollowUp,
            Section::History,
            Section::MentalStatus,
            Section::Assessment,
        ]
    );
    assert_eq!(edit_dialog(&state).editor.text(), "Stable. Better.");
    update(&mut state, key(KeyCode::BackTab));
    update(&mut state, key(KeyCode::BackTab));
    let edit = edit_dialog(&state);
    assert_eq!(edit.section, Section::History);
    assert_eq!(edit.editor.text(), "Low mood for three weeks.");
}

fn shift_tab_to(state: &mut State, section: Section) {
    for _ in 0..7 {
        if edit_dialog(state).section == section {
            return;
        }
        update(state, key(KeyCode::Tab));
    }
    panic!("no section {section:?}");
}

#[test]
fn diagnoses_and_medications_are_edited_as_rows_of_fields() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    shift_tab_to(&mut state, Section::Diagnoses);
    // No diagnosis yet: typing goes nowhere until Ctrl-N adds a row.
    type_text(&mut state, "x");
    assert_eq!(edit_dialog(&state).working.diagnoses, vec![]);
    update(&mut state, ctrl('n'));
    type_text(&mut state, "F32.1");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!((edit_dialog(&state).row, edit_dialog(&state).field), (0, 1));
    type_text(&mut state, "Moderate depressive episode");
    update(&mut state, ctrl('n'));
    type_text(&mut state, "G47.0");
    // A pasted newline stays on the one line of a field.
    update(&mut state, key(KeyCode::Down));
    update(&mut state, Action::Paste("Insomnia\nprimary".into()));
    update(&mut state, key(KeyCode::Up));
    assert_eq!(edit_dialog(&state).editor.text(), "G47.0");

    update(&mut state, key(KeyCode::Tab));
    assert_eq!(edit_dialog(&state).section, Section::Medications);
    update(&mut state, ctrl('n'));
    type_text(&mut state, "Sertraline");
    for (down, text) in [
        (1, "50 mg"),
        (1, "oral"),
        (1, "once daily"),
        (2, "mornings"),
    ] {
        for _ in 0..down {
            update(&mut state, key(KeyCode::Down));
        }
        type_text(&mut state, text);
    }
    // A second medication, then removed again.
    update(&mut state, ctrl('n'));
    type_text(&mut state, "Zopiclone");
    update(&mut state, ctrl('d'));
    assert_eq!(edit_dialog(&state).working.medication_plan.len(), 1);

    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "Walk daily");
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "Sleep diary");

    let (_, call) = only_call(&update(&mut state, ctrl('s')));
    let mut expected = report(0, ReportStatus::Completed).content;
    expected.diagnoses = vec![
        crate::model::report::Diagnosis {
            code: Some("F32.1".into()),
            description: "Moderate depressive episode".into(),
        },
        crate::model::report::Diagnosis {
            code: Some("G47.0".into()),
            description: "Insomnia primary".into(),
        },
    ];
    expected.medication_plan = vec![crate::model::report::Medication {
        drug: "Sertraline".into(),
        dosage: Some("50 mg".into()),
        route: Some("oral".into()),
        frequency: Some("once daily".into()),
        duration: None,
        instructions: Some("mornings".into()),
    }];
    expected.recommendations = vec!["Walk daily".into(), "Sleep diary".into()];
    assert_eq!(
        call,
        Call::EditReport {
            id: report_id(0),
            content: expected,
            version: 3,
        }
    );
}

#[test]
fn a_row_the_server_would_refuse_is_named_and_nothing_typed_is_lost() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    type_text(&mut state, " Better.");
    shift_tab_to(&mut state, Section::Medications);
    update(&mut state, ctrl('n'));
    type_text(&mut state, "Sertraline");
    update(&mut state, ctrl('n'));
    update(&mut state, key(KeyCode::Down));
    type_text(&mut state, "25 mg");
    update(&mut state, key(KeyCode::Tab));

    assert!(update(&mut state, ctrl('s')).is_empty(), "nothing sent");
    let edit = edit_dialog(&state);
    assert_eq!(edit.step, EditStep::Editing);
    assert_eq!(
        (edit.section, edit.row, edit.field),
        (Section::Medications, 1, 0),
        "on the empty drug"
    );
    assert_eq!(
        edit.error.as_deref(),
        Some("Medication 2, Drug: must not be empty (Ctrl-D removes the row).")
    );
    assert_eq!(edit.working.medication_plan[0].drug, "Sertraline");
    assert_eq!(
        edit.working.medication_plan[1].dosage.as_deref(),
        Some("25 mg")
    );
    assert_eq!(edit.working.assessment.as_deref(), Some("Stable. Better."));

    type_text(&mut state, "Quetiapine");
    // The server's limits too, on the field they are about: a code too long.
    shift_tab_to(&mut state, Section::Diagnoses);
    update(&mut state, ctrl('n'));
    update(&mut state, ctrl('n'));
    type_text(&mut state, &"F".repeat(41));
    update(&mut state, key(KeyCode::Down));
    type_text(&mut state, "Insomnia");
    update(&mut state, key(KeyCode::Tab));
    assert!(update(&mut state, ctrl('s')).is_empty(), "nothing sent");
    let edit = edit_dialog(&state);
    assert_eq!(
        (edit.section, edit.row, edit.field),
        (Section::Diagnoses, 1, 0)
    );
    assert_eq!(
        edit.error.as_deref(),
        Some("Diagnosis 2, Code: must be at most 40 characters (Ctrl-D removes the row).")
    );
    update(&mut state, ctrl('d'));
    let (_, call) = only_call(&update(&mut state, ctrl('s')));
    let Call::EditReport { content, .. } = call else {
        panic!("expected a save, got {call:?}");
    };
    assert_eq!(content.medication_plan[1].drug, "Quetiapine");
    assert_eq!(content.assessment.as_deref(), Some("Stable. Better."));
}

#[test]
fn after_a_conflict_the_field_on_screen_shows_their_text_where_the_doctor_changed_nothing() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    // The doctor changes the history and a diagnosis, and saves from the assessment, untouched.
    shift_tab_to(&mut state, Section::History);
    type_text(&mut state, " Worse at night.");
    shift_tab_to(&mut state, Section::Diagnoses);
    update(&mut state, ctrl('n'));
    type_text(&mut state, "F51.0");
    update(&mut state, key(KeyCode::Down));
    type_text(&mut state, "Insomnia");
    shift_tab_to(&mut state, Section::Assessment);
    let (request, _) = only_call(&update(&mut state, ctrl('s')));
    let effects = respond(
        &mut state,
        request,
        Response::ReportSaved(Err(error(
            ErrorKind::VersionConflict {
                current_version: Some(4),
            },
            "The report changed.",
        ))),
    );
    let (request, _) = only_call(&effects);
    let mut theirs = report(0, ReportStatus::Completed);
    theirs.version = 4;
    theirs.content.assessment = Some("Stable; reviewed by the registrar.".into());
    theirs.content.medication_plan = vec![crate::model::report::Medication {
        drug: "Sertraline".into(),
        ..Default::default()
    }];
    respond(&mut state, request, Response::Report(Ok(theirs.clone())));
    // Saving now must not put the assessment back as it was before their edit.
    assert_eq!(
        edit_dialog(&state).editor.text(),
        "Stable; reviewed by the registrar."
    );
    let (_, call) = only_call(&update(&mut state, ctrl('s')));
    let Call::EditReport {
        content, version, ..
    } = call
    else {
        panic!("expected a save, got {call:?}");
    };
    assert_eq!(version, 4);
    assert_eq!(content.assessment, theirs.content.assessment);
    assert_eq!(content.medication_plan, theirs.content.medication_plan);
    assert_eq!(
        content.history.as_deref(),
        Some("Low mood for three weeks. Worse at night.")
    );
    assert_eq!(content.diagnoses[0].code.as_deref(), Some("F51.0"));
}

#[test]
fn a_failed_report_is_written_by_hand_then_signed() {
    let mut state = on_report(ReportStatus::Failed);
    assert!(update(&mut state, chr('S')).is_empty());
    assert_eq!(state.dialog, None, "nothing to sign yet");
    let toast = state.toast.take().map(|t| t.text).unwrap_or_default();
    assert!(
        toast.contains("write the report by hand first (e)"),
        "{toast}"
    );
    assert!(update(&mut state, chr('e')).is_empty());
    let edit = edit_dialog(&state);
    assert_eq!(edit.section, Section::History);
    type_text(&mut state, " Seen today.");
    let (request, call) = only_call(&update(&mut state, ctrl('s')));
    assert!(
        matches!(call, Call::EditReport { version: 3, .. }),
        "{call:?}"
    );
    let mut written = report(0, ReportStatus::Completed);
    written.version = 4;
    respond(&mut state, request, Response::ReportSaved(Ok(written)));
    assert_eq!(state.dialog, None);
    update(&mut state, chr('S'));
    assert!(matches!(state.dialog, Some(Dialog::Sign(_))));
}

#[test]
fn the_draft_editor_undoes_what_was_typed() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    type_text(&mut state, " Better");
    // A word at a time.
    update(&mut state, ctrl('z'));
    assert_eq!(edit_dialog(&state).editor.text(), "Stable. ");
    update(&mut state, ctrl('z'));
    assert_eq!(edit_dialog(&state).editor.text(), "Stable.");
    update(&mut state, ctrl('y'));
    update(&mut state, ctrl('y'));
    assert_eq!(edit_dialog(&state).editor.text(), "Stable. Better");
    update(
        &mut state,
        Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::ALT)),
    );
    assert_eq!(edit_dialog(&state).editor.text(), "Stable. ");
}

#[test]
fn esc_in_the_draft_editor_asks_before_discarding_changes() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.dialog, None, "nothing changed: Esc just closes");

    update(&mut state, chr('e'));
    type_text(&mut state, " Better.");
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(edit_dialog(&state).step, EditStep::Discard);
    update(&mut state, key(KeyCode::Enter));
    let edit = edit_dialog(&state);
    assert_eq!(edit.step, EditStep::Editing);
    assert_eq!(edit.editor.text(), "Stable. Better.");
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, chr('y'));
    assert_eq!(state.dialog, None);
}

#[test]
fn addenda_are_only_for_signed_reports() {
    let mut state = on_report(ReportStatus::Completed);
    assert!(update(&mut state, chr('a')).is_empty());
    assert_eq!(state.dialog, None);
    assert!(state.toast.is_some());

    let mut state = on_report(ReportStatus::Signed);
    assert!(update(&mut state, chr('a')).is_empty());
    assert!(matches!(state.dialog, Some(Dialog::Addendum(_))));
    // Enter is a new line, not "send"; nothing typed leaves the dialog as a report command.
    type_text(&mut state, "Lab result normal.");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    type_text(&mut state, "Sent to the GP; next review e");
    assert_eq!(state.screen, Screen::Report);
    let addendum = |state: &State| match &state.dialog {
        Some(Dialog::Addendum(addendum)) => addendum.clone(),
        other => panic!("expected the addendum dialog, got {other:?}"),
    };
    assert_eq!(
        addendum(&state).editor.text(),
        "Lab result normal.\nSent to the GP; next review e"
    );

    // Ctrl-S previews; the default is No, and No goes back to the text as it was.
    assert!(update(&mut state, ctrl('s')).is_empty());
    assert_eq!(addendum(&state).step, AddendumStep::Preview { yes: false });
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert_eq!(addendum(&state).step, AddendumStep::Writing);
    assert_eq!(
        addendum(&state).editor.text(),
        "Lab result normal.\nSent to the GP; next review e"
    );

    // Only an explicit yes sends it, all lines; the dialog waits for the answer.
    update(&mut state, ctrl('s'));
    let (request, call) = only_call(&update(&mut state, chr('y')));
    assert_eq!(
        call,
        Call::Addendum {
            id: report_id(0),
            text: "Lab result normal.\nSent to the GP; next review e".into(),
        }
    );
    assert_eq!(addendum(&state).step, AddendumStep::Sending);
    assert!(
        type_text(&mut state, "nS").is_empty(),
        "keys wait, run nothing"
    );
    assert_eq!(state.screen, Screen::Report);

    // A failure keeps the text to send again.
    respond(
        &mut state,
        request,
        Response::AddendumAdded(Err(error(ErrorKind::InvalidState, "The report changed."))),
    );
    assert_eq!(addendum(&state).step, AddendumStep::Writing);
    assert!(addendum(&state).error.is_some());
    assert_eq!(
        addendum(&state).editor.text(),
        "Lab result normal.\nSent to the GP; next review e"
    );

    update(&mut state, ctrl('s'));
    update(&mut state, key(KeyCode::Right));
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let mut with_addendum = report(0, ReportStatus::Signed);
    with_addendum.version = 4;
    respond(
        &mut state,
        request,
        Response::AddendumAdded(Ok(with_addendum)),
    );
    assert_eq!(state.dialog, None);
    assert_eq!(state.report.report.ready().map(|r| r.version), Some(4));
}

#[test]
fn esc_in_the_addendum_asks_before_discarding_typed_text() {
    let mut state = on_report(ReportStatus::Signed);
    update(&mut state, chr('a'));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.dialog, None, "nothing typed: Esc just closes");

    update(&mut state, chr('a'));
    type_text(&mut state, "Called the patient");
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(
        &state.dialog,
        Some(Dialog::Addendum(a)) if a.step == AddendumStep::Discard
    ));
    // Any key but y keeps the text.
    update(&mut state, chr('n'));
    match &state.dialog {
        Some(Dialog::Addendum(a)) => {
            assert_eq!(a.step, AddendumStep::Writing);
            assert_eq!(a.editor.text(), "Called the patient");
        }
        other => panic!("expected the addendum dialog, got {other:?}"),
    }
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, chr('y'));
    assert_eq!(state.dialog, None);
}

#[test]
fn the_report_browser_filters_by_status_and_previews_the_selection() {
    let mut state = with_patients(3, None);
    let (request, call) = only_call(&update(&mut state, chr('2')));
    assert_eq!(state.screen, Screen::Reports);
    assert_eq!(
        call,
        Call::Reports(ReportListParams {
            limit: Some(REPORT_PAGE),
            ..ReportListParams::default()
        })
    );
    let items: Vec<_> = (0..3)
        .map(|n| report_summary(n, ReportStatus::Completed))
        .collect();
    let (preview, call) = only_call(&respond(
        &mut state,
        request,
        Response::Reports(Ok(report_page(items.clone(), None))),
    ));
    assert_eq!(call, Call::ReportPreview(report_id(0)));
    respond(
        &mut state,
        preview,
        Response::ReportPreview(Ok(report(0, ReportStatus::Completed))),
    );
    assert!(state.reports.preview.is_some());

    let (_, call) = only_call(&update(&mut state, chr('j')));
    assert_eq!(call, Call::ReportPreview(report_id(1)));

    let (filtered, call) = only_call(&update(&mut state, chr('f')));
    assert_eq!(state.reports.status, Some(ReportStatus::Completed));
    assert_eq!(
        call,
        Call::Reports(ReportListParams {
            status: Some(ReportStatus::Completed),
            limit: Some(REPORT_PAGE),
            ..ReportListParams::default()
        })
    );
    // The unfiltered answer arriving late is dropped.
    assert!(
        respond(
            &mut state,
            request,
            Response::Reports(Ok(report_page(items, None)))
        )
        .is_empty()
    );
    assert!(state.reports.rows.loading);
    assert!(state.reports.rows.items.is_empty());
    respond(
        &mut state,
        filtered,
        Response::Reports(Ok(report_page(vec![], None))),
    );
    assert!(!state.reports.rows.loading);
    assert!(state.reports.rows.loaded_once);
    assert!(state.reports.rows.items.is_empty());
}

/// The report browser with reports `rows` loaded as its first page, `total` in all.
fn with_reports(rows: std::ops::Range<usize>, total: u64, cursor: Option<&str>) -> State {
    let mut state = with_patients(3, None);
    let (request, _) = only_call(&update(&mut state, chr('2')));
    let effects = respond(
        &mut state,
        request,
        Response::Reports(Ok(reports_page(rows, total, cursor))),
    );
    assert!(
        calls(&effects)
            .iter()
            .all(|(_, c)| matches!(c, Call::ReportPreview(_))),
        "{effects:?}"
    );
    state
}

fn reports_page(rows: std::ops::Range<usize>, total: u64, cursor: Option<&str>) -> ReportPage {
    ReportPage {
        items: rows
            .map(|n| report_summary(n, ReportStatus::Completed))
            .collect(),
        pagination: pagination(total, cursor),
        filters_applied: ReportFilter::default(),
    }
}

/// The one list call among the effects.
fn list_call(effects: &[Effect]) -> (u64, Call) {
    let mut lists: Vec<(u64, Call)> = calls(effects)
        .into_iter()
        .filter(|(_, c)| matches!(c, Call::Reports(_) | Call::ListPatients(_)))
        .collect();
    assert_eq!(lists.len(), 1, "expected one list call in {effects:?}");
    lists.pop().expect("a list call")
}

#[test]
fn the_report_browser_pages_with_cursors_beyond_its_first_page() {
    // 588 reports: the first page is not all the browser can show.
    let mut state = with_reports(0..50, 588, Some("r-2"));
    assert_eq!(state.reports.rows.items.len(), 50);
    state.reports.rows.selected = 50 - PREFETCH_MARGIN - 1;
    let (_, call) = list_call(&update(&mut state, chr('j')));
    assert_eq!(
        call,
        Call::Reports(ReportListParams {
            limit: Some(REPORT_PAGE),
            cursor: Some("r-2".into()),
            ..ReportListParams::default()
        }),
        "the next page follows the cursor"
    );
}

#[test]
fn g_in_the_report_browser_reaches_the_true_last_report() {
    let mut state = with_reports(0..50, 160, Some("r-2"));
    let effects = update(&mut state, chr('G'));
    let (request, call) = list_call(&effects);
    assert_eq!(
        call,
        Call::Reports(ReportListParams {
            limit: Some(MAX_LIMIT),
            cursor: Some("r-2".into()),
            ..ReportListParams::default()
        })
    );
    assert!(state.reports.rows.jumping());
    let (request, call) = list_call(&respond(
        &mut state,
        request,
        Response::Reports(Ok(reports_page(50..150, 160, Some("r-3")))),
    ));
    assert!(matches!(call, Call::Reports(ReportListParams { cursor: Some(c), .. }) if c == "r-3"));
    assert_eq!(
        state.reports.rows.selected, 149,
        "the selection follows the walk"
    );
    let effects = respond(
        &mut state,
        request,
        Response::Reports(Ok(reports_page(150..160, 160, None))),
    );
    assert_eq!(state.reports.rows.items.len(), 160);
    assert_eq!(state.reports.rows.selected, 159, "the true last report");
    assert!(!state.reports.rows.jumping());
    let visible = crate::tui::layout::report_list_rows(&state);
    assert_eq!(
        state.reports.rows.offset,
        160 - visible,
        "the last rows are drawn"
    );
    // The walk done, the last report is previewed.
    assert_eq!(only_call(&effects).1, Call::ReportPreview(report_id(159)));

    // A filter after scrolling shows its reports from the first row.
    let (request, _) = list_call(&update(&mut state, chr('f')));
    respond(
        &mut state,
        request,
        Response::Reports(Ok(reports_page(0..20, 20, None))),
    );
    assert_eq!(state.reports.rows.selected, 0);
    assert_eq!(state.reports.rows.offset, 0);
}

#[test]
fn g_on_the_patient_list_reaches_the_true_last_row_and_esc_stops_the_walk() {
    let mut state = with_patients(50, Some("cursor-2"));
    let (request, call) = list_call(&update(&mut state, key(KeyCode::End)));
    assert_eq!(
        call,
        Call::ListPatients(PatientListParams {
            limit: Some(MAX_LIMIT),
            cursor: Some("cursor-2".into()),
            sort: Some(PatientSort::LastVisitDesc),
            ..PatientListParams::default()
        })
    );
    let (request, _) = list_call(&respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(50..150, Some("cursor-3")))),
    ));
    let effects = respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(150..200, None))),
    );
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.patients.rows.selected, 199, "the true last row");
    assert_eq!(state.patients.rows.items[199].id, patient_id(199));

    // Esc stops a walk and keeps what it loaded, without leaving the screen.
    let mut state = with_patients(50, Some("cursor-2"));
    state.history = vec![Screen::Chart];
    let (request, _) = list_call(&update(&mut state, chr('G')));
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.screen, Screen::Patients, "Esc stopped the walk first");
    assert!(!state.patients.rows.jumping());
    let effects = respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(50..150, Some("cursor-3")))),
    );
    assert!(effects.is_empty(), "no further page: {effects:?}");
    assert_eq!(state.patients.rows.items.len(), 150);
    assert_eq!(state.patients.rows.selected, 49, "the selection stayed");
}

#[test]
fn q_on_the_top_screen_stops_a_walk_to_the_last_row_before_it_quits() {
    let mut state = with_patients(50, Some("cursor-2"));
    assert!(state.history.is_empty());
    list_call(&update(&mut state, chr('G')));
    assert!(state.patients.rows.jumping());
    assert!(update(&mut state, chr('q')).is_empty());
    assert!(!state.quit, "q stopped the walk, it did not quit");
    assert!(!state.patients.rows.jumping());
    update(&mut state, chr('q'));
    assert!(state.quit, "a second q quits");
}

#[test]
fn sorting_after_scrolling_shows_the_new_order_from_its_first_row() {
    let mut state = with_patients(50, Some("cursor-2"));
    let (request, _) = list_call(&update(&mut state, chr('G')));
    respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(50..200, None))),
    );
    assert!(state.patients.rows.offset > 0);
    let (request, _) = only_call(&update(&mut state, chr('s')));
    respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(0..50, Some("n-2")))),
    );
    assert_eq!(state.patients.rows.selected, 0);
    assert_eq!(state.patients.rows.offset, 0, "drawn from the first row");
}

// ---------------------------------------------------------------------------------------------
// Lock

#[test]
fn ctrl_l_locks_and_keys_go_to_the_password_only() {
    let mut state = in_consultation();
    type_text(&mut state, "Draft notes");
    assert!(update(&mut state, ctrl('l')).is_empty());
    assert!(state.lock.locked);

    // No command runs while locked: q, /, : and Ctrl-P are password characters or nothing.
    let effects = type_text(&mut state, "q/:");
    assert!(effects.is_empty());
    assert!(update(&mut state, ctrl('p')).is_empty());
    assert!(update(&mut state, ctrl('s')).is_empty());
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.lock.reauth.password.value, "q/:");
    assert!(!state.quit);
    assert!(!state.privacy);
    assert_eq!(state.overlay, None);
    assert_eq!(state.screen, Screen::Consultation);
    assert_eq!(state.consultation.notes.text(), "Draft notes");
}

#[test]
fn unlocking_needs_the_right_password_and_keeps_the_draft() {
    let mut state = in_consultation();
    type_text(&mut state, "Draft notes");
    update(&mut state, ctrl('l'));
    assert!(
        update(&mut state, key(KeyCode::Enter)).is_empty(),
        "no password yet"
    );

    type_text(&mut state, "wrong");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Unlock {
            email: user().email,
            password: "wrong".into(),
        }
    );
    assert!(state.lock.reauth.busy);
    assert_eq!(state.lock.reauth.password.value, "");
    respond(
        &mut state,
        request,
        Response::Unlock(Err(error(
            ErrorKind::InvalidCredentials,
            "Password is not correct.",
        ))),
    );
    assert!(state.lock.locked);
    assert!(!state.lock.reauth.busy);
    assert_eq!(
        state.lock.reauth.error.as_deref(),
        Some("Password is not correct.")
    );

    type_text(&mut state, "right");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, Response::Unlock(Ok(user())));
    assert!(!state.lock.locked);
    assert_eq!(state.lock.reauth.error, None);
    assert_eq!(state.screen, Screen::Consultation);
    assert_eq!(state.consultation.notes.text(), "Draft notes");
    assert!(state.consultation.consultation.is_some());
    // Typing goes on where it stopped.
    type_text(&mut state, ".");
    assert_eq!(state.consultation.notes.text(), "Draft notes.");
}

#[test]
fn inactivity_locks_on_tick() {
    let mut state = with_patients(3, None);
    state.settings.lock_after_ms = 5_000;
    update(&mut state, Action::Tick(1_000));
    update(&mut state, chr('j'));
    update(&mut state, Action::Tick(5_999));
    assert!(
        !state.lock.locked,
        "activity at 1 s keeps it open until 6 s"
    );
    update(&mut state, Action::Tick(6_000));
    assert!(state.lock.locked);
    assert_eq!(state.screen, Screen::Patients);
    assert_eq!(state.patients.rows.items.len(), 3);
}

#[test]
fn the_login_screen_never_locks() {
    let mut state = logged_out();
    state.settings.lock_after_ms = 5_000;
    update(&mut state, Action::Tick(50_000));
    assert!(!state.lock.locked);
}

// ---------------------------------------------------------------------------------------------
// Session expiry and offline

#[test]
fn an_ended_session_asks_the_password_and_keeps_the_screen() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('j'));
    let (request, _) = only_call(&update(&mut state, chr('r')));
    let effects = respond(
        &mut state,
        request,
        Response::Patients(Err(ApiError::session_ended())),
    );
    assert!(effects.is_empty());
    assert!(matches!(state.dialog, Some(Dialog::SessionExpired(_))));
    assert_eq!(state.screen, Screen::Patients);
    assert_eq!(state.patients.rows.items.len(), 3);
    assert_eq!(state.patients.rows.selected, 1);
    assert_eq!(state.patients.rows.error, None);

    // Keys go to the password, not the list.
    type_text(&mut state, "jk");
    assert_eq!(state.patients.rows.selected, 1);
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Unlock {
            email: user().email,
            password: "jk".into(),
        }
    );
    respond(
        &mut state,
        request,
        Response::Unlock(Err(error(
            ErrorKind::InvalidCredentials,
            "Password is not correct.",
        ))),
    );
    assert!(matches!(
        &state.dialog,
        Some(Dialog::SessionExpired(Reauth {
            error: Some(_),
            busy: false,
            ..
        }))
    ));

    type_text(&mut state, "pw");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, Response::Unlock(Ok(user())));
    assert_eq!(state.dialog, None);
    assert_eq!(state.screen, Screen::Patients);
    assert_eq!(state.patients.rows.items.len(), 3);
}

/// An account with a second factor signs in again with its password and then a code: the
/// password's answer asks for the code (it used to be shown as an error, with no field for the
/// code, so the lock and the ended session could not be left).
#[test]
fn the_lock_and_an_ended_session_ask_a_second_factor_for_its_code() {
    let mfa_required = || {
        Response::Unlock(Err(error(
            ErrorKind::MfaRequired {
                mfa_token: "mfa-token".into(),
            },
            "Enter the code of your authenticator app.",
        )))
    };
    // The lock screen.
    let mut state = with_patients(3, None);
    update(&mut state, ctrl('l'));
    assert!(state.lock.locked);
    type_text(&mut state, "password");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, mfa_required());
    assert!(state.lock.locked);
    assert_eq!(state.lock.reauth.mfa_token.as_deref(), Some("mfa-token"));
    assert_eq!(state.lock.reauth.error, None);

    // A wrong code stays at the code, saying so.
    type_text(&mut state, "000000");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::UnlockCode {
            mfa_token: "mfa-token".into(),
            code: "000000".into(),
        }
    );
    respond(
        &mut state,
        request,
        Response::Unlock(Err(error(
            ErrorKind::MfaCodeInvalid,
            "The code is not correct.",
        ))),
    );
    assert!(state.lock.locked);
    assert_eq!(state.lock.reauth.mfa_token.as_deref(), Some("mfa-token"));
    assert_eq!(
        state.lock.reauth.error.as_deref(),
        Some("The code is not correct.")
    );
    // Esc goes back to the password, and the password again to the code.
    update(&mut state, key(KeyCode::Esc));
    assert!(state.lock.locked);
    assert_eq!(state.lock.reauth.mfa_token, None);
    type_text(&mut state, "password");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, mfa_required());
    type_text(&mut state, "123456");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, Response::Unlock(Ok(user())));
    assert!(!state.lock.locked);
    assert_eq!(state.screen, Screen::Patients);

    // The session-expired dialog, the same way.
    let (request, _) = only_call(&update(&mut state, chr('r')));
    respond(
        &mut state,
        request,
        Response::Patients(Err(ApiError::session_ended())),
    );
    type_text(&mut state, "password");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, mfa_required());
    assert!(matches!(
        &state.dialog,
        Some(Dialog::SessionExpired(Reauth {
            mfa_token: Some(_),
            ..
        }))
    ));
    type_text(&mut state, "654321");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::UnlockCode {
            mfa_token: "mfa-token".into(),
            code: "654321".into(),
        }
    );
    respond(&mut state, request, Response::Unlock(Ok(user())));
    assert_eq!(state.dialog, None);
}

#[test]
fn an_unreachable_server_shows_offline_and_retries_until_an_answer() {
    let mut state = with_patients(3, None);
    let (request, _) = only_call(&update(&mut state, chr('r')));
    let effects = respond(
        &mut state,
        request,
        Response::Patients(Err(ApiError::unreachable("req-1"))),
    );
    assert!(state.offline.is_some());
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::Reconnect,
            ..
        }]
    ));
    assert_eq!(state.patients.rows.items.len(), 3, "the list is kept");

    // A second failure does not start a second retry loop.
    let effects = update(&mut state, chr('2'));
    let request = request_of(&effects, |c| matches!(c, Call::Reports(_)));
    let effects = respond(
        &mut state,
        request,
        Response::Reports(Err(ApiError::unreachable("req-2"))),
    );
    assert!(effects.is_empty());

    // The timer tries again; still unreachable, it waits again.
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    assert_eq!(call, Call::Unsigned);
    let effects = respond(
        &mut state,
        request,
        Response::Unsigned(Err(ApiError::unreachable("req-3"))),
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::Reconnect,
            ..
        }]
    ));
    assert!(state.offline.is_some());

    let (request, _) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    respond(&mut state, request, Response::Unsigned(Ok(stats(2))));
    assert_eq!(state.offline, None);
    assert_eq!(state.unsigned, Some(2));
    // Back online, a stray timer does nothing.
    assert!(update(&mut state, Action::Timer(Timer::Reconnect)).is_empty());
}

#[test]
fn any_successful_answer_clears_offline() {
    let mut state = with_patients(3, None);
    state.offline = Some("Server unreachable".into());
    let (request, _) = only_call(&update(&mut state, chr('r')));
    respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(0..3, None))),
    );
    assert_eq!(state.offline, None);

    state.offline = Some("Server unreachable".into());
    update(&mut state, Action::Online);
    assert_eq!(state.offline, None);
}

// ---------------------------------------------------------------------------------------------
// Privacy, help, palette, quitting

#[test]
fn ctrl_p_toggles_privacy() {
    let mut state = on_chart();
    update(&mut state, ctrl('p'));
    assert!(state.privacy);
    update(&mut state, ctrl('p'));
    assert!(!state.privacy);
}

#[test]
fn help_opens_filters_and_closes() {
    let mut state = on_chart();
    update(&mut state, chr('?'));
    assert!(matches!(state.overlay, Some(Overlay::Help { .. })));
    type_text(&mut state, "sign q");
    match &state.overlay {
        Some(Overlay::Help { filter, .. }) => assert_eq!(filter.value, "sign q"),
        other => panic!("expected help, got {other:?}"),
    }
    assert!(!state.quit);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.overlay, None);
    assert_eq!(state.screen, Screen::Chart);

    update(&mut state, key(KeyCode::F(1)));
    assert!(matches!(state.overlay, Some(Overlay::Help { .. })));
    update(&mut state, chr('?'));
    assert_eq!(state.overlay, None, "? with an empty filter closes help");
}

#[test]
fn the_palette_filters_and_runs_the_chosen_command() {
    let mut state = with_patients(3, None);
    update(&mut state, chr(':'));
    assert!(matches!(state.overlay, Some(Overlay::Palette { .. })));
    type_text(&mut state, "stat");
    match &state.overlay {
        Some(Overlay::Palette { input, selected }) => {
            assert_eq!(input.value, "stat");
            assert_eq!(*selected, 0);
        }
        other => panic!("expected the palette, got {other:?}"),
    }
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Stats(ReportStatsParams {
            patient_id: None,
            days: Some(30),
        })
    );
    assert_eq!(state.overlay, None);
    assert_eq!(state.screen, Screen::Stats);
    assert_eq!(state.stats.stats, Load::Loading);

    // Esc closes the palette without running anything.
    update(&mut state, chr(':'));
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.overlay, None);
    assert_eq!(state.screen, Screen::Stats);
}

#[test]
fn the_statistics_window_steps_through_7_30_90_and_365_days() {
    let mut state = with_patients(3, None);
    let (first, _) = only_call(&update(&mut state, chr('3')));
    respond(&mut state, first, Response::Stats(Ok(stats(1))));
    let mut asked = Vec::new();
    let mut requests = Vec::new();
    for _ in 0..4 {
        let (request, call) = only_call(&update(&mut state, chr('d')));
        asked.push(call);
        requests.push(request);
    }
    let days = |d| {
        Call::Stats(ReportStatsParams {
            patient_id: None,
            days: Some(d),
        })
    };
    assert_eq!(asked, vec![days(90), days(365), days(7), days(30)]);
    assert_eq!(state.stats.days, 30);
    // The figures shown stay while a window loads; an answer for an older window is dropped.
    assert!(state.stats.stats.ready().is_some());
    let mut older = stats(7);
    older.daily = vec![];
    respond(&mut state, requests[0], Response::Stats(Ok(older)));
    assert_eq!(state.unsigned, Some(1), "the older answer was dropped");
    assert!(state.stats.loading);
    respond(&mut state, requests[3], Response::Stats(Ok(stats(2))));
    assert_eq!(state.unsigned, Some(2));
    assert!(!state.stats.loading);
}

#[test]
fn q_quits_from_the_top_screen_and_goes_back_elsewhere() {
    let mut state = on_chart();
    assert!(update(&mut state, chr('q')).is_empty());
    assert_eq!(state.screen, Screen::Patients);
    assert!(!state.quit);

    // Esc on the top screen does nothing.
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.screen, Screen::Patients);
    assert!(!state.quit);

    assert_eq!(update(&mut state, chr('q')), vec![Effect::Quit]);
    assert!(state.quit);
}

/// Alt with a key, as terminals report Meta: capitals come with SHIFT too.
fn alt(c: char) -> Action {
    let shift = if c.is_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT | shift))
}

#[test]
fn alt_with_a_key_is_not_read_as_the_bare_key() {
    // Alt+S on a completed report is not S: no sign dialog.
    let mut state = on_report(ReportStatus::Completed);
    assert!(update(&mut state, alt('S')).is_empty());
    assert_eq!(state.dialog, None);

    // Alt+q on the top screen does not quit, Alt+j does not move.
    let mut state = with_patients(3, None);
    assert!(update(&mut state, alt('q')).is_empty());
    assert!(!state.quit);
    update(&mut state, alt('j'));
    assert_eq!(state.patients.rows.selected, 0);

    // Nor is it typed into the notes.
    let mut state = in_consultation();
    assert!(update(&mut state, alt('x')).is_empty());
    assert_eq!(state.consultation.notes.text(), "");
}

#[test]
fn the_editors_command_keys_follow_the_keymap() {
    let overrides = [
        ("save".to_string(), vec!["alt-s".to_string()]),
        ("dismiss".to_string(), vec!["ctrl-g".to_string()]),
        ("stop_consultation".to_string(), vec!["alt-t".to_string()]),
    ]
    .into_iter()
    .collect();
    let keymap = crate::tui::keymap::Keymap::with_overrides(&overrides).unwrap();

    // The report editor saves on the chosen key; Ctrl-S is no longer save.
    let mut state = on_report(ReportStatus::Completed);
    state.settings.keymap = keymap.clone();
    update(&mut state, chr('e'));
    assert!(update(&mut state, ctrl('s')).is_empty());
    assert!(matches!(state.dialog, Some(Dialog::EditReport(_))));
    let (request, call) = only_call(&update(&mut state, alt('s')));
    assert!(matches!(call, Call::EditReport { .. }), "{call:?}");
    assert_eq!(edit_dialog(&state).step, EditStep::Saving);
    respond(
        &mut state,
        request,
        Response::ReportSaved(Ok(report(0, ReportStatus::Completed))),
    );
    assert_eq!(state.dialog, None);

    // Esc is text-free in a dialog now: the chosen key closes it instead.
    update(&mut state, chr('e'));
    update(&mut state, key(KeyCode::Esc));
    assert!(state.dialog.is_some());
    update(&mut state, ctrl('g'));
    assert_eq!(state.dialog, None);

    // The notes editor stops on the chosen key, even an Alt one.
    let mut state = in_consultation();
    state.settings.keymap = keymap;
    type_text(&mut state, "Plan: rest");
    let (_, call) = only_call(&update(&mut state, alt('t')));
    assert!(matches!(call, Call::Stop { .. }), "{call:?}");
    assert_eq!(state.consultation.notes.text(), "Plan: rest");
}

#[test]
fn the_login_submits_on_the_keymaps_submit_key() {
    let overrides = [("submit".to_string(), vec!["ctrl-j".to_string()])]
        .into_iter()
        .collect();
    let mut state = logged_out();
    state.settings.keymap = crate::tui::keymap::Keymap::with_overrides(&overrides).unwrap();
    type_text(&mut state, "maya@synapse.test");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        state.login.focus,
        LoginFocus::Email,
        "Enter is not submit now"
    );
    update(&mut state, ctrl('j'));
    assert_eq!(state.login.focus, LoginFocus::Password);
    type_text(&mut state, "secret");
    let (_, call) = only_call(&update(&mut state, ctrl('j')));
    assert!(matches!(call, Call::Login { .. }), "{call:?}");
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let quits = |mut state: State| {
        assert_eq!(update(&mut state, ctrl('c')), vec![Effect::Quit]);
        assert!(state.quit);
    };
    quits(logged_out());
    quits(with_patients(3, None));

    let mut sign = on_report(ReportStatus::Completed);
    update(&mut sign, chr('S'));
    update(&mut sign, chr('y'));
    quits(sign);

    let mut locked = in_consultation();
    update(&mut locked, ctrl('l'));
    quits(locked);

    let mut help = on_chart();
    update(&mut help, chr('?'));
    quits(help);

    let mut expired = with_patients(3, None);
    let (request, _) = only_call(&update(&mut expired, chr('r')));
    respond(
        &mut expired,
        request,
        Response::Patients(Err(ApiError::session_ended())),
    );
    quits(expired);

    quits(in_consultation());
}

// ---------------------------------------------------------------------------------------------
// Paste

#[test]
fn paste_into_search_drops_control_characters_and_debounces() {
    let mut state = with_patients(3, None);
    update(&mut state, chr('/'));
    let effects = update(&mut state, Action::Paste("ada\n\u{1b}lovelace\r".into()));
    assert_eq!(state.search.input.value, "adalovelace");
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::Search(1),
            ..
        }]
    ));
}

#[test]
fn paste_into_notes_keeps_lines_and_schedules_a_save() {
    let mut state = in_consultation();
    let effects = update(&mut state, Action::Paste("BP 120/80\r\nPulse 72".into()));
    assert_eq!(state.consultation.notes.text(), "BP 120/80\nPulse 72");
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::SaveNotes(1),
            ..
        }]
    ));
}

#[test]
fn paste_into_password_fields_drops_control_characters() {
    let mut locked = with_patients(3, None);
    update(&mut locked, ctrl('l'));
    assert!(update(&mut locked, Action::Paste("pass\tword\n".into())).is_empty());
    assert_eq!(locked.lock.reauth.password.value, "password");

    let mut sign = on_report(ReportStatus::Completed);
    update(&mut sign, chr('S'));
    update(&mut sign, chr('y'));
    update(&mut sign, Action::Paste("secret\n".into()));
    match &sign.dialog {
        Some(Dialog::Sign(sign)) => assert_eq!(sign.password.value, "secret"),
        other => panic!("expected the sign dialog, got {other:?}"),
    }

    let mut login = logged_out();
    update(&mut login, Action::Paste("dr.grey@clinic.test\n".into()));
    assert_eq!(login.login.email.value, "dr.grey@clinic.test");
    update(&mut login, key(KeyCode::Tab));
    update(&mut login, Action::Paste("s3cret\u{7}".into()));
    assert_eq!(login.login.password.value, "s3cret");
}

#[test]
fn a_paste_outside_any_field_does_nothing() {
    let mut state = with_patients(3, None);
    assert!(update(&mut state, Action::Paste("qqq".into())).is_empty());
    assert!(!state.quit);
    assert_eq!(state.screen, Screen::Patients);
}

#[test]
fn running_consultations_are_mentioned_after_login() {
    let mut state = logged_in();
    respond(
        &mut state,
        9,
        Response::Active(Ok(ActiveConsultations {
            items: vec![consultation(ConsultationStatus::InProgress)],
        })),
    );
    assert!(state.toast.is_some());
}

#[test]
fn an_older_report_answer_does_not_replace_the_one_asked_for_last() {
    let mut state = on_report(ReportStatus::Completed);
    let (first, _) = only_call(&update(&mut state, chr('n')));
    let (second, call) = only_call(&update(&mut state, chr('n')));
    assert_eq!(call, Call::Report(report_id(2)));
    // The answers come back out of order.
    respond(
        &mut state,
        second,
        Response::Report(Ok(report(2, ReportStatus::Completed))),
    );
    respond(
        &mut state,
        first,
        Response::Report(Ok(report(1, ReportStatus::Completed))),
    );
    assert_eq!(state.report.position, 2);
    assert_eq!(
        state.report.report.ready().map(|r| r.summary.id),
        Some(report_id(2))
    );
}

#[test]
fn the_periodic_unsigned_refresh_does_not_start_a_second_reconnect_loop() {
    let mut state = with_patients(3, None);
    let (request, _) = only_call(&update(&mut state, chr('r')));
    let effects = respond(
        &mut state,
        request,
        Response::Patients(Err(ApiError::unreachable("req-1"))),
    );
    assert_eq!(effects.len(), 1, "one reconnect loop: {effects:?}");
    // The minute's refresh of the unsigned count, failing while the loop runs.
    let effects = update(&mut state, Action::Tick(60_000));
    let retries: Vec<Effect> = calls(&effects)
        .into_iter()
        .filter(|(_, c)| *c == Call::Unsigned)
        .flat_map(|(request, _)| {
            respond(
                &mut state,
                request,
                Response::Unsigned(Err(ApiError::unreachable("req-2"))),
            )
        })
        .collect();
    assert!(
        retries.is_empty(),
        "a second reconnect loop was started: {retries:?}"
    );
    // The loop itself carries on.
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    assert_eq!(call, Call::Unsigned);
    let effects = respond(
        &mut state,
        request,
        Response::Unsigned(Err(ApiError::unreachable("req-3"))),
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::Reconnect,
            ..
        }]
    ));
}

#[test]
fn paste_into_help_or_the_palette_goes_to_their_filter_not_the_notes_below() {
    let mut state = in_consultation();
    update(&mut state, key(KeyCode::F(1)));
    assert!(update(&mut state, Action::Paste("sign\n".into())).is_empty());
    match &state.overlay {
        Some(Overlay::Help { filter, .. }) => assert_eq!(filter.value, "sign"),
        other => panic!("expected help, got {other:?}"),
    }
    assert_eq!(state.consultation.notes.text(), "");
    assert_eq!(state.consultation.edits, 0);
}

// ---- the mouse (opt-in)

fn mouse(kind: crossterm::event::MouseEventKind, row: u16) -> Action {
    Action::Mouse(crossterm::event::MouseEvent {
        kind,
        column: 10,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn the_wheel_moves_the_selection_and_a_click_selects_then_opens_a_patient() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut state = with_patients(30, None);
    update(&mut state, mouse(MouseEventKind::ScrollDown, 10));
    update(&mut state, mouse(MouseEventKind::ScrollDown, 10));
    assert_eq!(state.patients.rows.selected, 2);
    update(&mut state, mouse(MouseEventKind::ScrollUp, 10));
    assert_eq!(state.patients.rows.selected, 1);

    // The first row is drawn on line 3: below the title, the border and the header.
    let effects = update(
        &mut state,
        mouse(MouseEventKind::Down(MouseButton::Left), 8),
    );
    assert_eq!(state.patients.rows.selected, 5);
    assert!(calls(&effects).is_empty());
    let effects = update(
        &mut state,
        mouse(MouseEventKind::Down(MouseButton::Left), 8),
    );
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(
        state.chart.patient_id,
        Some(state.patients.rows.items[5].id)
    );
    assert_eq!(calls(&effects).len(), 3);

    // A click above the rows or while locked does nothing.
    let mut state = with_patients(30, None);
    update(
        &mut state,
        mouse(MouseEventKind::Down(MouseButton::Left), 1),
    );
    assert_eq!(state.patients.rows.selected, 0);
    update(
        &mut state,
        Action::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)),
    );
    update(&mut state, mouse(MouseEventKind::ScrollDown, 10));
    assert_eq!(state.patients.rows.selected, 0);
}

#[test]
fn offline_a_click_on_the_lists_bottom_border_selects_nothing() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut state = with_patients(30, None);
    state.offline = Some("The server cannot be reached.".into());
    // 24 lines offline: title, banner, the table's border and header, 17 rows (lines 4 to 20),
    // its bottom border on line 21.
    update(
        &mut state,
        mouse(MouseEventKind::Down(MouseButton::Left), 21),
    );
    assert_eq!(state.patients.rows.selected, 0);
    update(
        &mut state,
        mouse(MouseEventKind::Down(MouseButton::Left), 20),
    );
    assert_eq!(state.patients.rows.selected, 16);
}

#[test]
fn signing_sends_the_version_on_screen_and_a_change_since_shows_what_changed_and_asks_again() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('S'));
    match &state.dialog {
        Some(Dialog::Sign(sign)) => {
            assert_eq!(sign.version, 3);
            assert_eq!(sign.patient.mrn, "MRN-00000");
        }
        other => panic!("expected the sign dialog, got {other:?}"),
    }
    update(&mut state, chr('y'));
    type_text(&mut state, "right");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Sign {
            id: report_id(0),
            version: 3,
            password: "right".into(),
            code: None,
        }
    );

    // A colleague saved version 4 in between: nothing is signed, the report is fetched again.
    let (request, call) = only_call(&respond(
        &mut state,
        request,
        Response::Signed(Err(error(
            ErrorKind::VersionConflict {
                current_version: Some(4),
            },
            "Someone saved this report since you opened it.",
        ))),
    ));
    assert_eq!(call, Call::Report(report_id(0)));
    assert!(matches!(
        state.dialog,
        Some(Dialog::Sign(SignDialog {
            reloading: true,
            ..
        }))
    ));
    assert_eq!(state.unsigned, None, "nothing was signed");
    assert!(state.toast.is_none(), "no 'Report signed'");

    let mut changed = report(0, ReportStatus::Completed);
    changed.version = 4;
    changed.content.assessment = Some("Worse since the weekend.".into());
    assert!(respond(&mut state, request, Response::Report(Ok(changed.clone()))).is_empty());
    assert_eq!(state.report.report, Load::Ready(changed));
    match &state.dialog {
        Some(Dialog::Sign(sign)) => {
            assert_eq!(sign.version, 4);
            assert!(!sign.confirmed, "asked again from the start");
            assert!(!sign.yes, "and the default is No again");
            let changed = sign.changed.as_ref().expect("what changed");
            assert_eq!(changed.from_version, 3);
            assert_eq!(
                changed.sections,
                vec![SectionChange {
                    title: "Assessment",
                    before: vec!["Stable.".into()],
                    after: vec!["Worse since the weekend.".into()],
                }]
            );
        }
        other => panic!("the sign dialog should ask again, got {other:?}"),
    }

    // Confirmed again, it signs version 4.
    update(&mut state, chr('y'));
    type_text(&mut state, "right");
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Sign {
            id: report_id(0),
            version: 4,
            password: "right".into(),
            code: None,
        }
    );
}

/// Ctrl-L locks whatever is open; keys then reach only the password, and unlocking brings back
/// exactly what was open.
fn locks_and_restores(mut state: State, what: &str) {
    let dialog = state.dialog.clone();
    let overlay = state.overlay.clone();
    let notes = state.consultation.notes.text();
    let searched = state.search.input.value.clone();
    assert!(
        dialog.is_some() || overlay.is_some(),
        "{what}: nothing is open"
    );
    assert!(update(&mut state, ctrl('l')).is_empty(), "{what}");
    assert!(state.lock.locked, "{what}: Ctrl-L did not lock");
    assert!(type_text(&mut state, "pass word").is_empty(), "{what}");
    assert_eq!(state.lock.reauth.password.value, "pass word", "{what}");
    assert_eq!(state.dialog, dialog, "{what}: a key reached the dialog");
    assert_eq!(state.overlay, overlay, "{what}: a key reached the overlay");
    assert_eq!(state.consultation.notes.text(), notes, "{what}");
    assert_eq!(state.search.input.value, searched, "{what}");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert!(matches!(call, Call::Unlock { .. }), "{what}: {call:?}");
    respond(&mut state, request, Response::Unlock(Ok(user())));
    assert!(!state.lock.locked, "{what}");
    assert_eq!(state.dialog, dialog, "{what}: not restored");
    assert_eq!(state.overlay, overlay, "{what}: not restored");
}

#[test]
fn ctrl_l_locks_from_every_dialog_and_overlay_and_restores_it() {
    let mut start = on_chart();
    update(&mut start, chr('c'));
    type_text(&mut start, "Poor sleep");
    locks_and_restores(start, "start consultation");

    let mut sign = on_report(ReportStatus::Completed);
    update(&mut sign, chr('S'));
    locks_and_restores(sign.clone(), "sign confirmation");
    update(&mut sign, chr('y'));
    type_text(&mut sign, "half");
    locks_and_restores(sign, "sign password");

    let mut edit = on_report(ReportStatus::Completed);
    update(&mut edit, chr('e'));
    type_text(&mut edit, " More.");
    locks_and_restores(edit, "report editor");

    let mut addendum = on_report(ReportStatus::Signed);
    update(&mut addendum, chr('a'));
    type_text(&mut addendum, "Called the patient");
    locks_and_restores(addendum, "addendum");

    let mut cancel = in_consultation();
    type_text(&mut cancel, "Notes so far");
    update(&mut cancel, ctrl('x'));
    type_text(&mut cancel, "Left early");
    locks_and_restores(cancel, "cancel consultation");

    for (open, what) in [('/', "search"), ('?', "help"), (':', "palette")] {
        let mut state = with_patients(3, None);
        update(&mut state, chr(open));
        type_text(&mut state, "ab");
        locks_and_restores(state, what);
    }
}

#[test]
fn ctrl_c_with_notes_the_server_has_not_confirmed_asks_first() {
    let mut state = in_consultation();
    state.offline = Some("The server does not answer.".into());
    type_text(&mut state, "Sleeps four hours");
    let effects = update(&mut state, ctrl('c'));
    assert!(!state.quit, "quit without asking");
    assert!(state.quit_asked);
    assert!(!effects.contains(&Effect::Quit));
    // The notes are sent at once; offline, the answer is an error and the question stays.
    let request = request_of(&effects, |c| matches!(c, Call::SaveNotes { .. }));
    respond(
        &mut state,
        request,
        Response::NotesSaved(Err(error(ErrorKind::Unreachable, "No answer."))),
    );
    assert!(state.quit_asked && !state.quit);
    // Any key but y goes back, notes intact; then y (or a second Ctrl-C) quits.
    assert!(update(&mut state, chr('n')).is_empty());
    assert!(!state.quit_asked && !state.quit);
    assert_eq!(state.consultation.notes.text(), "Sleeps four hours");
    update(&mut state, ctrl('c'));
    assert_eq!(update(&mut state, chr('y')), vec![Effect::Quit]);
    assert!(state.quit);

    let mut twice = in_consultation();
    twice.offline = Some("The server does not answer.".into());
    type_text(&mut twice, "Notes");
    update(&mut twice, ctrl('c'));
    assert_eq!(update(&mut twice, ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn quitting_with_unsaved_notes_online_saves_them_then_leaves() {
    let mut state = in_consultation();
    type_text(&mut state, "Sleeps four hours");
    let effects = update(&mut state, ctrl('c'));
    assert!(state.quit_asked && !state.quit);
    let (request, call) = only_call(&effects);
    assert!(
        matches!(&call, Call::SaveNotes { notes, .. } if notes == "Sleeps four hours"),
        "{call:?}"
    );
    let effects = respond(
        &mut state,
        request,
        Response::NotesSaved(Ok(consultation(ConsultationStatus::InProgress))),
    );
    assert!(effects.contains(&Effect::Quit), "{effects:?}");
    assert!(state.quit);
}

#[test]
fn quitting_from_the_draft_editor_or_the_addendum_with_text_asks_first() {
    let mut edit = on_report(ReportStatus::Completed);
    update(&mut edit, chr('e'));
    type_text(&mut edit, " Better.");
    assert!(update(&mut edit, ctrl('c')).is_empty());
    assert!(edit.quit_asked && !edit.quit);
    update(&mut edit, key(KeyCode::Esc));
    assert_eq!(edit_dialog(&edit).editor.text(), "Stable. Better.");

    let mut addendum = on_report(ReportStatus::Signed);
    update(&mut addendum, chr('a'));
    type_text(&mut addendum, "Phoned the GP");
    assert!(update(&mut addendum, ctrl('c')).is_empty());
    assert!(addendum.quit_asked);
    assert_eq!(update(&mut addendum, chr('y')), vec![Effect::Quit]);

    // Nothing typed: Ctrl-C quits at once.
    let mut idle = on_report(ReportStatus::Completed);
    update(&mut idle, chr('e'));
    assert_eq!(update(&mut idle, ctrl('c')), vec![Effect::Quit]);
}

// ---------------------------------------------------------------------------------------------
// Worklists and jumps: drafts awaiting signature, running consultations, recent patients, the
// palette's jumps, help and hints per screen, the chart's consultations pane

#[test]
fn u_opens_the_drafts_awaiting_signature_and_its_count_is_the_status_bars() {
    let mut state = with_patients(3, None);
    state.unsigned = Some(4);
    state.reports.within_days = Some(7);
    let (request, call) = only_call(&update(&mut state, chr('u')));
    assert_eq!(state.screen, Screen::Reports);
    assert!(state.reports.drafts);
    // Completed reports of every date and patient: what the status bar counts as unsigned.
    assert_eq!(
        call,
        Call::Reports(ReportListParams {
            status: Some(ReportStatus::Completed),
            limit: Some(REPORT_PAGE),
            ..ReportListParams::default()
        })
    );
    let drafts: Vec<ReportSummary> = (0..3)
        .map(|n| report_summary(n, ReportStatus::Completed))
        .collect();
    let effects = respond(
        &mut state,
        request,
        Response::Reports(Ok(report_page(drafts, None))),
    );
    assert_eq!(
        state.unsigned,
        Some(3),
        "the list's count wins over an older one"
    );
    assert!(
        calls(&effects)
            .iter()
            .any(|(_, c)| *c == Call::ReportPreview(report_id(0)))
    );
    // Enter opens the draft, n walks the worklist.
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Report(report_id(0)));
    assert_eq!(state.report.siblings.len(), 3);

    // A filter key turns the worklist back into the browser; 2 shows every report.
    let mut state = with_patients(3, None);
    update(&mut state, chr('u'));
    update(&mut state, chr('t'));
    assert!(!state.reports.drafts);
    update(&mut state, chr('u'));
    update(&mut state, chr('1'));
    update(&mut state, chr('2'));
    assert!(!state.reports.drafts);
    assert_eq!(state.reports.status, None);
}

#[test]
fn a_click_on_the_status_bars_unsigned_count_opens_the_drafts() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut state = with_patients(3, None);
    state.unsigned = Some(4);
    state.latency_ms = None;
    // " Dr Meredith Grey │ http://synapse.test │ online │ 4 unsigned "
    let before = format!(
        " {} │ {} │ online │ ",
        user().full_name,
        state.session.server
    );
    let column = before.chars().count() as u16;
    let click = |column| {
        Action::Mouse(crossterm::event::MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row: 23,
            modifiers: KeyModifiers::NONE,
        })
    };
    // The connection's word beside it does nothing.
    assert!(update(&mut state, click(column - 4)).is_empty());
    assert_eq!(state.screen, Screen::Patients);
    let (_, call) = only_call(&update(&mut state, click(column + 2)));
    assert_eq!(state.screen, Screen::Reports);
    assert!(state.reports.drafts);
    assert!(matches!(call, Call::Reports(p) if p.status == Some(ReportStatus::Completed)));
}

fn running(n: usize, minutes_ago: i64) -> crate::tui::screens::running::RunningConsultation {
    crate::tui::screens::running::RunningConsultation {
        consultation: Consultation {
            id: Uuid::from_u128(0x3100 + n as u128),
            patient_id: patient_id(n),
            started_at: at() - chrono::Duration::minutes(minutes_ago),
            ..consultation(ConsultationStatus::InProgress)
        },
        patient: Some(summary(n)),
    }
}

#[test]
fn the_running_consultations_are_listed_and_enter_resumes_one_under_its_chart() {
    let mut state = with_patients(3, None);
    // The login toast names the key that lists them.
    let active = ActiveConsultations {
        items: vec![running(1, 5).consultation, running(2, 90).consultation],
    };
    respond(&mut state, 0, Response::Active(Ok(active)));
    let toast = state.toast.clone().expect("a toast").text;
    assert!(
        toast.contains("2 consultations are still running: press C"),
        "{toast}"
    );

    let (request, call) = only_call(&update(&mut state, chr('C')));
    assert_eq!(call, Call::Running);
    assert_eq!(state.screen, Screen::Running);
    // An older answer is dropped; the list is newest first.
    respond(&mut state, request - 1, Response::Running(Ok(vec![])));
    assert_eq!(state.running.rows, Load::Loading);
    respond(
        &mut state,
        request,
        Response::Running(Ok(vec![running(2, 90), running(1, 5)])),
    );
    let rows = state.running.rows.ready().expect("rows").clone();
    assert_eq!(rows[0].consultation.patient_id, patient_id(1));
    update(&mut state, chr('j'));
    let effects = update(&mut state, key(KeyCode::Enter));
    let asked: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert!(asked.contains(&Call::Patient(patient_id(2))), "{asked:?}");
    assert!(asked.contains(&Call::Consultation(Uuid::from_u128(0x3102))));
    assert_eq!(state.chart.patient_id, Some(patient_id(2)));
    let consultation_request = request_of(&effects, |c| matches!(c, Call::Consultation(_)));
    respond(
        &mut state,
        consultation_request,
        Response::Consultation(Ok(running(2, 90).consultation)),
    );
    assert_eq!(state.screen, Screen::Consultation);
    // Esc goes back to the chart, then to the list.
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Chart);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Running);
}

#[test]
fn recent_patients_are_the_charts_opened_most_recent_first_once_each_and_bounded() {
    use crate::tui::screens::recent::RECENT_LIMIT;
    let mut state = logged_in();
    let open = |state: &mut State, n: usize| {
        for (request, call) in calls(&crate::tui::screens::chart::open(state, patient_id(n))) {
            if let Call::Patient(_) = call {
                respond(state, request, Response::Patient(Ok(patient(n))));
            }
        }
    };
    for n in [0, 1, 0, 2] {
        open(&mut state, n);
    }
    let ids: Vec<Uuid> = state.recent.items.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![patient_id(2), patient_id(0), patient_id(1)]);
    for n in 0..RECENT_LIMIT + 5 {
        open(&mut state, n);
    }
    assert_eq!(state.recent.items.len(), RECENT_LIMIT);
    assert_eq!(state.recent.items[0].id, patient_id(RECENT_LIMIT + 4));

    // H lists them; Enter opens the selected chart.
    assert!(update(&mut state, chr('H')).is_empty());
    assert_eq!(state.screen, Screen::Recent);
    update(&mut state, chr('j'));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.chart.patient_id, Some(patient_id(RECENT_LIMIT + 3)));
    assert_eq!(calls(&effects).len(), 3);
}

/// The palette's lines as the doctor reads them.
fn palette_lines(state: &State) -> Vec<String> {
    use crate::tui::components::palette::{Choice, choices};
    let Some(Overlay::Palette { input, .. }) = &state.overlay else {
        panic!("the palette is not open");
    };
    choices(state, &input.value)
        .into_iter()
        .map(|choice| match choice {
            Choice::Chart(mrn) => format!("chart {mrn}"),
            Choice::Find(term) => format!("find {term}"),
            Choice::Run(command) => command.name().to_string(),
        })
        .collect()
}

#[test]
fn the_palette_jumps_to_a_chart_by_mrn() {
    let mut state = with_patients(3, None);
    update(&mut state, chr(':'));
    type_text(&mut state, "mrn-00002");
    assert_eq!(palette_lines(&state), vec!["chart MRN-00002"]);
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Search("MRN-00002".into()));
    // The search finds it among others: the chart opens at once.
    let effects = respond(
        &mut state,
        request,
        Response::Search(Ok(SearchResults {
            items: vec![summary(20), summary(2)],
            count: 2,
        })),
    );
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.overlay, None);
    assert_eq!(state.chart.patient_id, Some(patient_id(2)));
    assert_eq!(calls(&effects).len(), 3);

    // No such MRN: the search overlay stays with what it found.
    let mut state = with_patients(3, None);
    update(&mut state, chr(':'));
    type_text(&mut state, "MRN-99999");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::Search(Ok(SearchResults {
            items: vec![],
            count: 0,
        })),
    );
    assert_eq!(state.overlay, Some(Overlay::Search));
    assert_eq!(state.screen, Screen::Patients);
}

#[test]
fn the_palette_finds_a_name_through_search_and_lists_only_commands_that_work_here() {
    let mut state = with_patients(3, None);
    update(&mut state, chr(':'));
    type_text(&mut state, "Number2");
    let lines = palette_lines(&state);
    assert_eq!(lines.last().map(String::as_str), Some("find Number2"));
    for _ in 0..lines.len() {
        update(&mut state, key(KeyCode::Down));
    }
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Search("Number2".into()));
    assert_eq!(state.overlay, Some(Overlay::Search));
    assert_eq!(state.search.input.value, "Number2");

    // On the patient list: no report commands, no going back from the first screen.
    let mut state = with_patients(3, None);
    update(&mut state, chr(':'));
    let here = palette_lines(&state);
    for absent in [
        "sign",
        "edit",
        "next_report",
        "stop_consultation",
        "back",
        "palette",
    ] {
        assert!(!here.iter().any(|l| l == absent), "{absent} in {here:?}");
    }
    for present in ["sort", "search", "drafts", "running", "recent", "quit"] {
        assert!(
            here.iter().any(|l| l == present),
            "{present} not in {here:?}"
        );
    }
    // On a draft the report's commands are there.
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr(':'));
    let here = palette_lines(&state);
    for present in ["sign", "edit", "next_report", "back"] {
        assert!(
            here.iter().any(|l| l == present),
            "{present} not in {here:?}"
        );
    }
    assert!(!here.iter().any(|l| l == "sort"));
}

/// Help's lines (keys, description) as drawn now.
fn help_here(state: &State) -> Vec<(String, &'static str)> {
    crate::tui::components::help::lines(state, "")
}

#[test]
fn help_lists_only_the_keys_that_work_on_the_screen() {
    let state = with_patients(3, None);
    let lines = help_here(&state);
    let descriptions: Vec<&str> = lines.iter().map(|(_, d)| *d).collect();
    assert!(descriptions.contains(&"Change the sort order"));
    assert!(descriptions.contains(&"Drafts awaiting signature"));
    assert!(!descriptions.contains(&"Sign the report"));
    assert!(!descriptions.contains(&"Go back"), "nothing to go back to");

    let state = on_report(ReportStatus::Completed);
    let descriptions: Vec<&str> = help_here(&state).iter().map(|(_, d)| *d).collect();
    assert!(descriptions.contains(&"Sign the report"));
    assert!(!descriptions.contains(&"Change the sort order"));

    // In the running notes editor letters are text: help shows F1, not ?, and Esc, not q.
    let state = in_consultation();
    let lines = help_here(&state);
    let keys_of = |description: &str| {
        lines
            .iter()
            .find(|(_, d)| *d == description)
            .map(|(k, _)| k.clone())
    };
    assert_eq!(keys_of("Show keys").as_deref(), Some("F1"));
    assert_eq!(keys_of("Go back").as_deref(), Some("Esc"));
    assert_eq!(
        keys_of("Search patients"),
        None,
        "/ is typed into the notes"
    );
    assert!(keys_of("Stop the consultation and generate its report").is_some());
}

#[test]
fn help_scrolls_with_j_k_and_page_down_at_80_by_24() {
    let mut state = on_chart();
    assert_eq!((state.width, state.height), (80, 24));
    let total = help_here(&state).len();
    update(&mut state, chr('?'));
    let scroll = |state: &State| match &state.overlay {
        Some(Overlay::Help { scroll, .. }) => *scroll,
        other => panic!("expected help, got {other:?}"),
    };
    update(&mut state, chr('j'));
    update(&mut state, chr('j'));
    assert_eq!(scroll(&state), 2);
    update(&mut state, chr('k'));
    assert_eq!(scroll(&state), 1);
    update(&mut state, key(KeyCode::PageDown));
    update(&mut state, key(KeyCode::PageDown));
    update(&mut state, key(KeyCode::PageDown));
    // At the end the last page is full. The box holds 24 lines less the title, hint and
    // status bars, its margin, its borders, and the filter with the blank line below it.
    let room = 24 - 3 - 2 - 2 - 2;
    assert!(
        total > room,
        "help must not fit for this test ({total} lines)"
    );
    assert_eq!(scroll(&state), total - room);
    // Typing a filter starts it from the top; j is then a letter of it.
    type_text(&mut state, "sj");
    match &state.overlay {
        Some(Overlay::Help { filter, scroll }) => {
            assert_eq!(filter.value, "sj");
            assert_eq!(*scroll, 0);
        }
        other => panic!("expected help, got {other:?}"),
    }
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.overlay, None);
}

#[test]
fn a_reports_hints_and_help_offer_only_what_its_status_allows() {
    use crate::tui::keymap::Command;
    use crate::tui::screens::works_here;
    use crate::tui::ui::common::hints;
    let words = |state: &State| hints(state).into_iter().map(|(_, w)| w).collect::<Vec<_>>();
    let draft = on_report(ReportStatus::Completed);
    assert!(words(&draft).contains(&"edit"), "{:?}", words(&draft));
    assert!(words(&draft).contains(&"sign"), "{:?}", words(&draft));
    assert!(
        !works_here(&draft, Command::Addendum),
        "an addendum needs a signed report"
    );
    let signed = on_report(ReportStatus::Signed);
    assert!(!words(&signed).contains(&"edit"), "{:?}", words(&signed));
    assert!(!words(&signed).contains(&"sign"), "{:?}", words(&signed));
    assert!(works_here(&signed, Command::Addendum));
    // A failed report is written by hand, then signed.
    let failed = on_report(ReportStatus::Failed);
    assert!(works_here(&failed, Command::Edit));
    assert!(!works_here(&failed, Command::Addendum));
}

#[test]
fn the_hint_bar_shows_the_keys_that_work_in_the_notes_editor_and_in_dialogs() {
    use crate::tui::ui::common::hints;
    let state = in_consultation();
    let bar = hints(&state);
    assert!(!bar.contains(&("q".to_string(), "back")), "{bar:?}");
    assert!(bar.contains(&("Esc".to_string(), "back")), "{bar:?}");
    assert!(bar.contains(&("Ctrl-S".to_string(), "stop")), "{bar:?}");

    // A text dialog: its own keys only.
    let mut state = in_consultation();
    update(&mut state, ctrl('x'));
    assert!(state.dialog.is_some());
    let bar = hints(&state);
    assert_eq!(
        bar,
        vec![
            ("Enter".to_string(), "confirm"),
            ("Esc".to_string(), "close")
        ]
    );
    // The draft editor: save, next section, close.
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('e'));
    let bar = hints(&state);
    assert_eq!(
        bar,
        vec![
            ("Ctrl-S".to_string(), "save"),
            ("Tab".to_string(), "next section"),
            ("Esc".to_string(), "close")
        ]
    );
}

/// Patient 0's chart with three past consultations (the newest still running).
fn chart_with_history() -> State {
    let mut state = on_chart();
    let past = |n: u128, status| Consultation {
        id: Uuid::from_u128(0x3200 + n),
        status,
        notes: None,
        ..consultation(status)
    };
    let items = vec![
        past(0, ConsultationStatus::InProgress),
        past(1, ConsultationStatus::Completed),
        past(2, ConsultationStatus::Cancelled),
    ];
    respond(
        &mut state,
        0,
        Response::History(Ok(ConsultationHistory {
            patient_id: patient_id(0),
            patient_name: "Patient Number0".into(),
            items,
            pagination: pagination(3, None),
        })),
    );
    state
}

#[test]
fn the_charts_consultations_pane_takes_tab_and_enter_opens_past_notes_read_only() {
    use crate::tui::screens::chart::ChartPane;
    let mut state = chart_with_history();
    assert_eq!(state.chart.pane, ChartPane::Reports);
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.chart.pane, ChartPane::Consultations);
    update(&mut state, chr('j'));
    assert_eq!(state.chart.selected_consultation, 1);
    assert_eq!(state.chart.selected_report, 0);
    let past = Uuid::from_u128(0x3201);
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::PastConsultation(past));
    assert_eq!(state.screen, Screen::PastNotes);
    let notes = Consultation {
        id: past,
        status: ConsultationStatus::Completed,
        notes: Some("History: low mood.\nPlan: review.".into()),
        ..consultation(ConsultationStatus::Completed)
    };
    respond(
        &mut state,
        request,
        Response::PastConsultation(Ok(notes.clone())),
    );
    assert_eq!(state.past_notes.consultation, Load::Ready(notes.clone()));
    // Keys do not edit: typing changes nothing, no call is made.
    assert!(type_text(&mut state, "xyz").is_empty());
    assert_eq!(state.past_notes.consultation, Load::Ready(notes));
    assert_eq!(state.dialog, None);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Chart);
    assert_eq!(state.chart.pane, ChartPane::Consultations);

    // The running one resumes rather than opening read-only.
    update(&mut state, chr('g'));
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::Consultation(Uuid::from_u128(0x3200)));
    // Reloading the chart keeps the pane and the row.
    update(&mut state, chr('j'));
    update(&mut state, chr('r'));
    assert_eq!(state.chart.pane, ChartPane::Consultations);
    assert_eq!(state.chart.selected_consultation, 1);
    // Tab back: Enter opens reports again.
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.chart.pane, ChartPane::Reports);
}

#[test]
fn x_exports_the_report_or_the_chart_into_the_export_folder_and_says_where() {
    use crate::tui::effect::ExportTarget;
    let mut state = on_report(ReportStatus::Signed);
    state.settings.documents_dir = std::path::PathBuf::from("/home/doc/Documents");
    let (request, call) = only_call(&update(&mut state, chr('x')));
    let shown = state.report.report.ready().map(|r| r.summary.id);
    assert_eq!(
        Some(call),
        shown.map(|id| Call::Export(
            ExportTarget::Report(id),
            std::path::PathBuf::from("/home/doc/Documents")
        ))
    );
    respond(
        &mut state,
        request,
        Response::Exported(Ok("/home/doc/Documents/MRN-1-report-2026-12-02.pdf".into())),
    );
    let toast = state
        .toast
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(toast.contains("MRN-1-report-2026-12-02.pdf"), "{toast}");

    let mut state = on_chart();
    let (request, call) = only_call(&update(&mut state, chr('x')));
    assert!(
        matches!(call, Call::Export(ExportTarget::Record(_), _)),
        "{call:?}"
    );
    respond(
        &mut state,
        request,
        Response::Exported(Err("Cannot write /nowhere: denied.".into())),
    );
    assert!(matches!(&state.toast, Some(t) if t.kind == ToastKind::Error));
}
