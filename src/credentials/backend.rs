//! Slots of text keyed by (service, user): a keyring-core store, the Linux kernel keyring, or a
//! map in process memory. Keyring-core calls run on a thread of their own under a timeout, so a
//! keyring that hangs on an unlock prompt can neither stall the async executor nor hold up the
//! process at exit; the kernel keyring answers at once and is called directly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail};
use keyring_core::{CredentialPersistence, CredentialStore, Entry, Error};

#[cfg(target_os = "linux")]
use super::kernel::Kernel;

pub(super) enum Slots {
    Keyring(Arc<CredentialStore>),
    /// The Linux kernel keyring: the session keyring or the user keyring.
    #[cfg(target_os = "linux")]
    Kernel(Kernel),
    /// Process memory only: gone when the process ends.
    Memory(Mutex<HashMap<(String, String), String>>),
}

impl Slots {
    /// Wraps a keyring-core store, refusing a mock, keyring-core's own sample store (a plaintext
    /// file) and any store that keeps secrets only in process memory.
    pub(super) fn keyring(store: Arc<CredentialStore>) -> Result<Slots, String> {
        check_real(store.as_ref())?;
        Ok(Slots::Keyring(store))
    }

    #[cfg(test)]
    pub(super) fn keyring_unchecked(store: Arc<CredentialStore>) -> Slots {
        Slots::Keyring(store)
    }

    pub(super) fn memory() -> Slots {
        Slots::Memory(Mutex::new(HashMap::new()))
    }

    /// The text kept for (service, user), if any.
    pub(super) async fn get(
        &self,
        service: &str,
        user: &str,
        limit: Duration,
    ) -> anyhow::Result<Option<String>> {
        match self {
            Slots::Memory(map) => Ok(lock(map)
                .get(&(service.to_string(), user.to_string()))
                .cloned()),
            #[cfg(target_os = "linux")]
            Slots::Kernel(kernel) => {
                match kernel.get(service, user).map_err(anyhow::Error::new)? {
                    None => Ok(None),
                    Some(bytes) => String::from_utf8(bytes)
                        .map(Some)
                        .map_err(|_| anyhow!("a saved entry is not text (read)")),
                }
            }
            Slots::Keyring(store) => {
                let (store, service, user) = (store.clone(), service.to_string(), user.to_string());
                off_executor("read", limit, move || {
                    let entry = Entry::new_in_store(&store, &service, &user)?;
                    match entry.get_password() {
                        Ok(text) => Ok(Some(text)),
                        Err(Error::NoEntry) => Ok(None),
                        Err(err) => Err(err),
                    }
                })
                .await
            }
        }
    }

    /// Keeps `text` for (service, user), replacing what was there.
    pub(super) async fn set(
        &self,
        service: &str,
        user: &str,
        text: &str,
        limit: Duration,
    ) -> anyhow::Result<()> {
        match self {
            Slots::Memory(map) => {
                lock(map).insert((service.to_string(), user.to_string()), text.to_string());
                Ok(())
            }
            #[cfg(target_os = "linux")]
            Slots::Kernel(kernel) => {
                if text.is_empty() {
                    // A kernel key cannot be empty; nothing the store writes ever is.
                    bail!("the keyring refused the secret: cannot be empty (write)");
                }
                kernel
                    .set(service, user, text.as_bytes())
                    .map_err(anyhow::Error::new)
            }
            Slots::Keyring(store) => {
                let (store, service, user) = (store.clone(), service.to_string(), user.to_string());
                let text = text.to_string();
                off_executor("write", limit, move || {
                    let entry = Entry::new_in_store(&store, &service, &user)?;
                    match entry.set_password(&text) {
                        // Several items match (another program wrote one too): replace them all.
                        Err(Error::Ambiguous(found)) => {
                            delete_all(found)?;
                            entry.set_password(&text)
                        }
                        other => other,
                    }
                })
                .await
            }
        }
    }

