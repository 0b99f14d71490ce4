//! Where the workstation keeps its refresh token between runs.
//!
//! The refresh token (and the email it belongs to) goes to the OS keyring: the Secret Service
//! when a D-Bus session answers, the Keychain on macOS, Credential Manager on Windows (through
//! the keyring-rs crates), and the Linux kernel keyring on SSH logins (through linux-keyutils:
//! the process's own session keyring, else the user keyring; see `kernel`).
//! [`TokenStore::open`] probes them at start with a throwaway entry (removed whatever the probe's
//! outcome) and keeps the first that works. With none, tokens live in process memory only: the
//! user logs in at each start and [`TokenStore::status`] says why. There is never a plaintext
//! token file, and a store that reports itself as a mock (or keeps secrets only in memory) is
//! never taken for a real keyring. The access token never comes here: it stays in memory.
//!
//! Entries are keyed by server URL and email (service `synapse:<server url>`, user `<email>`);
//! one more entry per server (user `last-login`) names the email of the last login, so
//! [`TokenStore::load`] finds it without any file, and another (user `signed-out`) says when and
//! why the workstation last ended the session itself (its terminal closed), so `whoami` can tell.
//! Every keyring-core call runs on its own thread under a timeout, off the async executor: a
//! locked desktop keyring may block on a prompt.

mod backend;
#[cfg(target_os = "linux")]
mod kernel;
mod native;
pub mod settings;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use backend::Slots;

/// How long one keyring call may take while probing at start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one keyring call may take afterwards: long enough to answer an unlock prompt.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// The user name of the per-server entry that names the last email logged in. It has no `@`,
/// so it can never be an email.
const LAST_LOGIN_USER: &str = "last-login";
/// The user name of the per-server entry that records the workstation ending a session itself.
const SIGNED_OUT_USER: &str = "signed-out";
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
    /// The store's name as a sentence uses it: "session kept in {place}". The kernel keyring's
    /// exact keyring is in [`TokenStore::place`].
    pub fn place(self) -> &'static str {
        match self {
            StoreKind::SecretService => "the Secret Service keyring",
            StoreKind::Keyutils => "the kernel keyring",
            StoreKind::Keychain => "the macOS Keychain",
            StoreKind::WindowsCredential => "Windows Credential Manager",
            StoreKind::Memory => "process memory",
        }
    }

    /// The store's name in a few words, for the status bar.
    fn short_name(self) -> &'static str {
        match self {
            StoreKind::SecretService => "Secret Service",
            StoreKind::Keyutils => "kernel keyring",
            StoreKind::Keychain => "Keychain",
            StoreKind::WindowsCredential => "Credential Manager",
            StoreKind::Memory => "memory",
        }
    }
}

/// Why a store could not be used: a few words for the status bar, the whole story for the log
/// and `whoami`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unusable {
    short: String,
    detail: String,
}

impl Unusable {
    fn new(kind: StoreKind, error: &anyhow::Error) -> Unusable {
        #[cfg(target_os = "linux")]
        if let Some(kernel) = error.downcast_ref::<kernel::KernelError>() {
            return Unusable {
                short: kernel.short().to_string(),
                detail: format!("{}: {error:#}", kind.place()),
            };
        }
        Unusable {
            short: format!("no {}", kind.short_name()),
            detail: format!("{}: {error:#}", kind.place()),
        }
    }
}

/// How the workstation ended a session on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignOutCause {
    /// SIGHUP: the terminal (an SSH link) closed.
    Hangup,
    /// SIGTERM: the workstation was told to stop.
    Terminated,
    /// The terminal stopped answering (its input ended).
    TerminalLost,
}

