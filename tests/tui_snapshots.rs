//! Snapshot tests of every workstation screen, rendered with ratatui's `TestBackend` through
//! `synapse::tui::ui::draw`. States are built directly with fixed clocks, UUIDs and dates, and
//! each buffer is snapshotted as plain text (one line per row, trailing blanks trimmed) so the
//! screens can be read in review. Most screens are drawn at 80×24 and 120×40, with and without
//! the privacy mask; a few plain assertions cover what must hold regardless of layout (masked
//! names never appear, the banner names the patient and the allergy state, the lock screen shows
//! no patient at all, search matches are highlighted, mono uses no colour).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::style::{Color, Modifier};
use uuid::Uuid;

use synapse::model::auth::{Role, User};
use synapse::model::consultation::{Consultation, ConsultationStatus, SessionType};
use synapse::model::envelope::FieldError;
use synapse::model::patient::{
    Allergies, Allergy, AllergyStatus, DoctorSummary, Patient, PatientSort, PatientSummary, Sex,
    Symptom, TimeSpan, TimeUnit,
};
use synapse::model::report::{
    Addendum, DailyCount, Diagnosis, Medication, PersonRef, Report, ReportConsultation,
    ReportContent, ReportPatient, ReportStats, ReportStatus, ReportSummary, StatusCounts,
};
use synapse::tui::components::dialogs::patient_form::{FormStep, Slot};
use synapse::tui::components::dialogs::{
    AddendumDialog, AddendumStep, Changed, EditDialog, PatientForm, SignDialog, changes,
};
use synapse::tui::components::reauth::Reauth;
use synapse::tui::input::{Field, Notes};
use synapse::tui::state::{
    Dialog, EnrolStep, Load, Overlay, Screen, Section, SessionInfo, Settings, State, Toast,
    ToastKind,
};
use synapse::tui::theme::{Theme, ThemeKind};
use synapse::tui::ui;

// ---------------------------------------------------------------------------------------------
// Rendering helpers

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn render(state: &State, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|frame| ui::draw(frame, state)).expect("draw");
    terminal.backend().buffer().clone()
}

/// The buffer as text: each row's cell symbols joined (cells hidden behind a wide symbol are
/// skipped), trailing blanks trimmed.
fn buffer_to_string(buffer: &Buffer) -> String {
    let width = buffer.area.width as usize;
    let mut out = String::new();
    for row in buffer.content.chunks(width) {
        let mut line = String::new();
        let mut skip = 0u16;
        for cell in row {
            if skip == 0 {
                line.push_str(cell.symbol());
            }
            skip = skip.max(cell.cell_width()).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn assert_shows(rendered: &str, needle: &str) {
    assert!(
        rendered.contains(needle),
        "{needle:?} is not on the screen:\n{rendered}"
    );
}

/// Where `needle` starts in the buffer (column, row), comparing cell by cell.
fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    find_below(buffer, needle, 0)
}

/// Like `find`, from row `from` down.
fn find_below(buffer: &Buffer, needle: &str, from: u16) -> Option<(u16, u16)> {
    let area = buffer.area;
    for y in from..area.height {
        let cells: Vec<&str> = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        for x in 0..cells.len() {
            if cells[x..].concat().starts_with(needle) {
                return Some((x as u16, y));
            }
        }
    }
    None
}

fn text(state: &State, width: u16, height: u16) -> String {
    buffer_to_string(&render(state, width, height))
}

/// Every patient name, phone and email anywhere in the state — none may show when masked.
fn private_values(state: &State) -> Vec<String> {
    let mut values = Vec::new();
    let mut summary = |p: &PatientSummary| {
        values.push(p.full_name.clone());
        values.extend(p.phone.clone());
        values.extend(p.email.clone());
        values.push(p.date_of_birth.to_string());
    };
    state.patients.rows.items.iter().for_each(&mut summary);
    state.search.results.iter().for_each(&mut summary);
    if let Some(p) = state.chart.patient.ready() {
        summary(&p.summary);
        values.extend(p.address.clone());
    }
    let mut report_names = Vec::new();
    report_names.extend(
        state
            .reports
            .rows
            .items
            .iter()
            .map(|r| r.patient.full_name.clone()),
    );
    if let Some(items) = state.chart.reports.ready() {
        report_names.extend(items.iter().map(|r| r.patient.full_name.clone()));
    }
    if let Some(r) = &state.reports.preview {
        report_names.push(r.summary.patient.full_name.clone());
    }
    if let Some(r) = state.report.report.ready() {
        report_names.push(r.summary.patient.full_name.clone());
    }
    values.extend(report_names);
    if let Some(rows) = state.running.rows.ready() {
        for row in rows {
            values.extend(row.patient.as_ref().map(|p| p.full_name.clone()));
        }
    }
    for recent in &state.recent.items {
        values.push(recent.full_name.clone());
        values.push(recent.date_of_birth.to_string());
    }
    values.sort();
    values.dedup();
    values
}

fn assert_masked(rendered: &str, state: &State, what: &str) {
    for value in private_values(state) {
        assert!(
            !rendered.contains(&value),
            "{what}: {value:?} shows despite the privacy mask:\n{rendered}"
        );
    }
}

/// Snapshots `state` at both sizes, unmasked and masked; the masked renders are checked for
/// every private value in the state.
fn snap_all(name: &str, state: &State) {
    for masked in [false, true] {
        let mut state = state.clone();
        state.privacy = masked;
        for (w, h) in SIZES {
            let rendered = text(&state, w, h);
            let suffix = if masked { "-masked" } else { "" };
            let snapshot = format!("{name}-{w}x{h}{suffix}");
            if masked {
                assert!(rendered.contains("PRIVACY"), "{snapshot}: no privacy chip");
                assert_masked(&rendered, &state, &snapshot);
            }
            insta::assert_snapshot!(snapshot, rendered);
        }
    }
}

/// Snapshots `state` at both sizes, as it is (states with no patient data to mask).
fn snap_sizes(name: &str, state: &State) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}-{w}x{h}"), text(state, w, h));
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: fixed ids, dates and people

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0195_8a3c_0000_7000_8000_0000_0000_0000 + n)
}

