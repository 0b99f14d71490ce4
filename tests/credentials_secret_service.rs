//! The token store against a real Secret Service: a private D-Bus session bus and a headless
//! gnome-keyring-daemon, unlocked with a password on stdin, both started here in a temporary
//! home and killed when the test ends. `secret-tool` (libsecret) reads the keyring's side
//! independently. The programs come from the Debian packages `dbus`, `gnome-keyring` and
//! `libsecret-tools`; without them the test fails and says what to install.
//!
//! One test function only: it points this process's DBUS_SESSION_BUS_ADDRESS at the private
//! bus, and no other test may run beside that change.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use synapse::credentials::{SavedLogin, StoreKind, TokenStore, TokenStoreChoice};

const INSTALL_HINT: &str = "install the Debian packages the credentials tests need: \
     apt-get install -y dbus gnome-keyring libsecret-tools keyutils (.ci/run does this)";

/// A daemon started by this test, killed (and reaped) when dropped, also on a failed assert.
struct Daemon {
    name: &'static str,
    child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let mut err = String::new();
            if let Some(stderr) = self.child.stderr.as_mut() {
                let _ = std::io::Read::read_to_string(stderr, &mut err);
            }
            panic!("{} exited early ({status}): {err}", self.name);
        }
    }
}

/// The path of `program` on PATH, or a failure that says which packages to install.
fn require(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("`{program}` is not installed: {INSTALL_HINT}"))
}

/// A private session bus whose config has no service directories, so nothing on it is
/// auto-started: only the keyring daemon this test starts answers for the Secret Service.
fn start_bus(dbus_daemon: &Path, home: &Path) -> (Daemon, String) {
    let config = home.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            home.display()
        ),
    )
    .expect("write the bus config");
    let mut child = Command::new(dbus_daemon)
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--nopidfile", "--print-address=1"])
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("could not start dbus-daemon ({err}): {INSTALL_HINT}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut daemon = Daemon {
        name: "dbus-daemon",
        child,
    };
    let mut address = String::new();
    BufReader::new(stdout)
        .read_line(&mut address)
        .expect("read the bus address");
    if address.trim().is_empty() {
        daemon.assert_running();
        panic!("dbus-daemon printed no address");
    }
    (daemon, address.trim().to_string())
}

/// gnome-keyring-daemon with only its Secret Service component, its login keyring created and
/// unlocked with a password read from stdin, everything kept under `home`.
fn start_keyring(gnome_keyring: &Path, home: &Path, bus: &str) -> Daemon {
    let runtime = home.join("run");
    std::fs::create_dir_all(&runtime).expect("runtime dir");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
        .expect("runtime dir mode");
    let mut child = Command::new(gnome_keyring)
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("GNOME_KEYRING_CONTROL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!("could not start gnome-keyring-daemon ({err}): {INSTALL_HINT}")
        });
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(b"synapse-test-keyring")
        .expect("send the keyring password");
    drop(stdin);
    Daemon {
        name: "gnome-keyring-daemon",
        child,
    }
}

/// Waits until the keyring daemon owns the Secret Service name on the bus.
fn wait_for_secret_service(dbus_send: &Path, bus: &str, keyring: &mut Daemon) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        keyring.assert_running();
        let reply = Command::new(dbus_send)
            .arg(format!("--bus={bus}"))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .unwrap_or_else(|err| panic!("could not run dbus-send ({err}): {INSTALL_HINT}"));
        if String::from_utf8_lossy(&reply.stdout).contains("boolean true") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gnome-keyring-daemon did not register org.freedesktop.secrets on the test bus"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the keyring holds for (service, user), read with `secret-tool` over the test bus.
