//! TLS for `synapse serve` (rustls with the ring provider): the certificate chain and key from
//! PEM files, checked at start-up so a wrong file stops the server with a message naming it,
//! and reloaded on SIGHUP — new connections get the new certificate, open ones carry on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Where the certificate chain and its private key are (`--tls-cert`, `--tls-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The certificate being served, replaceable while the server runs.
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<TlsAcceptor>,
}

impl Certificates {
    /// Reads and checks both files; an error names the file and what to do about it.
    pub fn load(files: TlsFiles) -> anyhow::Result<Certificates> {
        let acceptor = acceptor(&files)?;
        Ok(Certificates {
            files,
            current: RwLock::new(acceptor),
        })
    }

    /// Reads the files again; on an error the certificate in use stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let acceptor = acceptor(&self.files)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = acceptor;
        Ok(())
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }
}

/// Reloads the certificate on every SIGHUP, for as long as the process runs.
#[cfg(unix)]
pub fn reload_on_hangup(certificates: Arc<Certificates>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match certificates.reload() {
                Ok(()) => tracing::info!(
                    cert = %certificates.files.cert.display(),
                    "TLS certificate reloaded; new connections use it"
                ),
                Err(error) => tracing::error!(
                    error = format!("{error:#}"),
                    "TLS certificate not reloaded; still serving the previous one"
                ),
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
pub fn reload_on_hangup(_certificates: Arc<Certificates>) -> anyhow::Result<()> {
    Ok(())
}

fn read(path: &Path, what: &str, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| {
        format!(
            "cannot read the TLS {what} {} ({flag}): check the path, and that the user running \
             synapse serve may read it",
            path.display()
        )
    })
}

fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let cert_pem = read(&files.cert, "certificate", "--tls-cert / tls_cert")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|chain| !chain.is_empty());
    let Some(chain) = chain else {
        bail!(
            "{} (--tls-cert) holds no PEM certificate: give the file with the server's certificate \
             (and any intermediates) that begins with -----BEGIN CERTIFICATE-----",
            files.cert.display()
        );
    };
    let key_pem = read(&files.key, "key", "--tls-key / tls_key")?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
        anyhow::anyhow!(
            "{} (--tls-key) holds no PEM private key: give the certificate's unencrypted key \
             (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)",
            files.key.display()
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider offers no protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| match error {
            rustls::Error::InconsistentKeys(_) => anyhow::anyhow!(
                "the TLS key {} (--tls-key) is not the key of the certificate {} (--tls-cert): \
                 give the key the certificate was issued for",
                files.key.display(),
                files.cert.display()
            ),
            other => anyhow::anyhow!(
                "cannot use the TLS certificate {} with the key {}: {other}",
                files.cert.display(),
                files.key.display()
            ),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