fn at(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, hh, mm, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// "Now" in every render: Thursday 12 March 2026, 10:30 UTC.
fn now() -> DateTime<Utc> {
    at(2026, 3, 12, 10, 30)
}

fn doctor() -> User {
    User {
        id: id(1),
        email: "doc@demo.com".into(),
        full_name: "Dr. Maya Patel".into(),
        role: Role::Doctor,
        created_at: at(2025, 1, 6, 9, 0),
    }
}

fn session() -> SessionInfo {
    SessionInfo {
        user: Some(doctor()),
        server: "https://synapse.clinic.example".into(),
        token_store: "keyring".into(),
        remembered: true,
        // The expiry is drawn in local time; left out so snapshots do not depend on the TZ.
        expires_at: None,
        demo_accounts: Vec::new(),
        second_factor: false,
    }
}

/// A logged-in doctor on the patient list, nothing loaded yet.
fn base() -> State {
    let mut state = State::new(session(), Settings::default());
    state.wall_now = now();
    state.now_ms = 1_000_000;
    state.last_activity_ms = 1_000_000;
    state.screen = Screen::Patients;
    state.unsigned = Some(3);
    state.latency_ms = Some(42);
    state
}

#[allow(clippy::too_many_arguments)]
fn summary(
    n: u128,
    mrn: &str,
    name: &str,
    born: NaiveDate,
    age: u32,
    sex: Sex,
    phone: Option<&str>,
    email: Option<&str>,
    last_visit: Option<DateTime<Utc>>,
) -> PatientSummary {
    PatientSummary {
        id: id(n),
        mrn: mrn.into(),
        full_name: name.into(),
        date_of_birth: born,
        age,
        sex,
        phone: phone.map(Into::into),
        email: email.map(Into::into),
        last_visit_at: last_visit,
        active_consultation_id: None,
        doctor: DoctorSummary {
            id: doctor().id,
            full_name: doctor().full_name,
        },
    }
}

fn amelia() -> PatientSummary {
    summary(
        100,
        "MRN-000123",
        "Amelia Hartley",
        date(1984, 2, 9),
        42,
        Sex::Female,
        Some("+44 20 7946 0018"),
        Some("amelia.hartley@example.com"),
        Some(at(2026, 3, 12, 8, 10)),
    )
}

fn jonas() -> PatientSummary {
    summary(
        101,
        "MRN-000087",
        "Jonas Whitfield",
        date(1957, 11, 23),
        68,
        Sex::Male,
        Some("+44 161 496 0734"),
        None,
        Some(at(2026, 3, 11, 15, 45)),
    )
}

fn priya() -> PatientSummary {
    summary(
        102,
        "MRN-000241",
        "Priya Raman",
        date(1999, 6, 30),
        26,
        Sex::Female,
        None,
        Some("priya.r@example.org"),
        Some(at(2026, 2, 18, 11, 0)),
    )
}

fn tomas() -> PatientSummary {
    summary(
        103,
        "MRN-000302",
        "Tomás Lindqvist",
        date(1972, 4, 5),
        53,
        Sex::Male,
        Some("+46 8 123 456 78"),
        None,
        None,
    )
}

fn grace() -> PatientSummary {
    summary(
        104,
        "MRN-000015",
        "Grace O'Neill",
        date(2008, 12, 1),
        17,
        Sex::Other,
        Some("+1 555 0142"),
        None,
        Some(at(2025, 12, 2, 9, 30)),
    )
}

/// A namesake of Amelia Hartley, for the search overlay.
fn amelia_hart() -> PatientSummary {
    summary(
        105,
        "MRN-000412",
        "Amelia Hart",
        date(1990, 7, 14),
        35,
        Sex::Female,
        Some("+44 20 7946 0977"),
        None,
        Some(at(2026, 1, 20, 14, 0)),
    )
}

fn patient(summary: PatientSummary) -> Patient {
    Patient {
        summary,
        address: None,
        referred_by: None,
        illness_duration: None,
        allergies: Allergies::default(),
        alerts: Vec::new(),
        symptoms: Vec::new(),
        consultation_count: 0,
        created_at: at(2025, 6, 2, 9, 0),
        updated_at: at(2026, 3, 12, 8, 10),
    }
}

/// Amelia Hartley's chart: known allergies, alerts, symptoms.
fn amelia_chart() -> Patient {
    Patient {
        address: Some("14 Elm Row, Edinburgh EH7 4AA".into()),
        referred_by: Some("Dr. R. Nair (GP)".into()),
        illness_duration: Some(TimeSpan {
            value: 3,
            unit: TimeUnit::Months,
        }),
        allergies: Allergies {
            status: AllergyStatus::Known,
            items: vec![
                Allergy {
                    substance: "Penicillin".into(),
                    reaction: Some("rash".into()),
                    severity: Some("moderate".into()),
                },
                Allergy {
                    substance: "Latex".into(),
                    reaction: None,
                    severity: None,
                },
            ],
        },
        alerts: vec!["Lives alone".into(), "Fall risk".into()],
        symptoms: vec![
            Symptom {
                name: "Low mood".into(),
                severity: Some("moderate".into()),
                frequency: Some("daily".into()),
                duration: None,
                notes: None,
            },
            Symptom {
                name: "Insomnia".into(),
                severity: Some("severe".into()),
                frequency: None,
                duration: None,
                notes: None,
            },
        ],
        consultation_count: 2,
        ..patient(amelia())
    }
}

fn consultation(
    n: u128,
    patient_id: Uuid,
    kind: SessionType,
    status: ConsultationStatus,
    complaint: &str,
    started: DateTime<Utc>,
) -> Consultation {
    Consultation {
        id: id(n),
        session_code: format!("CS-{}-4F2A9C{:02X}", started.format("%Y%m%d"), n as u8),
        patient_id,
        doctor_id: id(1),
        session_type: kind,
        status,
        chief_complaint: Some(complaint.into()),
        notes: None,
        started_at: started,
        ended_at: None,
        duration_minutes: None,
        report_id: None,
        report_status: None,
    }
}

fn amelia_history() -> Vec<Consultation> {
    let done = |n, kind, complaint, started: DateTime<Utc>, minutes| Consultation {
        ended_at: Some(started + chrono::Duration::minutes(minutes as i64)),
        duration_minutes: Some(minutes),
        report_id: Some(id(n + 100)),
        report_status: Some(ReportStatus::Signed),
        ..consultation(
            n,
            id(100),
            kind,
            ConsultationStatus::Completed,
            complaint,
            started,
        )
    };
    vec![
        done(
            201,
            SessionType::FollowUp,
            "Sleep worse since January",
            at(2026, 3, 12, 8, 10),
            35,
        ),
        done(
            200,
            SessionType::NewPatient,
            "Low mood, poor sleep",
            at(2026, 1, 15, 9, 0),
            50,
        ),
    ]
}

fn report_summary(
    n: u128,
    who: &PatientSummary,
    status: ReportStatus,
    kind: SessionType,
    complaint: &str,
    created: DateTime<Utc>,
) -> ReportSummary {
    ReportSummary {
        id: id(n),
        status,
        report_type: "psychiatric_assessment".into(),
        confidence: Some(0.87),
        created_at: created,
        updated_at: created,
        signed_at: (status == ReportStatus::Signed)
            .then(|| created + chrono::Duration::minutes(40)),
        patient: ReportPatient {
            id: who.id,
            mrn: who.mrn.clone(),
            full_name: who.full_name.clone(),
            date_of_birth: who.date_of_birth,
            age: who.age,
            sex: who.sex,
        },
        consultation: ReportConsultation {
            id: id(n + 1000),
            session_code: format!("CS-{}-9B1E07{:02X}", created.format("%Y%m%d"), n as u8),
            session_type: kind,
            chief_complaint: Some(complaint.into()),
            started_at: created - chrono::Duration::minutes(40),
            duration_minutes: Some(35),
        },
    }
}

fn amelia_reports() -> Vec<ReportSummary> {
    vec![
        report_summary(
            301,
            &amelia(),
            ReportStatus::Completed,
            SessionType::FollowUp,
            "Sleep worse since January",
            at(2026, 3, 12, 8, 50),
        ),
        report_summary(
            300,
            &amelia(),
            ReportStatus::Signed,
            SessionType::NewPatient,
            "Low mood, poor sleep",
            at(2026, 1, 15, 9, 55),
        ),
    ]
}

fn all_reports() -> Vec<ReportSummary> {
    vec![
        amelia_reports()[0].clone(),
        report_summary(
            310,
            &jonas(),
            ReportStatus::Generating,
            SessionType::Consultation,
            "Memory complaints",
            at(2026, 3, 11, 16, 20),
        ),
        report_summary(
            311,
            &priya(),
            ReportStatus::Failed,
            SessionType::Emergency,
            "Panic attacks",
            at(2026, 2, 18, 11, 40),
        ),
        amelia_reports()[1].clone(),
        report_summary(
            312,
            &grace(),
            ReportStatus::Signed,
            SessionType::NewPatient,
            "School refusal",
            at(2025, 12, 2, 10, 15),
        ),
    ]
}

fn content() -> ReportContent {
    ReportContent {
        history: Some(
            "Three months of low mood and early waking after a bereavement in December. \
             Sleep has worsened since January; appetite reduced.\nNo previous psychiatric history."
                .into(),
        ),
        mental_status: Some(
            "Alert, oriented. Subdued affect, reactive. No psychotic features. \
             Passive thoughts of death, no plans or intent."
                .into(),
        ),
        assessment: Some("Moderate depressive episode with insomnia.".into()),
        diagnoses: vec![
            Diagnosis {
                code: Some("F32.1".into()),
                description: "Moderate depressive episode".into(),
            },
            Diagnosis {
                code: Some("G47.0".into()),
                description: "Insomnia".into(),
            },
        ],
        medication_plan: vec![Medication {
            drug: "Sertraline".into(),
            dosage: Some("50 mg".into()),
            route: None,
            frequency: Some("once daily".into()),
            duration: Some("6 weeks".into()),
            instructions: Some("take in the morning".into()),
        }],
        recommendations: vec![
            "Sleep hygiene leaflet given".into(),
            "Refer for CBT-I".into(),
        ],
        follow_up: Some("Review in 4 weeks, sooner if mood worsens.".into()),
    }
}

fn completed_report() -> Report {
    Report {
        summary: amelia_reports()[0].clone(),
        version: 2,
        content: content(),
        generator: Some("template-v1".into()),
        signed_by: None,
        addenda: Vec::new(),
        failure_reason: None,
    }
}

fn signed_report() -> Report {
    Report {
        summary: amelia_reports()[1].clone(),
        version: 3,
        content: content(),
        generator: Some("template-v1".into()),
        signed_by: Some(PersonRef {
            id: id(1),
            full_name: "Dr. Maya Patel".into(),
        }),
        addenda: vec![Addendum {
            id: id(400),
            text: "Patient phoned: started sertraline on 16 Jan, mild nausea only.\nNo thoughts of self-harm."
                .into(),
            author: PersonRef {
                id: id(1),
                full_name: "Dr. Maya Patel".into(),
            },
            created_at: at(2026, 1, 20, 14, 5),
        }],
        failure_reason: None,
    }
}

fn failed_report() -> Report {
    Report {
        summary: all_reports()[2].clone(),
        version: 1,
        content: ReportContent::default(),
        generator: None,
        signed_by: None,
        addenda: Vec::new(),
        failure_reason: Some("the notes were empty; nothing to summarise".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// States

fn patients_loaded() -> State {
    let mut state = base();
    state.patients.rows.items = vec![amelia(), jonas(), priya(), tomas(), grace()];
    state.patients.rows.total = 5;
    state.patients.rows.loaded_once = true;
    state.patients.rows.selected = 1;
    state
}

fn chart_state(patient: Patient) -> State {
    let mut state = patients_loaded();
    state.history = vec![Screen::Patients];
    state.screen = Screen::Chart;
    state.chart.patient_id = Some(patient.summary.id);
    state.chart.patient = Load::Ready(patient);
    state
}

fn amelia_chart_state() -> State {
    let mut state = chart_state(amelia_chart());
    state.chart.history = Load::Ready(amelia_history());
    state.chart.reports = Load::Ready(amelia_reports());
    state
}

fn report_state(report: Report) -> State {
    let mut state = amelia_chart_state();
    state.history = vec![Screen::Patients, Screen::Chart];
    state.screen = Screen::Report;
    state.report.siblings = amelia_reports().iter().map(|r| r.id).collect();
    state.report.position = amelia_reports()
        .iter()
        .position(|r| r.id == report.summary.id)
        .unwrap_or(0);
    state.report.report = Load::Ready(report);
    // Opened from the chart, the banner has the chart's patient at once.
    state.report.patient = Some(amelia_chart());
    state
}

fn reports_state() -> State {
    let mut state = patients_loaded();
    state.screen = Screen::Reports;
    state.history = vec![Screen::Patients];
    state.reports.rows.items = all_reports();
    state.reports.rows.total = 5;
    state.reports.rows.loaded_once = true;
    state.reports.rows.selected = 0;
    state.reports.preview = Some(completed_report());
    state
}

fn running_consultation() -> Consultation {
    consultation(
        210,
        id(100),
        SessionType::FollowUp,
        ConsultationStatus::InProgress,
        "Sleep worse since January",
        at(2026, 3, 12, 10, 5) + chrono::Duration::seconds(30),
    )
}

fn consultation_state() -> State {
    let mut state = amelia_chart_state();
    state.history = vec![Screen::Patients, Screen::Chart];
    state.screen = Screen::Consultation;
    let notes = "History: waking at 4am most nights, mood lower in the mornings.\n\
                 Assessment: moderate depressive episode, insomnia.\n\
                 Plan: start sertraline 50 mg, CBT-I referral.\n\
                 Medications: none currently";
    state.consultation.consultation = Some(running_consultation());
    state.consultation.notes = Notes::from_text(notes);
    state.consultation.edits = 7;
    state.consultation.saved_edits = 7;
    state.consultation.started_ms = 1_000_000;
    state
}

fn stopped_state(report_status: ReportStatus) -> State {
    let mut state = consultation_state();
    let c = state.consultation.consultation.as_mut().unwrap();
    c.status = ConsultationStatus::Completed;
    c.ended_at = Some(at(2026, 3, 12, 10, 29));
    c.duration_minutes = Some(24);
    c.report_id = Some(id(320));
    c.report_status = Some(report_status);
    state.consultation.report_status = Some(report_status);
    state
}

fn stats() -> ReportStats {
    ReportStats {
        total: 128,
        by_status: StatusCounts {
            pending: 2,
            generating: 1,
            completed: 9,
            signed: 112,
            failed: 4,
        },
        recent_7d: 14,
        unsigned: 11,
        average_confidence: Some(0.842),
        daily: (0..14)
            .map(|i| DailyCount {
                date: date(2026, 2, 27) + chrono::Duration::days(i),
                count: [1, 3, 0, 2, 4, 1, 0, 0, 2, 5, 3, 1, 2, 2][i as usize],
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Login

#[test]
fn login_plain() {
    let mut state = base();
    state.screen = Screen::Login;
    state.session.user = None;
    state.unsigned = None;
    state.latency_ms = None;
    state.login.email = Field::with("doc@demo.com");
    snap_sizes("login-plain", &state);
}

#[test]
fn login_with_error() {
    let mut state = base();
    state.screen = Screen::Login;
    state.session.user = None;
    state.unsigned = None;
    state.login.email = Field::with("doc@demo.com");
    state.login.password = Field::with("wrong-pass");
    state.login.focus = synapse::tui::state::LoginFocus::Password;
    state.login.error = Some("Wrong email or password.".into());
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "Wrong email or password.");
    assert!(
        !rendered.contains("wrong-pass"),
        "the password is drawn in clear"
    );
    assert!(rendered.contains("••••••••••"), "password not masked");
    snap_sizes("login-error", &state);
}

#[test]
fn login_busy() {
    let mut state = base();
    state.screen = Screen::Login;
    state.session.user = None;
    state.login.email = Field::with("doc@demo.com");
    state.login.password = Field::with("password123");
    state.login.busy = true;
    snap_sizes("login-busy", &state);
}

#[test]
fn login_with_demo_accounts() {
    let mut state = base();
    state.screen = Screen::Login;
    state.session.user = None;
    state.session.server = "http://127.0.0.1:40151".into();
    state.session.token_store = "file".into();
    state.session.demo_accounts = vec![
        "doc@demo.com (doctor)".into(),
        "doc2@demo.com (doctor)".into(),
        "adm@demo.com (admin)".into(),
        "rec@demo.com (receptionist)".into(),
    ];
    let rendered = text(&state, 80, 24);
    for account in &state.session.demo_accounts {
        assert_shows(&rendered, account);
    }
    snap_sizes("login-demo", &state);
}

// ---------------------------------------------------------------------------------------------
// Patients

#[test]
fn patients_loaded_list() {
    let state = patients_loaded();
    let rendered = text(&state, 120, 40);
    assert_shows(&rendered, "Amelia Hartley");
    assert_shows(&rendered, "today");
    assert_shows(&rendered, "yesterday");
    assert_shows(&rendered, "2026-02-18 (22 d)");
    // At 80 columns nothing in a row is cut: age, last visit, the status bar's counts.
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "1984-02-09 (42)");
    assert_shows(&rendered, "2025-12-02 (100 d)");
    assert_shows(rendered.lines().last().unwrap(), "3 unsigned");
    snap_all("patients-loaded", &state);
}

#[test]
fn the_status_bar_says_why_the_session_is_not_kept() {
    let mut state = patients_loaded();
    state.session.remembered = false;
    state.session.token_store = "session not kept: keyring access denied".into();
    for (width, height) in [(80, 24), (120, 40)] {
        let rendered = text(&state, width, height);
        let bar = rendered.lines().last().unwrap();
        assert_shows(bar, "session not kept: keyring access denied");
        assert_shows(bar, "3 unsigned");
    }
}

#[test]
fn patients_loading() {
    let mut state = base();
    state.patients.rows.loading = true;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "Loading patients…");
    snap_sizes("patients-loading", &state);
}

#[test]
fn patients_loading_more() {
    let mut state = patients_loaded();
    state.patients.rows.total = 230;
    state.patients.rows.next_cursor = Some("cursor-2".into());
    state.patients.rows.loading = true;
    snap_sizes("patients-loading-more", &state);
}

#[test]
fn patients_walking_to_the_last_row() {
    let mut state = patients_loaded();
    state.patients.rows.total = 2300;
    state.patients.rows.next_cursor = Some("cursor-12".into());
    state.patients.rows.loading = true;
    state.patients.rows.jump_until = Some(20_000);
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "5 of 2300");
    assert_shows(&rendered, "to end… Esc stops");
    snap_sizes("patients-walking", &state);
}

#[test]
fn patients_empty() {
    let mut state = base();
    state.patients.rows.loaded_once = true;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "No patients yet.");
    snap_sizes("patients-empty", &state);
}

#[test]
fn patients_error() {
    let mut state = base();
    state.patients.rows.loaded_once = true;
    state.patients.rows.error =
        Some("The server answered 500: internal error (req 7f3a9c).".into());
    snap_sizes("patients-error", &state);
}

// ---------------------------------------------------------------------------------------------
// Search overlay

fn search_state(term: &str) -> State {
    let mut state = patients_loaded();
    state.overlay = Some(Overlay::Search);
    state.search.input = Field::with(term);
    state.search.searched = Some(term.into());
    state.search.edits = 3;
    state.search.request = 4;
    state
}

#[test]
fn search_results_highlight_matches() {
    let mut state = search_state("amel hart");
    state.search.results = vec![amelia(), amelia_hart()];
    state.search.selected = 1;
    // The matched parts of the names are highlighted (underlined in every theme).
    let buffer = render(&state, 120, 40);
    let rendered = buffer_to_string(&buffer);
    // The first row below the overlay's title (the list behind shows the name too).
    let (_, top) = find(&buffer, "Find a patient").expect("search overlay");
    let (column, row) = find_below(&buffer, "Amelia Hartley", top).expect("result row");
    let cell = |dx: u16| &buffer[(column + dx, row)];
    assert!(
        cell(0).modifier.contains(Modifier::UNDERLINED),
        "'A' of amel"
    );
    assert!(
        cell(3).modifier.contains(Modifier::UNDERLINED),
        "'l' of amel"
    );
    assert!(
        !cell(4).modifier.contains(Modifier::UNDERLINED),
        "'i' is no match"
    );
    assert!(
        cell(7).modifier.contains(Modifier::UNDERLINED),
        "'H' of hart"
    );
    assert!(
        !cell(11).modifier.contains(Modifier::UNDERLINED),
        "'l' of ley"
    );
    // Enough to tell the namesakes apart: date of birth, MRN and the phone's last digits.
    assert_shows(&rendered, "1990-07-14");
    assert_shows(&rendered, "MRN-000412");
    assert_shows(&rendered, "…0977");
    snap_all("search-results", &state);
}

#[test]
fn search_no_matches() {
    let state = search_state("zebedee");
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "No patient matches.");
    snap_sizes("search-no-matches", &state);
}

#[test]
fn search_no_matches_for_a_short_term_says_three_letters_search_inside() {
    let state = search_state("zz");
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "three letters also search inside names.");
    snap_sizes("search-no-matches-short-term", &state);
}

#[test]
fn search_searching() {
    let mut state = search_state("whit");
    state.search.searched = None;
    state.search.loading = true;
    snap_sizes("search-searching", &state);
}

#[test]
fn search_empty_prompt() {
    let mut state = search_state("");
    state.search.searched = None;
    snap_sizes("search-prompt", &state);
}

#[test]
fn search_error() {
    let mut state = search_state("amel");
    state.search.error = Some("Search failed: the server did not answer in time.".into());
    snap_sizes("search-error", &state);
}

// ---------------------------------------------------------------------------------------------
// Chart

fn assert_banner(rendered: &str, p: &Patient, allergy: &str) {
    assert!(rendered.contains(&p.summary.full_name), "name missing");
    assert!(
        rendered.contains(&p.summary.date_of_birth.to_string()),
        "DOB missing"
    );
    assert!(
        rendered.contains(&format!("({} y)", p.summary.age)),
        "age missing"
    );
    assert!(rendered.contains(&p.summary.mrn), "MRN missing");
    assert!(rendered.contains(allergy), "allergy state missing");
}

#[test]
fn chart_allergies_known_with_alerts() {
    let state = amelia_chart_state();
    for (w, h) in SIZES {
        let rendered = text(&state, w, h);
        assert_banner(
            &rendered,
            state.patient().unwrap(),
            "ALLERGY Penicillin (rash, moderate)",
        );
        assert_shows(&rendered, "ALLERGY Latex");
        assert_shows(&rendered, "ALERTS: Lives alone; Fall risk");
    }
    // Masked, the banner still says the allergies (safety first), but not who.
    let mut masked = state.clone();
    masked.privacy = true;
    let rendered = text(&masked, 80, 24);
    assert_shows(&rendered, "A. H.");
    assert_shows(&rendered, "ALLERGY Penicillin (rash, moderate)");
    snap_all("chart-allergies-known", &state);
}

#[test]
fn chart_no_known_allergies() {
    let mut p = patient(jonas());
    p.allergies = Allergies {
        status: AllergyStatus::NoneKnown,
        items: Vec::new(),
    };
    p.alerts = vec!["Hard of hearing — speak clearly".into()];
    p.symptoms = vec![Symptom {
        name: "Forgetfulness".into(),
        severity: None,
        frequency: Some("weekly".into()),
        duration: None,
        notes: None,
    }];
    let mut state = chart_state(p);
    state.chart.history = Load::Ready(vec![consultation(
        220,
        id(101),
        SessionType::Consultation,
        ConsultationStatus::Completed,
        "Memory complaints",
        at(2026, 3, 11, 15, 45),
    )]);
    state.chart.reports = Load::Ready(vec![all_reports()[1].clone()]);
    let rendered = text(&state, 80, 24);
    assert_banner(&rendered, state.patient().unwrap(), "No known allergies");
    snap_all("chart-allergies-none", &state);
}

#[test]
fn chart_allergies_not_recorded() {
    let mut state = chart_state(patient(priya()));
    state.chart.history = Load::Ready(Vec::new());
    state.chart.reports = Load::Ready(Vec::new());
    let rendered = text(&state, 80, 24);
    assert_banner(
        &rendered,
        state.patient().unwrap(),
        "Allergies not recorded",
    );
    assert_shows(&rendered, "No reports for this patient.");
    snap_all("chart-allergies-not-recorded", &state);
}

#[test]
fn chart_with_running_consultation() {
    let mut p = amelia_chart();
    p.summary.active_consultation_id = Some(id(210));
    let mut state = chart_state(p);
    state.chart.history = Load::Loading;
    state.chart.reports = Load::Loading;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "consultation running");
    snap_sizes("chart-running-sections-loading", &state);
}

