//! Workstation speed: rendering each main screen at 200×60 into an in-memory backend, and a
//! key that only changes local state followed by the next frame. Results go to
//! docs/PERFORMANCE.md; run with `cargo bench --bench tui_render`.

use chrono::{NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use synapse::model::auth::{Role, User};
use synapse::model::consultation::SessionType;
use synapse::model::patient::*;
use synapse::model::report::*;
use synapse::tui::action::Action;
use synapse::tui::state::{Load, Screen, SessionInfo, Settings, State};
use uuid::Uuid;

fn main() {
    divan::main();
}

fn summary(i: u32) -> PatientSummary {
    PatientSummary {
        id: Uuid::from_u128(u128::from(i) + 1),
        mrn: format!("MRN-{i:06}"),
        full_name: format!("Patient Number{i} Example"),
        date_of_birth: NaiveDate::from_ymd_opt(1950 + (i % 60) as i32, 1 + i % 12, 1 + i % 28)
            .unwrap(),
        age: 30 + i % 60,
        sex: if i.is_multiple_of(2) {
            Sex::Female
        } else {
            Sex::Male
        },
        phone: Some(format!("+44 7700 9{i:05}")),
        email: Some(format!("patient{i}@example.com")),
        last_visit_at: Some(Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()),
        active_consultation_id: None,
        doctor: DoctorSummary {
            id: Uuid::from_u128(0xd0c),
            full_name: "Dr. Maya Patel".into(),
        },
    }
}

fn report() -> Report {
    let s = summary(7);
    Report {
        summary: ReportSummary {
            id: Uuid::from_u128(99),
            status: ReportStatus::Completed,
            report_type: "consultation".into(),
            confidence: Some(0.85),
            created_at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(),
            updated_at: Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap(),
            signed_at: None,
            patient: ReportPatient {
                id: s.id,
                mrn: s.mrn,
                full_name: s.full_name,
                date_of_birth: s.date_of_birth,
                age: s.age,
                sex: s.sex,
            },
            consultation: ReportConsultation {
                id: Uuid::from_u128(98),
                session_code: "CS-20261125-0000ABCD".into(),
                session_type: SessionType::FollowUp,
                chief_complaint: Some("Low mood".into()),
                started_at: Utc.with_ymd_and_hms(2026, 11, 25, 8, 30, 0).unwrap(),
                duration_minutes: Some(30),
            },
        },
        version: 1,
        content: ReportContent {
            history: Some("Low mood for three weeks, poor sleep, reduced appetite. ".repeat(6)),
            mental_status: Some("Alert, oriented, reactive affect.".into()),
            assessment: Some("Moderate depressive episode.".into()),
            diagnoses: vec![Diagnosis {
                code: Some("F32.1".into()),
                description: "Moderate depressive episode".into(),
            }],
            medication_plan: vec![Medication {
                drug: "Sertraline".into(),
                dosage: Some("50 mg".into()),
                route: Some("oral".into()),
                frequency: Some("once daily".into()),
                duration: Some("4 weeks".into()),
                instructions: Some("with food".into()),
            }],
            recommendations: vec!["Sleep hygiene".into(), "Review in two weeks".into()],
            follow_up: Some("Two weeks".into()),
        },
        generator: Some("synapse-notes-v1".into()),
        signed_by: None,
        addenda: vec![],
        failure_reason: None,
    }
}

fn state(screen: Screen) -> State {
    let session = SessionInfo {
        user: Some(User {
            id: Uuid::from_u128(1),
            email: "doc@demo.com".into(),
            full_name: "Dr. Maya Patel".into(),
            role: Role::Doctor,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }),
        server: "http://127.0.0.1:8080".into(),
        token_store: "session kept in the kernel keyring".into(),
        remembered: true,
        expires_at: None,
        demo_accounts: vec![],
        second_factor: false,
    };
    let mut state = State::new(session, Settings::default());
    state.wall_now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    state.screen = screen;
    state.patients.rows.items = (0..200).map(summary).collect();
    state.patients.rows.total = 100_000;
    state.patients.rows.loaded_once = true;
    state.report.report = Load::Ready(report());
    state.reports.rows.items = (0..100).map(|_| report().summary).collect();
    state.reports.rows.loaded_once = true;
    state.reports.preview = Some(report());
    state
}

fn render(terminal: &mut Terminal<TestBackend>, state: &State) {
    terminal
        .draw(|frame| synapse::tui::ui::draw(frame, state))
        .expect("draw");
}

#[divan::bench(args = ["patients", "report", "reports"])]
fn render_200x60(bencher: divan::Bencher, screen: &str) {
    let screen = match screen {
        "patients" => Screen::Patients,
        "report" => Screen::Report,
        _ => Screen::Reports,
    };
    let state = state(screen);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    bencher.bench_local(|| render(&mut terminal, divan::black_box(&state)));
}

/// A key that only moves the selection, through `update`, then the frame it causes.
#[divan::bench]
fn key_to_frame(bencher: divan::Bencher) {
    let mut state = state(Screen::Patients);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    let down = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    let up = KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE);
    let mut flip = false;
    bencher.bench_local(|| {
        flip = !flip;
        let key = if flip { down } else { up };
        let effects = synapse::tui::update::update(&mut state, Action::Key(key));
        divan::black_box(effects);
        render(&mut terminal, &state);
    });
}
