//! The role matrix of the workstation against a real server: for each role, log in through the
//! workstation's own state machine (`update`, its effects run by the `Runner` on the typed
//! client), walk every screen and command the role is offered, and check that each call behind
//! them answers without 403 (without failing at all), that no screen outside the role's is
//! reached, and that a command the role is not offered sends no call. Registering a patient
//! with every field and changing one go through the form as typed; the audit browser pages
//! forward and back by the server's cursors.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{PASSWORD, TestServer};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use synapse::client::{ApiClient, ClientConfig};
use synapse::model::auth::Role;
use synapse::tui::action::{Action, Timer};
use synapse::tui::components::dialogs::patient_form::Slot;
use synapse::tui::effect::{Call, Effect, Runner};
use synapse::tui::keymap::Command;
use synapse::tui::roles;
use synapse::tui::screens::works_here;
use synapse::tui::state::{Dialog, SessionInfo, Settings, State};
use synapse::tui::update::{run_command, update};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// Notes the report generator makes a complete draft of.
const NOTES: &str = "History: low mood for 3 weeks, poor sleep\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks\n\
Medications: sertraline 50 mg once daily\n\
Diagnosis: F32.1 Moderate depressive episode";

/// The commands walked, in order: every way to another screen, with a reload and an Open on
/// each, and back again.
const WALK: &[Command] = &[
    Command::Refresh,
    Command::CycleSort,
    Command::Open,
    Command::Refresh,
    Command::NextPane,
    Command::Open,
    Command::Refresh,
    Command::Back,
    Command::Back,
    Command::GoReports,
    Command::Refresh,
    Command::CycleStatus,
    Command::ClearFilters,
    Command::Open,
    Command::Refresh,
    Command::Back,
    Command::Drafts,
    Command::Back,
    Command::GoStats,
    Command::CycleStatsWindow,
    Command::Refresh,
    Command::RunningConsultations,
    Command::Refresh,
    Command::RecentPatients,
    Command::Open,
    Command::GoPatients,
    Command::Refresh,
    // The administrator's screens.
    Command::GoUsers,
    Command::Refresh,
    Command::GoAudit,
    Command::Refresh,
    Command::NextPage,
    Command::PreviousPage,
    Command::GoUsers,
];

/// A workstation logged in to the test server, its effects run for real.
struct Workstation {
    role: Role,
    state: State,
    runner: Runner,
    actions: UnboundedReceiver<Action>,
    /// The screens it was on.
    visited: BTreeSet<String>,
    /// The kinds of answer it had, e.g. `Patients`, `Search`.
    answers: BTreeSet<String>,
    /// What failed, and where.
    failures: Vec<String>,
}

impl Workstation {
    async fn log_in(server: &TestServer, email: &str, role: Role) -> Workstation {
        let client = ApiClient::new(&ClientConfig::new(&server.base)).expect("a client");
        let (sender, actions) = unbounded_channel();
        let mut workstation = Workstation {
            role,
            state: State::new(SessionInfo::default(), Settings::default()),
            runner: Runner::new(client, sender),
            actions,
            visited: BTreeSet::new(),
            answers: BTreeSet::new(),
            failures: Vec::new(),
        };
        let request = workstation.state.request();
        let login = Call::Login {
            email: email.into(),
            password: PASSWORD.into(),
        };
        workstation
            .settle(vec![Effect::Call {
                request,
                call: login,
            }])
            .await;
        assert_eq!(
            workstation.state.session.user.as_ref().map(|u| u.role),
            Some(role)
        );
        workstation.visit();
        workstation
    }

    /// Runs the effects and every effect their answers ask for, until nothing is waited for.
    /// Search's pause is skipped; the other timers and the live stream are not run.
    async fn settle(&mut self, mut queue: Vec<Effect>) {
        let mut waiting = 0usize;
        loop {
            while let Some(effect) = queue.pop() {
                match effect {
                    Effect::Call { .. } => {
                        self.runner.run(effect);
                        waiting += 1;
                    }
                    Effect::After {
                        timer: timer @ Timer::Search(_),
                        ..
                    } => queue.extend(update(&mut self.state, Action::Timer(timer))),
                    _ => {}
                }
            }
            if waiting == 0 {
                return;
            }
            let action = tokio::time::timeout(Duration::from_secs(10), self.actions.recv())
                .await
                .expect("an answer within 10 s")
                .expect("the runner is alive");
            if let Action::Response { response, .. } = &action {
                waiting -= 1;
                let shown = format!("{response:?}");
                let kind = shown.split('(').next().unwrap_or_default().to_string();
                if !response.is_ok() {
                    let head: String = shown.chars().take(300).collect();
                    self.failures.push(format!(
                        "{:?} on {:?}: {head}",
                        self.role, self.state.screen
                    ));
                }
                self.answers.insert(kind);
            }
            queue.extend(update(&mut self.state, action));
        }
    }