#[test]
fn chart_banner_never_cuts_safety_facts() {
    let mut p = amelia_chart();
    p.summary.active_consultation_id = Some(id(210));
    p.allergies.items = [
        "Penicillin",
        "Latex",
        "Sulfonamides",
        "Carbamazepine",
        "Peanuts",
        "Iodinated contrast",
    ]
    .into_iter()
    .map(|substance| Allergy {
        substance: substance.into(),
        reaction: None,
        severity: None,
    })
    .collect();
    p.alerts = vec![
        "Lives alone".into(),
        "Fall risk".into(),
        "Lithium: check levels before prescribing".into(),
    ];
    let mut state = chart_state(p.clone());
    state.chart.history = Load::Ready(amelia_history());
    state.chart.reports = Load::Ready(amelia_reports());
    for (w, h) in SIZES {
        let rendered = text(&state, w, h);
        // Wrapped lines may split a fact between rows; compare with the rows joined.
        let joined = rendered.lines().collect::<Vec<_>>().join(" ");
        for allergy in &p.allergies.items {
            assert!(
                joined.contains(&allergy.substance),
                "{} cut from the banner:\n{rendered}",
                allergy.substance
            );
        }
        for alert in &p.alerts {
            assert!(joined.contains(alert.as_str()), "{alert} cut:\n{rendered}");
        }
        assert_shows(&rendered, "consultation running");
    }
    snap_sizes("chart-banner-long", &state);
}

