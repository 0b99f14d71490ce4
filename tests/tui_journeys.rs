//! The workstation as a doctor uses it: the real `synapse` binary in a pseudo-terminal of
//! 120×40 (`TERM=xterm-256color`), its output fed to a vt100 parser, against a real
//! `synapse serve --demo` started as a child process. Each journey types keys the way a terminal
//! sends them and waits (bounded) for what the screen must show; on a timeout the test fails
//! with the screen as it was.
//!
//! Journeys: log in; search by part of a name and open the chart (banner with name, birth date,
//! MRN, allergy state); a consultation from start to a signed report (checked through the API);
//! lock and unlock; `G` pages the report browser to the last of its reports, End the patient
//! list to its last patient; quitting with `q` and with Ctrl-C from a dialog leaves the terminal
//! restored; SIGTERM exits, restores the terminal and logs the session out (checked in the audit
//! trail); SIGHUP signs out too, and `synapse whoami` then says what happened and what to run;
//! Ctrl-L locks from inside the draft editor and the sign dialog and brings them back; a report
//! changed through the API while the doctor reads it is not signed unseen; SIGHUP sends the notes
//! typed since the last save; two workstations as the same doctor: when one stops a
//! consultation, the other's report list shows the new report within 2 s, no key pressed; the
//! worklists (running consultations, drafts awaiting signature, recent patients) and the
//! palette's jump by MRN; stopping with empty notes asks first, and the failed report is
//! written by hand (a section and a diagnosis row) and signed; an administrator unlocks a
//! locked doctor, who can then log in, and exports the audit trail's lockouts to a file; a
//! receptionist registers a patient for a doctor picked from the list, is asked before
//! registering the same name and birth date again, and the doctor then finds the patient by
//! search; the server is restarted while the doctor types consultation notes, and the
//! workstation saves what was typed while it was away, opens its event stream again and stops
//! the consultation in the same session; `x` on a chart and on a report writes PDFs named by
//! MRN and date (never the name) whose every page carries the banner, read back with pdftotext;
//! a doctor whose role needs a second factor is taken to its setup at login, which draws the
//! secret's QR code and the secret; a wrong code is said on the field, the app's code (computed
//! from the secret read off the screen) turns it on, the recovery codes show, Enter reaches the
//! patient list in the same session, and the next login asks for a code, which one of those
//! recovery codes answers.
#![cfg(unix)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};
use serde_json::{Value, json};

mod common;

use common::served::{BIN, Served, is_synapse_var};

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// The longest any one expected screen may take to appear (bounded; generous for shared CI).
const WAIT: Duration = Duration::from_secs(30);
/// The longest the demo server may take to answer `/health`.
const SERVE_WAIT: Duration = Duration::from_secs(60);
const DOCTOR: &str = "doc@demo.com";
const ADMIN: &str = "adm@demo.com";
const RECEPTIONIST: &str = "rec@demo.com";
const PASSWORD: &str = "password123";

const ENTER: &str = "\r";
const TAB: &str = "\t";
const ESC: &str = "\x1b";
const RIGHT: &str = "\x1b[C";
const CTRL_C: &str = "\x03";
const CTRL_L: &str = "\x0c";
const CTRL_S: &str = "\x13";

/// An HTTP client for the API calls that arrange data and check outcomes.
fn http_client() -> reqwest::Client {
    common::served::http_client(Some(Duration::from_secs(20)))
}

/// A logged-in API session of one demo account, for arranging data and checking outcomes.
struct Api {
    http: reqwest::Client,
    served_base: String,
    token: String,
    user_id: String,
}

