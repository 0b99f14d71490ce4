//! The token store's logic against keyring-core's mock store and the memory store. The real
//! keyrings are exercised by tests/credentials_keyutils.rs and tests/credentials_secret_service.rs.

use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry, Error, mock};

use super::backend::{Slots, check_real, off_executor};
use super::*;

const SERVER: &str = "https://synapse.example.org";

fn mock_store() -> Arc<CredentialStore> {
    mock::Store::new().expect("a mock store")
}

fn login(email: &str, token: &str) -> SavedLogin {
    SavedLogin {
        email: email.to_string(),
        refresh_token: token.to_string(),
    }
}

/// What the mock holds for (service, user), read straight from the store.
fn raw(store: &Arc<CredentialStore>, service: &str, user: &str) -> Option<String> {
    let entry = Entry::new_in_store(store, service, user).expect("an entry");
    match entry.get_password() {
        Ok(text) => Some(text),
        Err(Error::NoEntry) => None,
        Err(err) => panic!("unexpected mock error: {err}"),
    }
}

/// Makes the next call on the mock entry (service, user) fail with `err`.
fn fail_next(store: &Arc<CredentialStore>, service: &str, user: &str, err: Error) {
    let entry = Entry::new_in_store(store, service, user).expect("an entry");
    let cred: &mock::Cred = entry.as_any().downcast_ref().expect("a mock credential");
    cred.set_error(err);
}

#[test]
fn choices_parse_from_their_names_and_print_back() {
    for name in TokenStoreChoice::NAMES {
        let choice: TokenStoreChoice = name.parse().expect("a known name");
        assert_eq!(choice.to_string(), name);
    }
    assert_eq!(
        " Secret-Service ".parse::<TokenStoreChoice>().ok(),
        Some(TokenStoreChoice::SecretService)
    );
    let err = "plaintext"
        .parse::<TokenStoreChoice>()
        .expect_err("unknown name");
    assert!(
        err.to_string()
            .contains("auto, secret-service, keyutils, memory"),
        "{err}"
    );
    assert_eq!(TokenStoreChoice::default(), TokenStoreChoice::Auto);
}

#[test]
fn choices_deserialize_from_the_config_file_spelling() {
    #[derive(serde::Deserialize)]
    struct Config {
        token_store: TokenStoreChoice,
    }
    let config: Config = toml::from_str("token_store = \"keyutils\"").expect("valid config");
    assert_eq!(config.token_store, TokenStoreChoice::Keyutils);
    assert!(toml::from_str::<Config>("token_store = \"file\"").is_err());
}

#[test]
fn a_mock_store_is_never_accepted_as_real() {
    let store = mock_store();
    let reason = check_real(store.as_ref()).expect_err("a mock is not an OS keyring");
    assert!(reason.contains("mock"), "{reason}");
    let refused = TokenStore::from_store(StoreKind::Keyutils, store).expect_err("refused");
    assert!(refused.contains("mock"), "{refused}");
}

#[tokio::test]
async fn a_saved_login_loads_back_and_is_forgotten() {
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock_store());
    assert_eq!(store.load(SERVER).await.expect("load"), None);

    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");
    assert_eq!(
        store.load(SERVER).await.expect("load"),
        Some(login("ada@example.org", "refresh-1"))
    );
    // A clone shares the store.
    assert!(store.clone().load(SERVER).await.expect("load").is_some());

    store.forget(SERVER).await.expect("forget");
    assert_eq!(store.load(SERVER).await.expect("load"), None);
    store
        .forget(SERVER)
        .await
        .expect("forgetting twice is fine");
}

#[tokio::test]
async fn entries_are_keyed_by_server_url_and_email() {
    let mock = mock_store();
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock.clone());
    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");

    let service = format!("synapse:{SERVER}");
    assert_eq!(
        raw(&mock, &service, "ada@example.org").as_deref(),
        Some("refresh-1")
    );
    assert_eq!(
        raw(&mock, &service, LAST_LOGIN_USER).as_deref(),
        Some("ada@example.org"),
        "the last-login entry holds the email only"
    );
}