    /// Removes what is kept for (service, user); nothing there is not an error.
    pub(super) async fn delete(
        &self,
        service: &str,
        user: &str,
        limit: Duration,
    ) -> anyhow::Result<()> {
        match self {
            Slots::Memory(map) => {
                lock(map).remove(&(service.to_string(), user.to_string()));
                Ok(())
            }
            #[cfg(target_os = "linux")]
            Slots::Kernel(kernel) => kernel.delete(service, user).map_err(anyhow::Error::new),
            Slots::Keyring(store) => {
                let (store, service, user) = (store.clone(), service.to_string(), user.to_string());
                off_executor("delete", limit, move || {
                    let entry = Entry::new_in_store(&store, &service, &user)?;
                    match entry.delete_credential() {
                        Ok(()) | Err(Error::NoEntry) => Ok(()),
                        Err(Error::Ambiguous(found)) => delete_all(found),
                        Err(err) => Err(err),
                    }
                })
                .await
            }
        }
    }
}

fn delete_all(entries: Vec<Entry>) -> keyring_core::Result<()> {
    for entry in entries {
        match entry.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// A poisoned lock only means another thread panicked mid-call; the map is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Refuses a store that is not a real OS keyring: one that calls itself a mock, one of
/// keyring-core's own stores (the mock, and the sample store that writes a plaintext file), or
/// one whose secrets die with the process.
pub(super) fn check_real(store: &CredentialStore) -> Result<(), String> {
    let vendor = store.vendor();
    let lower = vendor.to_ascii_lowercase();
    if lower.contains("mock") {
        return Err(format!(
            "the store {vendor:?} reports itself as a mock, not an OS keyring"
        ));
    }
    if lower.contains("crates.io/crates/keyring-core") {
        return Err(format!(
            "the store {vendor:?} is a keyring-core test store, not an OS keyring"
        ));
    }
    match store.persistence() {
        CredentialPersistence::EntryOnly | CredentialPersistence::ProcessOnly => Err(format!(
            "the store {vendor:?} keeps secrets only in process memory"
        )),
        _ => Ok(()),
    }
}

/// Runs a blocking keyring call on its own thread and waits at most `limit` for it. A call that
/// times out is left to finish (or hang) on its detached thread; the caller gets an error.
pub(super) async fn off_executor<T, F>(
    what: &'static str,
    limit: Duration,
    call: F,
) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> keyring_core::Result<T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("synapse-keyring".to_string())
        .spawn(move || {
            // The receiver is gone only if the caller gave up waiting.
            let _ = tx.send(call());
        })
        .map_err(|err| anyhow!("could not start a keyring call ({what}): {err}"))?;
    match tokio::time::timeout(limit, rx).await {
        Err(_) => bail!(
            "the keyring did not answer within {} s ({what}): it may be locked or waiting on a prompt",
            limit.as_secs_f32()
        ),
        Ok(Err(_)) => bail!("the keyring call failed ({what}): the store panicked"),
        Ok(Ok(Err(err))) => Err(anyhow!("{} ({what})", describe(&err))),
        Ok(Ok(Ok(value))) => Ok(value),
    }
}

/// Says what went wrong without quoting any stored data: some variants carry the secret's
/// bytes, and `Ambiguous` prints entries whose debug form may include them.
pub(super) fn describe(err: &Error) -> String {
    match err {
        Error::PlatformFailure(inner) => format!("the keyring failed: {inner}"),
        Error::NoStorageAccess(inner) => {
            format!("the keyring could not be reached (is it locked?): {inner}")
        }
        Error::NoEntry => "nothing is saved there".to_string(),
        Error::BadEncoding(_) => "a saved entry is not text".to_string(),
        Error::BadDataFormat(_, _) => "a saved entry is malformed".to_string(),
        Error::BadStoreFormat(reason) => format!("the keyring is malformed: {reason}"),
        Error::TooLong(name, limit) => {
            format!("{name} is longer than the keyring allows ({limit})")
        }
        Error::Invalid(what, reason) => format!("the keyring refused the {what}: {reason}"),
        Error::Ambiguous(found) => {
            format!("{} saved entries match where one was expected", found.len())
        }
        Error::NoDefaultStore => "no keyring store is set up".to_string(),
        Error::NotSupportedByStore(reason) => format!("the keyring cannot do this: {reason}"),
        _ => "the keyring failed".to_string(),
    }
}