impl Api {
    async fn login(served: &Served, email: &str) -> Api {
        let http = http_client();
        let response = http
            .post(served.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login sent");
        let status = response.status();
        let body: Value = response.json().await.expect("login JSON");
        assert_eq!(status, 200, "login of {email}: {body:#}");
        Api {
            http,
            served_base: served.base.clone(),
            token: body["data"]["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            user_id: body["data"]["user"]["id"]
                .as_str()
                .expect("user.id")
                .to_string(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(
                method.clone(),
                format!("{}/api/v1{}", self.served_base, path),
            )
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        assert!(status.is_success(), "{method} {path} → {status}: {body:#}");
        body["data"].clone()
    }

    /// A fresh patient with no known allergies (no consultation, no reports, a name nobody
    /// else has): their id and MRN.
    async fn new_patient(&self, name: &str, date_of_birth: &str, sex: &str) -> (String, String) {
        let created = self
            .post(
                "/patients",
                json!({
                    "full_name": name,
                    "date_of_birth": date_of_birth,
                    "sex": sex,
                    "allergies": {"status": "none_known", "items": []},
                }),
            )
            .await;
        (
            created["id"].as_str().unwrap().to_string(),
            created["mrn"].as_str().unwrap().to_string(),
        )
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

/// The workstation in a pseudo-terminal. A reader thread feeds everything it writes to a vt100
/// parser; dropping it (also on a panic) ends the process.
struct Workstation {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Set when the terminal's output side reached its end (the process and its pty are gone).
    closed: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Drop for Workstation {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Workstation {
    /// `synapse --server <served> --token-store memory`, with a home and config of its own.
    fn start(dir: &Path, served: &Served) -> Workstation {
        Workstation::start_with_store(dir, served, "memory")
    }

    /// `synapse --server <served> --token-store <store>`, with a home and config of its own.
    fn start_with_store(dir: &Path, served: &Served, store: &str) -> Workstation {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut command = CommandBuilder::new(BIN);
        command.args(["--server", &served.base, "--token-store", store]);
        for (name, _) in std::env::vars_os() {
            if is_synapse_var(&name) {
                command.env_remove(&name);
            }
        }
        let home = dir.join("workstation-home");
        std::fs::create_dir_all(&home).expect("home directory");
        command.env("SYNAPSE_CONFIG", dir.join("no-such-config.toml"));
        command.env("HOME", &home);
        command.env("XDG_CONFIG_HOME", home.join("config"));
        command.env("XDG_DATA_HOME", home.join("data"));
        command.env("TERM", "xterm-256color");
        command.cwd(&home);
        let child = pair.slave.spawn_command(command).expect("spawn synapse");
        // Only the child holds the terminal side now, so its end is the reader's end of input.
        drop(pair.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            ROWS.try_into().unwrap(),
            COLS.try_into().unwrap(),
            0,
        )));
        let closed = Arc::new(AtomicBool::new(false));
        let mut output = pair.master.try_clone_reader().expect("pty reader");
        let reader = {
            let parser = Arc::clone(&parser);
            let closed = Arc::clone(&closed);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                loop {
                    match output.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => parser.lock().unwrap().process(&buffer[..n]),
                    }
                }
                closed.store(true, Ordering::SeqCst);
            })
        };
        let writer = pair.master.take_writer().expect("pty writer");
        Workstation {
            child,
            writer,
            parser,
            closed,
            reader: Some(reader),
            _master: pair.master,
        }
    }

    fn pid(&self) -> u32 {
        self.child.process_id().expect("the workstation's pid")
    }

    /// Types `keys` as the terminal would send them.
    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
    }

    /// Types text one key at a time, as a person does (an escape sequence is never split).
    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let key = if c == '\n' {
                ENTER.to_string()
            } else {
                c.to_string()
            };
            self.send(&key);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The screen's text, one line per row.
    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    /// Waits (at most `WAIT`) until the screen's text satisfies `check`; returns that text.
    /// Fails with the screen when it never does.
    fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_within(WAIT, what, check)
    }

    /// Like `wait_for`, within `within` rather than `WAIT`.
    fn wait_within(&self, within: Duration, what: &str, check: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            if started.elapsed() > within {
                panic!("the screen never showed {what} within {within:?}; it shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `text` is on the screen.
    fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Waits (bounded) for the process to exit and for its last output to be parsed.
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > WAIT {
                panic!(
                    "the workstation did not exit within {WAIT:?}; the screen shows:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let started = Instant::now();
        while !self.closed.load(Ordering::SeqCst) {
            if started.elapsed() > WAIT {
                panic!("the terminal's output did not end within {WAIT:?} after the exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(reader) = self.reader.take() {
            reader.join().expect("reader thread");
        }
        status
    }

    /// Logs in as the demo doctor and waits for the patient list.
    fn log_in(&mut self) -> String {
        self.log_in_as(DOCTOR)
    }

    /// Logs in as the demo account `email` and waits for the patient list.
    fn log_in_as(&mut self, email: &str) -> String {
        self.wait_text("Log in to Synapse");
        assert!(
            self.alternate_screen(),
            "the workstation is not in the alternate screen"
        );
        self.type_text(email);
        self.send(TAB);
        self.type_text(PASSWORD);
        self.send(ENTER);
        self.wait_for("the patient list", |s| {
            s.contains("Patients ·") && s.contains("MRN-") && !s.contains("Log in to Synapse")
        })
    }

    /// Finds a patient by typing `term` into search and opens their chart; returns the chart.
    /// Waits for the patient among the results (a row with the MRN but not the list's
    /// "born (age)" form, which the list beneath the overlay may show too).
    fn open_chart(&mut self, term: &str, name: &str, mrn: &str) -> String {
        self.send("/");
        self.wait_text("Find a patient");
        self.type_text(term);
        self.wait_for("the patient in the results", |s| {
            s.lines()
                .any(|l| l.contains(name) && l.contains(mrn) && !shows_birth_and_age(l))
        });
        self.send(ENTER);
        self.wait_for("the chart", |s| banner_shows(s, name, mrn))
    }
}

/// Whether a line has the patient list's "1968-07-02 (57)" form of the birth date.
fn shows_birth_and_age(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.windows(12).any(|w| {
        let digits = |range: std::ops::Range<usize>| w[range].iter().all(u8::is_ascii_digit);
        digits(0..4)
            && w[4] == b'-'
            && digits(5..7)
            && w[7] == b'-'
            && digits(8..10)
            && &w[10..] == b" ("
    })
}

/// The line of the screen that has `needle`, if any.
fn line_with<'a>(screen: &'a str, needle: &str) -> Option<&'a str> {
    screen.lines().find(|line| line.contains(needle))
}

/// Whether the chart banner shows this patient: name, "born", the MRN, and an allergy state.
fn banner_shows(screen: &str, name: &str, mrn: &str) -> bool {
    let identity = screen
        .lines()
        .any(|l| l.contains(name) && l.contains("born") && l.contains(mrn));
    let allergies = ["Allergies not recorded", "No known allergies", "ALLERGY "]
        .iter()
        .any(|state| screen.contains(state));
    identity && allergies
}

#[tokio::test]
async fn log_in_search_open_a_chart_lock_unlock_and_quit_with_q() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let mut ws = Workstation::start(dir.path(), &served);

    // (1) Logging in shows the patient list.
    ws.log_in();

    // (2) `/` and part of a name: the results show a Smith.
    let found = api.get("/patients/search/?q=smi&limit=50").await;
    let found = found["items"].as_array().expect("search items").clone();
    assert!(
        found
            .iter()
            .any(|p| p["full_name"].as_str().unwrap().contains("Smith")),
        "the demo has no Smith to find: {found:#?}"
    );
    ws.send("/");
    ws.wait_text("Find a patient");
    ws.type_text("smi");
    // A result row of the search (not a row of the list behind it): name, age as "N y", MRN.
    let screen = ws.wait_for("a Smith among the search results", |s| {
        s.lines().any(|l| {
            found.iter().any(|p| {
                let name = p["full_name"].as_str().unwrap();
                name.contains("Smith")
                    && l.contains(name)
                    && l.contains(&format!("{} y", p["age"]))
                    && l.contains(p["mrn"].as_str().unwrap())
            })
        })
    });
    assert!(line_with(&screen, "/ smi").is_some(), "{screen}");

    // Enter opens the chart of the selected result.
    ws.send(ENTER);
    let screen = ws.wait_for("the chart banner of a search result", |s| {
        found.iter().any(|p| {
            banner_shows(
                s,
                p["full_name"].as_str().unwrap(),
                p["mrn"].as_str().unwrap(),
            )
        })
    });
    let patient = found
        .iter()
        .find(|p| {
            banner_shows(
                &screen,
                p["full_name"].as_str().unwrap(),
                p["mrn"].as_str().unwrap(),
            )
        })
        .unwrap();
    let name = patient["full_name"].as_str().unwrap().to_string();
    let mrn = patient["mrn"].as_str().unwrap().to_string();
    let dob = patient["date_of_birth"].as_str().unwrap();
    let banner = line_with(&screen, "born").unwrap();
    assert!(
        banner.contains(dob),
        "the banner has no birth date: {banner}"
    );
    assert!(
        !screen.contains("Find a patient"),
        "the search is still open:\n{screen}"
    );

    // (4) Ctrl-L locks: nothing of the patient is on the screen.
    ws.send(CTRL_L);
    let locked = ws.wait_text("Synapse is locked");
    assert!(
        !locked.contains(&name) && !locked.contains(&mrn) && !locked.contains("born"),
        "the lock screen shows the patient:\n{locked}"
    );
    // The password brings the doctor back to the same chart.
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_for("the same chart after unlocking", |s| {
        !s.contains("Synapse is locked") && banner_shows(s, &name, &mrn)
    });

    // (5) `q` goes back to the list, then quits from the top screen; the terminal is restored.
    ws.send("q");
    ws.wait_for("the patient list again", |s| {
        s.contains("Patients ·") && !s.contains("born")
    });
    assert!(ws.alternate_screen());
    ws.send("q");
    let status = ws.wait_exit();
    assert!(status.success(), "the workstation exited with {status:?}");
    assert!(
        !ws.alternate_screen(),
        "the terminal was left in the alternate screen:\n{}",
        ws.screen()
    );

    // (6) The session is in the workstation's log, in its data directory; the patients are not.
    let log_path = dir.path().join("workstation-home/data/synapse/synapse.log");
    let log = std::fs::read_to_string(&log_path)
        .unwrap_or_else(|e| panic!("no log at {}: {e}", log_path.display()));
    assert!(log.contains("workstation started"), "{log}");
    for patient in &found {
        let name = patient["full_name"].as_str().unwrap();
        assert!(!log.contains(name), "the log names a patient: {log}");
    }
}

#[tokio::test]
async fn a_consultation_ends_in_a_signed_report_and_ctrl_c_leaves_from_a_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    // A fresh patient: no running consultation, no reports, a name nobody else has.
    let name = "Quillon Zephyrkamp";
    let (patient_id, mrn) = api.new_patient(name, "1979-03-14", "male").await;

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("zephyrk", name, &mrn);
    let screen = ws.wait_for("the new patient's chart", |s| {
        s.contains("No reports for this patient.")
    });
    assert!(screen.contains("No known allergies"), "{screen}");

    // (3) `c`, Enter starts; the notes are typed with Enter between lines.
    ws.send("c");
    ws.wait_text("Start a consultation");
    ws.send(ENTER);
    ws.wait_text("● RUNNING");
    let notes = "History: cough for 2 weeks\nAssessment: viral bronchitis\nPlan: rest and fluids";
    ws.type_text(notes);
    ws.wait_for("the typed notes", |s| {
        notes.lines().all(|line| s.contains(line))
    });
    // Ctrl-S stops; the report is generated and followed until it is ready.
    ws.send(CTRL_S);
    ws.wait_text("report ready");
    ws.send(ENTER);
    ws.wait_for("the draft report", |s| {
        s.contains(" Report ") && s.contains("COMPLETED") && s.contains(name)
    });

    // `S`, Yes, the password: signed.
    ws.send("S");
    ws.wait_text("of this report?");
    ws.send(RIGHT);
    ws.send(ENTER);
    ws.wait_text("Enter your password to sign");
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_for("the signed report", |s| {
        s.contains("SIGNED")
            && s.contains("Signed by")
            && !s.contains("Enter your password to sign")
    });

    // The server agrees: the patient's one report is signed, by the doctor, from these notes.
    let reports = api
        .get(&format!("/reports/list?patient_id={patient_id}"))
        .await;
    let items = reports["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{reports:#}");
    let report_id = items[0]["id"].as_str().unwrap();
    let report = api.get(&format!("/reports/{report_id}")).await;
    assert_eq!(report["status"], "signed", "{report:#}");
    assert!(report["signed_at"].is_string(), "{report:#}");
    assert_eq!(
        report["signed_by"]["id"],
        api.user_id.as_str(),
        "{report:#}"
    );
    let consultation_id = report["consultation"]["id"].as_str().unwrap();
    let consultation = api.get(&format!("/consultation/{consultation_id}")).await;
    assert_eq!(consultation["status"], "completed");
    assert_eq!(consultation["notes"], notes, "{consultation:#}");

    // (5) Ctrl-C from a dialog exits too, with the terminal restored: back to the chart (Esc
    // twice: report → consultation → chart), `c` opens the start dialog, Ctrl-C.
    ws.send(ESC);
    ws.wait_for("the stopped consultation", |s| s.contains("Stopped after"));
    ws.send(ESC);
    ws.wait_for("the chart again", |s| {
        banner_shows(s, name, &mrn) && !s.contains("Stopped after")
    });
    ws.send("c");
    ws.wait_text("Start a consultation");
    ws.send(CTRL_C);
    let status = ws.wait_exit();
    assert!(status.success(), "the workstation exited with {status:?}");
    assert!(
        !ws.alternate_screen(),
        "the terminal was left in the alternate screen:\n{}",
        ws.screen()
    );
    // Leaving from the dialog started nothing.
    let active = api.get("/consultation/active").await;
    assert!(
        active["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["patient_id"] != patient_id.as_str()),
        "{active:#}"
    );
}

#[tokio::test]
async fn empty_notes_ask_before_stopping_and_the_failed_report_is_written_by_hand_and_signed() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let name = "Orlaith Vantongeren";
    let (patient_id, mrn) = api.new_patient(name, "1988-07-02", "female").await;

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("vantong", name, &mrn);
    ws.send("c");
    ws.wait_text("Start a consultation");
    ws.send(ENTER);
    ws.wait_text("● RUNNING");

    // Ctrl-S with no notes asks; any key but y keeps it running, y stops it.
    ws.send(CTRL_S);
    ws.wait_text("The notes are empty. Stop the consultation anyway?");
    ws.send("n");
    ws.wait_for("the consultation still running", |s| {
        s.contains("● RUNNING") && !s.contains("The notes are empty")
    });
    ws.send(CTRL_S);
    ws.wait_text("The notes are empty. Stop the consultation anyway?");
    ws.send("y");
    ws.wait_text("report generation failed");
    ws.send(ENTER);
    ws.wait_for("the failed report, saying what to do", |s| {
        s.contains("FAILED") && s.contains("Write it by hand: e opens the editor")
    });

    // Written by hand: the history, then a diagnosis as a row of fields.
    ws.send("e");
    ws.wait_text("Edit draft");
    ws.type_text("Seen in clinic; notes not taken.");
    for _ in 0..3 {
        ws.send(TAB);
    }
    ws.wait_text("None yet: Ctrl-N adds a diagnosis.");
    ws.send("\x0e");
    ws.type_text("F41.0");
    ws.send(ENTER);
    ws.type_text("Panic disorder");
    ws.wait_text("Panic disorder");
    ws.send(CTRL_S);
    ws.wait_for("the written report, a draft now", |s| {
        s.contains("COMPLETED") && s.contains("F41.0  Panic disorder") && !s.contains("Edit draft")
    });

    // And signed.
    ws.send("S");
    ws.wait_text("Sign version 2 of this report?");
    ws.send(RIGHT);
    ws.send(ENTER);
    ws.wait_text("Enter your password to sign");
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_for("the signed report", |s| {
        s.contains("SIGNED") && s.contains("Signed by")
    });
    let reports = api
        .get(&format!("/reports/list?patient_id={patient_id}"))
        .await;
    let report_id = reports["items"][0]["id"].as_str().unwrap().to_string();
    let report = api.get(&format!("/reports/{report_id}")).await;
    assert_eq!(report["status"], "signed", "{report:#}");
    assert_eq!(report["version"], 2, "{report:#}");
    assert_eq!(
        report["content"]["history"],
        "Seen in clinic; notes not taken."
    );
    assert_eq!(report["content"]["diagnoses"][0]["code"], "F41.0");
}

/// Every report of the caller, newest first, walked with the API's cursors.
async fn all_reports(api: &Api) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/reports/list?limit=100&cursor={c}"),
            None => "/reports/list?limit=100".to_string(),
        };
        let page = api.get(&path).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["pagination"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

#[tokio::test]
async fn g_pages_the_report_browser_to_the_last_of_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    // The browser's first page holds 50; the demo doctor has many more than 150.
    let reports = all_reports(&api).await;
    assert!(
        reports.len() > 150,
        "the demo doctor has only {} reports",
        reports.len()
    );
    let total = reports.len();
    let last = reports.last().unwrap();
    let last_mrn = last["patient"]["mrn"].as_str().unwrap().to_string();
    let last_date = last["created_at"].as_str().unwrap()[..10].to_string();
    let last_code = last["consultation"]["session_code"]
        .as_str()
        .unwrap()
        .to_string();

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.send("2");
    ws.wait_text(&format!("Reports · 50 of {total}"));
    // `G` walks the pages to the true last report: it is selected, drawn and previewed.
    ws.send("G");
    let screen = ws.wait_for("the last report selected and previewed", |s| {
        s.contains(&format!("Reports · {total} of {total}"))
            && s.lines()
                .any(|l| l.contains(&last_date) && l.contains(&last_mrn))
            && s.contains(&last_code)
    });
    assert!(!screen.contains("to end…"), "{screen}");
    // `k` from there is the report before it, `g` the newest again.
    ws.send("g");
    let newest = &reports[0];
    ws.wait_for("the newest report previewed again", |s| {
        s.contains(newest["consultation"]["session_code"].as_str().unwrap())
    });
    // The patient list's End reaches its true last row too.
    let patients = api.get("/patients/list/?limit=1").await;
    let patients = patients["pagination"]["total"].as_u64().unwrap();
    ws.send("q");
    ws.wait_text("Patients ·");
    ws.send("\x1b[F");
    ws.wait_text(&format!(
        "Patients · {patients} of {patients} · sorted by last visit "
    ));
    ws.send("q");
    assert!(ws.wait_exit().success());
}

#[tokio::test]
async fn sigterm_restores_the_terminal_and_logs_the_session_out() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let doctor = Api::login(&served, DOCTOR).await;
    let admin = Api::login(&served, ADMIN).await;
    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    assert!(ws.alternate_screen());

    let before = admin
        .get(&format!(
            "/admin/audit?action=auth.logout&user_id={}",
            doctor.user_id
        ))
        .await;
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        0,
        "a logout before the signal: {before:#}"
    );

