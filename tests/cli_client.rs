//! The scripting CLI as a user runs it: the real `synapse` binary (`login`, `whoami`,
//! `patients list|search|show`, `reports list|show|stats`, `logout`) against the harness's real
//! server, with `--token-store keyutils`. Each test joins a fresh anonymous session keyring before
//! it starts anything, so every command it runs shares that keyring (and only that one): a login
//! is picked up by the next command, and the user's own session keyring is never touched. The
//! store also links each token into the user's persistent keyring, so every test logs out when
//! it ends (also on failure). `keyctl` (Debian package `keyutils`) reads the kernel's side
//! independently.
//!
//! Checked: the exit codes (0 ok, 1 other, 2 usage, 3 not logged in / session ended, 4 not
//! found, 5 unreachable), `--json` printing exactly the API's `data`, and the rotated refresh
//! token being saved back after every command.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::keyring::{
    KEYUTILS_HINT, join_fresh_session_keyring, join_user_session_keyring, kernel_key, keyctl,
};
use common::{PASSWORD, Session, TestServer};
use serde_json::{Value, json};
use synapse::model::auth::Role;
use uuid::Uuid;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_synapse");
const DOCTOR: &str = "doc@example.org";
const NOTES: &str = "History: low mood for 3 weeks, poor sleep\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks\n\
Medications: sertraline 50 mg once daily\n\
Diagnosis: F32.1 Moderate depressive episode";

/// A test's world: its own session keyring, a real server on a runtime of its own, a home
/// directory without any config, and a logged-in harness session for direct API calls.
struct World {
    runtime: tokio::runtime::Runtime,
    /// `None` once stopped.
    server: Option<TestServer>,
    base: String,
    home: tempfile::TempDir,
    api: Session,
}