impl SignOutCause {
    /// A few words for the login screen.
    fn short(self) -> &'static str {
        match self {
            SignOutCause::Hangup => "the terminal closed",
            SignOutCause::Terminated => "the workstation was stopped",
            SignOutCause::TerminalLost => "the terminal stopped answering",
        }
    }

    fn says(self) -> &'static str {
        match self {
            SignOutCause::Hangup => "the workstation's terminal closed (SIGHUP)",
            SignOutCause::Terminated => "the workstation was stopped (SIGTERM)",
            SignOutCause::TerminalLost => "the workstation's terminal stopped answering",
        }
    }
}

/// The workstation ended a session because its terminal went away: kept beside the session's
/// entries so `whoami` and the next start can say what happened. No token, no patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOut {
    pub at: DateTime<Utc>,
    pub cause: SignOutCause,
    pub email: String,
    /// Whether the server confirmed the logout (it may have been unreachable).
    pub server_confirmed: bool,
}

impl SignOut {
    /// One line for the login screen at the next start.
    pub fn headline(&self) -> String {
        format!(
            "Signed out at {}: {}.",
            self.at.format("%H:%M UTC"),
            self.cause.short()
        )
    }

    /// One sentence for `whoami`: what happened, and what to run.
    pub fn explain(&self, server_url: &str) -> String {
        let server = if self.server_confirmed {
            "the server ended it"
        } else {
            "the server did not answer; the session lapses there when its token expires"
        };
        format!(
            "signed out of {server_url} at {}: {}, and the workstation ends the session of {} \
             when its terminal goes away ({server}; nothing was kept to resume). Run \
             `synapse login` (or start `synapse`) to log in again.",
            self.at.format("%Y-%m-%d %H:%M UTC"),
            self.cause.says(),
            self.email,
        )
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
    /// Where the tokens are, as a sentence says it ("the kernel user keyring").
    place: &'static str,
    slots: Slots,
    /// Why the store is memory only when a keyring was wanted, for the status line and logs.
    fallback: Option<Unusable>,
    /// Memory because the user asked for it, not because no keyring worked.
    chosen_memory: bool,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("kind", &self.inner.kind)
            .field("place", &self.inner.place)
            .field("fallback", &self.inner.fallback)
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Opens the store the user chose. `Auto` probes the Secret Service (only when
    /// `DBUS_SESSION_BUS_ADDRESS` is set), then the kernel keyring (or the Keychain, or
    /// Credential Manager, by platform), then settles for memory. An explicit choice that does
    /// not work falls back to memory, and [`TokenStore::status`] and
    /// [`TokenStore::fallback_reason`] say why. Never fails.
    pub async fn open(choice: TokenStoreChoice) -> TokenStore {
        let candidates: Vec<StoreKind> = match choice {
            TokenStoreChoice::Memory => return TokenStore::memory_chosen(),
            TokenStoreChoice::SecretService => vec![StoreKind::SecretService],
            TokenStoreChoice::Keyutils => vec![StoreKind::Keyutils],
            TokenStoreChoice::Auto => native::auto_candidates(),
        };
        let mut reasons: Vec<Unusable> = Vec::new();
        for kind in candidates {
            match TokenStore::open_kind(kind).await {
                Ok(store) => {
                    tracing::info!(store = store.place(), "token store opened");
                    return store;
                }
                Err(why) => {
                    tracing::info!(reason = %why.detail, "token store unusable");
                    reasons.push(why);
                }
            }
        }
        // The last store tried is the one every system of its kind has (the kernel keyring on
        // Linux): its reason is the one worth the status bar's few words.
        let short = reasons
            .last()
            .map(|why| why.short.clone())
            .unwrap_or_else(|| "no OS keyring".to_string());
        let detail = if reasons.is_empty() {
            "no OS keyring is known on this system".to_string()
        } else {
            reasons
                .iter()
                .map(|why| why.detail.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        TokenStore::memory_fallback(Unusable { short, detail })
    }

    /// A store that keeps tokens in process memory only, as if `--token-store memory`.
    pub fn memory() -> TokenStore {
        TokenStore::memory_chosen()
    }

    /// Which store is in use.
    pub fn kind(&self) -> StoreKind {
        self.inner.kind
    }

    /// Where the tokens are kept, as a sentence says it: "the kernel user keyring".
    pub fn place(&self) -> &'static str {
        self.inner.place
    }

    /// Whether a login survives a restart of the workstation (false for memory).
    pub fn remembers(&self) -> bool {
        self.inner.kind != StoreKind::Memory
    }

    /// One short line for the status bar: where the session is kept, or that it is not and why.
    pub fn status(&self) -> String {
        match (&self.inner.fallback, self.inner.kind) {
            (_, StoreKind::Memory) if self.inner.chosen_memory => {
                "session not kept: token store set to memory".to_string()
            }
            (Some(why), _) => format!("session not kept: {}", why.short),
            (None, StoreKind::Memory) => "session not kept: memory only".to_string(),
            (None, _) => format!("session kept in {}", self.inner.place),
        }
    }

    /// Why a keyring that was wanted could not be used, when the store fell back to memory.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.inner.fallback.as_ref().map(|why| why.detail.as_str())
    }

    /// Why nothing is kept between runs, in full, when nothing is (for `whoami`).
    pub fn not_kept_because(&self) -> Option<String> {
        if self.remembers() {
            return None;
        }
        Some(match self.fallback_reason() {
            Some(detail) => format!("{}: {detail}", self.status()),
            None => self.status(),
        })
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
        // A new session: an earlier sign-out is history.
        slots
            .delete(&service, SIGNED_OUT_USER, CALL_TIMEOUT)
            .await
            .context("could not clear the last sign-out from the keyring")?;
        Ok(())
    }

    /// Records that the workstation ended the session for `server_url` itself. Kept apart from
    /// the session's entries: [`TokenStore::forget`] leaves it, [`TokenStore::save`] clears it.
    pub async fn record_sign_out(
        &self,
        server_url: &str,
        sign_out: &SignOut,
    ) -> anyhow::Result<()> {
        let service = service_for(server_url)?;
        let text = serde_json::to_string(sign_out).context("could not describe the sign-out")?;
        self.inner
            .slots
            .set(&service, SIGNED_OUT_USER, &text, CALL_TIMEOUT)
            .await
            .context("could not record the sign-out in the keyring")
    }

    /// The sign-out recorded for `server_url`, if the workstation ended its last session itself.
    /// An entry that does not parse (another release's) counts as none.
    pub async fn last_sign_out(&self, server_url: &str) -> anyhow::Result<Option<SignOut>> {
        let service = service_for(server_url)?;
        let text = self
            .inner
            .slots
            .get(&service, SIGNED_OUT_USER, CALL_TIMEOUT)
            .await
            .context("could not read the last sign-out from the keyring")?;
        Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// Forgets the recorded sign-out for `server_url` (after `synapse logout`, say).
    pub async fn clear_sign_out(&self, server_url: &str) -> anyhow::Result<()> {
        let service = service_for(server_url)?;
        self.inner
            .slots
            .delete(&service, SIGNED_OUT_USER, CALL_TIMEOUT)
            .await
            .context("could not clear the last sign-out from the keyring")
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
    async fn open_kind(kind: StoreKind) -> Result<TokenStore, Unusable> {
        #[cfg(target_os = "linux")]
        if kind == StoreKind::Keyutils {
            return TokenStore::open_kernel().await;
        }
        let unusable = |error: anyhow::Error| Unusable::new(kind, &error);
        let store = native::open(kind, PROBE_TIMEOUT).await.map_err(unusable)?;
        let slots = Slots::keyring(store)
            .map_err(anyhow::Error::msg)
            .map_err(unusable)?;
        probe(&slots, &probe_user()).await.map_err(unusable)?;
        Ok(TokenStore::with_slots(kind, kind.place(), slots))
    }

    /// Opens the kernel keyring the process really has: its own session keyring, else the user
    /// keyring, whichever first passes the probe.
    #[cfg(target_os = "linux")]
    async fn open_kernel() -> Result<TokenStore, Unusable> {
        let swept = kernel::sweep_stale_probes();
        if swept > 0 {
            tracing::info!(swept, "removed probe keys an earlier release left behind");
        }
        let kind = StoreKind::Keyutils;
        let mut tried = Vec::new();
        let mut last = None;
        for ring in kernel::Ring::ALL {
            let outcome = match kernel::Kernel::open(ring) {
                Ok(opened) => {
                    let slots = Slots::Kernel(opened);
                    match probe(&slots, &probe_user()).await {
                        Ok(()) => return Ok(TokenStore::with_slots(kind, ring.place(), slots)),
                        Err(error) => error,
                    }
                }
                Err(error) => anyhow::Error::new(error),
            };
            tried.push(format!("{}: {outcome:#}", ring.place()));
            last = Some(outcome);
        }
        let short = last
            .as_ref()
            .map(|error| Unusable::new(kind, error).short)
            .unwrap_or_else(|| "no kernel keyring".to_string());
        Err(Unusable {
            short,
            detail: tried.join("; "),
        })
    }

    /// Wraps a keyring-core store, refusing one that is not a real OS keyring.
    #[cfg(test)]
    pub(crate) fn from_store(
        kind: StoreKind,
        store: Arc<keyring_core::CredentialStore>,
    ) -> Result<TokenStore, String> {
        Ok(TokenStore::with_slots(
            kind,
            kind.place(),
            Slots::keyring(store)?,
        ))
    }

    /// Wraps any keyring-core store, mocks included: for tests of the logic only.
    #[cfg(test)]
    pub(crate) fn from_store_unchecked(
        kind: StoreKind,
        store: Arc<keyring_core::CredentialStore>,
    ) -> TokenStore {
        TokenStore::with_slots(kind, kind.place(), Slots::keyring_unchecked(store))
    }

    fn with_slots(kind: StoreKind, place: &'static str, slots: Slots) -> TokenStore {
        TokenStore {
            inner: Arc::new(Inner {
                kind,
                place,
                slots,
                fallback: None,
                chosen_memory: false,
            }),
        }
    }

    fn memory_chosen() -> TokenStore {
        TokenStore {
            inner: Arc::new(Inner {
                kind: StoreKind::Memory,
                place: StoreKind::Memory.place(),
                slots: Slots::memory(),
                fallback: None,
                chosen_memory: true,
            }),
        }
    }

    fn memory_fallback(why: Unusable) -> TokenStore {
        tracing::warn!(reason = %why.detail, "no OS keyring: the session will not be kept");
        TokenStore {
            inner: Arc::new(Inner {
                kind: StoreKind::Memory,
                place: StoreKind::Memory.place(),
                slots: Slots::memory(),
                fallback: Some(why),
                chosen_memory: false,
            }),
        }
    }
}

/// A probe entry's user name, unique per probe: two stores opened at once in one process must
/// not share an entry.
fn probe_user() -> String {
    format!(
        "probe-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Writes, reads back and deletes a throwaway entry, each call under the probe timeout. The
/// delete runs whatever happened before it: a write can fail half done (the entry made, a link
/// refused), and a failed probe must leave nothing behind.
async fn probe(slots: &Slots, user: &str) -> anyhow::Result<()> {
    let value = uuid::Uuid::new_v4().simple().to_string();
    let written = slots
        .set(PROBE_SERVICE, user, &value, PROBE_TIMEOUT)
        .await
        .context("probe write failed");
    let read = match written {
        Ok(()) => slots
            .get(PROBE_SERVICE, user, PROBE_TIMEOUT)
            .await
            .context("probe read failed"),
        Err(error) => Err(error),
    };
    let deleted = slots
        .delete(PROBE_SERVICE, user, PROBE_TIMEOUT)
        .await
        .context("probe delete failed");
    let read = read?;
    deleted?;
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