#[tokio::test]
async fn a_trailing_slash_names_the_same_server() {
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock_store());
    store
        .save(
            &format!("{SERVER}/"),
            &login("ada@example.org", "refresh-1"),
        )
        .await
        .expect("save");
    assert!(store.load(SERVER).await.expect("load").is_some());
    store
        .forget(&format!(" {SERVER}// "))
        .await
        .expect("forget");
    assert!(store.load(SERVER).await.expect("load").is_none());
}

#[tokio::test]
async fn servers_are_kept_apart() {
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock_store());
    let other = "http://127.0.0.1:8080";
    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");
    store
        .save(other, &login("bob@example.org", "refresh-2"))
        .await
        .expect("save");
    assert_eq!(
        store.load(other).await.expect("load"),
        Some(login("bob@example.org", "refresh-2"))
    );
    store.forget(other).await.expect("forget");
    assert_eq!(
        store.load(SERVER).await.expect("load"),
        Some(login("ada@example.org", "refresh-1"))
    );
}

#[tokio::test]
async fn a_new_login_replaces_the_last_and_removes_the_old_token() {
    let mock = mock_store();
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock.clone());
    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");
    store
        .save(SERVER, &login("bob@example.org", "refresh-2"))
        .await
        .expect("save");
    assert_eq!(
        store.load(SERVER).await.expect("load"),
        Some(login("bob@example.org", "refresh-2"))
    );
    let service = format!("synapse:{SERVER}");
    assert_eq!(raw(&mock, &service, "ada@example.org"), None);

    // The same email again just rotates the token.
    store
        .save(SERVER, &login("bob@example.org", "refresh-3"))
        .await
        .expect("save");
    assert_eq!(
        raw(&mock, &service, "bob@example.org").as_deref(),
        Some("refresh-3")
    );

    store.forget(SERVER).await.expect("forget");
    assert_eq!(raw(&mock, &service, "bob@example.org"), None);
    assert_eq!(raw(&mock, &service, LAST_LOGIN_USER), None);
}

#[tokio::test]
async fn a_last_login_without_its_token_loads_as_nothing() {
    let mock = mock_store();
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock.clone());
    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");
    // The kernel keyring can expire one key and keep the other.
    let service = format!("synapse:{SERVER}");
    Entry::new_in_store(&mock, &service, "ada@example.org")
        .expect("an entry")
        .delete_credential()
        .expect("delete");
    assert_eq!(store.load(SERVER).await.expect("load"), None);
}

#[tokio::test]
async fn keyring_failures_are_errors_that_never_quote_the_secret() {
    let mock = mock_store();
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock.clone());
    store
        .save(SERVER, &login("ada@example.org", "refresh-secret"))
        .await
        .expect("save");
    let service = format!("synapse:{SERVER}");

    fail_next(
        &mock,
        &service,
        "ada@example.org",
        Error::BadEncoding(b"refresh-secret".to_vec()),
    );
    let err = store.load(SERVER).await.expect_err("a bad entry");
    let text = format!("{err:#} {err:?}");
    assert!(text.contains("not text"), "{text}");
    assert!(!text.contains("refresh-secret"), "{text}");

    fail_next(
        &mock,
        &service,
        LAST_LOGIN_USER,
        Error::NoStorageAccess("locked".into()),
    );
    let err = store.forget(SERVER).await.expect_err("a locked keyring");
    assert!(format!("{err:#}").contains("locked"), "{err:#}");
    // The failure did not lose the saved login.
    assert!(store.load(SERVER).await.expect("load").is_some());

    fail_next(
        &mock,
        &service,
        "ada@example.org",
        Error::PlatformFailure("disk full".into()),
    );
    let err = store
        .save(SERVER, &login("ada@example.org", "refresh-new"))
        .await
        .expect_err("a failing write");
    assert!(
        format!("{err:#}").contains("could not keep the session"),
        "{err:#}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_what_to_do() {
    let store = TokenStore::memory();
    for email in [
        "",
        "ada",
        "@example.org",
        "ada@",
        "ada lovelace@x.org",
        "a:b@x.org",
    ] {
        let err = store
            .save(SERVER, &login(email, "refresh-1"))
            .await
            .expect_err("not an email");
        assert!(err.to_string().contains("log in with your email"), "{err}");
    }
    let err = store
        .save(SERVER, &login("ada@example.org", ""))
        .await
        .expect_err("no token");
    assert!(err.to_string().contains("log in again"), "{err}");
    let err = store.load(" / ").await.expect_err("no server");
    assert!(err.to_string().contains("server address"), "{err}");
}

