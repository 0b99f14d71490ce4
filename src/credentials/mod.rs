//! Where the workstation keeps its refresh token between runs.
//!
//! The refresh token (and the email it belongs to) goes to the OS keyring through the keyring-rs
//! crates: the Secret Service when a D-Bus session answers, the kernel keyring (keyutils) on SSH
//! logins, the Keychain on macOS, Credential Manager on Windows. [`TokenStore::open`] probes
//! them at start and keeps the first that works. With none, tokens live in process memory only:
//! the user logs in at each start and [`TokenStore::status`] says so. There is never a plaintext
//! token file, and a store that reports itself as a mock (or keeps secrets only in memory) is
//! never taken for a real keyring. The access token never comes here: it stays in memory.
//!
//! Entries are keyed by server URL and email (service `synapse:<server url>`, user `<email>`);
//! one more entry per server (user `last-login`) names the email of the last login, so
//! [`TokenStore::load`] finds it without any file. Every keyring call runs on its own thread
//! under a timeout, off the async executor: a locked desktop keyring may block on a prompt.

mod backend;
mod native;
pub mod settings;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use backend::Slots;

/// How long one keyring call may take while probing at start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one keyring call may take afterwards: long enough to answer an unlock prompt.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// The user name of the per-server entry that names the last email logged in. It has no `@`,
/// so it can never be an email.
const LAST_LOGIN_USER: &str = "last-login";
/// The service name of the throwaway entry written, read and deleted while probing.
const PROBE_SERVICE: &str = "synapse:probe";

/// Which token store to use: the `--token-store` flag and the `token_store` config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStoreChoice {
    /// Probe the OS keyrings and take the first that works, else memory.
    #[default]
    Auto,
    /// The freedesktop Secret Service (GNOME Keyring, KWallet) over D-Bus.
    SecretService,
    /// The Linux kernel keyring: works on SSH logins without a desktop.
    Keyutils,
    /// Process memory only: log in at each start.
    Memory,
}

impl TokenStoreChoice {
    /// Every choice, in the spelling the flag and the config file accept.
    pub const NAMES: [&'static str; 4] = ["auto", "secret-service", "keyutils", "memory"];

    /// The flag and config spelling of this choice.
    pub fn name(self) -> &'static str {
        match self {
            TokenStoreChoice::Auto => "auto",
            TokenStoreChoice::SecretService => "secret-service",
            TokenStoreChoice::Keyutils => "keyutils",
            TokenStoreChoice::Memory => "memory",
        }
    }
}

impl FromStr for TokenStoreChoice {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(TokenStoreChoice::Auto),
            "secret-service" => Ok(TokenStoreChoice::SecretService),
            "keyutils" => Ok(TokenStoreChoice::Keyutils),
            "memory" => Ok(TokenStoreChoice::Memory),
            _ => bail!(
                "unknown token store {s:?}: use one of {}",
                TokenStoreChoice::NAMES.join(", ")
            ),
        }
    }
}

impl fmt::Display for TokenStoreChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The store a [`TokenStore`] actually uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    SecretService,
    Keyutils,
    Keychain,
    WindowsCredential,
    Memory,
}

impl StoreKind {
    /// The store's name as a sentence uses it: "session kept in {place}".
    pub fn place(self) -> &'static str {
        match self {
            StoreKind::SecretService => "the Secret Service keyring",
            StoreKind::Keyutils => "the kernel keyring",
            StoreKind::Keychain => "the macOS Keychain",
            StoreKind::WindowsCredential => "Windows Credential Manager",
            StoreKind::Memory => "process memory",
        }
    }
}

/// What is kept between runs for one server: who logged in, and their refresh token.
#[derive(Clone, PartialEq, Eq)]
pub struct SavedLogin {
    pub email: String,
    pub refresh_token: String,
}

// Written by hand so a token never reaches a log line through `{:?}`.
impl fmt::Debug for SavedLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedLogin")
            .field("email", &self.email)
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// The workstation's token store: an OS keyring, or process memory when there is none.
/// Cheap to clone; clones share the same store.
#[derive(Clone)]
pub struct TokenStore {
    inner: Arc<Inner>,
}

