//! The role matrix of the workstation against a real server: for each role, log in through the
//! workstation's own state machine (`update`, its effects run by the `Runner` on the typed
//! client), walk every screen and command the role is offered, and check that each call behind
//! them answers without 403 (without failing at all), that no screen outside the role's is
//! reached, and that a command the role is not offered sends no call.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{PASSWORD, TestServer};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use synapse::client::{ApiClient, ClientConfig};
use synapse::model::auth::Role;
use synapse::tui::action::{Action, Timer};
use synapse::tui::effect::{Call, Effect, Runner};
use synapse::tui::keymap::Command;
use synapse::tui::roles;
use synapse::tui::screens::works_here;
use synapse::tui::state::{SessionInfo, Settings, State};
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
    server.user("rec@roles.test", Role::Receptionist).await;
    server.user("adm@roles.test", Role::Admin).await;

    let mut doctor = Workstation::log_in(&server, "doc@roles.test", Role::Doctor).await;
    doctor.walk().await;
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
    assert_eq!(front_desk.state.patients.rows.items.len(), 1);

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
}