#[tokio::test]
async fn the_memory_store_keeps_logins_in_this_process_only() {
    let store = TokenStore::memory();
    assert_eq!(store.kind(), StoreKind::Memory);
    assert!(!store.remembers());
    assert_eq!(
        store.status(),
        "session not kept: token store set to memory"
    );
    assert_eq!(
        store.not_kept_because().as_deref(),
        Some("session not kept: token store set to memory")
    );
    assert_eq!(store.fallback_reason(), None);

    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");
    assert_eq!(
        store.load(SERVER).await.expect("load"),
        Some(login("ada@example.org", "refresh-1"))
    );
    assert_eq!(
        TokenStore::memory().load(SERVER).await.expect("load"),
        None,
        "another memory store shares nothing"
    );
    store.forget(SERVER).await.expect("forget");
    assert_eq!(store.load(SERVER).await.expect("load"), None);

    let opened = TokenStore::open(TokenStoreChoice::Memory).await;
    assert_eq!(opened.kind(), StoreKind::Memory);
    assert!(!opened.remembers());
}

#[test]
fn the_status_says_where_the_session_is_kept() {
    let kept = |kind| TokenStore::from_store_unchecked(kind, mock_store()).status();
    assert_eq!(
        kept(StoreKind::Keyutils),
        "session kept in the kernel keyring"
    );
    assert_eq!(
        kept(StoreKind::SecretService),
        "session kept in the Secret Service keyring"
    );
    assert_eq!(
        kept(StoreKind::Keychain),
        "session kept in the macOS Keychain"
    );
    assert_eq!(
        kept(StoreKind::WindowsCredential),
        "session kept in Windows Credential Manager"
    );

    let fallback = TokenStore::memory_fallback(Unusable {
        short: "keyring access denied".to_string(),
        detail: "the kernel user keyring: probe write failed: keyring access denied \
                 (write: AccessDenied)"
            .to_string(),
    });
    assert!(!fallback.remembers());
    assert_eq!(fallback.status(), "session not kept: keyring access denied");
    assert!(
        fallback
            .fallback_reason()
            .is_some_and(|r| r.starts_with("the kernel user keyring: probe write failed")),
        "{:?}",
        fallback.fallback_reason()
    );
    let why = fallback.not_kept_because().expect("not kept");
    assert!(
        why.starts_with("session not kept: keyring access denied: the kernel user keyring"),
        "{why}"
    );
    assert_eq!(
        kept(StoreKind::Keyutils).as_str(),
        "session kept in the kernel keyring"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_kernel_failure_gives_the_status_bar_a_few_words_and_the_log_the_whole_story() {
    use linux_keyutils::KeyError;
    let failure = kernel::KernelError::Call {
        op: "write",
        error: KeyError::AccessDenied,
    };
    let error = anyhow::Error::new(failure).context("probe write failed");
    let why = Unusable::new(StoreKind::Keyutils, &error);
    assert_eq!(why.short, "keyring access denied");
    assert!(
        why.detail
            .starts_with("the kernel keyring: probe write failed: "),
        "{why:?}"
    );
    assert!(why.detail.contains("(write: AccessDenied)"), "{why:?}");

    let blocked = kernel::KernelError::Call {
        op: "find the session keyring",
        error: KeyError::PermissionDenied,
    };
    assert_eq!(blocked.short(), "keyring calls blocked");
    assert!(blocked.to_string().contains("seccomp"), "{blocked}");
}

#[test]
fn debug_output_never_shows_a_token() {
    let text = format!("{:?}", login("ada@example.org", "refresh-secret"));
    assert!(text.contains("ada@example.org"), "{text}");
    assert!(!text.contains("refresh-secret"), "{text}");
    assert!(!format!("{:?}", TokenStore::memory()).contains("refresh"));
}

#[tokio::test]
async fn the_probe_writes_reads_and_deletes_a_throwaway_entry() {
    let mock = mock_store();
    let user = "probe-test";
    probe(&Slots::keyring_unchecked(mock.clone()), user)
        .await
        .expect("the mock works");
    assert_eq!(raw(&mock, PROBE_SERVICE, user), None, "nothing left behind");

    fail_next(
        &mock,
        PROBE_SERVICE,
        user,
        Error::NoStorageAccess("locked".into()),
    );
    let err = probe(&Slots::keyring_unchecked(mock), user)
        .await
        .expect_err("a locked store fails the probe");
    assert!(format!("{err:#}").contains("probe write failed"), "{err:#}");
}

#[tokio::test]
async fn a_probe_whose_write_fails_half_done_still_removes_its_entry() {
    let mock = mock_store();
    let user = "probe-half-written";
    let slots = Slots::keyring_unchecked(mock.clone());
    // A write that fails half done, as the kernel keyring's did: the key was made, then linking
    // it was refused. The entry is there and the probe's write reports a failure.
    slots
        .set(PROBE_SERVICE, user, "x", Duration::from_secs(1))
        .await
        .expect("the half of the write that worked");
    fail_next(
        &mock,
        PROBE_SERVICE,
        user,
        Error::NoStorageAccess("denied".into()),
    );
    let err = probe(&slots, user).await.expect_err("the probe fails");
    assert!(format!("{err:#}").contains("probe write failed"), "{err:#}");
    assert_eq!(raw(&mock, PROBE_SERVICE, user), None, "nothing left behind");
}

#[tokio::test]
async fn a_sign_out_is_kept_until_the_next_login_and_says_what_to_run() {
    let mock = mock_store();
    let store = TokenStore::from_store_unchecked(StoreKind::Keyutils, mock.clone());
    store
        .save(SERVER, &login("ada@example.org", "refresh-1"))
        .await
        .expect("save");
    assert_eq!(store.last_sign_out(SERVER).await.expect("read"), None);

    let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T23:50:00Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let sign_out = SignOut {
        at,
        cause: SignOutCause::Hangup,
        email: "ada@example.org".to_string(),
        server_confirmed: true,
    };
    store.forget(SERVER).await.expect("forget");
    store
        .record_sign_out(SERVER, &sign_out)
        .await
        .expect("record");
    // Forgetting the session (as the workstation's logout does, in any order) keeps the record.
    store.forget(SERVER).await.expect("forget");
    assert_eq!(
        store.last_sign_out(SERVER).await.expect("read"),
        Some(sign_out.clone())
    );
    let service = format!("synapse:{SERVER}");
    let text = raw(&mock, &service, SIGNED_OUT_USER).expect("a record");
    assert!(!text.contains("refresh"), "no token in the record: {text}");

    let said = sign_out.explain(SERVER);
    assert!(
        said.starts_with(&format!("signed out of {SERVER} at 2026-12-01 23:50 UTC: ")),
        "{said}"
    );
    assert!(said.contains("terminal closed (SIGHUP)"), "{said}");
    assert!(said.contains("ada@example.org"), "{said}");
    assert!(said.contains("the server ended it"), "{said}");
    assert!(said.contains("Run `synapse login`"), "{said}");
    let unconfirmed = SignOut {
        server_confirmed: false,
        ..sign_out.clone()
    };
    assert!(unconfirmed.explain(SERVER).contains("did not answer"));

    // The next login clears it; so does an explicit clear.
    store
        .save(SERVER, &login("ada@example.org", "refresh-2"))
        .await
        .expect("save");
    assert_eq!(store.last_sign_out(SERVER).await.expect("read"), None);
    store
        .record_sign_out(SERVER, &sign_out)
        .await
        .expect("record");
    store.clear_sign_out(SERVER).await.expect("clear");
    assert_eq!(store.last_sign_out(SERVER).await.expect("read"), None);
}

#[tokio::test]
async fn a_keyring_call_that_hangs_times_out() {
    let err = off_executor("read", Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    })
    .await
    .expect_err("too slow");
    assert!(err.to_string().contains("did not answer"), "{err}");
}