struct Inner {
    kind: StoreKind,
    slots: Slots,
    /// Why the store is memory only when a keyring was wanted, for the status line and logs.
    fallback_reason: Option<String>,
    /// Memory because the user asked for it, not because no keyring worked.
    chosen_memory: bool,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("kind", &self.inner.kind)
            .field("fallback_reason", &self.inner.fallback_reason)
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Opens the store the user chose. `Auto` probes the Secret Service (only when
    /// `DBUS_SESSION_BUS_ADDRESS` is set), then the kernel keyring (or the Keychain, or
    /// Credential Manager, by platform), then settles for memory. An explicit choice that does
    /// not work falls back to memory, and [`TokenStore::fallback_reason`] says why. Never fails.
    pub async fn open(choice: TokenStoreChoice) -> TokenStore {
        let candidates: Vec<StoreKind> = match choice {
            TokenStoreChoice::Memory => return TokenStore::memory_chosen(),
            TokenStoreChoice::SecretService => vec![StoreKind::SecretService],
            TokenStoreChoice::Keyutils => vec![StoreKind::Keyutils],
            TokenStoreChoice::Auto => native::auto_candidates(),
        };
        let mut reasons = Vec::new();
        for kind in candidates {
            match TokenStore::open_kind(kind).await {
                Ok(store) => {
                    tracing::info!(store = kind.place(), "token store opened");
                    return store;
                }
                Err(err) => {
                    tracing::info!(store = kind.place(), reason = %format!("{err:#}"), "token store unusable");
                    reasons.push(format!("{}: {err:#}", kind.place()));
                }
            }
        }
        let reason = if reasons.is_empty() {
            "no OS keyring is known on this system".to_string()
        } else {
            reasons.join("; ")
        };
        TokenStore::memory_fallback(reason)
    }

    /// A store that keeps tokens in process memory only, as if `--token-store memory`.
    pub fn memory() -> TokenStore {
        TokenStore::memory_chosen()
    }

    /// Which store is in use.
    pub fn kind(&self) -> StoreKind {
        self.inner.kind
    }

    /// Whether a login survives a restart of the workstation (false for memory).
    pub fn remembers(&self) -> bool {
        self.inner.kind != StoreKind::Memory
    }

    /// One line for the status bar: where the session is kept, or that it is not.
    pub fn status(&self) -> String {
        match self.inner.kind {
            StoreKind::Memory if self.inner.chosen_memory => {
                "session not remembered: token store set to memory".to_string()
            }
            StoreKind::Memory => "session not remembered: no OS keyring".to_string(),
            kind => format!("session kept in {}", kind.place()),
        }
    }

    /// Why a keyring that was wanted could not be used, when the store fell back to memory.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.inner.fallback_reason.as_deref()
    }

    /// Keeps `login` as the last login to `server_url`, replacing any earlier one for that
    /// server (another email's token for the same server is deleted, not left behind).
    pub async fn save(&self, server_url: &str, login: &SavedLogin) -> anyhow::Result<()> {
        let service = service_for(server_url)?;
        let email = login.email.trim();
        check_email(email)?;
        if login.refresh_token.is_empty() {
            bail!("there is no refresh token to keep: log in again");
        }
        let slots = &self.inner.slots;
        let previous = slots
            .get(&service, LAST_LOGIN_USER, CALL_TIMEOUT)
            .await
            .context("could not read the last login from the keyring")?;
        if let Some(previous) = previous.filter(|p| p != email) {
            slots
                .delete(&service, &previous, CALL_TIMEOUT)
                .await
                .context("could not remove the previous login from the keyring")?;
        }
        slots
            .set(&service, email, &login.refresh_token, CALL_TIMEOUT)
            .await
            .context("could not keep the session in the keyring")?;
        slots
            .set(&service, LAST_LOGIN_USER, email, CALL_TIMEOUT)
            .await
            .context("could not keep the session in the keyring")?;
        Ok(())
    }

    /// The last login saved for `server_url`, if its token is still there.
    pub async fn load(&self, server_url: &str) -> anyhow::Result<Option<SavedLogin>> {
        let service = service_for(server_url)?;
        let slots = &self.inner.slots;
        let Some(email) = slots
            .get(&service, LAST_LOGIN_USER, CALL_TIMEOUT)
            .await
            .context("could not read the last login from the keyring")?
        else {
            return Ok(None);
        };
        // The kernel keyring can expire the token while the index survives: treat as logged out.
        let token = slots
            .get(&service, &email, CALL_TIMEOUT)
            .await
            .context("could not read the saved session from the keyring")?;
        Ok(token
            .filter(|t| !t.is_empty())
            .map(|refresh_token| SavedLogin {
                email,
                refresh_token,
            }))
    }

