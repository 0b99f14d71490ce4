//! A model-based property test of ownership against the real server (SQLite, or PostgreSQL
//! with `SYNAPSE_TEST_ENGINE=postgres`): 2–5 doctors, a receptionist and an administrator perform
//! random sequences of the API's operations, and a model of who owns what follows along. After
//! every step, for every doctor, the patient list and search, the report list and statistics,
//! and the live events the doctor has received hold that doctor's records and nothing else; a
//! chart, report or export of another doctor's patient answers 404; and the audit trail holds
//! exactly one row for each request each account made.
//!
//! The server lives for the whole run, so the model accumulates across cases: every check holds
//! in any state. Cases are bounded; a failing sequence is shrunk and kept in
//! `tests/api_model.proptest-regressions`, which is committed and replayed first.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{PASSWORD, Reply, Session, TestServer, test_config};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};
use synapse::client::{ApiClient, ClientConfig};
use synapse::model::auth::Role;
use synapse::model::event::Event;

const DOCTORS: usize = 5;
/// Every patient's name starts with this, so one search term reaches all of them.
const SURNAME: &str = "Quillfeather";
const NOTES: &str = "History: low mood for 3 weeks\nAssessment: moderate depressive episode\n\
                     Plan: review in 2 weeks";

/// One step of a sequence. Indexes pick among what exists when the step runs (modulo), so any
/// sequence is valid whatever came before it.
#[derive(Debug, Clone)]
enum Op {
    /// A doctor registers a patient of their own.
    Register { doctor: usize },
    /// The receptionist registers a patient for a doctor.
    RegisterAtDesk { doctor: usize },
    /// A doctor starts a consultation with one of their patients, or (`own` false) with
    /// any patient, perhaps another doctor's.
    Start {
        doctor: usize,
        patient: usize,
        own: bool,
    },
    /// A doctor stops one of their running consultations, or (`own` false) any running one.
    Stop {
        doctor: usize,
        consultation: usize,
        own: bool,
    },
    /// A doctor opens some patient's chart.
    Chart { doctor: usize, patient: usize },
    /// A doctor opens some report.
    Report { doctor: usize, report: usize },
    /// A doctor exports some patient's record as Markdown.
    Export { doctor: usize, patient: usize },
    /// The administrator reads the audit trail.
    Audit,
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..DOCTORS;
    let pick = 0usize..64;
    prop_oneof![
        3 => who.clone().prop_map(|doctor| Op::Register { doctor }),
        1 => who.clone().prop_map(|doctor| Op::RegisterAtDesk { doctor }),
        4 => (who.clone(), pick.clone(), any::<bool>())
            .prop_map(|(doctor, patient, own)| Op::Start { doctor, patient, own }),
        4 => (who.clone(), pick.clone(), any::<bool>())
            .prop_map(|(doctor, consultation, own)| Op::Stop { doctor, consultation, own }),
        2 => (who.clone(), pick.clone()).prop_map(|(doctor, patient)| Op::Chart { doctor, patient }),
        2 => (who.clone(), pick.clone()).prop_map(|(doctor, report)| Op::Report { doctor, report }),
        1 => (who, pick).prop_map(|(doctor, patient)| Op::Export { doctor, patient }),
        1 => Just(Op::Audit),
    ]
}

#[derive(Debug, Clone)]
struct Patient {
    id: String,
    mrn: String,
    owner: usize,
}

#[derive(Debug, Clone)]
struct Consultation {
    id: String,
    owner: usize,
    patient: String,
    running: bool,
}

/// Who owns what, as the test has made it.
#[derive(Debug, Default)]
struct Model {
    patients: Vec<Patient>,
    consultations: Vec<Consultation>,
    /// Report id and its doctor.
    reports: Vec<(String, usize)>,
}

impl Model {
    fn patients_of(&self, doctor: usize) -> BTreeSet<String> {
        self.patients
            .iter()
            .filter(|p| p.owner == doctor)
            .map(|p| p.id.clone())
            .collect()
    }

