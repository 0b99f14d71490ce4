//! The token store against the real Linux kernel keyring (keyutils).
//!
//! Each test first sets up the session keyring of its own thread (the runtime's threads and the
//! `keyctl` processes are started afterwards and inherit it): a fresh anonymous session keyring,
//! as a `pam_keyinit` login has, so the tests never touch the session keyring of the user running
//! them; or the user's shared user-session keyring, as a process has that never got a session
//! keyring of its own (an SSH login without `pam_keyinit`, many containers). Those keep their
//! test entries in the user keyring under server names of their own and remove them. The
//! `keyctl` program (Debian package `keyutils`) reads the kernel's side independently.
#![cfg(target_os = "linux")]

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use synapse::credentials::{SavedLogin, StoreKind, TokenStore, TokenStoreChoice};

mod common;

use common::keyring::{join_fresh_session_keyring, join_user_session_keyring, kernel_key, keyctl};

/// One test at a time: opening a store sweeps stale probe keys from the shared user-session
/// keyring, so a test that plants one there would race with any other test opening a store.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static KEYRINGS: Mutex<()> = Mutex::new(());
    KEYRINGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `test` in a fresh session keyring on a runtime started after joining it.
fn in_fresh_session<F: Future>(test: F) -> F::Output {
    let _one = one_at_a_time();
    join_fresh_session_keyring();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(test)
}

/// Runs `test` with the user-session keyring as its session keyring, on a runtime started after.
fn in_user_session<F: Future>(test: F) -> F::Output {
    let _one = one_at_a_time();
    join_user_session_keyring();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(test)
}

/// A server URL no other test (or earlier run) uses.
fn unique_server(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos();
    format!("https://{name}-{}-{nanos}.invalid", std::process::id())
}

fn login(email: &str, token: &str) -> SavedLogin {
    SavedLogin {
        email: email.to_string(),
        refresh_token: token.to_string(),
    }
}

#[test]
fn keyutils_keeps_the_session_in_the_kernel_keyring() {
    in_fresh_session(async {
        let store = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(
            store.kind(),
            StoreKind::Keyutils,
            "fell back: {:?}",
            store.fallback_reason()
        );
        assert!(store.remembers());
        assert_eq!(store.status(), "session kept in the kernel session keyring");
        assert_eq!(store.place(), "the kernel session keyring");
        assert_eq!(store.fallback_reason(), None);

        let server = unique_server("keyutils");
        assert_eq!(store.load(&server).await.expect("load"), None);
        store
            .save(&server, &login("ada@example.org", "refresh-kernel-1"))
            .await
            .expect("save");

        // A store opened later (as at the next start) finds the login.
        let reopened = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(
            reopened.load(&server).await.expect("load"),
            Some(login("ada@example.org", "refresh-kernel-1"))
        );
        assert_eq!(
            kernel_key(&server, "ada@example.org").as_deref(),
            Some("refresh-kernel-1"),
            "the token is a kernel key"
        );
        assert_eq!(
            kernel_key(&server, "last-login").as_deref(),
            Some("ada@example.org")
        );

        reopened.forget(&server).await.expect("forget");
        assert_eq!(store.load(&server).await.expect("load"), None);
        assert_eq!(kernel_key(&server, "ada@example.org"), None);
        assert_eq!(kernel_key(&server, "last-login"), None);
    });
}

#[test]
fn a_new_login_to_the_same_server_replaces_the_old_token() {
    in_fresh_session(async {
        let store = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(store.kind(), StoreKind::Keyutils);
        let server = unique_server("replace");
        store
            .save(&server, &login("ada@example.org", "refresh-ada"))
            .await
            .expect("save");
        store
            .save(&server, &login("bob@example.org", "refresh-bob"))
            .await
            .expect("save");
        assert_eq!(
            store.load(&server).await.expect("load"),
            Some(login("bob@example.org", "refresh-bob"))
        );
        assert_eq!(kernel_key(&server, "ada@example.org"), None);
        store.forget(&server).await.expect("forget");
    });
}

#[test]
fn servers_are_kept_apart() {
    in_fresh_session(async {
        let store = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(store.kind(), StoreKind::Keyutils);
        let (one, two) = (unique_server("one"), unique_server("two"));
        store
            .save(&one, &login("ada@example.org", "refresh-one"))
            .await
            .expect("save");
        store
            .save(&two, &login("ada@example.org", "refresh-two"))
            .await
            .expect("save");
        store.forget(&two).await.expect("forget");
        assert_eq!(
            store.load(&one).await.expect("load"),
            Some(login("ada@example.org", "refresh-one"))
        );
        assert_eq!(store.load(&two).await.expect("load"), None);
        store.forget(&one).await.expect("forget");
    });
}

#[test]
fn auto_picks_a_real_keyring_and_leaves_no_probe_behind() {
    in_fresh_session(async {
        let store = TokenStore::open(TokenStoreChoice::Auto).await;
        assert!(
            store.remembers(),
            "fell back: {:?}",
            store.fallback_reason()
        );
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            assert_eq!(store.kind(), StoreKind::Keyutils);
        }
        assert_no_probe_key_left();
    });
}