#[test]
fn chart_loading() {
    let mut state = patients_loaded();
    state.screen = Screen::Chart;
    state.chart.patient_id = Some(id(100));
    state.chart.patient = Load::Loading;
    snap_sizes("chart-loading", &state);
}

#[test]
fn chart_error() {
    let mut state = patients_loaded();
    state.screen = Screen::Chart;
    state.chart.patient_id = Some(id(100));
    state.chart.patient = Load::Failed("Patient not found (it may have been removed).".into());
    snap_sizes("chart-error", &state);
}

#[test]
fn chart_sections_failed() {
    let mut state = chart_state(amelia_chart());
    state.chart.history = Load::Failed("History unavailable: timeout.".into());
    state.chart.reports = Load::Failed("Reports unavailable: timeout.".into());
    snap_sizes("chart-sections-error", &state);
}

// ---------------------------------------------------------------------------------------------
// Reports browser

#[test]
fn reports_loaded_with_preview() {
    let state = reports_state();
    let rendered = text(&state, 120, 40);
    for status in ["completed", "generating", "failed", "signed"] {
        assert!(rendered.contains(status), "{status} not written");
    }
    snap_all("reports-loaded", &state);
}

#[test]
fn reports_filtered_empty() {
    let mut state = reports_state();
    state.reports.status = Some(ReportStatus::Pending);
    state.reports.rows.items = Vec::new();
    state.reports.rows.total = 0;
    state.reports.preview = None;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "status: pending");
    assert_shows(&rendered, "No reports match these filters.");
    snap_sizes("reports-empty", &state);
}

#[test]
fn reports_loading() {
    let mut state = reports_state();
    state.reports.rows.items = Vec::new();
    state.reports.rows.loading = true;
    state.reports.rows.total = 0;
    state.reports.preview = None;
    snap_sizes("reports-loading", &state);
}

#[test]
fn reports_error() {
    let mut state = reports_state();
    state.reports.rows.items = Vec::new();
    state.reports.rows.error = Some("Could not load reports: 503 service unavailable.".into());
    state.reports.rows.total = 0;
    state.reports.preview = None;
    snap_sizes("reports-error", &state);
}

// ---------------------------------------------------------------------------------------------
// Report

#[test]
fn report_completed() {
    let state = report_state(completed_report());
    let rendered = text(&state, 120, 40);
    assert_shows(&rendered, "COMPLETED");
    assert_shows(&rendered, "1 of 2");
    snap_all("report-completed", &state);
}

#[test]
fn report_signed_with_addendum() {
    let state = report_state(signed_report());
    let rendered = text(&state, 120, 40);
    assert_shows(&rendered, "Signed by Dr. Maya Patel on 2026-01-15 10:35");
    assert_shows(&rendered, "Addendum — Dr. Maya Patel, 2026-01-20 14:05");
    snap_all("report-signed", &state);
    // Scrolled to the end on the small terminal, the signature and the addendum show.
    let mut scrolled = state.clone();
    scrolled.report.scroll = 22;
    insta::assert_snapshot!("report-signed-scrolled-80x24", text(&scrolled, 80, 24));
}

#[test]
fn report_failed() {
    let mut state = report_state(failed_report());
    state.report.siblings = all_reports().iter().map(|r| r.id).collect();
    state.report.position = 2;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "FAILED");
    assert_shows(&rendered, "Generation failed: the notes were empty");
    snap_all("report-failed", &state);
}

#[test]
fn report_loading_and_error() {
    let mut state = report_state(completed_report());
    state.report.report = Load::Loading;
    snap_sizes("report-loading", &state);
    state.report.report = Load::Failed("Report not found.".into());
    snap_sizes("report-error", &state);
}

// ---------------------------------------------------------------------------------------------
// Consultation

#[test]
fn consultation_running_with_notes() {
    let state = consultation_state();
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "● RUNNING 00:24:30");
    assert_shows(&rendered, "saved");
    assert_shows(&rendered, "Plan: start sertraline");
    snap_all("consultation-running", &state);
}

#[test]
fn consultation_unsaved_and_save_error() {
    let mut state = consultation_state();
    state.consultation.edits = 9;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "unsaved changes");
    state.consultation.save_error = Some("offline".into());
    snap_sizes("consultation-save-error", &state);
}

#[test]
fn consultation_stopped_generating() {
    let state = stopped_state(ReportStatus::Generating);
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "Stopped after 24 min. generating the report…");
    snap_all("consultation-generating", &state);
}

#[test]
fn consultation_report_ready() {
    let state = stopped_state(ReportStatus::Completed);
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "report ready — Enter opens it");
    snap_sizes("consultation-report-ready", &state);
}

// ---------------------------------------------------------------------------------------------
// Stats

#[test]
fn stats_loaded() {
    let mut state = base();
    state.screen = Screen::Stats;
    state.history = vec![Screen::Patients];
    state.stats.stats = Load::Ready(stats());
    let rendered = text(&state, 120, 40);
    assert_shows(&rendered, "Total 128");
    assert_shows(&rendered, "average confidence 84%");
    snap_sizes("stats-loaded", &state);
}

/// Statistics whose daily series covers `days` days ending 12 March 2026, with a weekly
/// rhythm and a busier stretch, so the chart has something to show.
fn stats_over(days: u32) -> ReportStats {
    let last = date(2026, 3, 12);
    let mut stats = stats();
    stats.daily = (0..i64::from(days))
        .map(|i| DailyCount {
            date: last - chrono::Duration::days(i64::from(days) - 1 - i),
            count: [2, 4, 3, 5, 1, 0, 0][(i % 7) as usize] + u64::from(i % 30 > 20) * 3,
        })
        .collect();
    stats
}

#[test]
fn stats_daily_series_in_each_window() {
    for days in [7, 30, 90, 365] {
        let mut state = base();
        state.screen = Screen::Stats;
        state.history = vec![Screen::Patients];
        state.stats.days = days;
        let stats = stats_over(days);
        let format = if days > 120 { "%b %Y" } else { "%d %b" };
        let first = stats.daily[0].date.format(format).to_string();
        let last = stats.daily[days as usize - 1]
            .date
            .format(format)
            .to_string();
        state.stats.stats = Load::Ready(stats);
        for (w, h) in SIZES {
            let rendered = text(&state, w, h);
            assert_shows(&rendered, &format!("Reports per day, last {days} days"));
            // The first and last days under the series.
            assert_shows(&rendered, &first);
            assert_shows(&rendered, &last);
            assert_shows(&rendered, "7/30/90/365");
            insta::assert_snapshot!(format!("stats-window-{days}-{w}x{h}"), rendered);
        }
    }
}

#[test]
fn stats_loading_and_error() {
    let mut state = base();
    state.screen = Screen::Stats;
    state.stats.stats = Load::Loading;
    snap_sizes("stats-loading", &state);
    state.stats.stats = Load::Failed("Statistics unavailable: 500 internal error.".into());
    snap_sizes("stats-error", &state);
}