    let pid = libc::pid_t::try_from(ws.pid()).unwrap();
    // SAFETY: kill(2) with a pid this test spawned and still waits for; it reads no memory.
    #[allow(unsafe_code)]
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
    let status = ws.wait_exit();
    assert!(status.success(), "the workstation exited with {status:?}");
    assert!(
        !ws.alternate_screen(),
        "the terminal was left in the alternate screen:\n{}",
        ws.screen()
    );

    // The workstation's session was ended on the server: the audit trail has its logout.
    let started = Instant::now();
    loop {
        let audit = admin
            .get(&format!(
                "/admin/audit?action=auth.logout&user_id={}",
                doctor.user_id
            ))
            .await;
        let items = audit["items"].as_array().unwrap();
        if items
            .iter()
            .any(|e| e["user_id"] == doctor.user_id.as_str() && e["action"] == "auth.logout")
        {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "no logout of the doctor in the audit trail: {audit:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A patient of the demo doctor's with one completed draft report (version 1), made through
/// the API: the patient's name, MRN and the report's id.
async fn patient_with_a_draft(api: &Api, name: &str) -> (String, String, String) {
    let created = api
        .post(
            "/patients",
            json!({
                "full_name": name,
                "date_of_birth": "1968-07-02",
                "sex": "female",
                "allergies": {"status": "known", "items": [
                    {"substance": "Penicillin", "reaction": "hives", "severity": "severe"}
                ]},
            }),
        )
        .await;
    let patient_id = created["id"].as_str().unwrap().to_string();
    let mrn = created["mrn"].as_str().unwrap().to_string();
    let started = api
        .post(
            "/consultation/start",
            json!({"patient_id": patient_id, "session_type": "follow_up"}),
        )
        .await;
    let consultation = started["id"].as_str().unwrap().to_string();
    let stopped = api
        .post(
            &format!("/consultation/{consultation}/stop"),
            json!({"notes": "History: poor sleep\nAssessment: stable mood\nPlan: review in 4 weeks"}),
        )
        .await;
    let report_id = stopped["report_id"].as_str().unwrap().to_string();
    let waited = Instant::now();
    loop {
        let report = api.get(&format!("/reports/{report_id}")).await;
        if report["status"] == "completed" {
            break;
        }
        assert!(
            waited.elapsed() < WAIT,
            "the report never completed: {report:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (patient_id, mrn, report_id)
}

#[tokio::test]
async fn ctrl_l_locks_inside_dialogs_and_a_report_changed_under_the_doctor_is_not_signed_unseen() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let name = "Ysolde Quarrington";
    let (_, mrn, report_id) = patient_with_a_draft(&api, name).await;

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("quarringt", name, &mrn);
    // The reports pane has loaded the draft before Enter opens it.
    ws.wait_for("the draft in the reports pane", |s| {
        s.lines()
            .any(|l| l.contains("completed") && l.contains("follow_up"))
    });
    ws.send(ENTER);
    ws.wait_for("the draft, version 1, with the banner", |s| {
        s.contains("COMPLETED")
            && s.contains("v1")
            && s.contains("ALLERGY Penicillin (hives, severe)")
    });

    // Ctrl-L in the draft editor locks; the password goes to the lock, not the assessment.
    ws.send("e");
    ws.wait_text("Edit draft");
    ws.type_text(" Seen again");
    ws.wait_text("Seen again");
    ws.send(CTRL_L);
    let locked = ws.wait_text("Synapse is locked");
    assert!(
        !locked.contains(name),
        "the lock screen shows the patient:\n{locked}"
    );
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    let screen = ws.wait_for("the editor again", |s| {
        s.contains("Edit draft") && !s.contains("Synapse is locked")
    });
    assert!(screen.contains("Seen again"), "{screen}");
    assert!(
        !screen.contains(PASSWORD),
        "the password reached the editor:\n{screen}"
    );
    // Esc with changes asks; y discards.
    ws.send(ESC);
    ws.wait_text("Discard your changes?");
    ws.send("y");
    ws.wait_for("the report again", |s| !s.contains("Edit draft"));

    ws.send("S");
    ws.wait_text("Sign version 1 of this report?");
    // Ctrl-L in the sign dialog too; unlocking brings the question back.
    ws.send(CTRL_L);
    ws.wait_text("Synapse is locked");
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_text("Sign version 1 of this report?");

    // A colleague's edit lands while the sign question about version 1 is up (before it, the
    // live event would have shown the doctor version 2 already).
    let mut content = api.get(&format!("/reports/{report_id}")).await["content"].clone();
    content["assessment"] = json!("Mood lower; risk reviewed by the registrar.");
    api.send(
        reqwest::Method::PATCH,
        &format!("/reports/{report_id}"),
        Some(json!({"content": content, "version": 1})),
    )
    .await;
    ws.send("y");
    ws.wait_text("Enter your password to sign version 1.");
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    // The whole dialog, down to the new text of the changed section: the screen is read while
    // the terminal draws, so waiting for its first lines alone can catch a half-drawn frame.
    let screen = ws.wait_for("what changed, and the question again", |s| {
        s.contains("Changed since you read it (version 1 → 2)")
            && s.contains("Sign version 2 of this report?")
            && s.contains("+ Mood lower; risk reviewed by the registrar.")
    });
    assert!(screen.contains("- stable mood"), "{screen}");
    assert!(!screen.contains("Report signed"), "{screen}");
    let report = api.get(&format!("/reports/{report_id}")).await;
    assert_eq!(report["status"], "completed", "signed unseen: {report:#}");

    // Asked again and answered, version 2 is signed.
    ws.send("y");
    ws.wait_text("Enter your password to sign version 2.");
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_for("the signed report", |s| {
        s.contains("SIGNED") && s.contains("Signed by")
    });
    let report = api.get(&format!("/reports/{report_id}")).await;
    assert_eq!(report["status"], "signed", "{report:#}");
    assert_eq!(report["version"], 2, "{report:#}");
    assert_eq!(
        report["content"]["assessment"],
        "Mood lower; risk reviewed by the registrar."
    );
}

#[tokio::test]
async fn sighup_sends_the_notes_typed_since_the_last_save_before_leaving() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let name = "Perpetua Vandermolen";
    let created = api
        .post(
            "/patients",
            json!({"full_name": name, "date_of_birth": "1990-01-20", "sex": "female"}),
        )
        .await;
    let patient_id = created["id"].as_str().unwrap().to_string();
    let mrn = created["mrn"].as_str().unwrap().to_string();

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("vandermol", name, &mrn);
    ws.send("c");
    ws.wait_text("Start a consultation");
    ws.send(ENTER);
    ws.wait_text("● RUNNING");
    // Typed, and the link drops before the pause that saves them.
    let notes = "Typed just before the link dropped";
    ws.type_text(notes);
    ws.wait_text(notes);
    let pid = libc::pid_t::try_from(ws.pid()).unwrap();
    // SAFETY: kill(2) with a pid this test spawned and still waits for; it reads no memory.
    #[allow(unsafe_code)]
    let sent = unsafe { libc::kill(pid, libc::SIGHUP) };
    assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
    let status = ws.wait_exit();
    assert!(status.success(), "the workstation exited with {status:?}");

    let active = api.get("/consultation/active").await;
    let running = active["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["patient_id"] == patient_id.as_str())
        .unwrap_or_else(|| panic!("no running consultation: {active:#}"))
        .clone();
    let id = running["id"].as_str().unwrap();
    let consultation = api.get(&format!("/consultation/{id}")).await;
    assert_eq!(consultation["notes"], notes, "{consultation:#}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn sighup_signs_out_and_whoami_says_what_happened_and_what_to_run() {
    // The session is kept in a fresh session keyring of this thread's own, which the
    // workstation and the `whoami` after it inherit.
    common::keyring::join_fresh_session_keyring();
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let mut ws = Workstation::start_with_store(dir.path(), &served, "keyutils");
    ws.log_in();
    ws.wait_text("session kept in the kernel session keyring");
    let whoami = || {
        common::served::synapse(dir.path())
            .args([
                "--server",
                &served.base,
                "--token-store",
                "keyutils",
                "whoami",
            ])
            .output()
            .expect("run synapse whoami")
    };
    let before = whoami();
    assert!(
        before.status.success(),
        "whoami before the hangup: {}",
        String::from_utf8_lossy(&before.stderr)
    );

    let pid = libc::pid_t::try_from(ws.pid()).unwrap();
    // SAFETY: kill(2) with a pid this test spawned and still waits for; it reads no memory.
    #[allow(unsafe_code)]
    let sent = unsafe { libc::kill(pid, libc::SIGHUP) };
    assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
    let status = ws.wait_exit();
    assert!(status.success(), "the workstation exited with {status:?}");

    let after = whoami();
    assert_eq!(
        after.status.code(),
        Some(3),
        "whoami after the hangup: {after:?}"
    );
    let said = String::from_utf8_lossy(&after.stderr);
    for part in [
        format!("signed out of {} at ", served.base),
        "the workstation's terminal closed (SIGHUP)".to_string(),
        "the session of doc@demo.com".to_string(),
        "the server ended it".to_string(),
        "Run `synapse login`".to_string(),
    ] {
        assert!(said.contains(&part), "{part:?} missing from: {said}");
    }
    assert_eq!(
        common::keyring::kernel_key(&served.base, DOCTOR),
        None,
        "the refresh token outlived the terminal"
    );

    // The next start says it too, on the login screen, with the email filled in.
    let ws = Workstation::start_with_store(dir.path(), &served, "keyutils");
    let screen = ws.wait_text("Signed out at ");
    assert!(screen.contains("the terminal closed."), "{screen}");
    assert!(screen.contains(DOCTOR), "{screen}");
    drop(ws);

    // `synapse logout` clears the record (it is linked into the user's persistent keyring).
    let logout = common::served::synapse(dir.path())
        .args([
            "--server",
            &served.base,
            "--token-store",
            "keyutils",
            "logout",
        ])
        .output()
        .expect("run synapse logout");
    assert!(logout.status.success(), "logout: {logout:?}");
    assert!(whoami().status.code() == Some(3));
    let said = String::from_utf8_lossy(&whoami().stderr).into_owned();
    assert!(!said.contains("signed out of"), "{said}");
}

#[tokio::test]
async fn a_report_made_at_one_workstation_appears_at_the_other_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let name = "Wendeline Quarrastone";
    let (_, mrn) = api.new_patient(name, "1984-09-21", "female").await;
    let total = all_reports(&api).await.len();

    // The doctor's desk: the consultation runs here.
    let desk_dir = dir.path().join("desk");
    let mut desk = Workstation::start(&desk_dir, &served);
    desk.log_in();
    desk.open_chart("quarrast", name, &mrn);
    desk.send("c");
    desk.wait_text("Start a consultation");
    desk.send(ENTER);
    desk.wait_text("● RUNNING");
    desk.type_text("Plan: review in a week");

    // The same doctor's other terminal, on the report browser; nobody touches it from now on.
    let other_dir = dir.path().join("other");
    let mut other = Workstation::start(&other_dir, &served);
    other.log_in();
    other.send("2");
    other.wait_text(&format!("Reports · 50 of {total}"));
    // The stream is open once the browser shows; a moment for its first answer.
    std::thread::sleep(Duration::from_millis(500));

    desk.send(CTRL_S);
    let stopped = Instant::now();
    let screen = other.wait_within(Duration::from_secs(2), "the new report", |s| {
        s.contains(&format!("Reports · 50 of {}", total + 1)) && s.lines().any(|l| l.contains(&mrn))
    });
    let shown_after = stopped.elapsed();
    assert!(line_with(&screen, &mrn).is_some(), "{screen}");
    eprintln!("the other workstation showed the new report {shown_after:?} after the stop");
    // And it follows the report to its end, still with no key pressed.
    other.wait_for("the new report completed", |s| {
        line_with(s, &mrn).is_some_and(|l| !l.contains("pending") && !l.contains("generating"))
    });
    desk.wait_text("report ready");
    desk.send(CTRL_C);
    desk.wait_exit();
    other.send("q");
    other.send("q");
    other.wait_exit();
}

#[tokio::test]
async fn the_worklists_list_what_runs_and_waits_and_the_palette_jumps_by_mrn() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let active = api.get("/consultation/active").await;
    let running = active["items"].as_array().expect("items").clone();
    assert!(!running.is_empty(), "the demo has consultations running");
    let newest = running
        .iter()
        .max_by_key(|c| c["started_at"].as_str().unwrap().to_string())
        .unwrap();
    let patient = api
        .get(&format!(
            "/patients/{}",
            newest["patient_id"].as_str().unwrap()
        ))
        .await;
    let (name, mrn) = (
        patient["full_name"].as_str().unwrap().to_string(),
        patient["mrn"].as_str().unwrap().to_string(),
    );
    let unsigned = api.get("/reports/stats").await["unsigned"]
        .as_u64()
        .unwrap();

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    // The login toast says how many run and which key lists them.
    ws.wait_text("still running: press C to see them");

    // C: every running consultation with its patient, newest first; Enter resumes it under
    // the patient's banner.
    ws.send("C");
    let screen = ws.wait_for("the running consultations", |s| {
        s.contains(&format!("Running consultations · {}", running.len()))
            && s.contains(&mrn)
            && !s.contains("(patient not available)")
    });
    assert!(
        line_with(&screen, "Started (UTC)").is_some_and(|l| l.contains("Running")),
        "{screen}"
    );
    ws.send(ENTER);
    ws.wait_for("the resumed consultation under its banner", |s| {
        s.contains("● RUNNING") && banner_shows(s, &name, &mrn)
    });
    ws.send(ESC);
    ws.wait_for("the chart", |s| {
        banner_shows(s, &name, &mrn) && !s.contains("● RUNNING")
    });

    // u: the drafts awaiting signature, as many as the status bar counts.
    ws.send("u");
    ws.wait_for("the drafts awaiting signature", |s| {
        s.contains(&format!(
            "Drafts awaiting signature · {unsigned} of {unsigned}"
        )) || s.contains(&format!("Drafts awaiting signature · 50 of {unsigned}"))
    });
    ws.wait_text(&format!("{unsigned} unsigned"));

    // The palette jumps by MRN; H lists the chart just opened first.
    ws.send(":");
    ws.type_text(&mrn);
    ws.wait_text(&format!("Open the chart of {mrn}"));
    ws.send(ENTER);
    ws.wait_for("the chart opened by MRN", |s| banner_shows(s, &name, &mrn));
    ws.send("H");
    let screen = ws.wait_text("Patients opened recently · 1");
    assert!(line_with(&screen, &mrn).is_some(), "{screen}");
}

/// An administrator's journey: a doctor locked out by failed logins (made through the API)
/// shows as locked on the users screen the admin lands on; the admin finds the account with
/// the filter and unlocks it, and the doctor can then log in.
#[tokio::test]
async fn an_admin_unlocks_a_locked_doctor_who_can_then_log_in() {
    const LOCKED_DOCTOR: &str = "doc2@demo.com";
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let http = http_client();
    let login = |password: &'static str| {
        http.post(served.url("/api/v1/auth/login"))
            .json(&json!({"email": LOCKED_DOCTOR, "password": password}))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            login("not-the-password")
                .await
                .expect("login sent")
                .status(),
        );
    }
    assert_eq!(
        statuses.last().map(|s| s.as_u16()),
        Some(423),
        "{statuses:?}"
    );
    let status = login(PASSWORD).await.expect("login sent").status();
    assert_eq!(status, 423, "the locked doctor logged in");

    let mut ws = Workstation::start(dir.path(), &served);
    ws.wait_text("Log in to Synapse");
    ws.type_text(ADMIN);
    ws.send(TAB);
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    let screen = ws.wait_for("the users screen with the locked doctor", |s| {
        line_with(s, LOCKED_DOCTOR).is_some_and(|l| l.contains("LOCKED until"))
    });
    assert!(screen.contains(" Users · "), "{screen}");
    assert!(!screen.contains("cannot use this"), "{screen}");

    ws.send("f");
    ws.type_text("doc2");
    ws.send(ENTER);
    ws.wait_text("Users · 1 of");
    ws.send("u");
    ws.wait_for("the account unlocked", |s| {
        s.contains(&format!("Unlocked {LOCKED_DOCTOR}"))
            && line_with(s, LOCKED_DOCTOR).is_some_and(|l| l.contains("active"))
    });

    let response = login(PASSWORD).await.expect("login sent");
    assert_eq!(
        response.status(),
        200,
        "the unlocked doctor could not log in"
    );

    // The audit browser, filtered to the lockout, exported to a file the admin types.
    ws.send("5");
    ws.wait_text("Audit trail ·");
    ws.send("f");
    ws.wait_text("Filter the audit trail");
    ws.send(&TAB.repeat(3));
    ws.type_text("locked");
    ws.send(ENTER);
    ws.wait_text("Filter: outcome locked");
    ws.send("w");
    ws.wait_text("Export the audit rows");
    let path = dir.path().join("lockouts.jsonl");
    ws.type_text(&path.display().to_string());
    ws.send(ENTER);
    let screen = ws.wait_text("Wrote ");
    let rows: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no export at {}: {e}\n{screen}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert!(!rows.is_empty(), "{screen}");
    assert!(rows.iter().all(|r| r["outcome"] == "locked"), "{rows:#?}");
    let said = format!("Wrote {} audit row", rows.len());
    assert!(
        screen.contains(&said),
        "{said:?} not on the screen:\n{screen}"
    );
}

#[tokio::test]
async fn a_receptionist_registers_a_patient_for_a_doctor_who_then_finds_them_by_search() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let doctor = Api::login(&served, DOCTOR).await;
    let doctor_name = doctor.get("/auth/me").await["full_name"]
        .as_str()
        .expect("the doctor's name")
        .to_string();
    let name = "Quentin Registerby";