#[test]
fn without_a_session_keyring_of_its_own_the_user_keyring_keeps_the_session() {
    in_user_session(async {
        let store = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(
            store.kind(),
            StoreKind::Keyutils,
            "fell back: {:?}",
            store.fallback_reason()
        );
        assert_eq!(store.status(), "session kept in the kernel user keyring");
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            let auto = TokenStore::open(TokenStoreChoice::Auto).await;
            assert_eq!(auto.status(), "session kept in the kernel user keyring");
        }

        let server = unique_server("user-keyring");
        store
            .save(&server, &login("ada@example.org", "refresh-user-1"))
            .await
            .expect("save");
        // Another process (`keyctl`, as the next start would be) reads the kernel's key.
        assert_eq!(
            kernel_key(&server, "ada@example.org").as_deref(),
            Some("refresh-user-1"),
            "the token is a key of the user keyring"
        );
        let reopened = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(
            reopened.load(&server).await.expect("load"),
            Some(login("ada@example.org", "refresh-user-1"))
        );
        reopened.forget(&server).await.expect("forget");
        assert_eq!(store.load(&server).await.expect("load"), None);
        assert_eq!(kernel_key(&server, "ada@example.org"), None);
        assert_eq!(kernel_key(&server, "last-login"), None);
        assert_no_probe_key_left();
    });
}

#[test]
fn a_session_keyring_that_refuses_writes_gives_way_to_the_user_keyring() {
    in_fresh_session(async {
        // The user keyring hangs from the session keyring, as `pam_keyinit` links it; then the
        // session keyring stops taking keys (view, read, search, link and setattr only).
        keyctl(&["link", "@u", "@s"]).expect("keyctl link @u @s");
        keyctl(&["setperm", "@s", "0x3b1b0000"]).expect("keyctl setperm @s");

        let store = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(
            store.kind(),
            StoreKind::Keyutils,
            "fell back: {:?}",
            store.fallback_reason()
        );
        assert_eq!(store.status(), "session kept in the kernel user keyring");
        let server = unique_server("read-only-session");
        store
            .save(&server, &login("ada@example.org", "refresh-ro-1"))
            .await
            .expect("save");
        assert_eq!(
            TokenStore::open(TokenStoreChoice::Keyutils)
                .await
                .load(&server)
                .await
                .expect("load"),
            Some(login("ada@example.org", "refresh-ro-1"))
        );
        store.forget(&server).await.expect("forget");
        assert_eq!(kernel_key(&server, "ada@example.org"), None);
        assert_no_probe_key_left();
    });
}

#[test]
fn with_no_usable_kernel_keyring_the_status_says_why_and_no_probe_is_left() {
    in_fresh_session(async {
        // A session keyring revoked at logout (pam_keyinit's `revoke`, under a surviving tmux):
        // it cannot be used, and the user keyring's keys are not reachable from it, so the
        // process can write a key there but never read it back.
        keyctl(&["revoke", "@s"]).expect("keyctl revoke @s");

        let store = TokenStore::open(TokenStoreChoice::Keyutils).await;
        assert_eq!(store.kind(), StoreKind::Memory);
        assert!(!store.remembers());
        assert_eq!(store.status(), "session not kept: keyring access denied");
        let reason = store.fallback_reason().expect("a reason");
        assert!(
            reason.contains("the kernel session keyring: ") && reason.contains("keyring revoked"),
            "{reason}"
        );
        assert!(
            reason.contains("the kernel user keyring: probe read failed"),
            "{reason}"
        );
        assert_no_probe_key_left();
    });
}

#[test]
fn probe_keys_an_earlier_release_left_in_the_user_session_keyring_are_removed() {
    let _one = one_at_a_time();
    let ring = join_user_session_keyring().to_string();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos();
    // What an earlier release left at each start: a probe key it could neither read nor remove.
    let stale = format!("keyring:probe-1-{nanos:032x}@synapse:probe");
    keyctl(&["add", "user", &stale, "x", &ring]).expect("a stale probe key");
    assert!(keyctl(&["search", &ring, "user", &stale]).is_some());

    let store = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(TokenStore::open(TokenStoreChoice::Keyutils));
    assert_eq!(store.kind(), StoreKind::Keyutils);
    assert_eq!(
        keyctl(&["search", &ring, "user", &stale]),
        None,
        "the stale probe key is still there"
    );
}

/// No live probe key of this process is visible. Other tests probe at the same time, so a live
/// one is waited out for a moment before it counts as left behind; invalidated keys (flag `i`)
/// are already gone for every search and wait only for the kernel's garbage collector. Only
/// this process's probes count (their names carry its pid): the persistent keyring is shared
/// by every session of the user, and another program killed mid-probe is not this test's fault.
fn assert_no_probe_key_left() {
    let ours = format!("probe-{}-", std::process::id());
    let live_probes = || {
        std::fs::read_to_string("/proc/keys")
            .expect("/proc/keys is readable")
            .lines()
            .filter(|line| line.contains("@synapse:probe") && line.contains(&ours))
            .filter(|line| {
                let flags = line.split_whitespace().nth(1).unwrap_or("");
                !flags.contains('i')
            })
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for _ in 0..80 {
        if live_probes().is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("probe keys were left behind: {:?}", live_probes());
}