// ---------------------------------------------------------------------------------------------
// Dialogs

#[test]
fn dialog_start_consultation() {
    let mut state = amelia_chart_state();
    state.dialog = Some(Dialog::StartConsultation {
        session_type: SessionType::FollowUp,
        complaint: Field::with("Sleep worse since January"),
    });
    snap_all("dialog-start-consultation", &state);
}

#[test]
fn dialog_sign_confirm_defaults_to_no() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    state.dialog = Some(Dialog::Sign(SignDialog::new(&report)));
    let buffer = render(&state, 80, 24);
    let (column, row) = find(&buffer, "[ No ]").expect("No button");
    assert!(
        buffer[(column, row)].modifier.contains(Modifier::REVERSED),
        "No is not the selected button"
    );
    let (column, row) = find(&buffer, "[ Yes ]").expect("Yes button");
    assert!(!buffer[(column, row)].modifier.contains(Modifier::REVERSED));
    snap_sizes("dialog-sign-confirm", &state);
}

#[test]
fn dialog_sign_password_with_error() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    state.dialog = Some(Dialog::Sign(SignDialog {
        confirmed: true,
        yes: true,
        password: Field::with("hunter22"),
        error: Some("Wrong password; the report is not signed.".into()),
        ..SignDialog::new(&report)
    }));
    let rendered = text(&state, 80, 24);
    assert!(!rendered.contains("hunter22"));
    assert_shows(&rendered, "Wrong password; the report is not signed.");
    snap_sizes("dialog-sign-password-error", &state);
}

#[test]
fn dialog_sign_names_the_patient_and_the_version() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    state.dialog = Some(Dialog::Sign(SignDialog::new(&report)));
    let rendered = text(&state, 80, 24);
    let patient = &report.summary.patient;
    assert_shows(&rendered, &patient.full_name);
    assert_shows(&rendered, &patient.date_of_birth.to_string());
    assert_shows(&rendered, &patient.mrn);
    assert_shows(
        &rendered,
        &format!("Sign version {} of this report?", report.version),
    );
}

#[test]
fn dialog_sign_after_a_change_shows_what_changed_and_asks_about_the_new_version() {
    let read = completed_report();
    let mut now = read.clone();
    now.version += 1;
    now.content.assessment = Some("Worse since the weekend; sleeping four hours.".into());
    let mut state = report_state(now.clone());
    state.dialog = Some(Dialog::Sign(SignDialog {
        changed: Some(Changed {
            from_version: read.version,
            sections: changes(&read, &now),
        }),
        ..SignDialog::new(&now)
    }));
    for (width, height) in SIZES {
        let rendered = text(&state, width, height);
        assert_shows(
            &rendered,
            &format!("version {} → {}", read.version, now.version),
        );
        assert_shows(
            &rendered,
            &format!("Sign version {} of this report?", now.version),
        );
        assert_shows(&rendered, "[ No ]");
    }
    let rendered = text(&state, 120, 40);
    assert_shows(&rendered, "+ Worse since the weekend; sleeping four hours.");
    snap_sizes("dialog-sign-changed", &state);
}

#[test]
fn the_report_pins_the_patients_banner_however_far_it_scrolls() {
    let mut state = report_state(completed_report());
    state.report.scroll = 200;
    for (w, h) in SIZES {
        let rendered = text(&state, w, h);
        assert_banner(
            &rendered,
            state.patient().unwrap(),
            "ALLERGY Penicillin (rash, moderate)",
        );
        assert_shows(&rendered, "ALERTS: Lives alone; Fall risk");
    }
    // Before the patient's record has loaded: who it is, from the report, and that the
    // allergies are on their way (not that there are none).
    state.report.patient = None;
    let rendered = text(&state, 80, 24);
    let p = &completed_report().summary.patient;
    assert_shows(&rendered, &p.full_name);
    assert_shows(&rendered, &p.date_of_birth.to_string());
    assert_shows(&rendered, &p.mrn);
    assert_shows(&rendered, "Loading allergies and alerts…");
    snap_sizes("report-banner-loading", &state);
}

#[test]
fn the_sign_and_edit_dialogs_open_below_the_banner() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    let mut edit = EditDialog::new(&report, Section::Assessment);
    edit.editor = Notes::from_text(&"A long assessment line.\n".repeat(30));
    for dialog in [
        Dialog::Sign(SignDialog::new(&report)),
        Dialog::EditReport(Box::new(edit)),
    ] {
        state.dialog = Some(dialog);
        for (w, h) in SIZES {
            let rendered = text(&state, w, h);
            assert_banner(
                &rendered,
                state.patient().unwrap(),
                "ALLERGY Penicillin (rash, moderate)",
            );
        }
    }
}

#[test]
fn dialog_cancel_reason() {
    let mut state = consultation_state();
    state.dialog = Some(Dialog::CancelConsultation {
        reason: Field::with("Patient left before the end"),
        error: None,
    });
    snap_sizes("dialog-cancel-reason", &state);
}

#[test]
fn dialog_addendum() {
    let mut state = report_state(signed_report());
    let mut addendum = AddendumDialog::new(id(300));
    addendum.editor = Notes::from_text("Dose raised to 100 mg on 12 Mar.\nReview in two weeks.");
    state.dialog = Some(Dialog::Addendum(addendum.clone()));
    snap_sizes("dialog-addendum", &state);
    // The preview shows every line and the question above them.
    addendum.step = AddendumStep::Preview { yes: false };
    state.dialog = Some(Dialog::Addendum(addendum));
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "Add this addendum?");
    assert_shows(&rendered, "[ No ]");
    assert_shows(&rendered, "Review in two weeks.");
    snap_sizes("dialog-addendum-preview", &state);
}

#[test]
fn dialog_edit_draft() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    let mut edit = EditDialog::new(&report, Section::Assessment);
    edit.editor = Notes::from_text(
        "Moderate depressive episode with insomnia.\nRisk: low; protective factors: daughter.",
    );
    state.dialog = Some(Dialog::EditReport(Box::new(edit)));
    snap_sizes("dialog-edit-draft", &state);
}

#[test]
fn dialog_edit_draft_rows() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    let mut content = report.content.clone();
    content.diagnoses = vec![
        synapse::model::report::Diagnosis {
            code: Some("F32.1".into()),
            description: "Moderate depressive episode".into(),
        },
        synapse::model::report::Diagnosis {
            code: Some("G47.0".into()),
            description: "Insomnia".into(),
        },
    ];
    content.medication_plan = vec![synapse::model::report::Medication {
        drug: "Sertraline".into(),
        dosage: Some("50 mg".into()),
        route: None,
        frequency: Some("once daily".into()),
        duration: None,
        instructions: Some("by mouth, in the morning".into()),
    }];
    let mut report = report;
    report.content = content;
    for section in [Section::Diagnoses, Section::Medications] {
        let edit = EditDialog::new(&report, section);
        state.dialog = Some(Dialog::EditReport(Box::new(edit)));
        let name = match section {
            Section::Diagnoses => "dialog-edit-draft-diagnoses",
            _ => "dialog-edit-draft-medications",
        };
        snap_sizes(name, &state);
    }
}

/// The cell just before the terminal cursor, and whether the cursor is shown at all.
fn before_cursor(state: &State) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    terminal.draw(|frame| ui::draw(frame, state)).expect("draw");
    let at = terminal.backend().cursor_position();
    assert!(terminal.backend().cursor_visible(), "the cursor is shown");
    let buffer = terminal.backend().buffer();
    buffer[(at.x - 1, at.y)].symbol().to_string()
}

#[test]
fn the_dialogs_that_take_text_show_the_terminal_cursor_after_it() {
    let report = completed_report();
    let mut state = report_state(report.clone());
    let mut edit = EditDialog::new(&report, Section::Assessment);
    edit.editor = Notes::from_text("Stable.\nSleeping better");
    state.dialog = Some(Dialog::EditReport(Box::new(edit.clone())));
    assert_eq!(before_cursor(&state), "r");
    edit.editor.line = 0;
    edit.editor.column = 6;
    state.dialog = Some(Dialog::EditReport(Box::new(edit)));
    assert_eq!(before_cursor(&state), "e");

    let mut sign = SignDialog::new(&report);
    sign.confirmed = true;
    sign.password = Field::with("secret");
    state.dialog = Some(Dialog::Sign(sign));
    assert_eq!(before_cursor(&state), "•");

    let mut state = report_state(signed_report());
    let mut addendum = AddendumDialog::new(id(300));
    addendum.editor = Notes::from_text("Dose raised.\nReview");
    state.dialog = Some(Dialog::Addendum(addendum));
    assert_eq!(before_cursor(&state), "w");

    let mut state = consultation_state();
    state.dialog = Some(Dialog::CancelConsultation {
        reason: Field::with("Patient left"),
        error: None,
    });
    assert_eq!(before_cursor(&state), "t");

    // The notes editor cuts a line longer than its box into rows (it used to run off the
    // edge, the cursor stuck at the border), the cursor after its last letter.
    let mut state = consultation_state();
    state.consultation.notes = Notes::from_text(&format!("{}z", "word ".repeat(30)));
    assert_eq!(before_cursor(&state), "z");
    let shown = text(&state, 80, 24);
    assert!(shown.contains("word z"), "{shown}");
}

