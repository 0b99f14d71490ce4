//! `synapse serve` over TLS, on the real binary with a CA and certificates made here (rcgen):
//! the client and the CLI trusting the CA get through (and HSTS), one without it is told what
//! to set; SIGHUP serves a new certificate to new connections while an open one carries on;
//! a key that cannot be read or is not the certificate's stops the server with a message that
//! names the file.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::served::{free_port, synapse, wait_bounded};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use synapse::client::{ApiClient, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOCTOR: &str = "doc@demo.com";
const PASSWORD: &str = "password123";

/// A certificate authority of the test's own.
struct TestCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
    fn leaf(&self, name: &str) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// `synapse serve --demo` with `--tls-cert` and `--tls-key`, killed when dropped.
struct TlsServed {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for TlsServed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(dir: &Path, cert: &Path, key: &Path, port: u16) -> (Child, PathBuf) {
    let log = dir.join(format!("serve-{port}.log"));
    let child = synapse(dir)
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .env("SYNAPSE_DATA_DIR", dir.join("data"))
        .env("SYNAPSE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn synapse serve");
    (child, log)
}

impl TlsServed {
    async fn start(dir: &Path, cert: &Path, key: &Path, ca: &Path) -> TlsServed {
        let port = free_port();
        let (child, log) = spawn(dir, cert, key, port);
        let mut served = TlsServed { child, port, log };
        let client = ApiClient::new(&trusting(served.base(), Some(ca))).unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = served.child.try_wait().unwrap() {
                panic!("synapse serve exited ({status}): {}", served.log_text());
            }
            if client.health().await.is_ok() {
                return served;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "not healthy over TLS: {}",
                served.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn trusting(server: String, ca: Option<&Path>) -> ClientConfig {
    let mut config = ClientConfig::new(server);
    config.extra_ca_pem = ca.map(Path::to_path_buf);
    config
}

/// The CLI against `server`, the password on standard input.
fn cli_login(dir: &Path, server: &str, ca: Option<&Path>) -> (bool, String, String) {
    let mut command = synapse(dir);
    command
        .args(["--server", server, "--token-store", "memory", "login"])
        .args(["--email", DOCTOR, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ca) = ca {
        command.env("SYNAPSE_CA_CERTIFICATE", ca);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "the CLI hung");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_trusting_the_ca_get_through_over_tls_and_others_are_told_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Clinic Test CA");
    let ca_path = write(&dir.path().join("ca.pem"), &ca.pem);
    let (cert, key) = ca.leaf("synapse.clinic.test");
    let cert = write(&dir.path().join("cert.pem"), &cert);
    let key = write(&dir.path().join("key.pem"), &key);
    let served = TlsServed::start(dir.path(), &cert, &key, &ca_path).await;
    assert!(
        served.log_text().contains("https://127.0.0.1"),
        "{}",
        served.log_text()
    );

    let client = ApiClient::new(&trusting(served.base(), Some(&ca_path))).unwrap();
    let user = client
        .login(DOCTOR, PASSWORD)
        .await
        .expect("login over TLS");
    assert_eq!(user.email, DOCTOR);

    // HSTS on every answer over TLS.
    synapse::client::install_tls_provider();
    let pem = reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(pem)
        .build()
        .unwrap();
    let response = http
        .get(format!("{}/health", served.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let hsts = response
        .headers()
        .get("strict-transport-security")
        .expect("no Strict-Transport-Security over TLS");
    assert!(hsts.to_str().unwrap().starts_with("max-age="), "{hsts:?}");

    // Without the CA: refused, and told which setting trusts it.
    let stranger = ApiClient::new(&trusting(served.base(), None)).unwrap();
    let error = stranger.health().await.unwrap_err();
    assert!(
        error.message.contains("not trusted") && error.message.contains("ca_certificate"),
        "{}",
        error.message
    );

    // The CLI: the CA from the environment (as [client] ca_certificate would give it).
    let base = served.base();
    let home = dir.path().to_path_buf();
    let (trusted, stranger) = tokio::task::spawn_blocking(move || {
        (
            cli_login(&home, &base, Some(&home.join("ca.pem"))),
            cli_login(&home, &base, None),
        )
    })
    .await
    .unwrap();
    assert!(trusted.0, "CLI login with the CA failed: {trusted:?}");
    assert!(!stranger.0, "CLI login without the CA worked: {stranger:?}");
    assert!(
        stranger.2.contains("not trusted") && stranger.2.contains("ca_certificate"),
        "{stranger:?}"
    );
}

/// A TLS connection trusting only `ca`, and the DER of the certificate the server sent.
async fn connect(
    port: u16,
    ca: &str,
) -> (
    tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    Vec<u8>,
) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let stream = connector.connect(name, tcp).await.expect("TLS handshake");
    let der = stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    (stream, der)
}

/// `GET /health` on an open, kept-alive connection: the status.
async fn health_on(stream: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> u16 {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if text.contains("\r\n\r\n") && text.ends_with('}') {
                break;
            }
        }
    });
    read.await.expect("no answer on the open connection");
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

fn der_of(pem: &str) -> Vec<u8> {
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_serves_a_new_certificate_to_new_connections_and_open_ones_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Clinic Test CA");
    let ca_path = write(&dir.path().join("ca.pem"), &ca.pem);
    let (first_cert, first_key) = ca.leaf("first");
    let cert = write(&dir.path().join("cert.pem"), &first_cert);
    let key = write(&dir.path().join("key.pem"), &first_key);
    let served = TlsServed::start(dir.path(), &cert, &key, &ca_path).await;

    let (mut open, seen) = connect(served.port, &ca.pem).await;
    assert_eq!(seen, der_of(&first_cert));
    assert_eq!(health_on(&mut open).await, 200);

    let (second_cert, second_key) = ca.leaf("second");
    write(&cert, &second_cert);
    write(&key, &second_key);
    let hup = Command::new("kill")
        .args(["-HUP", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let started = Instant::now();
    loop {
        let (_, seen) = connect(served.port, &ca.pem).await;
        if seen == der_of(&second_cert) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "new connections still get the first certificate: {}",
            served.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The connection opened before the reload still works, on its first certificate.
    assert_eq!(health_on(&mut open).await, 200);
    assert_eq!(
        open.get_ref().1.peer_certificates().unwrap()[0].to_vec(),
        der_of(&first_cert)
    );
    assert!(
        served.log_text().contains("TLS certificate reloaded"),
        "{}",
        served.log_text()
    );
}

/// Runs `synapse serve` with these files and expects it to refuse to start: its stderr.
fn refused(dir: &Path, cert: &Path, key: &Path) -> String {
    let (mut child, log) = spawn(dir, cert, key, free_port());
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert!(!status.success(), "synapse serve started");
    std::fs::read_to_string(log).unwrap()
}

#[test]
fn a_key_that_cannot_be_read_or_is_not_the_certificate_s_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Clinic Test CA");
    let (cert, _) = ca.leaf("server");
    let (_, other_key) = ca.leaf("another");
    let cert = write(&dir.path().join("cert.pem"), &cert);

    let missing = dir.path().join("missing-key.pem");
    let stderr = refused(dir.path(), &cert, &missing);
    assert!(
        stderr.contains("cannot read the TLS key")
            && stderr.contains(&missing.display().to_string())
            && stderr.contains("--tls-key"),
        "{stderr}"
    );

    let mismatched = write(&dir.path().join("other-key.pem"), &other_key);
    let stderr = refused(dir.path(), &cert, &mismatched);
    assert!(
        stderr.contains("is not the key of the certificate")
            && stderr.contains(&mismatched.display().to_string())
            && stderr.contains("--tls-key"),
        "{stderr}"
    );

    let not_pem = write(&dir.path().join("garbage.pem"), "not a key");
    let stderr = refused(dir.path(), &cert, &not_pem);
    assert!(
        stderr.contains("no PEM private key") && stderr.contains("garbage.pem"),
        "{stderr}"
    );
}
