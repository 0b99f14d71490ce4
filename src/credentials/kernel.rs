//! The Linux kernel keyring (keyutils), called directly through linux-keyutils.
//!
//! Which keyring: the process's own session keyring when it has one (a `pam_keyinit` login, a
//! container runtime's), else the user keyring. A process that never got a session keyring of
//! its own (an SSH login without `pam_keyinit`, many containers and virtual machines) is handed
//! the shared user-session keyring by the kernel, and any request that may create a keyring
//! (`add_key` or `KEYCTL_GET_PERSISTENT` naming `@s`) then quietly joins a new, empty session
//! keyring of the calling thread: what is written there dies with the thread, and a key
//! written to the user-session keyring by number is no longer possessed, so linking, reading or
//! removing it is refused (`EACCES`) and it stays behind. So every call here names a keyring by
//! its serial number, resolved without creating anything, and the user-session keyring is never
//! written to (only cleared of probe keys that older releases left there).
//!
//! With a session keyring of its own, each key is also linked into the user's persistent keyring
//! (persistent-keyring(7)), so it outlives the login by the kernel's expiry (three days by
//! default) and the next login finds it. Keys are described `keyring:{user}@{service}`, as
//! keyring-rs describes them, so sessions kept by earlier releases are still found.
//!
//! These are system calls that answer at once (the kernel never prompts), so they run on the
//! caller's thread: keyrings are part of a thread's credentials, and a helper thread would see
//! the same ones.

use std::fmt;

use linux_keyutils::{Key, KeyError, KeyRing, KeyRingIdentifier, KeyType, LinkNode};

/// The service of the throwaway probe entries, and the description prefix and suffix of the
/// probe keys (`keyring:probe-<pid>-<uuid>@synapse:probe`).
const PROBE_PREFIX: &str = "keyring:probe-";
const PROBE_SUFFIX: &str = "@synapse:probe";
/// How many links of one keyring are read when looking for a key or a stale probe.
const MAX_LINKS: usize = 4096;

/// Which keyring the tokens go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    /// The process's own session keyring (and the persistent keyring when the kernel has one).
    Session,
    /// The user's keyring, shared by every process of the user until reboot.
    User,
}

impl Ring {
    /// Best first.
    pub const ALL: [Ring; 2] = [Ring::Session, Ring::User];

    /// The keyring's name as a sentence uses it: "session kept in {place}".
    pub fn place(self) -> &'static str {
        match self {
            Ring::Session => "the kernel session keyring",
            Ring::User => "the kernel user keyring",
        }
    }
}

/// A kernel keyring call that failed, by operation. Carries only an error code: never a key's
/// description or payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelError {
    /// The process has no session keyring of its own (the kernel lends it the user-session one).
    NoOwnSession,
    Call {
        op: &'static str,
        error: KeyError,
    },
}

impl KernelError {
    fn call(op: &'static str) -> impl FnOnce(KeyError) -> KernelError {
        move |error| KernelError::Call { op, error }
    }

    /// A few words for the status bar ("session not kept: {short}"): short enough to fit
    /// beside the user and the counts at 80 columns.
    pub fn short(&self) -> &'static str {
        match self {
            KernelError::NoOwnSession => "no session keyring",
            KernelError::Call { error, .. } => match error {
                KeyError::AccessDenied => "keyring access denied",
                // EPERM: a container's system call filter (seccomp) blocks the keyring calls.
                KeyError::PermissionDenied => "keyring calls blocked",
                KeyError::QuotaExceeded => "keyring quota full",
                KeyError::KeyRevoked => "keyring revoked",
                KeyError::KeyExpired => "keyring expired",
                KeyError::Unknown(libc::ENOSYS) | KeyError::OperationNotSupported => {
                    "no kernel keyring"
                }
                _ => "kernel keyring failed",
            },
        }
    }

    /// Whether the key asked for is simply not there (or already invalidated).
    fn is_absent(&self) -> bool {
        matches!(
            self,
            KernelError::Call {
                error: KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired,
                ..
            }
        )
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::NoOwnSession => f.write_str(
                "this process has no session keyring of its own (the kernel lends it the \
                 user-session keyring, which cannot keep keys safely)",
            ),
            KernelError::Call { op, error } => {
                let hint = match error {
                    KeyError::AccessDenied => {
                        ": the keyring does not let this process write or read its keys"
                    }
                    KeyError::PermissionDenied => {
                        ": keyring system calls are not allowed here (a container's seccomp \
                         profile blocks add_key and keyctl)"
                    }
                    KeyError::QuotaExceeded => {
                        ": the user's key quota is used up (see /proc/sys/kernel/keys/maxkeys)"
                    }
                    KeyError::KeyRevoked => ": the session keyring was revoked at logout",
                    _ => "",
                };
                write!(f, "{} ({op}: {error:?}){hint}", self.short())
            }
        }
    }
}

impl std::error::Error for KernelError {}

/// One kernel keyring, opened: where keys are added, and the persistent keyring they are also
/// linked into.
#[derive(Debug, Clone)]
pub struct Kernel {
    target: KeyRing,
    persistent: Option<KeyRing>,
}