#[test]
fn a_dialogs_hints_name_the_keys_the_config_file_chose() {
    let mut state = report_state(completed_report());
    let overrides = [
        ("save".to_string(), vec!["alt-s".to_string()]),
        ("dismiss".to_string(), vec!["ctrl-g".to_string()]),
    ]
    .into_iter()
    .collect();
    state.settings.keymap =
        synapse::tui::keymap::Keymap::with_overrides(&overrides).expect("the overrides are valid");
    let report = completed_report();
    let mut edit = EditDialog::new(&report, Section::Assessment);
    edit.editor = Notes::from_text("Moderate depressive episode.");
    state.dialog = Some(Dialog::EditReport(Box::new(edit)));
    let shown = text(&state, 80, 24);
    assert_shows(&shown, "Alt-s saves · Ctrl-G closes");
    state.dialog = Some(Dialog::CancelConsultation {
        reason: Field::default(),
        error: None,
    });
    let shown = text(&state, 80, 24);
    assert_shows(
        &shown,
        "Enter cancels the consultation · Ctrl-G keeps it running",
    );
}

#[test]
fn dialog_session_expired() {
    let mut state = patients_loaded();
    state.dialog = Some(Dialog::SessionExpired(Reauth {
        password: Field::with("pass"),
        error: Some("Wrong password.".into()),
        ..Reauth::default()
    }));
    snap_sizes("dialog-session-expired", &state);
}

#[test]
fn dialog_session_expired_second_factor() {
    let mut state = patients_loaded();
    state.dialog = Some(Dialog::SessionExpired(Reauth {
        code: Field::with("12"),
        mfa_token: Some("token".into()),
        ..Reauth::default()
    }));
    snap_sizes("dialog-session-expired-code", &state);
}

// ---------------------------------------------------------------------------------------------
// Help, palette

#[test]
fn help_overlay() {
    let mut state = patients_loaded();
    state.overlay = Some(Overlay::Help {
        filter: Field::default(),
        scroll: 0,
    });
    snap_sizes("help", &state);
    state.overlay = Some(Overlay::Help {
        filter: Field::with("sort"),
        scroll: 0,
    });
    snap_sizes("help-filtered", &state);
}

#[test]
fn palette_overlay() {
    let mut state = patients_loaded();
    state.overlay = Some(Overlay::Palette {
        input: Field::default(),
        selected: 0,
    });
    snap_sizes("palette", &state);
    state.overlay = Some(Overlay::Palette {
        input: Field::with("rep"),
        selected: 1,
    });
    snap_sizes("palette-filtered", &state);
}

#[test]
fn help_in_the_running_notes_lists_only_keys_the_editor_leaves() {
    let mut state = consultation_state();
    state.overlay = Some(Overlay::Help {
        filter: Field::default(),
        scroll: 0,
    });
    let shown = text(&state, 80, 24);
    assert_shows(&shown, "F1  Show keys");
    assert!(
        !shown.contains("? F1"),
        "? is typed into the notes:\n{shown}"
    );
    snap_sizes("help-consultation", &state);
}

#[test]
fn palette_with_an_mrn_offers_the_chart() {
    let mut state = patients_loaded();
    state.overlay = Some(Overlay::Palette {
        input: Field::with("MRN-000087"),
        selected: 0,
    });
    assert_shows(&text(&state, 80, 24), "Open the chart of MRN-000087");
    snap_sizes("palette-mrn", &state);
    state.overlay = Some(Overlay::Palette {
        input: Field::with("whitfield"),
        selected: 0,
    });
    assert_shows(&text(&state, 80, 24), "Find a patient: “whitfield”");
    snap_sizes("palette-name", &state);
}

// ---------------------------------------------------------------------------------------------
// Worklists: drafts awaiting signature, running consultations, recent patients, past notes

#[test]
fn drafts_awaiting_signature() {
    let mut state = reports_state();
    state.reports.drafts = true;
    state.reports.status = Some(ReportStatus::Completed);
    let drafts: Vec<ReportSummary> = all_reports()
        .into_iter()
        .filter(|r| r.status == ReportStatus::Completed)
        .collect();
    state.reports.rows.total = drafts.len() as u64;
    state.unsigned = Some(drafts.len() as u64);
    state.reports.rows.items = drafts;
    let shown = text(&state, 80, 24);
    assert_shows(&shown, "Drafts awaiting signature · 1 of 1");
    assert_shows(&shown, "1 unsigned");
    snap_all("drafts", &state);
    state.reports.rows.items.clear();
    state.reports.rows.total = 0;
    state.reports.preview = None;
    assert_shows(
        &text(&state, 80, 24),
        "No drafts are waiting for your signature.",
    );
}

#[test]
fn running_consultations_list() {
    use synapse::tui::screens::running::RunningConsultation;
    let mut state = patients_loaded();
    state.history = vec![Screen::Patients];
    state.screen = Screen::Running;
    let started = |n, patient: &PatientSummary, minutes: i64, complaint| RunningConsultation {
        consultation: consultation(
            n,
            patient.id,
            SessionType::FollowUp,
            ConsultationStatus::InProgress,
            complaint,
            now() - chrono::Duration::minutes(minutes),
        ),
        patient: Some(patient.clone()),
    };
    state.running.rows = Load::Ready(vec![
        started(230, &amelia(), 25, "Sleep worse since January"),
        started(231, &jonas(), 3 * 24 * 60 + 70, "Memory complaints"),
    ]);
    let shown = text(&state, 80, 24);
    assert_shows(&shown, "Running consultations · 2");
    assert_shows(&shown, "3 d 1 h");
    snap_all("running", &state);
    state.running.rows = Load::Ready(vec![]);
    assert_shows(&text(&state, 80, 24), "No consultation is running.");
}

#[test]
fn recent_patients_list() {
    use synapse::tui::screens::recent::RecentPatient;
    let mut state = patients_loaded();
    state.history = vec![Screen::Patients];
    state.screen = Screen::Recent;
    let opened = |p: PatientSummary, minutes: i64| RecentPatient {
        id: p.id,
        mrn: p.mrn,
        full_name: p.full_name,
        date_of_birth: p.date_of_birth,
        opened_at: now() - chrono::Duration::minutes(minutes),
    };
    state.recent.items = vec![opened(jonas(), 2), opened(amelia(), 40)];
    snap_all("recent", &state);
}

#[test]
fn chart_consultations_pane_focused() {
    use synapse::tui::screens::chart::ChartPane;
    let mut state = amelia_chart_state();
    state.chart.pane = ChartPane::Consultations;
    state.chart.selected_consultation = 1;
    snap_all("chart-consultations-focused", &state);
}

#[test]
fn past_notes_read_only() {
    let mut state = amelia_chart_state();
    state.history = vec![Screen::Patients, Screen::Chart];
    state.screen = Screen::PastNotes;
    let mut past = amelia_history()[1].clone();
    past.notes = Some(
        "History: low mood and poor sleep for two months.\n\
         Assessment: moderate depressive episode.\n\
         Plan: review in four weeks."
            .into(),
    );
    state.past_notes.id = Some(past.id);
    state.past_notes.consultation = Load::Ready(past);
    let shown = text(&state, 80, 24);
    assert_shows(&shown, "read-only");
    assert_shows(&shown, "Amelia");
    snap_all("past-notes", &state);
}

// ---------------------------------------------------------------------------------------------
// Lock screen, too small, offline, toast, mono

#[test]
fn lock_screen_shows_no_patient() {
    // Everything loaded underneath: list, chart, a report, a running consultation, a search.
    let mut state = consultation_state();
    state.search.results = vec![amelia(), amelia_hart()];
    state.reports.rows.items = all_reports();
    state.reports.rows.loaded_once = true;
    state.reports.preview = Some(completed_report());
    state.report.report = Load::Ready(signed_report());
    state.overlay = Some(Overlay::Search);
    state.lock.locked = true;
    state.lock.reauth.password = Field::with("pa");
    let mut names: Vec<String> = private_values(&state);
    for p in [amelia(), jonas(), priya(), tomas(), grace(), amelia_hart()] {
        names.push(p.full_name.clone());
        names.extend(p.full_name.split_whitespace().map(str::to_string));
        names.push(p.mrn.clone());
    }
    for privacy in [false, true] {
        state.privacy = privacy;
        for (w, h) in SIZES {
            let rendered = text(&state, w, h);
            assert_shows(&rendered, "Synapse is locked");
            for name in &names {
                assert!(
                    !rendered.contains(name.as_str()),
                    "{name:?} shows on the lock screen:\n{rendered}"
                );
            }
        }
    }
    state.privacy = false;
    snap_sizes("lock", &state);
    state.lock.reauth.error = Some("Wrong password.".into());
    snap_sizes("lock-error", &state);
    // An account with a second factor: after the password, its code.
    state.lock.reauth.error = None;
    state.lock.reauth.mfa_token = Some("token".into());
    state.lock.reauth.code = Field::with("12");
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "Code");
    assert_shows(&rendered, "Enter the code your authenticator app shows.");
    snap_sizes("lock-code", &state);
}

#[test]
fn too_small_panel() {
    let state = patients_loaded();
    let rendered = text(&state, 60, 20);
    assert_shows(&rendered, "60×20");
    assert!(!rendered.contains("Amelia"));
    insta::assert_snapshot!("too-small-60x20", rendered);
    // One column short is still too small.
    insta::assert_snapshot!("too-small-79x24", text(&state, 79, 24));
}

#[test]
fn offline_banner() {
    let mut state = patients_loaded();
    state.offline = Some("Cannot reach https://synapse.clinic.example.".into());
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, " OFFLINE ");
    assert_shows(&rendered, "Showing what was loaded.");
    snap_sizes("offline-patients", &state);
    let mut chart = amelia_chart_state();
    chart.offline = state.offline.clone();
    snap_sizes("offline-chart", &chart);
}

#[test]
fn toast_over_report() {
    let mut state = report_state(completed_report());
    state.toast = Some(Toast {
        text: "Someone else changed this report; reloaded.".into(),
        kind: ToastKind::Error,
        until_ms: state.now_ms + 4000,
        open: None,
    });
    snap_sizes("toast-report", &state);
}

