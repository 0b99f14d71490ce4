//! The token store against the real Linux kernel keyring (keyutils).
//!
//! Each test first joins a fresh anonymous session keyring on its own thread (the runtime's and
//! the keyring calls' threads are started afterwards and inherit it), so the tests never touch the
//! session keyring of the user running them. The `keyctl` program (Debian package `keyutils`)
//! reads the kernel's side independently.
#![cfg(target_os = "linux")]

use std::time::{SystemTime, UNIX_EPOCH};

use synapse::credentials::{SavedLogin, StoreKind, TokenStore, TokenStoreChoice};

mod common;

use common::keyring::{join_fresh_session_keyring, kernel_key};

/// Runs `test` in a fresh session keyring on a runtime started after joining it.
fn in_fresh_session<F: Future>(test: F) -> F::Output {
    join_fresh_session_keyring();
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
        assert_eq!(store.status(), "session kept in the kernel keyring");
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
