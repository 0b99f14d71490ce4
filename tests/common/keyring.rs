//! The Linux kernel keyring (keyutils) for the tests that keep tokens there: joining a fresh
//! anonymous session keyring, and reading what the kernel holds with `keyctl` (Debian package
//! `keyutils`), independently of the token store.

use std::process::Command;

pub const KEYUTILS_HINT: &str = "install the Debian package keyutils (apt-get install -y keyutils)";

/// Joins a new anonymous session keyring for the calling thread; threads and processes it
/// starts later inherit it. This is the one place the keyring tests need `unsafe`: no safe Rust
/// API joins a session keyring.
#[allow(unsafe_code)]
pub fn join_fresh_session_keyring() {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) reads no memory: a null name asks the
    // kernel for a new anonymous keyring. It changes only this thread's credentials.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    assert!(
        id >= 0,
        "could not join a fresh session keyring: {}",
        std::io::Error::last_os_error()
    );
}

/// Makes the calling thread's session keyring the user's shared user-session keyring
/// (`_uid_ses.<uid>`), as for a process that never got a session keyring of its own (an SSH
/// login without `pam_keyinit`, many containers): the kernel lends such a process that keyring.
/// Threads and processes started later inherit it. Returns the keyring's serial number.
#[allow(unsafe_code)]
pub fn join_user_session_keyring() -> i64 {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: getuid(2) cannot fail and touches no memory.
    let uid = unsafe { libc::getuid() };
    let name = std::ffi::CString::new(format!("_uid_ses.{uid}")).expect("a keyring name");
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, name) reads the NUL-terminated name, which
    // lives until the call returns. It changes only this thread's credentials.
    let id = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) };
    assert!(
        id >= 0,
        "could not join the user-session keyring: {}",
        std::io::Error::last_os_error()
    );
    const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
    const KEY_SPEC_USER_SESSION_KEYRING: libc::c_long = -5;
    // SAFETY: keyctl(KEYCTL_GET_KEYRING_ID, id, 0) reads no memory and creates nothing.
    let user_session = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_KEYRING_ID,
            KEY_SPEC_USER_SESSION_KEYRING,
            0 as libc::c_long,
        )
    };
    assert_eq!(
        id, user_session,
        "joining {name:?} gave another keyring than the user-session one on this kernel"
    );
    id
}

/// Runs `keyctl` with these arguments; its standard output when it succeeds, `None` when not.
pub fn keyctl(args: &[&str]) -> Option<String> {
    let run = Command::new("keyctl")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("could not run keyctl ({err}): {KEYUTILS_HINT}"));
    run.status
        .success()
        .then(|| String::from_utf8_lossy(&run.stdout).into_owned())
}

/// What the kernel holds for (server, user) in the session keyring, read with `keyctl`, not
/// through the store.
pub fn kernel_key(server: &str, user: &str) -> Option<String> {
    // keyring-rs's description of an entry, which the store keeps: `keyring:{user}@{service}`.
    let description = format!("keyring:{user}@synapse:{server}");
    let search = Command::new("keyctl")
        .args(["search", "@s", "user", &description])
        .output()
        .unwrap_or_else(|err| panic!("could not run keyctl ({err}): {KEYUTILS_HINT}"));
    if !search.status.success() {
        return None;
    }
    let id = String::from_utf8_lossy(&search.stdout).trim().to_string();
    let read = Command::new("keyctl")
        .args(["pipe", &id])
        .output()
        .expect("keyctl pipe");
    read.status
        .success()
        .then(|| String::from_utf8_lossy(&read.stdout).into_owned())
}