#[test]
fn mono_theme() {
    let settings = Settings {
        theme: Theme::new(ThemeKind::Mono),
        ..Settings::default()
    };
    let mut state = amelia_chart_state();
    state.settings = settings.clone();
    for (w, h) in SIZES {
        let buffer = render(&state, w, h);
        for cell in &buffer.content {
            assert!(
                matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
                "mono theme uses a colour: {cell:?}"
            );
        }
    }
    snap_sizes("mono-chart", &state);
    let mut reports = reports_state();
    reports.settings = settings;
    snap_sizes("mono-reports", &reports);
}

#[test]
fn sort_label_in_title() {
    let mut state = patients_loaded();
    state.patients.sort = PatientSort::Name;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "sorted by name");
}

// ---------------------------------------------------------------------------------------------
// The administrator's screens

fn admin_session() -> SessionInfo {
    SessionInfo {
        user: Some(User {
            id: id(9),
            email: "adm@demo.com".into(),
            full_name: "Ada Admin".into(),
            role: Role::Admin,
            created_at: at(2025, 1, 6, 9, 0),
        }),
        ..session()
    }
}

fn account(n: u128, email: &str, name: &str, role: Role) -> synapse::model::admin::AdminUser {
    synapse::model::admin::AdminUser {
        id: id(100 + n),
        email: email.into(),
        full_name: name.into(),
        role,
        created_at: at(2025, 1, 6, 9, 0),
        locked_until: None,
        failed_logins: 0,
        disabled: false,
    }
}

/// The accounts: a locked doctor, a disabled receptionist and the rest active.
fn accounts() -> Vec<synapse::model::admin::AdminUser> {
    let mut locked = account(2, "doc2@demo.com", "Dr. Sam Okafor", Role::Doctor);
    locked.locked_until = Some(at(2026, 3, 12, 10, 45));
    locked.failed_logins = 5;
    let mut disabled = account(4, "rec2@demo.com", "Lee Marsh", Role::Receptionist);
    disabled.disabled = true;
    vec![
        account(9, "adm@demo.com", "Ada Admin", Role::Admin),
        account(1, "doc@demo.com", "Dr. Maya Patel", Role::Doctor),
        locked,
        account(3, "rec@demo.com", "Robin Clerk", Role::Receptionist),
        disabled,
    ]
}

/// An administrator on the users screen, the accounts loaded, the locked doctor selected.
fn users_state() -> State {
    let mut state = State::new(admin_session(), Settings::default());
    state.wall_now = now();
    state.now_ms = 1_000_000;
    state.last_activity_ms = 1_000_000;
    state.screen = Screen::Users;
    state.latency_ms = Some(42);
    state.users.rows = Load::Ready(accounts());
    state.users.selected = 2;
    state
}

fn audit_events() -> Vec<synapse::model::admin::AuditEvent> {
    let row = |n: u128, minutes: i64, user: Option<u128>, action: &str, outcome: &str| {
        synapse::model::admin::AuditEvent {
            id: id(500 + n),
            at: now() - chrono::Duration::minutes(minutes),
            user_id: user.map(|u| id(100 + u)),
            action: action.into(),
            resource_type: Some("patient".into()),
            resource_id: Some(id(700).to_string()),
            patient_id: Some(id(700)),
            outcome: outcome.into(),
            request_id: format!("req-{n}"),
            client_request_id: None,
            ip: Some("10.0.0.7".into()),
        }
    };
    vec![
        row(1, 1, Some(9), "admin.user_unlock", "success"),
        row(2, 3, Some(2), "auth.login", "locked"),
        row(3, 4, Some(2), "auth.login", "failure"),
        row(4, 9, Some(1), "patient.read", "success"),
        row(5, 12, Some(3), "report.read", "denied"),
        row(6, 30, None, "admin.user_create", "success"),
    ]
}

/// The audit browser on its first page, filtered by account and outcome.
fn audit_state() -> State {
    let mut state = users_state();
    state.screen = Screen::Audit;
    state.history = vec![Screen::Users];
    let items = audit_events();
    state.audit.filter = synapse::tui::screens::audit::AuditFilter {
        user_id: Some(id(102)),
        user: Some("doc2@demo.com".into()),
        since: Some("2026-03-01".into()),
        ..Default::default()
    };
    state.audit.rows = Load::Ready(synapse::model::page::Page {
        pagination: synapse::model::page::Pagination {
            total: 56,
            limit: 50,
            offset: 0,
            has_more: true,
            next_cursor: None,
        },
        items,
    });
    state.audit.selected = 1;
    state
}

#[test]
fn users_screen() {
    let state = users_state();
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "LOCKED until 2026-03-12 10:45 UTC");
    assert_shows(&rendered, "disabled");
    snap_sizes("users", &state);

    let mut filtered = users_state();
    filtered.users.filter = Field::with("doc");
    filtered.users.filtering = true;
    filtered.users.selected = 1;
    snap_sizes("users-filtered", &filtered);
}

#[test]
fn users_dialogs() {
    let mut state = users_state();
    state.dialog = Some(Dialog::confirm_account(
        synapse::tui::components::dialogs::AccountAction::Disable,
        id(102),
        "doc2@demo.com".into(),
    ));
    snap_sizes("dialog-disable-account", &state);

    let mut state = users_state();
    let mut reset = Dialog::reset_password(id(102), "doc2@demo.com".into());
    if let Dialog::ResetPassword(r) = &mut reset {
        r.password = Field::with("secret");
        r.on_again = true;
        r.error = Some("password: must be at least 8 characters".into());
    }
    state.dialog = Some(reset);
    let rendered = text(&state, 80, 24);
    assert!(
        !rendered.contains("secret"),
        "the password shows:\n{rendered}"
    );
    snap_sizes("dialog-reset-password", &state);
}

#[test]
fn audit_browser() {
    let state = audit_state();
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "1–6 of 56");
    assert_shows(&rendered, "user doc2@demo.com");
    snap_sizes("audit", &state);

    let mut details = audit_state();
    details.dialog = Some(Dialog::AuditDetails(Box::new(audit_events()[1].clone())));
    snap_sizes("dialog-audit-details", &details);

    let mut filter = audit_state();
    filter.dialog = Some(Dialog::audit_filter(&filter.audit.filter));
    snap_sizes("dialog-audit-filter", &filter);

    let mut export = audit_state();
    export.dialog = Some(Dialog::export_audit(
        "/home/ada/.local/share/synapse/audit.jsonl",
    ));
    snap_sizes("dialog-audit-export", &export);
}

#[test]
fn new_account_dialog() {
    let mut state = users_state();
    let mut dialog = Dialog::new_user();
    if let Dialog::NewUser(new) = &mut dialog {
        new.fields[0] = Field::with("nora@demo.com");
        new.fields[1] = Field::with("Nora New");
        new.fields[3] = Field::with("hunter22");
        new.role = Role::Receptionist;
        new.focus = 4;
        new.error = Some((0, "email: is already used".into()));
    }
    state.dialog = Some(dialog);
    let rendered = text(&state, 80, 24);
    assert!(
        !rendered.contains("hunter22"),
        "the password shows:\n{rendered}"
    );
    snap_sizes("dialog-new-account", &state);
}

// ---------------------------------------------------------------------------------------------
// Roles: each sees only what it can use

/// `state` as seen by someone of `role`: no unsigned count, which is a doctor's.
fn as_role(mut state: State, role: Role, full_name: &str) -> State {
    if let Some(user) = &mut state.session.user {
        user.role = role;
        user.full_name = full_name.into();
    }
    state.unsigned = None;
    state
}

#[test]
fn the_front_desk_sees_the_list_without_the_doctors_tabs_and_count() {
    let state = as_role(patients_loaded(), Role::Receptionist, "Rosa Front");
    for (width, height) in SIZES {
        let rendered = text(&state, width, height);
        let mut lines = rendered.lines();
        let title = lines.next().unwrap();
        assert_shows(title, "1 Patients");
        assert!(!title.contains("Reports"), "{title}");
        assert!(!title.contains("Stats"), "{title}");
        assert!(!rendered.contains("unsigned"), "{rendered}");
        assert!(!rendered.contains("reports"), "the hint bar: {rendered}");
        assert_shows(&rendered, "Amelia Hartley");
    }
    snap_all("front-desk-patients", &state);
}

#[test]
fn the_administrator_lands_on_the_users_screen_without_patients() {
    let state = users_state();
    for (width, height) in SIZES {
        let rendered = text(&state, width, height);
        let title = rendered.lines().next().unwrap();
        assert_shows(title, "4 Users");
        assert_shows(title, "5 Audit");
        assert!(!title.contains("Patients"), "{title}");
        assert!(!rendered.contains("unsigned"), "{rendered}");
    }
}

// ---------------------------------------------------------------------------------------------
// The patient form

fn receptionist_base() -> State {
    let mut state = patients_loaded();
    if let Some(user) = &mut state.session.user {
        user.role = Role::Receptionist;
        user.full_name = "Sam Front".into();
        user.email = "rec@demo.com".into();
    }
    state
}

fn registration() -> PatientForm {
    let mut form = PatientForm::register(Role::Receptionist);
    form.doctors = Load::Ready(vec![
        DoctorSummary {
            id: id(1),
            full_name: "Dr. Maya Patel".into(),
        },
        DoctorSummary {
            id: id(2),
            full_name: "Dr. Omar Haddad".into(),
        },
    ]);
    form.doctor = 1;
    form.full_name = Field::with("Lena Fischer");
    form.date_of_birth = Field::with("1991-07-14");
    form.phone = Field::with("+49 30 1234567");
    form.email = Field::with("lena@");
    form
}

#[test]
fn a_receptionists_patient_list_names_each_patients_doctor() {
    let mut state = receptionist_base();
    state.patients.rows.items[1].doctor = DoctorSummary {
        id: id(2),
        full_name: "Dr. Omar Haddad".into(),
    };
    let rendered = text(&state, 120, 40);
    assert_shows(&rendered, "Doctor");
    assert!(
        line_with(&rendered, "Jonas Whitfield").contains("Dr. Omar Haddad"),
        "{rendered}"
    );
    snap_sizes("patients-receptionist", &state);
}