    /// Removes what is kept for `server_url` (the token and the last-login entry). Forgetting
    /// a server with nothing saved is not an error.
    pub async fn forget(&self, server_url: &str) -> anyhow::Result<()> {
        let service = service_for(server_url)?;
        let slots = &self.inner.slots;
        let email = slots
            .get(&service, LAST_LOGIN_USER, CALL_TIMEOUT)
            .await
            .context("could not read the last login from the keyring")?;
        if let Some(email) = email {
            slots
                .delete(&service, &email, CALL_TIMEOUT)
                .await
                .context("could not remove the saved session from the keyring")?;
        }
        slots
            .delete(&service, LAST_LOGIN_USER, CALL_TIMEOUT)
            .await
            .context("could not remove the saved session from the keyring")?;
        Ok(())
    }

    /// Opens one OS store and proves it works with a probe entry.
    async fn open_kind(kind: StoreKind) -> anyhow::Result<TokenStore> {
        let store = native::open(kind, PROBE_TIMEOUT).await?;
        let slots = Slots::keyring(store).map_err(anyhow::Error::msg)?;
        // Unique per probe: two stores opened at once in one process must not share an entry.
        let user = format!(
            "probe-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        probe(&slots, &user).await?;
        Ok(TokenStore::with_slots(kind, slots))
    }

    /// Wraps a keyring-core store, refusing one that is not a real OS keyring.
    #[cfg(test)]
    pub(crate) fn from_store(
        kind: StoreKind,
        store: Arc<keyring_core::CredentialStore>,
    ) -> Result<TokenStore, String> {
        Ok(TokenStore::with_slots(kind, Slots::keyring(store)?))
    }

    /// Wraps any keyring-core store, mocks included: for tests of the logic only.
    #[cfg(test)]
    pub(crate) fn from_store_unchecked(
        kind: StoreKind,
        store: Arc<keyring_core::CredentialStore>,
    ) -> TokenStore {
        TokenStore::with_slots(kind, Slots::keyring_unchecked(store))
    }

    fn with_slots(kind: StoreKind, slots: Slots) -> TokenStore {
        TokenStore {
            inner: Arc::new(Inner {
                kind,
                slots,
                fallback_reason: None,
                chosen_memory: false,
            }),
        }
    }

    fn memory_chosen() -> TokenStore {
        TokenStore {
            inner: Arc::new(Inner {
                kind: StoreKind::Memory,
                slots: Slots::memory(),
                fallback_reason: None,
                chosen_memory: true,
            }),
        }
    }

    fn memory_fallback(reason: String) -> TokenStore {
        tracing::warn!(%reason, "no OS keyring: the session will not be remembered");
        TokenStore {
            inner: Arc::new(Inner {
                kind: StoreKind::Memory,
                slots: Slots::memory(),
                fallback_reason: Some(reason),
                chosen_memory: false,
            }),
        }
    }
}

/// Writes, reads back and deletes a throwaway entry, each call under the probe timeout.
async fn probe(slots: &Slots, user: &str) -> anyhow::Result<()> {
    let value = uuid::Uuid::new_v4().simple().to_string();
    slots
        .set(PROBE_SERVICE, user, &value, PROBE_TIMEOUT)
        .await
        .context("probe write failed")?;
    let read = slots
        .get(PROBE_SERVICE, user, PROBE_TIMEOUT)
        .await
        .context("probe read failed")?;
    // Delete before judging the read, so a failed probe leaves nothing behind.
    slots
        .delete(PROBE_SERVICE, user, PROBE_TIMEOUT)
        .await
        .context("probe delete failed")?;
    if read.as_deref() != Some(value.as_str()) {
        bail!("the probe entry did not read back as written");
    }
    Ok(())
}

/// The keyring service name for a server: `synapse:` and the URL without trailing slashes, so
/// `https://h/` and `https://h` share their entries.
fn service_for(server_url: &str) -> anyhow::Result<String> {
    let url = server_url.trim().trim_end_matches('/');
    if url.is_empty() {
        bail!("no server URL: set the server address before logging in");
    }
    Ok(format!("synapse:{url}"))
}

/// Emails are keyring user names: they must look like an email, and never like the
/// last-login entry or a name that could run into the service part of a keyutils key.
fn check_email(email: &str) -> anyhow::Result<()> {
    let plausible = email.contains('@')
        && !email.starts_with('@')
        && !email.ends_with('@')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':');
    if !plausible {
        bail!("{email:?} is not an email address: log in with your email");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