impl Kernel {
    /// Opens `ring`, creating nothing but the user's keyrings (which the kernel creates on
    /// demand). The session keyring is refused when it is only the shared user-session one.
    pub fn open(ring: Ring) -> Result<Kernel, KernelError> {
        match ring {
            Ring::Session => {
                let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false)
                    .map_err(KernelError::call("find the session keyring"))?;
                let user_session = KeyRing::from_special_id(KeyRingIdentifier::UserSession, false)
                    .map_err(KernelError::call("find the user-session keyring"))?;
                if session == user_session {
                    return Err(KernelError::NoOwnSession);
                }
                // Safe with `@s` now: the session keyring is the process's own, so the kernel
                // links the persistent keyring into it rather than joining a new one. Optional:
                // kernels without persistent keyrings keep keys for the login only.
                let persistent = KeyRing::get_persistent(KeyRingIdentifier::Session).ok();
                Ok(Kernel {
                    target: session,
                    persistent,
                })
            }
            Ring::User => {
                let user = KeyRing::from_special_id(KeyRingIdentifier::User, false)
                    .map_err(KernelError::call("find the user keyring"))?;
                Ok(Kernel {
                    target: user,
                    persistent: None,
                })
            }
        }
    }

    /// The text kept for (service, user), if any.
    pub fn get(&self, service: &str, user: &str) -> Result<Option<Vec<u8>>, KernelError> {
        let description = describe(service, user);
        let key = match self.target.search(&description) {
            Ok(key) => key,
            Err(error) => {
                let error = KernelError::call("search")(error);
                if !error.is_absent() {
                    return Err(error);
                }
                // A search finds only keys the process possesses or may search: a key that hangs
                // from the keyring all the same is there but out of reach, not absent.
                if linked_keys(self.target, |d| d == description).is_empty() {
                    return Ok(None);
                }
                return Err(KernelError::Call {
                    op: "read",
                    error: KeyError::AccessDenied,
                });
            }
        };
        match key.read_to_vec() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) => {
                let error = KernelError::call("read")(error);
                if error.is_absent() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Keeps `secret` for (service, user), replacing what was there.
    pub fn set(&self, service: &str, user: &str, secret: &[u8]) -> Result<(), KernelError> {
        let key = self
            .target
            .add_key(&describe(service, user), secret)
            .map_err(KernelError::call("write"))?;
        if let Some(persistent) = self.persistent
            && let Err(error) = persistent.link_key(key)
        {
            // The key is kept in the session keyring all the same, for this login.
            tracing::debug!(?error, "could not link a key into the persistent keyring");
        }
        Ok(())
    }

    /// Removes what is kept for (service, user) here and in the persistent keyring; nothing
    /// there is not an error.
    pub fn delete(&self, service: &str, user: &str) -> Result<(), KernelError> {
        let description = describe(service, user);
        // Invalidating removes a key from every keyring at once (the persistent one too). A
        // search skips invalidated keys, so the loop ends; it is bounded all the same.
        for _ in 0..8 {
            match self.target.search(&description) {
                Ok(key) => match key.invalidate().map_err(KernelError::call("delete")) {
                    Ok(()) => {}
                    Err(error) if error.is_absent() => break,
                    // Not possessed, so not removable that way: unlinked below.
                    Err(KernelError::Call {
                        error: KeyError::AccessDenied,
                        ..
                    }) => break,
                    Err(error) => return Err(error),
                },
                // Nothing (more) there, or only keys this process may not search for (the
                // kernel then answers EACCES): those are unlinked below.
                Err(KeyError::AccessDenied) => break,
                Err(error) => {
                    let error = KernelError::call("search")(error);
                    if error.is_absent() {
                        break;
                    }
                    return Err(error);
                }
            }
        }
        // A key this process may not search for still hangs from our keyring: unlinking needs
        // only write permission on the keyring.
        for key in linked_keys(self.target, |d| d == description) {
            match self
                .target
                .unlink_key(key)
                .map_err(KernelError::call("delete"))
            {
                Ok(()) => {}
                Err(error) if error.is_absent() => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

/// Unlinks from the user-session keyring the probe keys older releases left there (they wrote
/// to it by number and then could neither read nor remove their probe). This release never
/// writes to that keyring, so every probe key in it is stale. Returns how many were removed.
pub fn sweep_stale_probes() -> usize {
    let Ok(user_session) = KeyRing::from_special_id(KeyRingIdentifier::UserSession, false) else {
        return 0;
    };
    linked_keys(user_session, |d| {
        d.starts_with(PROBE_PREFIX) && d.ends_with(PROBE_SUFFIX)
    })
    .into_iter()
    .filter(|key| user_session.unlink_key(*key).is_ok())
    .count()
}

/// The user keys linked directly into `ring` whose description satisfies `wanted`.
fn linked_keys(ring: KeyRing, wanted: impl Fn(&str) -> bool) -> Vec<Key> {
    let Ok(links) = ring.get_links(MAX_LINKS) else {
        return Vec::new();
    };
    links
        .iter()
        .filter_map(|node| match node {
            LinkNode::Key(key) => Some(*key),
            LinkNode::KeyRing(_) => None,
        })
        .filter(|key| {
            key.metadata()
                .is_ok_and(|m| m.get_type() == KeyType::User && wanted(m.get_description()))
        })
        .collect()
}

/// keyring-rs's description of an entry: `keyring:{user}@{service}`.
fn describe(service: &str, user: &str) -> String {
    format!("keyring:{user}@{service}")
}