    fn reports_of(&self, doctor: usize) -> BTreeSet<String> {
        self.reports
            .iter()
            .filter(|(_, owner)| *owner == doctor)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn consultations_of(&self, doctor: usize) -> BTreeSet<String> {
        self.consultations
            .iter()
            .filter(|c| c.owner == doctor)
            .map(|c| c.id.clone())
            .collect()
    }
}

/// The server, its accounts, the model and what each account has asked.
struct World {
    server: TestServer,
    doctors: Vec<Session>,
    desk: Session,
    admin: Session,
    model: Mutex<Model>,
    /// Requests each account made (by user id) that the audit trail must hold a row for.
    requests: Mutex<HashMap<String, i64>>,
    /// The audit rows each account had before the run.
    baseline: HashMap<String, i64>,
    /// Events each doctor's open stream has received.
    events: Vec<Arc<Mutex<Vec<Event>>>>,
    /// A number for unique names.
    serial: Mutex<u64>,
}

type Checked = Result<(), TestCaseError>;

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

impl World {
    async fn start() -> World {
        let mut config = test_config();
        // Keeps the streams busy, so none goes quiet and reconnects during the run.
        config.events.heartbeat = Duration::from_millis(200);
        let server = TestServer::start_with(config).await;
        let mut doctors = Vec::new();
        let mut events = Vec::new();
        for n in 0..DOCTORS {
            let email = format!("doctor{n}@model.test");
            doctors.push(server.login_new(&email, Role::Doctor).await);
            let client = ApiClient::new(&ClientConfig::new(&server.base)).expect("a client");
            client.login(&email, PASSWORD).await.expect("login");
            let received = Arc::new(Mutex::new(Vec::new()));
            let sink = received.clone();
            tokio::spawn(async move {
                let mut stream = client.events(None);
                // The stream reconnects by itself; an error is a pause, not the end.
                loop {
                    match stream.next().await {
                        Ok(event) => sink.lock().unwrap().push(event),
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
            });
            events.push(received);
        }
        let desk = server
            .login_new("desk@model.test", Role::Receptionist)
            .await;
        let admin = server.login_new("admin@model.test", Role::Admin).await;
        let mut world = World {
            server,
            doctors,
            desk,
            admin,
            model: Mutex::new(Model::default()),
            requests: Mutex::new(HashMap::new()),
            baseline: HashMap::new(),
            events,
            serial: Mutex::new(0),
        };
        let accounts: Vec<String> = world.accounts().map(|s| s.user_id.clone()).collect();
        for user in accounts {
            let rows = world.audit_rows(&user).await;
            world.baseline.insert(user, rows);
        }
        world
    }

    fn accounts(&self) -> impl Iterator<Item = &Session> {
        self.doctors.iter().chain([&self.desk, &self.admin])
    }

    /// A request as `who`, counted for the audit check.
    async fn call(&self, who: &Session, method: Method, path: &str, body: Option<Value>) -> Reply {
        *self
            .requests
            .lock()
            .unwrap()
            .entry(who.user_id.clone())
            .or_default() += 1;
        self.server
            .call(method, path, Some(&who.access_token), body)
            .await
    }

    async fn get(&self, who: &Session, path: &str) -> Reply {
        self.call(who, Method::GET, path, None).await
    }

    /// The rows of the account's own requests (not its sign-ins or its event stream, which the
    /// streams' own client makes as it likes).
    async fn audit_rows(&self, user: &str) -> i64 {
        self.server
            .sql_count(
                "SELECT COUNT(*) FROM audit_events WHERE CAST(user_id AS TEXT) = $1 \
                 AND action NOT LIKE 'auth.%' AND action NOT LIKE 'events.%'",
                &[user],
            )
            .await
    }

    fn next_name(&self) -> String {
        let mut serial = self.serial.lock().unwrap();
        *serial += 1;
        // Letters only: a name is letters, spaces and a few marks.
        let suffix: String = serial
            .to_string()
            .chars()
            .map(|d| (b'a' + d.to_digit(10).unwrap_or(0) as u8) as char)
            .collect();
        format!("{SURNAME} Case{suffix}")
    }

    async fn register(&self, doctor: usize, at_desk: bool) -> Checked {
        let mut body =
            json!({"full_name": self.next_name(), "date_of_birth": "1975-05-06", "sex": "male"});
        let who = if at_desk {
            body["doctor_id"] = json!(self.doctors[doctor].user_id);
            &self.desk
        } else {
            &self.doctors[doctor]
        };
        let reply = self
            .call(who, Method::POST, "/api/v1/patients", Some(body))
            .await;
        if reply.status != 201 {
            return Err(fail(format!(
                "registration answered {}: {}",
                reply.status, reply.body
            )));
        }
        self.model.lock().unwrap().patients.push(Patient {
            id: reply.data()["id"].as_str().unwrap_or_default().to_string(),
            mrn: reply.data()["mrn"].as_str().unwrap_or_default().to_string(),
            owner: doctor,
        });
        Ok(())
    }

    async fn start_consultation(&self, doctor: usize, patient: usize, own: bool) -> Checked {
        let patients: Vec<Patient> = self
            .model
            .lock()
            .unwrap()
            .patients
            .iter()
            .filter(|p| !own || p.owner == doctor)
            .cloned()
            .collect();
        let Some(patient) = pick(&patients, patient) else {
            return Ok(());
        };
        let reply = self
            .call(
                &self.doctors[doctor],
                Method::POST,
                "/api/v1/consultation/start",
                Some(json!({"patient_id": patient.id, "session_type": "follow_up"})),
            )
            .await;
        let running = self
            .model
            .lock()
            .unwrap()
            .consultations
            .iter()
            .any(|c| c.patient == patient.id && c.running);
        match (patient.owner == doctor, reply.status.as_u16()) {
            (true, 201) if !running => {
                self.model.lock().unwrap().consultations.push(Consultation {
                    id: reply.data()["id"].as_str().unwrap_or_default().to_string(),
                    owner: doctor,
                    patient: patient.id,
                    running: true,
                });
                Ok(())
            }
            (true, 409) if running => Ok(()),
            (false, 404) => Ok(()),
            (owner, status) => Err(fail(format!(
                "start by doctor {doctor} (owner: {owner}, running: {running}) answered {status}: {}",
                reply.body
            ))),
        }
    }

    async fn stop_consultation(&self, doctor: usize, consultation: usize, own: bool) -> Checked {
        let running: Vec<Consultation> = self
            .model
            .lock()
            .unwrap()
            .consultations
            .iter()
            .filter(|c| c.running && (!own || c.owner == doctor))
            .cloned()
            .collect();
        let Some(consultation) = pick(&running, consultation) else {
            return Ok(());
        };
        let reply = self
            .call(
                &self.doctors[doctor],
                Method::POST,
                &format!("/api/v1/consultation/{}/stop", consultation.id),
                Some(json!({"notes": NOTES})),
            )
            .await;
        match (consultation.owner == doctor, reply.status.as_u16()) {
            (true, 200) => {
                let report = reply.data()["report_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let mut model = self.model.lock().unwrap();
                model.reports.push((report, doctor));
                if let Some(c) = model
                    .consultations
                    .iter_mut()
                    .find(|c| c.id == consultation.id)
                {
                    c.running = false;
                }
                Ok(())
            }
            (false, 404) => Ok(()),
            (owner, status) => Err(fail(format!(
                "stop by doctor {doctor} (owner: {owner}) answered {status}: {}",
                reply.body
            ))),
        }
    }

    /// A read of one record: 200 for its doctor, 404 for every other.
    async fn read(
        &self,
        doctor: usize,
        path: String,
        owner: usize,
        what: &str,
    ) -> Result<Reply, TestCaseError> {
        let reply = self.get(&self.doctors[doctor], &path).await;
        let expected = if owner == doctor { 200 } else { 404 };
        if reply.status != expected {
            return Err(fail(format!(
                "{what} of doctor {owner}'s record by doctor {doctor} answered {}, not {expected}",
                reply.status
            )));
        }
        Ok(reply)
    }

    async fn step(&self, op: &Op, doctors: usize) -> Checked {
        let d = |n: &usize| n % doctors;
        match op {
            Op::Register { doctor } => self.register(d(doctor), false).await,
            Op::RegisterAtDesk { doctor } => self.register(d(doctor), true).await,
            Op::Start {
                doctor,
                patient,
                own,
            } => self.start_consultation(d(doctor), *patient, *own).await,
            Op::Stop {
                doctor,
                consultation,
                own,
            } => self.stop_consultation(d(doctor), *consultation, *own).await,
            Op::Chart { doctor, patient } => {
                let Some(patient) = pick(&self.model.lock().unwrap().patients, *patient) else {
                    return Ok(());
                };
                let path = format!("/api/v1/patients/{}", patient.id);
                self.read(d(doctor), path, patient.owner, "the chart")
                    .await
                    .map(drop)
            }
            Op::Report { doctor, report } => {
                let Some((id, owner)) = pick(&self.model.lock().unwrap().reports, *report) else {
                    return Ok(());
                };
                self.read(
                    d(doctor),
                    format!("/api/v1/reports/{id}"),
                    owner,
                    "the report",
                )
                .await
                .map(drop)
            }
            Op::Export { doctor, patient } => {
                let Some(patient) = pick(&self.model.lock().unwrap().patients, *patient) else {
                    return Ok(());
                };
                let path = format!("/api/v1/patients/{}/export?format=md", patient.id);
                let reply = self
                    .read(d(doctor), path, patient.owner, "the export")
                    .await?;
                if reply.status == 200 {
                    let text = reply.body.as_str().unwrap_or_default().to_string();
                    let others: Vec<String> = self
                        .model
                        .lock()
                        .unwrap()
                        .patients
                        .iter()
                        .filter(|p| p.id != patient.id && text.contains(&p.mrn))
                        .map(|p| p.mrn.clone())
                        .collect();
                    if !text.contains(&patient.mrn) || !others.is_empty() {
                        return Err(fail(format!(
                            "the export of {} holds other patients: {others:?}",
                            patient.mrn
                        )));
                    }
                }
                Ok(())
            }
            Op::Audit => {
                let reply = self.get(&self.admin, "/api/v1/admin/audit?limit=20").await;
                if reply.status != 200 {
                    return Err(fail(format!("the audit query answered {}", reply.status)));
                }
                Ok(())
            }
        }
    }

    /// Every item of a cursor-paged list, by id.
    async fn all_ids(&self, who: &Session, path: &str) -> Result<BTreeSet<String>, TestCaseError> {
        let mut ids = BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                Some(cursor) => format!("{path}&cursor={cursor}"),
                None => path.to_string(),
            };
            let reply = self.get(who, &page).await;
            if reply.status != 200 {
                return Err(fail(format!(
                    "{page} answered {}: {}",
                    reply.status, reply.body
                )));
            }
            for item in reply.data()["items"].as_array().into_iter().flatten() {
                ids.insert(item["id"].as_str().unwrap_or_default().to_string());
            }
            match reply.data()["pagination"]["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return Ok(ids),
            }
        }
    }

    /// What every doctor sees is theirs, all of it, and nothing else; the trail has a row for
    /// every request.
    async fn check(&self, doctors: usize) -> Checked {
        for doctor in 0..doctors {
            let who = &self.doctors[doctor];
            let (patients, reports, consultations) = {
                let model = self.model.lock().unwrap();
                (
                    model.patients_of(doctor),
                    model.reports_of(doctor),
                    model.consultations_of(doctor),
                )
            };
            let listed = self
                .all_ids(who, "/api/v1/patients/list/?limit=100")
                .await?;
            if listed != patients {
                return Err(fail(format!(
                    "doctor {doctor}'s patient list: {} listed, {} theirs, extra {:?}",
                    listed.len(),
                    patients.len(),
                    listed.difference(&patients).collect::<Vec<_>>()
                )));
            }
            let found = self
                .get(
                    who,
                    &format!("/api/v1/patients/search/?q={SURNAME}&limit=50"),
                )
                .await;
            for item in found.data()["items"].as_array().into_iter().flatten() {
                let id = item["id"].as_str().unwrap_or_default();
                if !patients.contains(id) {
                    return Err(fail(format!(
                        "doctor {doctor}'s search found another's patient {id}"
                    )));
                }
            }
            let listed = self.all_ids(who, "/api/v1/reports/list?limit=100").await?;
            if listed != reports {
                return Err(fail(format!(
                    "doctor {doctor}'s report list: {} listed, {} theirs",
                    listed.len(),
                    reports.len()
                )));
            }
            let stats = self.get(who, "/api/v1/reports/stats").await;
            if stats.data()["total"].as_u64() != Some(reports.len() as u64) {
                return Err(fail(format!(
                    "doctor {doctor}'s statistics count {} reports, not {}",
                    stats.data()["total"],
                    reports.len()
                )));
            }
            for event in self.events[doctor].lock().unwrap().iter() {
                let theirs = event
                    .patient_id
                    .is_none_or(|id| patients.contains(&id.to_string()))
                    && event
                        .report_id
                        .is_none_or(|id| reports.contains(&id.to_string()))
                    && event
                        .consultation_id
                        .is_none_or(|id| consultations.contains(&id.to_string()));
                if !theirs {
                    return Err(fail(format!(
                        "doctor {doctor} heard of another's record: {event:?}"
                    )));
                }
            }
        }
        let expected = self.requests.lock().unwrap().clone();
        for account in self.accounts() {
            let made = expected.get(&account.user_id).copied().unwrap_or(0);
            let rows = self.audit_rows(&account.user_id).await - self.baseline[&account.user_id];
            if rows != made {
                return Err(fail(format!(
                    "{} made {made} requests and the audit trail holds {rows} rows of them",
                    account.email
                )));
            }
        }
        Ok(())
    }

    async fn run(&self, doctors: usize, ops: &[Op]) -> Checked {
        for op in ops {
            self.step(op, doctors).await?;
            if let Err(e) = self.check(doctors).await {
                eprintln!("the check failed after {op:?} (doctors: {doctors}): {e}");
                return Err(e);
            }
        }
        Ok(())
    }
}

fn pick<T: Clone>(items: &[T], index: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[index % items.len()].clone())
}

#[test]
fn random_work_never_shows_a_doctor_anothers_records_and_every_access_is_audited() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let world = runtime.block_on(World::start());
    let mut runner = TestRunner::new(Config {
        cases: 16,
        max_shrink_iters: 200,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    let sequences = (2usize..=DOCTORS, prop::collection::vec(op(), 1..16));
    let result = runner.run(&sequences, |(doctors, ops)| {
        runtime.block_on(world.run(doctors, &ops))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let model = world.model.lock().unwrap();
    eprintln!(
        "{} patients, {} consultations, {} reports",
        model.patients.len(),
        model.consultations.len(),
        model.reports.len()
    );
}