    // (1) The receptionist opens the form, types the patient and picks the doctor.
    let mut desk = Workstation::start(dir.path(), &served);
    desk.log_in_as(RECEPTIONIST);
    desk.send("n");
    desk.wait_text("Register a patient");
    desk.type_text(name);
    desk.send(TAB);
    desk.type_text("1987-09-21");
    desk.send(TAB);
    desk.send(RIGHT);
    desk.send(TAB);
    desk.type_text("+44 20 7946 0999");
    // Email, address, referred by, then the doctor.
    for _ in 0..4 {
        desk.send(TAB);
    }
    // The form's doctor line (the list behind has a Doctor column too).
    const DOCTOR_LINE: &str = "Doctor        ◀ ";
    desk.wait_for("the active doctors to pick from", |s| {
        line_with(s, DOCTOR_LINE).is_some_and(|l| l.contains("◀ Dr"))
    });
    let picked = |s: &str| line_with(s, DOCTOR_LINE).is_some_and(|l| l.contains(&doctor_name));
    for _ in 0..10 {
        if picked(&desk.screen()) {
            break;
        }
        desk.send(RIGHT);
        std::thread::sleep(Duration::from_millis(100));
    }
    desk.wait_for("the doctor picked", picked);

    // (2) Enter: no one of that name and birth date, so it registers and names the MRN.
    desk.send(ENTER);
    let screen = desk.wait_text("Registered as MRN-");
    let mrn = screen
        .split("Registered as ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .expect("the MRN in the notice")
        .to_string();
    // The list sorted by registration shows the new patient first.
    desk.send("s");
    desk.wait_text("sorted by name");
    desk.send("s");
    desk.wait_for("the new patient in the list", |s| {
        line_with(s, name).is_some_and(|l| l.contains(&mrn))
    });

    // (3) Registering the same name and birth date again asks first, naming the MRN; n goes
    // back to the form and nothing is registered.
    desk.send("n");
    desk.wait_text("Register a patient");
    desk.type_text(name);
    desk.send(TAB);
    desk.type_text("1987-09-21");
    // The form asks for the doctor until the active doctors have loaded.
    desk.wait_for("the active doctors to pick from", |s| {
        line_with(s, DOCTOR_LINE).is_some_and(|l| l.contains("◀ Dr"))
    });
    desk.send(ENTER);
    desk.wait_for("the duplicate question", |s| {
        s.contains("already registered") && s.contains(&mrn)
    });
    desk.send("n");
    desk.send(ESC);
    desk.wait_for("the form closed", |s| !s.contains("Register a patient"));
    desk.send("q");
    desk.wait_exit();

    // (4) The doctor finds the patient by search: theirs, with the MRN.
    let found = doctor.get("/patients/search/?q=registerby").await;
    let items = found["items"].as_array().expect("search items");
    assert_eq!(items.len(), 1, "{found:#}");
    assert_eq!(items[0]["mrn"], mrn.as_str());
    assert_eq!(items[0]["phone"], "+44 20 7946 0999");
    assert_eq!(items[0]["sex"], "male");
    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("registerby", name, &mrn);
    ws.send("q");
    ws.send("q");
    ws.wait_exit();
}

/// The number of live event streams the server at `base` has open, from `/metrics`.
async fn open_event_streams(base: &str) -> Option<f64> {
    let text = http_client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("synapse_event_streams "))
        .and_then(|value| value.trim().parse().ok())
}

