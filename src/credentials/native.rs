//! The OS keyrings this platform has, and how to open each one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use keyring_core::CredentialStore;

use super::StoreKind;
#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
use super::backend::off_executor;

/// The stores `auto` tries, best first. On Linux the Secret Service is tried only when a D-Bus
/// session is announced: without one, connecting may try to autolaunch a bus.
pub(super) fn auto_candidates() -> Vec<StoreKind> {
    #[cfg(target_os = "linux")]
    {
        let mut kinds = Vec::new();
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty()) {
            kinds.push(StoreKind::SecretService);
        }
        kinds.push(StoreKind::Keyutils);
        kinds
    }
    #[cfg(target_os = "macos")]
    {
        vec![StoreKind::Keychain]
    }
    #[cfg(target_os = "windows")]
    {
        vec![StoreKind::WindowsCredential]
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    {
        Vec::new()
    }
}

/// Opens the keyring-core store of `kind`, waiting at most `limit` (connecting to D-Bus can
/// hang). The kernel keyring is not one: `super::kernel` opens it.
pub(super) async fn open(kind: StoreKind, limit: Duration) -> anyhow::Result<Arc<CredentialStore>> {
    match kind {
        #[cfg(target_os = "linux")]
        StoreKind::SecretService => {
            off_executor("connect", limit, || {
                let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
                Ok(store)
            })
            .await
        }
        #[cfg(target_os = "macos")]
        StoreKind::Keychain => {
            off_executor("open", limit, || {
                let store: Arc<CredentialStore> =
                    apple_native_keyring_store::keychain::Store::new()?;
                Ok(store)
            })
            .await
        }
        #[cfg(target_os = "windows")]
        StoreKind::WindowsCredential => {
            off_executor("open", limit, || {
                let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
                Ok(store)
            })
            .await
        }
        StoreKind::Memory => bail!("memory is not an OS keyring"),
        #[cfg(target_os = "linux")]
        StoreKind::Keyutils => bail!("the kernel keyring is opened by its own module"),
        _ => {
            let _ = limit;
            bail!("not available on this system")
        }
    }
}