    fn visit(&mut self) {
        let screen = self.state.screen;
        assert!(
            roles::shows(self.role, screen),
            "{:?} reached {screen:?}",
            self.role
        );
        self.visited.insert(format!("{screen:?}"));
    }

    /// Runs `command` if it is offered here; one that is not must send nothing.
    async fn run(&mut self, command: Command) {
        if works_here(&self.state, command) {
            let effects = run_command(&mut self.state, command);
            // A dialog it opened (a filter, signing) is not part of the walk.
            self.state.dialog = None;
            self.settle(effects).await;
            self.visit();
        } else if !roles::allows(self.role, command) {
            let effects = run_command(&mut self.state, command);
            assert!(
                !effects.iter().any(|e| matches!(e, Effect::Call { .. })),
                "{:?} is not offered {command:?} yet it sent {effects:?}",
                self.role
            );
        }
    }

    /// Sends `key` to the workstation and runs what it asks for.
    async fn press(&mut self, code: KeyCode) {
        let effects = update(
            &mut self.state,
            Action::Key(KeyEvent::new(code, KeyModifiers::NONE)),
        );
        self.settle(effects).await;
    }

    /// The slot the open patient form has the focus on.
    fn focused(&self) -> Option<Slot> {
        match &self.state.dialog {
            Some(Dialog::PatientForm(form)) => Some(form.focused()),
            _ => None,
        }
    }

    /// Tabs to `slot` of the open patient form; false if the form has none.
    async fn tab_to(&mut self, slot: Slot) -> bool {
        for _ in 0..20 {
            match self.focused() {
                Some(focused) if focused == slot => return true,
                Some(_) => self.press(KeyCode::Tab).await,
                None => return false,
            }
        }
        false
    }

    /// Types `text` into `slot` of the open patient form.
    async fn fill(&mut self, slot: Slot, text: &str) {
        assert!(self.tab_to(slot).await, "{:?}: no {slot:?}", self.role);
        for c in text.chars() {
            self.press(KeyCode::Char(c)).await;
        }
    }

    /// Registers `name` with every field of a new patient through the form, as typed: `n`,
    /// the fields, Enter. The form must close, the patient registered.
    async fn register(&mut self, name: &str) {
        assert!(works_here(&self.state, Command::RegisterPatient));
        let effects = run_command(&mut self.state, Command::RegisterPatient);
        self.settle(effects).await;
        self.fill(Slot::FullName, name).await;
        self.fill(Slot::DateOfBirth, "1979-03-04").await;
        self.fill(Slot::Phone, "+44 131 496 0000").await;
        self.fill(Slot::Email, "walk.in@example.test").await;
        self.fill(Slot::Address, "4 Mill Lane, Leith").await;
        self.fill(Slot::ReferredBy, "Dr R. Nair (GP)").await;
        self.fill(Slot::IllnessDuration, "3 weeks").await;
        assert!(self.tab_to(Slot::AllergyStatus).await);
        self.press(KeyCode::Right).await;
        self.press(KeyCode::Right).await;
        self.fill(Slot::Allergies, "Penicillin / rash / moderate")
            .await;
        self.fill(Slot::Alerts, "Lives alone; Fall risk").await;
        self.fill(
            Slot::Symptoms,
            "Low mood / moderate / daily / 2 months / mornings",
        )
        .await;
        self.press(KeyCode::Enter).await;
        assert!(
            self.state.dialog.is_none(),
            "{:?}: the form stays open: {:?}",
            self.role,
            self.state.dialog
        );
        self.visit();
    }

    /// Changes the selected patient's phone through the form: `e`, the phone, Enter.
    async fn change_phone(&mut self) {
        assert!(works_here(&self.state, Command::EditPatient));
        let effects = run_command(&mut self.state, Command::EditPatient);
        self.settle(effects).await;
        assert!(self.tab_to(Slot::Phone).await);
        for _ in 0..40 {
            self.press(KeyCode::Backspace).await;
        }
        self.fill(Slot::Phone, "+44 131 496 0199").await;
        self.press(KeyCode::Enter).await;
        assert!(
            self.state.dialog.is_none(),
            "{:?}: the change stays open: {:?}",
            self.role,
            self.state.dialog
        );
        self.visit();
    }

    /// Searches for `text` through the search overlay, if search is offered here.
    async fn search(&mut self, text: &str) {
        if !works_here(&self.state, Command::Search) {
            return;
        }
        let mut effects = run_command(&mut self.state, Command::Search);
        for c in text.chars() {
            let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            effects.extend(update(&mut self.state, Action::Key(key)));
        }
        self.settle(effects).await;
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        let effects = update(&mut self.state, Action::Key(enter));
        self.settle(effects).await;
        self.visit();
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        let effects = update(&mut self.state, Action::Key(esc));
        self.settle(effects).await;
    }

    async fn walk(&mut self) {
        self.search("Ro").await;
        for command in WALK {
            self.run(*command).await;
        }
        assert!(self.failures.is_empty(), "{:#?}", self.failures);
    }
}