/// Waits (at most `WAIT`) until the server at `base` has an event stream open.
async fn wait_for_an_event_stream(base: &str, when: &str) {
    let started = Instant::now();
    while started.elapsed() < WAIT {
        if open_event_streams(base).await.is_some_and(|n| n >= 1.0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no event stream was open {when} within {WAIT:?}");
}

/// Waits (at most `WAIT`) until the server holds `notes` as the consultation's notes.
async fn wait_for_saved_notes(api: &Api, consultation: &str, notes: &str) {
    let started = Instant::now();
    loop {
        let saved = api.get(&format!("/consultation/{consultation}")).await;
        if saved["notes"] == notes {
            return;
        }
        if started.elapsed() > WAIT {
            panic!("the notes saved are {:?}, not {notes:?}", saved["notes"]);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_server_restarted_while_the_doctor_types_loses_no_notes_and_the_stream_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The restarted server must accept the sessions the first one signed.
    let envs = [(
        "SYNAPSE_JWT_SECRET",
        "a-restart-journey-signing-key-long-enough",
    )];
    let served = Served::start_async(dir.path(), &data, &["--demo"], &envs, SERVE_WAIT).await;
    let port = served.port;
    let api = Api::login(&served, DOCTOR).await;
    let name = "Ottoline Brackenridge";
    let (patient, mrn) = api.new_patient(name, "1971-03-14", "female").await;

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("brackenr", name, &mrn);
    ws.send("c");
    ws.wait_text("Start a consultation");
    ws.send(ENTER);
    ws.wait_text("● RUNNING");
    let before = "Cough for two weeks.";
    ws.type_text(before);
    let active = api.get("/consultation/active").await;
    let consultation = active["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["patient_id"] == patient.as_str())
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no running consultation: {active:#}"))
        .to_string();
    wait_for_saved_notes(&api, &consultation, before).await;
    wait_for_an_event_stream(&served.base, "before the restart").await;

    // The server stops as a service manager restarts it, and the doctor keeps typing.
    let mut served = served;
    served.terminate();
    let status = served.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "the server exited with {status}");
    drop(served);
    let during = " No fever.";
    ws.type_text(during);
    ws.wait_text(&format!("{before}{during}"));
    // Long enough for the save of what was typed to fail and be retried.
    std::thread::sleep(Duration::from_millis(1500));

    let served =
        Served::start_on_async(port, dir.path(), &data, &["--demo"], &envs, SERVE_WAIT).await;
    // What was typed while the server was away is saved with no key pressed.
    let api = Api::login(&served, DOCTOR).await;
    wait_for_saved_notes(&api, &consultation, &format!("{before}{during}")).await;
    wait_for_an_event_stream(&served.base, "after the restart").await;
    let after = " Chest clear.";
    ws.type_text(after);
    let notes = format!("{before}{during}{after}");
    ws.wait_text(&notes);
    wait_for_saved_notes(&api, &consultation, &notes).await;
    ws.wait_text("saved");

    // Still the same session: stopping works without logging in again.
    ws.send(CTRL_S);
    ws.wait_text("report ready");
    ws.send(CTRL_C);
    ws.wait_exit();
}

/// The path of the "Exported to PATH" notice on `screen`.
fn exported_path(screen: &str) -> std::path::PathBuf {
    let line = line_with(screen, "Exported to ").unwrap_or_else(|| panic!("{screen}"));
    let path = line
        .split("Exported to ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{screen}"));
    std::path::PathBuf::from(path.trim_end_matches(['│', '┃', '|']))
}

/// What pdftotext reads in the PDF at `path`, page by page.
fn pdf_pages(path: &Path) -> Vec<String> {
    let output = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(output.status.success(), "pdftotext {}", path.display());
    String::from_utf8_lossy(&output.stdout)
        .split('\u{c}')
        .filter(|page| !page.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn x_exports_the_chart_and_the_report_as_pdfs_with_the_banner_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::demo_async(dir.path(), SERVE_WAIT).await;
    let api = Api::login(&served, DOCTOR).await;
    let name = "Gwendolyn Ashcombe-Nguyễn";
    let (patient, mrn) = api.new_patient(name, "1966-11-30", "female").await;
    let started = api
        .post(
            "/consultation/start",
            json!({"patient_id": patient, "session_type": "follow_up"}),
        )
        .await;
    let id = started["id"].as_str().unwrap().to_string();
    api.post(
        &format!("/consultation/{id}/stop"),
        json!({"notes": "History: low mood for 3 weeks\nPlan: review in 2 weeks"}),
    )
    .await;

    let mut ws = Workstation::start(dir.path(), &served);
    ws.log_in();
    ws.open_chart("ashcombe", name, &mrn);
    ws.send("x");
    let chart_pdf = exported_path(&ws.wait_text("Exported to "));
    let file = chart_pdf.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        file.starts_with(&format!("{mrn}-record-")) && file.ends_with(".pdf"),
        "{file}"
    );
    assert!(
        !file.contains("Gwendolyn"),
        "no name in the file name: {file}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&chart_pdf).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "an export is its owner's only: {mode:o}");
    let pages = pdf_pages(&chart_pdf);
    assert!(!pages.is_empty());
    for page in &pages {
        assert!(
            page.contains(name) && page.contains(&mrn),
            "a page without the banner:\n{page}"
        );
    }

    // The report itself, opened from the chart's reports: a draft, so marked as one.
    ws.send(ENTER);
    ws.wait_text("low mood for 3 weeks");
    ws.send("x");
    let report_pdf = ws.wait_for("the report's export", |s| {
        s.contains("Exported to ") && s.contains("-report-")
    });
    let report_pdf = exported_path(&report_pdf);
    let pages = pdf_pages(&report_pdf);
    assert!(pages.iter().all(|p| p.contains(name) && p.contains(&mrn)));
    assert!(pages.iter().any(|p| p.contains("DRAFT")), "{pages:#?}");
    ws.send("q");
    ws.send("q");
}

/// The base32 secret the setup of a second factor shows: the eight groups of four after
/// "Secret" on the screen.
fn secret_on(screen: &str) -> Option<String> {
    let line = line_with(screen, "Secret ")?;
    let after = line.split("Secret ").nth(1)?;
    let groups: Vec<&str> = after
        .split_whitespace()
        .take_while(|group| {
            group.len() == 4
                && group
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        .collect();
    (groups.len() == 8).then(|| groups.concat())
}

/// The recovery codes on the screen (`xxxxx-xxxxx`).
fn recovery_codes_on(screen: &str) -> Vec<String> {
    screen
        .split_whitespace()
        .filter(|word| {
            word.len() == 11
                && word.as_bytes()[5] == b'-'
                && word
                    .chars()
                    .enumerate()
                    .all(|(i, c)| i == 5 || c.is_ascii_alphanumeric())
        })
        .map(str::to_string)
        .collect()
}

/// Seconds since the epoch, away from a TOTP step's end: the code typed must still be the
/// current one (or the one before) when the server checks it.
fn steady_now() -> u64 {
    use synapse::server::totp::STEP_S;
    let now = chrono::Utc::now().timestamp() as u64;
    if now % STEP_S >= STEP_S - 8 {
        std::thread::sleep(Duration::from_secs(STEP_S - now % STEP_S + 1));
        return chrono::Utc::now().timestamp() as u64;
    }
    now
}

#[tokio::test]
async fn a_doctor_whose_role_needs_a_second_factor_sets_it_up_at_the_workstation() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start_async(
        dir.path(),
        &dir.path().join("data"),
        &["--demo"],
        &[("SYNAPSE_REQUIRE_MFA", "doctor")],
        SERVE_WAIT,
    )
    .await;
    let mut ws = Workstation::start(dir.path(), &served);
    ws.wait_text("Log in to Synapse");
    ws.type_text(DOCTOR);
    ws.send(TAB);
    ws.type_text(PASSWORD);
    ws.send(ENTER);

    // The setup opens by itself: the QR code, the account and the secret.
    let screen = ws.wait_for("the second factor's setup with its QR code", |s| {
        s.contains("Set up a second factor") && secret_on(s).is_some() && s.contains('▀')
    });
    assert!(screen.contains(&format!("Synapse: {DOCTOR}")), "{screen}");
    assert!(!screen.contains("Patients ·"), "{screen}");
    let secret = secret_on(&screen).unwrap();
    let bytes = totp_rs::Secret::try_from_base32(&secret)
        .expect("a base32 secret on the screen")
        .as_bytes()
        .to_vec();
    // The QR code drawn is this secret's, whole: every row as the shared renderer draws it.
    // (Waited for: the first capture can fall in the middle of drawing it.)
    let uri = synapse::server::totp::otpauth_uri(&bytes, DOCTOR).unwrap();
    let code = synapse::client::qr::lines(&uri, false);
    let rows: Vec<&str> = code
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    ws.wait_for("every row of the secret's QR code", |s| {
        rows.iter().all(|row| s.contains(row))
    });

    // A wrong code is said on the field, and the screen stays.
    let now = steady_now();
    let right = synapse::server::totp::code_at(&bytes, now, 6).unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    ws.type_text(wrong);
    ws.send(ENTER);
    ws.wait_text("That code is not the current code");
    assert!(secret_on(&ws.screen()).as_deref() == Some(secret.as_str()));

    // The app's code, computed live from the secret read off the screen.
    let now = steady_now();
    let right = synapse::server::totp::code_at(&bytes, now, 6).unwrap();
    ws.type_text(&right);
    ws.send(ENTER);
    // The whole list, not a frame drawn half over the QR code it replaces.
    let screen = ws.wait_for("the ten recovery codes", |s| {
        s.contains("Write these recovery codes down")
            && recovery_codes_on(s).len() == 10
            && secret_on(s).is_none()
    });
    let codes = recovery_codes_on(&screen);
    assert_eq!(codes.len(), 10, "{screen}");
    assert!(
        secret_on(&screen).is_none(),
        "the secret still shows:\n{screen}"
    );
    // A deliberate Enter, after reading, goes on to the patient list in the same session.
    std::thread::sleep(Duration::from_millis(1_500));
    ws.send(ENTER);
    ws.wait_for("the patient list", |s| {
        s.contains("Patients ·") && s.contains("MRN-") && !s.contains("recovery codes")
    });
    ws.send("q");
    assert!(ws.wait_exit().success());

    // The next login asks for a code; a recovery code shown above opens the session.
    let mut ws = Workstation::start(dir.path(), &served);
    ws.wait_text("Log in to Synapse");
    ws.type_text(DOCTOR);
    ws.send(TAB);
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_text("Type the code your authenticator app shows");
    ws.type_text(&codes[3]);
    ws.send(ENTER);
    let screen = ws.wait_for("the patient list", |s| {
        s.contains("Patients ·") && s.contains("MRN-") && !s.contains("Log in to Synapse")
    });
    assert!(!screen.contains("Set up a second factor"), "{screen}");

    // Locked, the password alone does not open it: the code is asked next, and another
    // recovery code brings the list back.
    ws.send(CTRL_L);
    ws.wait_text("Synapse is locked");
    ws.type_text(PASSWORD);
    ws.send(ENTER);
    ws.wait_text("Enter the code your authenticator app shows");
    ws.type_text(&codes[4]);
    ws.send(ENTER);
    let screen = ws.wait_for("the patient list again", |s| {
        s.contains("Patients ·") && s.contains("MRN-") && !s.contains("Synapse is locked")
    });
    assert!(!screen.contains("Code "), "{screen}");
    ws.send("q");
    assert!(ws.wait_exit().success());
}