fn secret_tool_lookup(secret_tool: &Path, bus: &str, service: &str, user: &str) -> Option<String> {
    let out: Output = Command::new(secret_tool)
        .args(["lookup", "service", service, "username", user])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .unwrap_or_else(|err| panic!("could not run secret-tool ({err}): {INSTALL_HINT}"));
    (out.status.success() && !out.stdout.is_empty())
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn login(email: &str, token: &str) -> SavedLogin {
    SavedLogin {
        email: email.to_string(),
        refresh_token: token.to_string(),
    }
}

/// Points this process at a session bus. Edition 2024 makes this `unsafe`, since another thread
/// reading the environment at the same moment is undefined behaviour.
#[allow(unsafe_code)]
fn set_session_bus(address: &str) {
    // SAFETY: this file holds one test, and the harness's main thread only waits for it; no
    // runtime or keyring thread has been started yet when this runs.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address) };
}

#[test]
fn secret_service_keeps_the_session_in_a_real_keyring() {
    let dbus_daemon = require("dbus-daemon");
    let dbus_send = require("dbus-send");
    let gnome_keyring = require("gnome-keyring-daemon");
    let secret_tool = require("secret-tool");

    // Declared first, dropped last: the daemons are killed before their home is removed.
    let home = tempfile::tempdir().expect("a temporary home");

    // An explicit choice that cannot work falls back to memory and says why.
    set_session_bus(&format!(
        "unix:path={}",
        home.path().join("no-bus-here").display()
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let fallback = runtime.block_on(TokenStore::open(TokenStoreChoice::SecretService));
    assert_eq!(fallback.kind(), StoreKind::Memory);
    assert!(!fallback.remembers());
    assert_eq!(fallback.status(), "session not kept: no Secret Service");
    let reason = fallback.fallback_reason().expect("a reason").to_string();
    assert!(reason.contains("Secret Service"), "{reason}");
    drop(runtime);

    let (_bus, address) = start_bus(&dbus_daemon, home.path());
    let mut keyring = start_keyring(&gnome_keyring, home.path(), &address);
    wait_for_secret_service(&dbus_send, &address, &mut keyring);
    set_session_bus(&address);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = TokenStore::open(TokenStoreChoice::SecretService).await;
        assert_eq!(
            store.kind(),
            StoreKind::SecretService,
            "fell back: {:?}",
            store.fallback_reason()
        );
        assert!(store.remembers());
        assert_eq!(store.status(), "session kept in the Secret Service keyring");

        // With a D-Bus session announced, auto prefers the Secret Service.
        let auto = TokenStore::open(TokenStoreChoice::Auto).await;
        assert_eq!(auto.kind(), StoreKind::SecretService);

        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_nanos();
        let server = format!("https://secret-service-{nanos}.invalid");
        let service = format!("synapse:{server}");
        assert_eq!(store.load(&server).await.expect("load"), None);

        store
            .save(&server, &login("ada@example.org", "refresh-ss-1"))
            .await
            .expect("save");
        assert_eq!(
            auto.load(&server).await.expect("load"),
            Some(login("ada@example.org", "refresh-ss-1")),
            "another store on the same keyring finds the login"
        );
        assert_eq!(
            secret_tool_lookup(&secret_tool, &address, &service, "ada@example.org").as_deref(),
            Some("refresh-ss-1"),
            "the token is in gnome-keyring"
        );
        assert_eq!(
            secret_tool_lookup(&secret_tool, &address, &service, "last-login").as_deref(),
            Some("ada@example.org")
        );

        // A new login to the same server replaces the old token.
        store
            .save(&server, &login("bob@example.org", "refresh-ss-2"))
            .await
            .expect("save");
        assert_eq!(
            store.load(&server).await.expect("load"),
            Some(login("bob@example.org", "refresh-ss-2"))
        );
        assert_eq!(
            secret_tool_lookup(&secret_tool, &address, &service, "ada@example.org"),
            None
        );

        store.forget(&server).await.expect("forget");
        assert_eq!(auto.load(&server).await.expect("load"), None);
        assert_eq!(
            secret_tool_lookup(&secret_tool, &address, &service, "bob@example.org"),
            None
        );
        assert_eq!(
            secret_tool_lookup(&secret_tool, &address, &service, "last-login"),
            None
        );
    });

    // The probes left nothing behind.
    let probes = Command::new(&secret_tool)
        .args(["search", "--all", "service", "synapse:probe"])
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .output()
        .expect("secret-tool search");
    let listed = format!(
        "{}{}",
        String::from_utf8_lossy(&probes.stdout),
        String::from_utf8_lossy(&probes.stderr)
    );
    assert!(!listed.contains("probe-"), "probe items left: {listed}");
    drop(runtime);
    keyring.assert_running();
}