/// Forgets the test's login: the keyutils store also links each token into the user's
/// persistent keyring, which outlives the test's session keyring.
impl Drop for World {
    fn drop(&mut self) {
        let _ = self
            .command(Some(&self.base), &["logout"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl World {
    /// In a fresh session keyring of its own.
    fn start() -> World {
        World::start_with(join_fresh_session_keyring)
    }

    /// With the session keyring `join` gives this thread (and every command it runs).
    fn start_with(join: fn()) -> World {
        join();
        assert!(
            Command::new("keyctl")
                .args(["show", "@s"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap_or_else(|err| panic!("could not run keyctl ({err}): {KEYUTILS_HINT}"))
                .success(),
            "keyctl cannot read the session keyring"
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime.block_on(TestServer::start());
        let api = runtime.block_on(server.login_new(DOCTOR, Role::Doctor));
        World {
            runtime,
            base: server.base.clone(),
            server: Some(server),
            home: tempfile::tempdir().expect("temp dir"),
            api,
        }
    }

    fn base(&self) -> &str {
        &self.base
    }

    fn server(&self) -> &TestServer {
        self.server.as_ref().expect("the server runs")
    }

    /// Stops the server and waits (at most 10 s) until its port refuses connections.
    fn stop_server(&mut self) {
        drop(self.server.take());
        let address = self.base.trim_start_matches("http://").to_string();
        let started = Instant::now();
        while std::net::TcpStream::connect(&address).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Any API call as the harness (no session).
    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> common::Reply {
        self.runtime
            .block_on(self.server().call(method, path, None, Some(body)))
    }

    /// Runs `synapse --server <base> --token-store keyutils <args>`.
    fn synapse(&self, args: &[&str]) -> Run {
        self.synapse_with(Some(self.base()), args, None)
    }

    /// Runs the binary with this server (or none), these arguments and standard input, in a
    /// clean environment: no `SYNAPSE_*` variables, and a home without config files.
    fn synapse_with(&self, server: Option<&str>, args: &[&str], stdin: Option<&str>) -> Run {
        run(self.command(server, args), stdin, self.home.path())
    }

    /// The binary with these arguments in a clean environment.
    fn command(&self, server: Option<&str>, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SYNAPSE_") {
                command.env_remove(&name);
            }
        }
        if let Some(server) = server {
            command.args(["--server", server]);
        }
        // A test that names its own token store gets that one alone.
        if !args.contains(&"--token-store") {
            command.args(["--token-store", "keyutils"]);
        }
        command
            .args(args)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("data"));
        command
    }

    /// The `data` of a GET on the API, as the harness session.
    fn api_data(&self, path: &str) -> Value {
        let reply = self.runtime.block_on(self.server().get(path, &self.api));
        reply.expect(200);
        reply.data().clone()
    }

    fn patient(&self, name: &str) -> String {
        self.runtime
            .block_on(self.server().patient(&self.api, name))
    }

    fn report(&self, patient_id: &str) -> Value {
        self.runtime.block_on(
            self.server()
                .consultation_report(&self.api, patient_id, NOTES),
        )
    }

    /// Logs the doctor in through the CLI, password on standard input.
    fn login(&self) -> Run {
        self.synapse_with(
            Some(self.base()),
            &["login", "--email", DOCTOR, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        )
    }

    /// The refresh token the kernel keeps for the doctor on this server, read with `keyctl`.
    fn kernel_token(&self) -> Option<String> {
        kernel_key(self.base(), DOCTOR)
    }
}

/// A finished run of the binary.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        self.expect(0);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }
}

/// Runs the command with its output in files (no pipe can fill up), at most 60 s.
fn run(mut command: Command, stdin: Option<&str>, dir: &Path) -> Run {
    let id = Uuid::new_v4();
    let out_path = dir.join(format!("{id}.out"));
    let err_path = dir.join(format!("{id}.err"));
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
    let mut child = command.spawn().expect("spawn synapse");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("synapse did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().expect("an exit code, not a signal"),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_string())
        .collect()
}

#[test]
fn login_list_show_and_logout_then_commands_need_a_login() {
    let world = World::start();
    let amelia = world.patient("Amelia Zorander");
    world.patient("Bruno Aalto");
    let mrn = world.api_data(&format!("/api/v1/patients/{amelia}"))["mrn"]
        .as_str()
        .unwrap()
        .to_string();

    let login = world.login();
    login.expect(0);
    assert!(
        login.stdout.contains("the kernel session keyring"),
        "{}",
        login.stdout
    );
    assert!(login.stdout.contains(DOCTOR) || login.stdout.contains("Test doc@example.org"));
    let saved = world
        .kernel_token()
        .expect("the refresh token is a kernel key");
    assert_eq!(
        kernel_key(world.base(), "last-login").as_deref(),
        Some(DOCTOR)
    );

    let whoami = world.synapse(&["whoami"]);
    whoami.expect(0);
    assert!(whoami.stdout.contains(DOCTOR), "{}", whoami.stdout);
    assert!(whoami.stdout.contains("doctor"), "{}", whoami.stdout);

    // Each command rotates the refresh token and saves the new one: a second run still works.
    let list = world.synapse(&["patients", "list"]);
    list.expect(0);
    let header = list.stdout.lines().next().unwrap_or("");
    assert!(
        header.contains("MRN") && header.contains("NAME"),
        "{header:?}"
    );
    assert!(list.stdout.contains("Amelia Zorander"), "{}", list.stdout);
    assert!(list.stdout.contains("Bruno Aalto"));
    let rotated = world.kernel_token().expect("still logged in");
    assert_ne!(rotated, saved, "the rotated token was saved back");
    let again = world.synapse(&["patients", "list"]);
    again.expect(0);
    assert_eq!(again.stdout, list.stdout);
    assert_ne!(world.kernel_token().expect("still logged in"), rotated);

    let search = world.synapse(&["patients", "search", "zor"]);
    search.expect(0);
    assert!(
        search.stdout.contains("Amelia Zorander"),
        "{}",
        search.stdout
    );
    assert!(!search.stdout.contains("Bruno Aalto"));

    for key in [amelia.as_str(), mrn.as_str()] {
        let show = world.synapse(&["patients", "show", key]);
        show.expect(0);
        assert!(show.stdout.contains("Amelia Zorander"), "{}", show.stdout);
        assert!(show.stdout.contains(&mrn));
        assert!(show.stdout.contains(&amelia));
    }
    let missing = world.synapse(&["patients", "show", &Uuid::new_v4().to_string()]);
    missing.expect(4);
    assert!(!missing.stderr.is_empty());
    world.synapse(&["patients", "show", "MRN-999999"]).expect(4);

    let last = world.kernel_token().expect("still logged in");
    let logout = world.synapse(&["logout"]);
    logout.expect(0);
    assert!(logout.stdout.contains("Logged out"), "{}", logout.stdout);
    assert_eq!(world.kernel_token(), None, "the kernel key is gone");
    assert_eq!(kernel_key(world.base(), "last-login"), None);
    // The server ended the session too: the newest refresh token no longer works.
    world
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/refresh",
            json!({"refresh_token": last}),
        )
        .expect_error(401, "SESSION_REVOKED");

    let after = world.synapse(&["patients", "list"]);
    after.expect(3);
    assert!(after.stdout.is_empty(), "{}", after.stdout);
    assert!(after.stderr.contains("not logged in"), "{}", after.stderr);
    assert!(after.stderr.contains("synapse login"), "{}", after.stderr);
    world.synapse(&["whoami"]).expect(3);
}

#[test]
fn without_a_session_keyring_of_its_own_a_login_is_kept_for_the_next_command() {
    // As over SSH without `pam_keyinit`: the kernel lends the process the user-session keyring.
    let world = World::start_with(|| {
        join_user_session_keyring();
    });
    let login = world.login();
    login.expect(0);
    assert!(
        login
            .stdout
            .contains("Session kept in the kernel user keyring."),
        "{}",
        login.stdout
    );
    assert!(world.kernel_token().is_some(), "the token is a kernel key");

    let whoami = world.synapse(&["whoami"]);
    whoami.expect(0);
    assert!(
        whoami
            .stdout
            .contains("session kept in the kernel user keyring"),
        "{}",
        whoami.stdout
    );
    let listing = keyctl(&["show", "@s"]).expect("keyctl show @s");
    assert!(
        !listing.contains("synapse:probe"),
        "probe keys were left behind:\n{listing}"
    );

    world.synapse(&["logout"]).expect(0);
    assert_eq!(world.kernel_token(), None, "the kernel key is gone");
}

#[test]
fn json_output_is_the_api_data() {
    let world = World::start();
    let mut patients = Vec::new();
    for n in 0..25 {
        patients.push(world.patient(&format!("Patient Number{n:02}")));
    }
    let report = world.report(&patients[3]);
    let report_id = report["id"].as_str().unwrap().to_string();
    world.login().expect(0);

    let page = world.synapse(&["--json", "patients", "list"]).json();
    let api = world.api_data("/api/v1/patients/list/?limit=20");
    assert_eq!(page, api);
    assert_eq!(page["pagination"]["total"], 25);
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
    // The flag works after the subcommand too.
    let small = world.synapse(&["patients", "list", "--limit", "5", "--json"]);
    assert_eq!(
        small.json(),
        world.api_data("/api/v1/patients/list/?limit=5")
    );
    let filtered = world.synapse(&["patients", "list", "--search", "number07", "--json"]);
    let filtered = filtered.json();
    assert_eq!(filtered["pagination"]["total"], 1);
    assert_eq!(ids(&filtered["items"]), [patients[7].clone()]);

    let table = world.synapse(&["patients", "list"]);
    table.expect(0);
    assert!(table.stderr.contains("20 of 25"), "{}", table.stderr);

    let all = world
        .synapse(&["patients", "list", "--all", "--json"])
        .json();
    // One shape whatever the flags: `{items, pagination}`, as for a single page.
    assert_eq!(all["pagination"]["has_more"], false, "{all}");
    let mut all_ids = ids(&all["items"]);
    assert_eq!(all_ids.len(), 25, "every patient, once");
    all_ids.sort();
    let mut expected = patients.clone();
    expected.sort();
    assert_eq!(all_ids, expected);

    let found = world
        .synapse(&["patients", "search", "Number1", "--json"])
        .json();
    assert_eq!(found, world.api_data("/api/v1/patients/search/?q=Number1"));
    assert_eq!(found["count"], 10);

    let shown = world
        .synapse(&["patients", "show", &patients[3], "--json"])
        .json();
    assert_eq!(
        shown,
        world.api_data(&format!("/api/v1/patients/{}", patients[3]))
    );

    let reports = world.synapse(&["reports", "list", "--json"]).json();
    assert_eq!(reports, world.api_data("/api/v1/reports/list?limit=20"));
    assert_eq!(ids(&reports["items"]), std::slice::from_ref(&report_id));
    let completed = world
        .synapse(&["reports", "list", "--status", "completed", "--json"])
        .json();
    assert_eq!(
        completed,
        world.api_data("/api/v1/reports/list?limit=20&status=completed")
    );
    let signed = world
        .synapse(&["reports", "list", "--status", "signed", "--json"])
        .json();
    assert_eq!(signed["items"], json!([]));

    let report_json = world
        .synapse(&["reports", "show", &report_id, "--json"])
        .json();
    assert_eq!(
        report_json,
        world.api_data(&format!("/api/v1/reports/{report_id}"))
    );
    let report_text = world.synapse(&["reports", "show", &report_id]);
    report_text.expect(0);
    assert!(
        report_text.stdout.contains("Patient Number03"),
        "{}",
        report_text.stdout
    );
    assert!(report_text.stdout.contains("completed"));
    assert!(report_text.stdout.contains(&report_id));

    let stats = world.synapse(&["reports", "stats", "--json"]).json();
    assert_eq!(stats, world.api_data("/api/v1/reports/stats"));
    assert_eq!(stats["total"], 1);
    let stats_text = world.synapse(&["reports", "stats"]);
    stats_text.expect(0);
    assert!(stats_text.stdout.contains("total"), "{}", stats_text.stdout);

    // Signing names the version read: an older one signs nothing and says what to do.
    let version = report_json["version"].as_u64().unwrap();
    assert!(
        report_text.stdout.contains("version"),
        "{}",
        report_text.stdout
    );
    let password = format!("{PASSWORD}\n");
    let stale = world.synapse_with(
        Some(world.base()),
        &[
            "reports",
            "sign",
            &report_id,
            "--version",
            &(version - 1).to_string(),
            "--password-stdin",
        ],
        Some(&password),
    );
    stale.expect(1);
    assert!(
        stale.stderr.contains("nothing was signed"),
        "{}",
        stale.stderr
    );
    assert!(
        stale.stderr.contains("synapse reports show"),
        "{}",
        stale.stderr
    );
    assert_eq!(
        world.api_data(&format!("/api/v1/reports/{report_id}"))["status"],
        "completed"
    );
    let signed = world.synapse_with(
        Some(world.base()),
        &[
            "reports",
            "sign",
            &report_id,
            "--version",
            &version.to_string(),
            "--password-stdin",
        ],
        Some(&password),
    );
    signed.expect(0);
    assert!(
        signed.stdout.contains("Signed version"),
        "{}",
        signed.stdout
    );
    assert_eq!(
        world.api_data(&format!("/api/v1/reports/{report_id}"))["status"],
        "signed"
    );
    world
        .synapse(&["reports", "sign", &report_id, "--password-stdin"])
        .expect(2);

    let whoami = world.synapse(&["whoami", "--json"]).json();
    assert_eq!(whoami, world.api_data("/api/v1/auth/me"));
}

#[test]
fn usage_errors_exit_2() {
    let world = World::start();
    world.login().expect(0);
    let bogus = world.synapse(&["reports", "list", "--status", "bogus"]);
    bogus.expect(2);
    assert!(bogus.stderr.contains("bogus"), "{}", bogus.stderr);
    world.synapse(&["patients", "show"]).expect(2);
    world.synapse(&["reports", "show", "not-a-uuid"]).expect(2);
    world.synapse(&["patients", "frobnicate"]).expect(2);
    // The session survived the usage errors.
    world.synapse(&["patients", "list"]).expect(0);

    // The login remembered its server: forget it to see the error without one.
    std::fs::remove_file(world.home.path().join("config/synapse/profiles.toml"))
        .expect("login wrote the profiles file");
    let no_server = world.synapse_with(None, &["patients", "list"], None);
    no_server.expect(2);
    assert!(
        no_server.stderr.contains("no server configured"),
        "{}",
        no_server.stderr
    );
    assert!(no_server.stderr.contains("--server"));
    world
        .synapse_with(
            None,
            &["login", "--email", DOCTOR, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        )
        .expect(2);
    // Without --password-stdin and without a terminal, login says how to pass the password.
    let no_password = world.synapse(&["login", "--email", DOCTOR]);
    no_password.expect(2);
    assert!(
        no_password.stderr.contains("--password-stdin"),
        "{}",
        no_password.stderr
    );
}

#[test]
fn a_wrong_password_fails_with_the_servers_message() {
    let world = World::start();
    let server_message = {
        let reply = world.call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            json!({"email": DOCTOR, "password": "not-the-password"}),
        );
        reply.expect_error(401, "INVALID_CREDENTIALS");
        reply.body["error"]["message"].as_str().unwrap().to_string()
    };
    let wrong = world.synapse_with(
        Some(world.base()),
        &["login", "--email", DOCTOR, "--password-stdin"],
        Some("not-the-password\n"),
    );
    // A wrong password is an authentication failure.
    wrong.expect(3);
    assert!(wrong.stderr.contains(&server_message), "{}", wrong.stderr);
    assert!(wrong.stdout.is_empty());
    assert_eq!(world.kernel_token(), None, "nothing was saved");
    world.synapse(&["patients", "list"]).expect(3);
}

#[test]
fn an_unreachable_server_exits_5_and_keeps_the_session() {
    let mut world = World::start();
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().unwrap())
    };
    let login = world.synapse_with(
        Some(&dead),
        &["login", "--email", DOCTOR, "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    login.expect(5);
    assert!(login.stderr.contains("unreachable"), "{}", login.stderr);
    // The workstation's words ("retrying") are not a command's, which does not retry.
    assert!(!login.stderr.contains("retrying"), "{}", login.stderr);
    assert!(login.stderr.contains("--server"), "{}", login.stderr);

    // Logged in to the real server, which then goes away: the saved session is kept.
    world.login().expect(0);
    let saved = world.kernel_token().expect("saved");
    world.stop_server();
    let gone = world.synapse(&["patients", "list"]);
    gone.expect(5);
    assert!(!gone.stderr.is_empty());
    assert_eq!(
        world.kernel_token().as_deref(),
        Some(saved.as_str()),
        "an unreachable server does not end the session"
    );
}

#[test]
fn a_session_ended_on_the_server_exits_3_and_is_forgotten() {
    let world = World::start();
    world.login().expect(0);
    world.synapse(&["patients", "list"]).expect(0);
    // Another device logs this session out with the refresh token the kernel keeps.
    let token = world.kernel_token().expect("saved");
    world
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            json!({"refresh_token": token}),
        )
        .expect(200);

    let ended = world.synapse(&["patients", "list"]);
    ended.expect(3);
    assert!(!ended.stderr.is_empty());
    assert_eq!(
        world.kernel_token(),
        None,
        "the ended session was forgotten"
    );
    world.synapse(&["patients", "list"]).expect(3);
    // Logging in again works.
    world.login().expect(0);
    world.synapse(&["patients", "list"]).expect(0);
}

/// Runs the binary in the world's clean environment with extra variables.
fn synapse_env(world: &World, server: Option<&str>, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut command = world.command(server, args);
    for (name, value) in vars {
        command.env(name, value);
    }
    run(command, None, world.home.path())
}

#[test]
fn login_remembers_its_server_and_profiles_pick_between_servers() {
    let world = World::start();
    world.login().expect(0);
    // No --server, no SYNAPSE_SERVER, no config file: the login's server is remembered.
    let whoami = world.synapse_with(None, &["whoami"], None);
    whoami.expect(0);
    assert!(whoami.stdout.contains(DOCTOR), "{}", whoami.stdout);
    let state = std::fs::read_to_string(
        world
            .home
            .path()
            .join("config")
            .join("synapse")
            .join("profiles.toml"),
    )
    .expect("the profiles file is in the config directory");
    assert!(state.contains(world.base()), "{state}");
    assert!(!state.contains("refresh"), "no token in the profiles file");

    // A second server under a profile of its own, which becomes current.
    let lab = world.runtime.block_on(TestServer::start());
    world
        .runtime
        .block_on(lab.login_new("lab@example.org", Role::Doctor));
    world
        .synapse_with(
            Some(&lab.base),
            &[
                "--profile",
                "lab",
                "login",
                "--email",
                "lab@example.org",
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .expect(0);
    let current = world.synapse_with(None, &["auth", "status", "--json"], None);
    let status = current.json();
    assert_eq!(status["profile"], "lab", "{status}");
    assert_eq!(status["server"], lab.base.as_str());
    assert_eq!(status["user"]["email"], "lab@example.org");
    let default = world.synapse_with(None, &["--profile", "default", "whoami"], None);
    default.expect(0);
    assert!(default.stdout.contains(DOCTOR), "{}", default.stdout);
    let by_env = synapse_env(&world, None, &["whoami"], &[("SYNAPSE_PROFILE", "default")]);
    by_env.expect(0);
    assert!(by_env.stdout.contains(DOCTOR), "{}", by_env.stdout);
    let unknown = world.synapse_with(None, &["--profile", "nowhere", "whoami"], None);
    unknown.expect(2);
    assert!(unknown.stderr.contains("nowhere"), "{}", unknown.stderr);
    world
        .synapse_with(None, &["--profile", "lab", "logout"], None)
        .expect(0);
    // Logged out of lab: its status says so with exit 3.
    world
        .synapse_with(None, &["--profile", "lab", "auth", "status"], None)
        .expect(3);
}

#[test]
fn synapse_token_authenticates_without_a_saved_session() {
    let world = World::start();
    world.patient("Amelia Zorander");
    // Nobody logged in through the CLI: an access token alone is enough.
    let token = world.api.access_token.clone();
    let vars = [("SYNAPSE_TOKEN", token.as_str())];
    let list = synapse_env(&world, Some(world.base()), &["patients", "list"], &vars);
    list.expect(0);
    assert!(list.stdout.contains("Amelia Zorander"), "{}", list.stdout);
    let status = synapse_env(&world, Some(world.base()), &["auth", "status"], &vars);
    status.expect(0);
    assert!(status.stdout.contains("SYNAPSE_TOKEN"), "{}", status.stdout);
    assert_eq!(world.kernel_token(), None, "nothing was saved");
    let bad = synapse_env(
        &world,
        Some(world.base()),
        &["patients", "list"],
        &[("SYNAPSE_TOKEN", "not-a-token")],
    );
    bad.expect(3);
    assert!(bad.stderr.contains("SYNAPSE_TOKEN"), "{}", bad.stderr);
    assert!(bad.stderr.contains("synapse auth token"), "{}", bad.stderr);

    // `auth token` prints one that works the same way.
    world.login().expect(0);
    let printed = world.synapse(&["auth", "token"]);
    printed.expect(0);
    let printed = printed.stdout.trim().to_string();
    assert_eq!(printed.split('.').count(), 3, "a JWT: {printed}");
    let vars = [("SYNAPSE_TOKEN", printed.as_str())];
    let whoami = synapse_env(&world, Some(world.base()), &["whoami"], &vars);
    whoami.expect(0);
    assert!(whoami.stdout.contains(DOCTOR), "{}", whoami.stdout);
}

#[test]
fn a_token_store_asked_for_that_cannot_be_used_is_an_error() {
    let world = World::start();
    let mut command = world.command(
        Some(world.base()),
        &[
            "--token-store",
            "secret-service",
            "login",
            "--email",
            DOCTOR,
            "--password-stdin",
        ],
    );
    command.env_remove("DBUS_SESSION_BUS_ADDRESS");
    let login = run(command, Some(&format!("{PASSWORD}\n")), world.home.path());
    login.expect(3);
    assert!(login.stdout.is_empty(), "{}", login.stdout);
    assert!(
        login.stderr.contains("secret-service cannot be used"),
        "{}",
        login.stderr
    );
    assert!(login.stderr.contains("--token-store"), "{}", login.stderr);
}

#[test]
fn values_the_server_refuses_exit_2_naming_the_flag() {
    let world = World::start();
    world.login().expect(0);
    let bad_date = world.synapse(&["reports", "list", "--from", "yesterday"]);
    bad_date.expect(2);
    assert!(bad_date.stderr.contains("--from"), "{}", bad_date.stderr);
    assert!(
        !bad_date.stderr.contains("date_from"),
        "{}",
        bad_date.stderr
    );
    world
        .synapse(&["patients", "list", "--limit", "0"])
        .expect(2);
    let config = world.home.path().join("broken.toml");
    std::fs::write(&config, "[client\n").unwrap();
    let broken = world.synapse(&["--config", config.to_str().unwrap(), "whoami"]);
    broken.expect(2);
    assert!(broken.stderr.contains("broken.toml"), "{}", broken.stderr);
}

#[test]
fn reports_list_pages_with_all_and_cursor_and_takes_an_mrn() {
    let world = World::start();
    let amelia = world.patient("Amelia Zorander");
    let bruno = world.patient("Bruno Aalto");
    let mrn = world.api_data(&format!("/api/v1/patients/{amelia}"))["mrn"]
        .as_str()
        .unwrap()
        .to_string();
    let mut amelias = Vec::new();
    for _ in 0..3 {
        amelias.push(world.report(&amelia)["id"].as_str().unwrap().to_string());
    }
    world.report(&bruno);
    world.login().expect(0);

    let first = world
        .synapse(&["reports", "list", "--limit", "2", "--json"])
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2, "{first}");
    let cursor = first["pagination"]["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_string();
    let second = world
        .synapse(&[
            "reports", "list", "--limit", "2", "--cursor", &cursor, "--json",
        ])
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 2, "{second}");
    let all = world
        .synapse(&["reports", "list", "--limit", "2", "--all", "--json"])
        .json();
    let mut paged = ids(&first["items"]);
    paged.extend(ids(&second["items"]));
    assert_eq!(
        ids(&all["items"]),
        paged,
        "--all has the same shape and order"
    );
    assert_eq!(all["pagination"]["has_more"], false);

    let by_mrn = world
        .synapse(&["reports", "list", "--patient", &mrn, "--json"])
        .json();
    let mut found = ids(&by_mrn["items"]);
    found.sort();
    amelias.sort();
    assert_eq!(found, amelias);
    world
        .synapse(&["reports", "list", "--patient", "MRN-999999"])
        .expect(4);
}

#[test]
fn login_and_logout_honour_json() {
    let world = World::start();
    let login = world.synapse_with(
        Some(world.base()),
        &["login", "--email", DOCTOR, "--password-stdin", "--json"],
        Some(&format!("{PASSWORD}\n")),
    );
    let login = login.json();
    assert_eq!(login["user"]["email"], DOCTOR, "{login}");
    assert_eq!(login["session_kept"], true);
    let logout = world.synapse(&["logout", "--json"]).json();
    assert_eq!(logout["logged_out"], true, "{logout}");
}

#[test]
fn help_knows_the_exit_codes_the_environment_and_the_commands() {
    let home = tempfile::tempdir().expect("temp dir");
    let help = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command.args(args).env("HOME", home.path());
        run(command, None, home.path())
    };
    let codes = help(&["help", "exit-codes"]);
    codes.expect(0);
    for line in [
        "0  success",
        "2  usage",
        "3  authentication",
        "4  not found",
        "5  the server",
    ] {
        assert!(codes.stdout.contains(line), "{line}: {}", codes.stdout);
    }
    let environment = help(&["help", "environment"]);
    environment.expect(0);
    for name in [
        "SYNAPSE_TOKEN",
        "SYNAPSE_PROFILE",
        "SYNAPSE_SERVER",
        "SYNAPSE_LOG",
    ] {
        assert!(environment.stdout.contains(name), "{name}");
    }
    let list = help(&["help", "reports", "list"]);
    list.expect(0);
    assert!(
        list.stdout.contains("synapse reports list"),
        "{}",
        list.stdout
    );
    assert!(list.stdout.contains("--cursor"), "{}", list.stdout);
    let unknown = help(&["help", "frobnicate"]);
    unknown.expect(2);
    assert!(unknown.stderr.contains("exit-codes"), "{}", unknown.stderr);
}

#[test]
fn cli_commands_log_to_the_log_file_at_synapse_log() {
    let world = World::start();
    world.login().expect(0);
    let data = world.home.path().join("data").join("synapse");
    let run = synapse_env(
        &world,
        Some(world.base()),
        &["whoami"],
        &[
            ("SYNAPSE_LOG", "debug"),
            ("SYNAPSE_DATA_DIR", data.to_str().unwrap()),
        ],
    );
    run.expect(0);
    let mut text = String::new();
    for entry in std::fs::read_dir(&data).expect("the data directory has a log") {
        let path = entry.expect("an entry").path();
        if path.to_string_lossy().contains("synapse") && path.is_file() {
            text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    assert!(
        text.contains("CLI started"),
        "the debug line is in the log:\n{text}"
    );
    assert!(text.contains("CLI command"), "{text}");
    assert!(!text.contains(PASSWORD), "no password in the log");
    assert!(
        !run.stderr.contains("CLI"),
        "stderr stays the user's: {}",
        run.stderr
    );
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let output = Command::new(BIN)
        .arg("--version")
        .output()
        .expect("run synapse --version");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(text.starts_with("synapse 0."), "{text}");
    assert!(text.contains("(commit "), "{text}");
    assert!(text.contains(", built 20"), "{text}");
    // Built from a checkout: the commit is named (a source tarball says "unknown").
    if let Ok(head) = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        && head.status.success()
    {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(text.contains(&head), "{head} in {text}");
    }
}

#[test]
fn export_writes_the_file_named_by_mrn_and_never_overwrites_without_force() {
    let world = World::start();
    let patient = world.patient("Nguyễn Văn Đức");
    let mrn = world.api_data(&format!("/api/v1/patients/{patient}"))["mrn"]
        .as_str()
        .unwrap()
        .to_string();
    let report = world.report(&patient);
    let report_id = report["id"].as_str().unwrap().to_string();
    world.login().expect(0);
    let today = chrono::Utc::now().date_naive().to_string();

    // Run in the temporary home: without -o the file goes to the current directory.
    let here = |args: &[&str]| {
        let mut command = world.command(Some(world.base()), args);
        command.current_dir(world.home.path());
        run(command, None, world.home.path())
    };
    // Without -o: the server's name, in the current directory.
    let run = here(&["reports", "export", &report_id, "--format", "md"]);
    run.expect(0);
    let default_name = format!("{mrn}-report-{today}.md");
    assert_eq!(run.stdout.trim(), default_name);
    let md = std::fs::read_to_string(world.home.path().join(&default_name)).unwrap();
    assert!(md.contains("Nguyễn Văn Đức"), "{md}");
    // A patient's record, so readable by its owner only, whatever the umask.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(world.home.path().join(&default_name))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o077, 0, "the export's mode is {mode:o}");
    // Again: refused, the file kept, and told how to replace it.
    let again = here(&["reports", "export", &report_id, "--format", "md"]);
    again.expect(2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    here(&["reports", "export", &report_id, "--format", "md", "--force"]).expect(0);

    // By MRN, as a PDF, to a named file.
    let out = world.home.path().join("record.pdf");
    let out_text = out.to_str().unwrap();
    world
        .synapse(&[
            "patients", "export", &mrn, "--format", "pdf", "-o", out_text,
        ])
        .expect(0);
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
    let refused = world.synapse(&["patients", "export", &mrn, "-o", out_text]);
    refused.expect(2);
    let bad = world.synapse(&["reports", "export", &report_id, "--format", "docx"]);
    bad.expect(2);
    assert!(bad.stderr.contains("md or pdf"), "{}", bad.stderr);
}

#[test]
fn export_as_fhir_writes_the_everything_bundle_named_by_mrn() {
    let world = World::start();
    let patient = world.patient("Nguyễn Văn Đức");
    let mrn = world.api_data(&format!("/api/v1/patients/{patient}"))["mrn"]
        .as_str()
        .unwrap()
        .to_string();
    let report = world.report(&patient);
    let report_id = report["id"].as_str().unwrap().to_string();
    world.login().expect(0);

    let mut command = world.command(
        Some(world.base()),
        &["patients", "export", &mrn, "--format", "fhir"],
    );
    command.current_dir(world.home.path());
    let run = run(command, None, world.home.path());
    run.expect(0);
    let name = run.stdout.trim().to_string();
    assert!(
        name.starts_with(&format!("{mrn}-record-")) && name.ends_with(".fhir.json"),
        "{name}"
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(world.home.path().join(&name)).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["entry"][0]["resource"]["resourceType"], "Patient");
    assert_eq!(
        bundle["entry"][0]["resource"]["identifier"][0]["value"],
        mrn.as_str()
    );
    let kinds = bundle["entry"].to_string();
    assert!(kinds.contains("\"DiagnosticReport\""), "{kinds}");

    // A report has no FHIR export of its own; a patient not found is exit 4, from the
    // OperationOutcome the FHIR API answers.
    let refused = world.synapse(&["reports", "export", &report_id, "--format", "fhir"]);
    refused.expect(2);
    assert!(
        refused.stderr.contains("patients export"),
        "{}",
        refused.stderr
    );
    let missing = world.synapse(&[
        "patients",
        "export",
        "0192f0c1-7b4e-7c3a-9d2e-4f5a6b7c8d9e",
        "--format",
        "fhir",
        "-o",
        world.home.path().join("none.json").to_str().unwrap(),
    ]);
    missing.expect(4);
}

#[test]
fn every_format_has_one_shape_and_fields_pick_the_columns() {
    let world = World::start();
    let mut patients = Vec::new();
    for n in 0..5 {
        patients.push(world.patient(&format!("Format Person{n}, \"Quoted\"")));
    }
    world.report(&patients[0]);
    world.login().expect(0);
    let api = world.api_data("/api/v1/patients/list/?limit=3");
    let items = api["items"].as_array().unwrap();

    // ndjson: one line per item, each the API's object.
    let ndjson = world.synapse(&["patients", "list", "--limit", "3", "--format", "ndjson"]);
    ndjson.expect(0);
    let lines: Vec<Value> = ndjson
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(&lines, items);

    // csv: a header row of the JSON names, one row per item, RFC 4180 quoting.
    let csv = world.synapse(&[
        "patients",
        "list",
        "--limit",
        "3",
        "--format",
        "csv",
        "--fields",
        "mrn,full_name",
    ]);
    csv.expect(0);
    let mut rows = csv.stdout.lines();
    assert_eq!(rows.next(), Some("mrn,full_name"));
    let first = rows.next().expect("a row");
    let name = items[0]["full_name"].as_str().unwrap().replace('"', "\"\"");
    assert_eq!(
        first,
        format!("{},\"{name}\"", items[0]["mrn"].as_str().unwrap())
    );
    assert_eq!(rows.count(), 2);

    // --all gives the same shape in every format: every item, one line each.
    let all = world.synapse(&[
        "patients", "list", "--limit", "2", "--all", "--format", "ndjson",
    ]);
    assert_eq!(all.stdout.lines().count(), 5, "{}", all.stdout);

    // --json and --format json are the same; --fields keeps the {items, pagination} shape.
    let picked = world
        .synapse(&[
            "reports",
            "list",
            "--format",
            "json",
            "--fields",
            "id,patient.mrn",
        ])
        .json();
    let report = &picked["items"][0];
    assert_eq!(report.as_object().unwrap().len(), 2, "{picked}");
    assert!(report["patient"]["mrn"].is_string(), "{picked}");
    assert_eq!(picked["pagination"]["total"], 1);

    // One object is one row.
    let me = world.synapse(&["whoami", "--format", "csv", "--fields", "email,role"]);
    me.expect(0);
    assert_eq!(me.stdout, format!("email,role\n{DOCTOR},doctor\n"));
    let table = world.synapse(&["reports", "stats", "--fields", "total,unsigned"]);
    table.expect(0);
    assert!(
        table.stdout.starts_with("TOTAL  UNSIGNED\n"),
        "{}",
        table.stdout
    );

    // An unknown field: a usage error naming it and listing the valid ones.
    let unknown = world.synapse(&["patients", "list", "--fields", "mrn,shoe_size"]);
    unknown.expect(2);
    assert!(
        unknown.stderr.contains("\"shoe_size\""),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stderr.contains("full_name"), "{}", unknown.stderr);
    assert!(unknown.stdout.is_empty(), "{}", unknown.stdout);
    world
        .synapse(&["patients", "list", "--format", "xml"])
        .expect(2);
    // The connection flags work on the group too.
    world
        .synapse(&["patients", "--token-store", "keyutils", "list", "--json"])
        .expect(0);
}

/// The code of an enrolment's base32 `secret` `steps` steps from `time`.
fn totp_code(secret: &str, time: u64, steps: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .expect("base32")
        .as_bytes()
        .to_vec();
    let step = synapse::server::totp::STEP_S;
    synapse::server::totp::code_at(&bytes, time.saturating_add_signed(steps * step as i64), 6)
        .unwrap()
}

/// Now, after waiting out the last seconds of a step, so codes of the steps around it stay in
/// the server's window for the rest of a short test.
fn steady_now() -> u64 {
    let step = synapse::server::totp::STEP_S;
    let now = chrono::Utc::now().timestamp() as u64;
    if now % step >= step - 8 {
        std::thread::sleep(Duration::from_secs(step - now % step + 1));
    }
    chrono::Utc::now().timestamp() as u64
}

#[test]
fn a_second_factor_is_enrolled_logged_in_with_and_signed_with_from_the_cli() {
    let world = World::start();
    let patient = world.patient("Amelia Zorander");
    let report = world.report(&patient);
    let id = report["id"].as_str().unwrap().to_string();
    let version = report["version"].to_string();
    world.login().expect(0);
    let now = steady_now();

    // Enrolling prints the QR code, the secret and the URI; without a terminal it says how to
    // confirm.
    let enrolled = world.synapse(&["auth", "mfa", "enroll"]);
    enrolled.expect(0);
    assert!(enrolled.stdout.contains('\u{2580}') || enrolled.stdout.contains('\u{2584}'));
    let secret = enrolled
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Secret: "))
        .expect("the secret is printed")
        .trim()
        .to_string();
    assert!(
        enrolled.stdout.contains("auth mfa confirm --code"),
        "{}",
        enrolled.stdout
    );
    let wrong = world.synapse(&["auth", "mfa", "confirm", "--code", "12"]);
    wrong.expect(2);
    assert!(wrong.stderr.contains("--code"), "{}", wrong.stderr);
    let confirmed = world.synapse(&[
        "--json",
        "auth",
        "mfa",
        "confirm",
        "--code",
        &totp_code(&secret, now, -1),
    ]);
    assert_eq!(
        confirmed.json()["recovery_codes"].as_array().unwrap().len(),
        10
    );

    // Logging in now needs the code: a script without it is told how to give it.
    world.synapse(&["logout"]).expect(0);
    let without = world.login();
    without.expect(2);
    assert!(without.stderr.contains("--code"), "{}", without.stderr);
    // The code on the line after the password.
    world
        .synapse_with(
            Some(world.base()),
            &["login", "--email", DOCTOR, "--password-stdin"],
            Some(&format!("{PASSWORD}\n{}\n", totp_code(&secret, now, 0))),
        )
        .expect(0);
    // The same code again is refused: it was used.
    let replay = world.synapse_with(
        Some(world.base()),
        &[
            "login",
            "--email",
            DOCTOR,
            "--password-stdin",
            "--code",
            &totp_code(&secret, now, 0),
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_ne!(replay.code, 0);
    assert!(replay.stderr.contains("already used"), "{}", replay.stderr);

    // Signing asks for the code too: read from the line after the password.
    world
        .synapse_with(
            Some(world.base()),
            &[
                "reports",
                "sign",
                &id,
                "--version",
                &version,
                "--password-stdin",
            ],
            Some(&format!("{PASSWORD}\n{}\n", totp_code(&secret, now, 1))),
        )
        .expect(0);
    assert_eq!(
        world.api_data(&format!("/api/v1/reports/{id}"))["status"],
        "signed"
    );
}