#[tokio::test]
async fn each_role_is_offered_only_calls_that_answer() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@roles.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Rosalind Roe").await;
    server.consultation_report(&doctor, &patient, NOTES).await;
    let doctor_session = doctor.clone();
    server.user("rec@roles.test", Role::Receptionist).await;
    server.user("adm@roles.test", Role::Admin).await;

    // More audit rows than the audit browser's page, so it pages by cursor for real.
    for _ in 0..60 {
        server
            .get(&format!("/api/v1/patients/{patient}"), &doctor)
            .await
            .expect(200);
    }

    let mut doctor = Workstation::log_in(&server, "doc@roles.test", Role::Doctor).await;
    doctor.walk().await;
    doctor.register("Rory Walker").await;
    assert!(doctor.failures.is_empty(), "{:#?}", doctor.failures);
    for screen in ["Patients", "Chart", "Reports", "Report", "Stats", "Running"] {
        assert!(doctor.visited.contains(screen), "{:?}", doctor.visited);
    }
    for answer in [
        "Patients", "Search", "Patient", "Reports", "Report", "Stats",
    ] {
        assert!(doctor.answers.contains(answer), "{:?}", doctor.answers);
    }

    let mut front_desk = Workstation::log_in(&server, "rec@roles.test", Role::Receptionist).await;
    front_desk.walk().await;
    assert_eq!(front_desk.visited, BTreeSet::from(["Patients".to_string()]));
    // Every doctor's patients, and search over them.
    assert_eq!(
        front_desk.answers,
        BTreeSet::from(["Login".to_string(), "Patients".into(), "Search".into()])
    );
    assert_eq!(front_desk.state.patients.rows.items.len(), 2);
    // The front desk registers a patient with every field for the doctor, and changes a
    // patient's contacts: what its hint bar offers answers, none 403.
    front_desk.register("Wanda Walkin").await;
    front_desk.change_phone().await;
    assert!(front_desk.failures.is_empty(), "{:#?}", front_desk.failures);
    for answer in ["Doctors", "Duplicates", "PatientSaved"] {
        assert!(
            front_desk.answers.contains(answer),
            "{answer}: {:?}",
            front_desk.answers
        );
    }
    assert_eq!(front_desk.visited, BTreeSet::from(["Patients".to_string()]));
    // The server has what the form sent, clinical fields and all.
    let registered = server
        .get("/api/v1/patients/search/?q=Wanda", &doctor_session)
        .await;
    registered.expect(200);
    let id = registered.data()["items"][0]["id"]
        .as_str()
        .expect("the registered patient")
        .to_string();
    let chart = server
        .get(&format!("/api/v1/patients/{id}"), &doctor_session)
        .await;
    chart.expect(200);
    let chart = chart.data();
    assert_eq!(chart["illness_duration"]["unit"], "weeks");
    assert_eq!(chart["allergies"]["status"], "known");
    assert_eq!(chart["allergies"]["items"][0]["substance"], "Penicillin");
    assert_eq!(chart["alerts"][1], "Fall risk");
    assert_eq!(chart["symptoms"][0]["duration"]["unit"], "months");
    assert_eq!(chart["address"], "4 Mill Lane, Leith");
    assert_eq!(chart["referred_by"], "Dr R. Nair (GP)");

    let mut admin = Workstation::log_in(&server, "adm@roles.test", Role::Admin).await;
    admin.walk().await;
    assert_eq!(
        admin.visited,
        BTreeSet::from(["Users".to_string(), "Audit".into()])
    );
    assert_eq!(
        admin.answers,
        BTreeSet::from(["Login".to_string(), "Users".into(), "Audit".into()])
    );

    // The audit browser pages by the server's cursors, forward and back, while each page
    // read writes a row of its own.
    admin.run(Command::GoAudit).await;
    let first: Vec<_> = audit_ids(&admin);
    assert_eq!(first.len(), 50, "a full first page");
    admin.run(Command::NextPage).await;
    let page = admin.state.audit.rows.ready().expect("the second page");
    assert_eq!(page.pagination.offset, 50);
    assert!(admin.state.audit.cursor.is_some(), "paged by cursor");
    let second = audit_ids(&admin);
    assert!(!second.is_empty());
    assert!(
        second.iter().all(|id| !first.contains(id)),
        "a row of the first page repeats on the second"
    );
    admin.run(Command::PreviousPage).await;
    assert!(admin.state.audit.cursor.is_none());
    assert_eq!(admin.state.audit.rows.ready().unwrap().pagination.offset, 0);
    assert!(admin.failures.is_empty(), "{:#?}", admin.failures);
}

/// The ids of the audit rows the browser shows.
fn audit_ids(workstation: &Workstation) -> Vec<uuid::Uuid> {
    workstation
        .state
        .audit
        .rows
        .ready()
        .map(|page| page.items.iter().map(|e| e.id).collect())
        .unwrap_or_default()
}