#[test]
fn dialog_register_patient_with_a_rejected_field() {
    let mut state = receptionist_base();
    let mut form = registration();
    form.reject(vec![FieldError::new("email", "must be an email address")]);
    assert_eq!(form.focused(), Slot::Email);
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    let rendered = text(&state, 100, 30);
    assert_shows(&rendered, "↳ must be an email address");
    assert_shows(&rendered, "◀ Dr. Omar Haddad ▶");
    snap_sizes("dialog-register-patient", &state);
}

#[test]
fn dialog_register_patient_with_every_field() {
    let mut state = receptionist_base();
    let mut form = registration();
    form.email = Field::with("lena.fischer@example.test");
    form.address = Field::with("Kastanienallee 12, Berlin");
    form.referred_by = Field::with("Dr. R. Nair (GP)");
    form.illness_duration = Field::with("3 weeks");
    form.allergy_status = AllergyStatus::Known;
    form.allergies = Field::with("Penicillin / rash / moderate");
    form.alerts = Field::with("Lives alone");
    form.symptoms = Field::with("Low mood / moderate / daily / 2 months");
    form.focus = form
        .slots
        .iter()
        .position(|s| *s == Slot::Symptoms)
        .unwrap();
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    let rendered = text(&state, 100, 30);
    for shown in [
        "Ill for",
        "3 weeks",
        "Penicillin",
        "Lives alone",
        "Low mood",
    ] {
        assert_shows(&rendered, shown);
    }
    snap_sizes("dialog-register-every-field", &state);
}

#[test]
fn the_patient_form_is_masked_in_privacy_mode() {
    let mut state = receptionist_base();
    let mut form = registration();
    form.email = Field::with("lena.fischer@example.test");
    form.address = Field::with("Kastanienallee 12, Berlin");
    form.alerts = Field::with("Lives alone");
    // The focus on a private field: its cursor tells nothing of the value's length either.
    form.focus = 0;
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    state.privacy = true;
    for (w, h) in SIZES {
        let rendered = text(&state, w, h);
        for private in [
            "Lena Fischer",
            "Lena",
            "Fischer",
            "1991-07-14",
            "+49 30 1234567",
            "lena.fischer@example.test",
            "Kastanienallee",
        ] {
            assert!(
                !rendered.contains(private),
                "{private:?} shows despite the privacy mask:\n{rendered}"
            );
        }
        assert_shows(&rendered, "L. F.");
        assert_shows(&rendered, "••••-••-••");
        // What is no one's identity still shows: the doctor, the alerts.
        assert_shows(&rendered, "Dr. Omar Haddad");
        assert_shows(&rendered, "Lives alone");
        insta::assert_snapshot!(format!("dialog-register-patient-{w}x{h}-masked"), rendered);
    }
    // A change of the chart's details is masked alike.
    let mut state = amelia_chart_state();
    let Load::Ready(patient) = &state.chart.patient else {
        panic!("chart not loaded");
    };
    let form = PatientForm::chart(patient);
    let address = patient.address.clone().expect("an address");
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    state.privacy = true;
    let rendered = text(&state, 120, 40);
    assert!(!rendered.contains(&address), "{rendered}");
    assert_masked(&rendered, &state, "dialog-edit-patient-masked");
}

#[test]
fn dialog_register_patient_asks_about_a_duplicate() {
    let mut state = receptionist_base();
    let mut form = registration();
    form.email = Field::default();
    form.step = FormStep::Duplicate {
        mrn: "MRN-000318".into(),
    };
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    assert_shows(&text(&state, 100, 30), "MRN-000318");
    snap_sizes("dialog-register-duplicate", &state);
}

#[test]
fn dialog_change_the_charts_details_and_allergies() {
    let mut state = amelia_chart_state();
    let Load::Ready(patient) = &state.chart.patient else {
        panic!("chart not loaded");
    };
    let form = PatientForm::chart(patient);
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    snap_sizes("dialog-edit-patient", &state);
}

/// The rendered line showing `needle`.
fn line_with<'a>(rendered: &'a str, needle: &str) -> &'a str {
    rendered
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not on the screen:\n{rendered}"))
}

// ---------------------------------------------------------------------------------------------
// Setting up a second factor

/// The base32 secret of the enrolment drawn (a fixed one, so the QR code is the same each run).
const MFA_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn mfa_uri() -> String {
    let bytes = totp_rs::Secret::try_from_base32(MFA_SECRET)
        .expect("base32 secret")
        .as_bytes()
        .to_vec();
    synapse::server::totp::otpauth_uri(&bytes, "doc@demo.com").expect("otpauth URI")
}

/// Where the QR code's top left corner is drawn, found by its first row with a module (the
/// quiet zone's blank rows and columns could be anywhere).
fn qr_at(buffer: &Buffer, code: &[String]) -> Option<(u16, u16)> {
    let (row, line) = code
        .iter()
        .enumerate()
        .find(|(_, line)| !line.trim().is_empty())?;
    let lead = (line.chars().count() - line.trim_start().chars().count()) as u16;
    let (x, y) = find(buffer, line.trim())?;
    Some((x.checked_sub(lead)?, y.checked_sub(row as u16)?))
}

/// The doctor just logged in, whose role needs a second factor: the secret is shown.
fn mfa_scan_state() -> State {
    let mut state = base();
    state.unsigned = None;
    state.screen = Screen::MfaEnroll;
    state.mfa_enroll.required = true;
    state.mfa_enroll.step = EnrolStep::Scan {
        secret: MFA_SECRET.into(),
        uri: mfa_uri(),
    };
    state
}

#[test]
fn mfa_enrolment_draws_the_qr_code_where_it_fits_and_the_secret_always() {
    let state = mfa_scan_state();
    let code = synapse::client::qr::lines(&mfa_uri(), false);
    assert!(code.len() > 20, "{}", code.len());

    // 120×40: the whole code, dark on light in its own colours, beside the secret.
    let buffer = render(&state, 120, 40);
    let rendered = buffer_to_string(&buffer);
    let (x, y) = qr_at(&buffer, &code).expect("the QR code is drawn");
    for (row, line) in code.iter().enumerate() {
        let at = y + row as u16;
        let drawn: String = (0..line.chars().count() as u16)
            .map(|dx| buffer[(x + dx, at)].symbol().to_string())
            .collect();
        assert_eq!(&drawn, line, "row {row} of the QR code");
        let cell = &buffer[(x, at)];
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Black, Color::White),
            "the code has colours of its own"
        );
    }
    assert_shows(&rendered, "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
    assert_shows(&rendered, "Synapse: doc@demo.com");
    assert_shows(&rendered, "your role needs one before anything else");
    assert!(!rendered.contains("needs a window"), "{rendered}");

    // 80×24: no room for it; a cut code would not scan, so none is drawn, the size it needs
    // is said, and the secret still shows.
    let rendered = text(&state, 80, 24);
    assert!(
        !rendered.contains('▀') && !rendered.contains('▄') && !rendered.contains('█'),
        "a part of the QR code is drawn:\n{rendered}"
    );
    assert_shows(&rendered, "The QR code needs a window of at least");
    assert_shows(&rendered, "(this one is 80×24)");
    assert_shows(&rendered, "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
    snap_sizes("mfa-enrol-scan", &state);

    // The size said is enough.
    let said = rendered
        .split("at least ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("a size");
    let (w, h) = said.split_once('×').expect("W×H");
    let (w, h): (u16, u16) = (w.parse().unwrap(), h.parse().unwrap());
    let rendered = text(&state, w, h);
    assert!(!rendered.contains("needs a window"), "{w}×{h}:\n{rendered}");
    assert!(
        qr_at(&render(&state, w, h), &code).is_some(),
        "{w}×{h}:\n{rendered}"
    );
}

#[test]
fn mfa_enrolment_says_a_wrong_code_on_the_field_and_asks_before_leaving() {
    let mut state = mfa_scan_state();
    state.mfa_enroll.error = Some(
        "That code is not the current code for this secret: check the app's clock and type the 6 digits it shows now."
            .into(),
    );
    snap_sizes("mfa-enrol-wrong-code", &state);
    state.mfa_enroll.error = None;
    state.mfa_enroll.leave_asked = true;
    let rendered = text(&state, 80, 24);
    assert_shows(&rendered, "Leave without a second factor?");
    assert_shows(&rendered, "y logs out");
    snap_sizes("mfa-enrol-leave", &state);
}

#[test]
fn mfa_enrolment_shows_the_recovery_codes_once_with_what_to_do() {
    let mut state = mfa_scan_state();
    let codes: Vec<String> = (0..10).map(|n| format!("k{n}x7q-m2p9{n}")).collect();
    state.mfa_enroll.step = EnrolStep::Codes {
        codes: codes.clone(),
        shown_at_ms: state.now_ms,
    };
    for (w, h) in SIZES {
        let rendered = text(&state, w, h);
        for code in &codes {
            assert_shows(&rendered, code);
        }
        assert_shows(&rendered, "Write these recovery codes down");
        assert_shows(&rendered, "Each works once");
        assert_shows(&rendered, "Enter continues");
        assert!(!rendered.contains("JBSW"), "the secret still shows");
    }
    snap_sizes("mfa-enrol-codes", &state);
}

#[test]
fn mfa_enrolment_in_mono_uses_no_colour() {
    let mut state = mfa_scan_state();
    state.settings.theme = Theme::new(ThemeKind::Mono);
    let buffer = render(&state, 120, 40);
    for cell in &buffer.content {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "mono theme uses a colour: {cell:?}"
        );
    }
    // Light modules drawn, for the dark background the CLI assumes too.
    let code = synapse::client::qr::lines(&mfa_uri(), true);
    assert!(
        qr_at(&buffer, &code).is_some(),
        "{}",
        buffer_to_string(&buffer)
    );
}
