//! The real `synapse` binary as a child process, for the tests that run it end to end: a command
//! with an environment that cannot see the user's settings, a bounded wait for a process to
//! exit, and `Served`, a `synapse serve` on a free 127.0.0.1 port that is killed when dropped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_synapse");

/// An HTTP client (reqwest is built without a TLS provider of its own; install the crate's).
pub fn http_client(timeout: Option<Duration>) -> reqwest::Client {
    synapse::client::install_tls_provider();
    let mut builder = reqwest::Client::builder();
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("HTTP client")
}

/// A free port on 127.0.0.1: bind port 0, read the port, let the listener go.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Whether an inherited variable would let the user's settings leak into a test process.
pub fn is_synapse_var(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with("SYNAPSE_")
}

/// The data keys of this test process, in the key file's form: the stores tests open in the
/// process and every binary they run (`SYNAPSE_DATA_KEYS`) share them, so each reads what the
/// other wrote.
pub fn test_keys() -> &'static str {
    static KEYS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEYS.get_or_init(synapse::store::cipher::new_key_file)
}

/// Installs `test_keys` as this process's keyring, once.
pub fn install_test_keys() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let keys =
            synapse::store::cipher::Keyring::parse(test_keys(), "test keys").expect("test keys");
        synapse::store::cipher::install(keys);
    });
}

/// The binary with an environment that cannot see the user's settings: no `SYNAPSE_*`
/// variables but the test process's data keys, a config path that does not exist, and home
/// directories inside `dir`.
pub fn synapse(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if is_synapse_var(&name) {
            command.env_remove(&name);
        }
    }
    command
        .env("SYNAPSE_CONFIG", dir.join("no-such-config.toml"))
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data-home"))
        .env("SYNAPSE_LOG", "warn")
        .env(synapse::store::cipher::KEYS_VAR, test_keys())
        .stdin(Stdio::null());
    command
}

/// Waits for the process to exit, at most `limit`; kills it and fails past that.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `synapse serve`; dropping it (also on a panic) kills the process.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub port: u16,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// `synapse serve --demo` over a fresh data directory `dir/data`, healthy within
    /// `healthy_within` (see `start`).
    pub fn demo(dir: &Path, healthy_within: Duration) -> Served {
        Self::start(dir, &dir.join("data"), &["--demo"], &[], healthy_within)
    }

    /// Starts `synapse serve <args> --listen 127.0.0.1:<free port>` with `SYNAPSE_DATA_DIR=data`
    /// and the extra variables `envs` (the rest of the environment as `synapse(dir)` makes it),
    /// its stderr going to `dir/serve-<port>.log`, and waits (at most `healthy_within`) until
    /// `GET /health` answers 200 with `{"status": "ok"}`. Fails with the server's log if it exits
    /// first or is not healthy in time. This blocks; async tests use `start_async`.
    pub fn start(
        dir: &Path,
        data: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        healthy_within: Duration,
    ) -> Served {
        Self::start_on(free_port(), dir, data, args, envs, healthy_within)
    }

    /// `start` on a given port: a server restarted where its clients already point.
    pub fn start_on(
        port: u16,
        dir: &Path,
        data: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        healthy_within: Duration,
    ) -> Served {
        let log = dir.join(format!("serve-{port}.log"));
        let mut command = synapse(dir);
        command
            .arg("serve")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SYNAPSE_DATA_DIR", data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (name, value) in envs {
            command.env(name, value);
        }
        let child = command.spawn().expect("spawn synapse serve");
        let mut served = Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            log,
        };
        served.wait_healthy(healthy_within);
        served
    }

    /// `start` on the runtime's blocking pool, so the wait never stalls the test's runtime.
    pub async fn start_async(
        dir: &Path,
        data: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        healthy_within: Duration,
    ) -> Served {
        Self::start_on_async(free_port(), dir, data, args, envs, healthy_within).await
    }

    /// `start_on` on the runtime's blocking pool.
    pub async fn start_on_async(
        port: u16,
        dir: &Path,
        data: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        healthy_within: Duration,
    ) -> Served {
        let (dir, data) = (dir.to_path_buf(), data.to_path_buf());
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let envs: Vec<(&str, &str)> = envs
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            Self::start_on(port, &dir, &data, &args, &envs, healthy_within)
        })
        .await
        // A panic in `start` (with the server's log) is the test's failure: pass it on as it is.
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
    }

    /// `demo` on the runtime's blocking pool.
    pub async fn demo_async(dir: &Path, healthy_within: Duration) -> Served {
        Self::start_async(dir, &dir.join("data"), &["--demo"], &[], healthy_within).await
    }

    /// Sends the process SIGTERM, as a service manager stops it.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM {}", self.child.id());
    }

    /// Waits (at most `limit`, see `wait_bounded`) for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        wait_bounded(&mut self.child, limit)
    }

    /// What the server has written to stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn wait_healthy(&mut self, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "synapse serve exited early ({status}):\n{}",
                    self.log_text()
                );
            }
            if let Some(body) = health_body(self.port) {
                let body: Value = serde_json::from_str(&body)
                    .unwrap_or_else(|e| panic!("/health is not JSON ({e}): {body:?}"));
                assert_eq!(body, json!({"status": "ok"}));
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "synapse serve was not healthy within {limit:?}:\n{}",
            self.log_text()
        );
    }
}

/// The body of `GET /health` if it answers 200, over a plain socket (nothing more is needed,
/// and it works with or without a runtime).
fn health_body(port: u16) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    if !answer.starts_with("HTTP/1.1 200") {
        return None;
    }
    let (head, body) = answer.split_once("\r\n\r\n")?;
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "/health answered chunked; read it with an HTTP client: {answer:?}"
    );
    Some(body.to_string())
}
