//! The server's settings: the flags of `synapse serve` over the `[server]` table of the config
//! file and the `SYNAPSE_*` environment, resolved into what the server runs with (the listen
//! address, the database, the signing key and the `ServerConfig`), by config's layering rule.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use super::ServerConfig;
use super::tls::TlsFiles;
use crate::config::{self, ConfigFile, Environment, layered};
pub use crate::logging::LogFormat;
use crate::store::cipher;

/// The flags of `synapse serve`, above the environment and the config file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeFlags {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Database URL, e.g. sqlite:///var/lib/synapse/synapse.db [default: synapse.db in the data directory].
    #[arg(long)]
    pub database: Option<String>,
    /// Load the demo accounts and synthetic patients (once), and generate a signing key if none is set.
    #[arg(long)]
    pub demo: bool,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key). SIGHUP reloads it.
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
}

/// Everything `synapse serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub demo: bool,
    pub log_level: String,
    pub log_format: LogFormat,
    pub server: ServerConfig,
    /// The certificate and key when serving HTTPS.
    pub tls: Option<TlsFiles>,
    /// Megabytes of disk an embedded database keeps for the audit rows of reads when the disk
    /// fills (`store::sqlite::audit_reserve`); 0 keeps none.
    pub audit_reserve_mb: u64,
}

/// Resolves the serve settings: defaults < file < environment < flags.
pub fn resolve(
    file: &ConfigFile,
    flags: &ServeFlags,
    env: &Environment,
) -> anyhow::Result<ServeSettings> {
    let f = &file.server;
    let listen = layered(
        flags.listen.clone(),
        env.string("SYNAPSE_LISTEN"),
        f.listen.clone(),
    )
    .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listen: SocketAddr = listen.parse().with_context(|| {
        format!("the listen address {listen:?} is not host:port, like 127.0.0.1:8080")
    })?;
    let database_url = config::database_url(flags.database.clone(), file, env)?;
    let secret = match layered(None, env.string("SYNAPSE_JWT_SECRET"), f.jwt_secret.clone()) {
        Some(secret) => secret,
        None if flags.demo => {
            let dir = match sqlite_dir(&database_url) {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => config::data_dir(env)?,
            };
            demo_secret(&dir)?
        }
        None => bail!(
            "no signing key for access tokens. Set SYNAPSE_JWT_SECRET (at least 32 random characters, \
             e.g. `openssl rand -base64 48`) or jwt_secret in the [server] table of the config file; \
             or run with --demo to use a generated one"
        ),
    };
    if secret.len() < 32 {
        bail!(
            "the signing key (SYNAPSE_JWT_SECRET / jwt_secret) must be at least 32 characters long"
        );
    }
    let mut server = ServerConfig::with_secret(secret.into_bytes());
    let number = |name: &str, file: Option<i64>| -> anyhow::Result<Option<i64>> {
        Ok(layered(None, env.number(name)?, file))
    };
    if let Some(v) = number("SYNAPSE_ACCESS_TOKEN_TTL_S", f.access_token_ttl_s)? {
        server.access_token_ttl_s = v;
    }
    if let Some(v) = number("SYNAPSE_REFRESH_TOKEN_TTL_S", f.refresh_token_ttl_s)? {
        server.refresh_token_ttl_s = v;
    }
    if let Some(previous) = layered(
        None,
        env.string("SYNAPSE_JWT_PREVIOUS_SECRET"),
        f.jwt_previous_secret.clone(),
    ) {
        if previous.len() < 32 {
            bail!(
                "the previous signing key (SYNAPSE_JWT_PREVIOUS_SECRET / jwt_previous_secret) must be at least 32 characters long, like the key it was"
            );
        }
        server.jwt_previous_secret = Some(previous.into_bytes());
    }
    if let Some(v) = number("SYNAPSE_SESSION_IDLE_TIMEOUT_S", f.session_idle_timeout_s)? {
        server.sessions.idle = chrono::Duration::seconds(v);
    }
    if let Some(v) = number("SYNAPSE_SESSION_LIFETIME_S", f.session_lifetime_s)? {
        server.sessions.lifetime = chrono::Duration::seconds(v);
    }
    if let Some(v) = number("SYNAPSE_LOCKOUT_MINUTES", f.lockout_minutes)? {
        server.lockout.duration = chrono::Duration::minutes(v);
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_LOCKOUT_THRESHOLD")?,
        f.lockout_threshold,
    ) {
        server.lockout.threshold = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_HASHING_CONCURRENCY")?,
        f.hashing_concurrency,
    ) {
        server.hashing_concurrency = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE")?,
        f.login_attempts_per_minute,
    ) {
        server.login_attempts_per_minute = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_LOCKOUT_ACCOUNT_THRESHOLD")?,
        f.lockout_account_threshold,
    ) {
        server.lockout.account_threshold = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER")?,
        f.requests_per_minute_per_user,
    ) {
        if v == 0 {
            bail!(
                "requests_per_minute_per_user (SYNAPSE_REQUESTS_PER_MINUTE_PER_USER) must be at least 1: with 0 nobody could use the API"
            );
        }
        server.rate_limits.per_user = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS")?,
        f.requests_per_minute_per_address,
    ) {
        if v == 0 {
            bail!(
                "requests_per_minute_per_address (SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS) must be at least 1: with 0 nobody could log in"
            );
        }
        server.rate_limits.per_address = v;
    }
    let proxies = layered(
        None,
        env.get("SYNAPSE_TRUSTED_PROXIES").map(|v| {
            v.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
        }),
        f.trusted_proxies.clone(),
    )
    .unwrap_or_default();
    server.trusted_proxies = proxies
        .iter()
        .map(|p| super::client_ip::parse_proxy(p))
        .collect::<anyhow::Result<_>>()?;
    let require_mfa = layered(
        None,
        env.get("SYNAPSE_REQUIRE_MFA").map(|v| {
            v.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
        }),
        f.require_mfa.clone(),
    )
    .unwrap_or_default();
    server.require_mfa = require_mfa
        .iter()
        .map(|name| {
            crate::model::auth::Role::parse(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "require_mfa (SYNAPSE_REQUIRE_MFA): {name:?} is not a role; use doctor, admin or receptionist"
                )
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_EVENT_HEARTBEAT_S")?,
        f.event_heartbeat_s,
    ) {
        if v == 0 {
            bail!("event_heartbeat_s (SYNAPSE_EVENT_HEARTBEAT_S) must be at least 1");
        }
        server.events.heartbeat = std::time::Duration::from_secs(v);
    }
    if let Some(v) = layered(None, env.number("SYNAPSE_EVENT_REPLAY")?, f.event_replay) {
        if v == 0 {
            bail!("event_replay (SYNAPSE_EVENT_REPLAY) must be at least 1");
        }
        server.events.replay_keep = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_EVENT_STREAMS_PER_USER")?,
        f.event_streams_per_user,
    ) {
        if v == 0 {
            bail!(
                "event_streams_per_user (SYNAPSE_EVENT_STREAMS_PER_USER) must be at least 1: with 0 no workstation could follow events"
            );
        }
        server.events.streams_per_user = v;
    }
    if server.access_token_ttl_s < 10 || server.refresh_token_ttl_s < server.access_token_ttl_s {
        bail!(
            "token lifetimes must be at least 10 s, and the refresh lifetime at least the access lifetime"
        );
    }
    if server.sessions.idle < chrono::Duration::seconds(60)
        || server.sessions.lifetime < server.sessions.idle
    {
        bail!(
            "session_idle_timeout_s (SYNAPSE_SESSION_IDLE_TIMEOUT_S) must be at least 60, and session_lifetime_s (SYNAPSE_SESSION_LIFETIME_S) at least the idle timeout"
        );
    }
    if server.lockout.threshold == 0 {
        bail!("lockout_threshold must be at least 1");
    }
    if server.lockout.account_threshold < server.lockout.threshold {
        bail!(
            "lockout_account_threshold (SYNAPSE_LOCKOUT_ACCOUNT_THRESHOLD) must be at least lockout_threshold: \
             failures from one address must not lock the account from everywhere"
        );
    }
    if server.login_attempts_per_minute == 0 {
        bail!(
            "login_attempts_per_minute (SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE) must be at least 1: with 0 nobody could log in"
        );
    }
    connection_settings(&mut server, f, env)?;
    if let Some(system) = layered(
        None,
        env.string("SYNAPSE_FHIR_MRN_SYSTEM"),
        f.fhir_mrn_system.clone(),
    ) {
        server.fhir_mrn_system = fhir_system(&system)?;
    }
    let tls = match (
        layered(
            flags.tls_cert.clone(),
            env.string("SYNAPSE_TLS_CERT").map(PathBuf::from),
            f.tls_cert.clone(),
        ),
        layered(
            flags.tls_key.clone(),
            env.string("SYNAPSE_TLS_KEY").map(PathBuf::from),
            f.tls_key.clone(),
        ),
    ) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => bail!(
            "a TLS certificate is set but no key: give --tls-key (SYNAPSE_TLS_KEY, tls_key) too"
        ),
        (None, Some(_)) => bail!(
            "a TLS key is set but no certificate: give --tls-cert (SYNAPSE_TLS_CERT, tls_cert) too"
        ),
    };
    let log_level = layered(None, env.string("SYNAPSE_LOG"), f.log_level.clone())
        .unwrap_or_else(|| "info".to_string());
    let log_format =
        match layered(None, env.string("SYNAPSE_LOG_FORMAT"), f.log_format.clone()).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!(
                "log_format (SYNAPSE_LOG_FORMAT) is {other:?}: it must be \"text\" or \"json\""
            ),
        };
    let audit_reserve_mb = layered(
        None,
        env.number("SYNAPSE_AUDIT_RESERVE_MB")?,
        f.audit_reserve_mb,
    )
    .unwrap_or(crate::store::sqlite::AUDIT_RESERVE_DEFAULT_MB);
    Ok(ServeSettings {
        listen,
        database_url,
        demo: flags.demo,
        log_level,
        log_format,
        server,
        tls,
        audit_reserve_mb,
    })
}

/// An identifier system must be an absolute URI (`urn:…`, `https://…`), as FHIR requires.
fn fhir_system(value: &str) -> anyhow::Result<String> {
    let value = value.trim();
    let scheme_ends = value.find(':').filter(|&i| {
        i > 0
            && value[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    match scheme_ends {
        Some(i) if i + 1 < value.len() && !value.contains(char::is_whitespace) => {
            Ok(value.to_string())
        }
        _ => bail!(
            "fhir_mrn_system (SYNAPSE_FHIR_MRN_SYSTEM) is {value:?}: it must be an absolute URI without spaces, like \"urn:oid:1.2.3.4\" or \"https://clinic.example/mrn\""
        ),
    }
}

/// The connection limits: timeouts and caps, each at least 1.
fn connection_settings(
    server: &mut ServerConfig,
    f: &config::ServerFile,
    env: &Environment,
) -> anyhow::Result<()> {
    let c = &mut server.connections;
    let at_least_one = |name: &str, key: &str, v: u64| -> anyhow::Result<u64> {
        if v == 0 {
            bail!("{key} ({name}) must be at least 1");
        }
        Ok(v)
    };
    let seconds = |name: &str, key: &str, file: Option<u64>| -> anyhow::Result<Option<Duration>> {
        layered(None, env.number(name)?, file)
            .map(|v| at_least_one(name, key, v).map(Duration::from_secs))
            .transpose()
    };
    if let Some(v) = seconds(
        "SYNAPSE_HEADER_READ_TIMEOUT_S",
        "header_read_timeout_s",
        f.header_read_timeout_s,
    )? {
        c.header_read_timeout = v;
    }
    if let Some(v) = seconds("SYNAPSE_BODY_TIMEOUT_S", "body_timeout_s", f.body_timeout_s)? {
        c.body_timeout = v;
    }
    if let Some(v) = seconds("SYNAPSE_IDLE_TIMEOUT_S", "idle_timeout_s", f.idle_timeout_s)? {
        c.idle_timeout = v;
    }
    if let Some(v) = seconds(
        "SYNAPSE_SHUTDOWN_GRACE_S",
        "shutdown_grace_s",
        f.shutdown_grace_s,
    )? {
        c.shutdown_grace = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_MAX_CONNECTIONS")?,
        f.max_connections,
    ) {
        at_least_one("SYNAPSE_MAX_CONNECTIONS", "max_connections", v as u64)?;
        c.max_connections = v;
    }
    if let Some(v) = layered(
        None,
        env.number("SYNAPSE_MAX_CONNECTIONS_PER_ADDRESS")?,
        f.max_connections_per_address,
    ) {
        at_least_one(
            "SYNAPSE_MAX_CONNECTIONS_PER_ADDRESS",
            "max_connections_per_address",
            v as u64,
        )?;
        c.max_connections_per_address = v;
    }
    Ok(())
}

/// The data keys of field encryption: `SYNAPSE_DATA_KEYS`, else the key file of
/// `SYNAPSE_KEY_FILE` or `key_file`; else the demo key file beside the database, which only
/// `demo` creates. `None` when no keys are given.
pub fn data_keys(
    file: &ConfigFile,
    env: &Environment,
    database_url: &str,
    demo: bool,
) -> anyhow::Result<Option<cipher::Keyring>> {
    let key_file = env
        .get(cipher::KEY_FILE_VAR)
        .map(PathBuf::from)
        .or_else(|| file.server.key_file.clone());
    if let Some(keys) = cipher::load(env.get(cipher::KEYS_VAR), key_file.as_deref())? {
        return Ok(Some(keys));
    }
    let dir = match sqlite_dir(database_url) {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => config::data_dir(env)?,
    };
    // Without --demo, the demo's keys are used only where a demo made them (`synapse seed`
    // or `synapse admin` on the demo database).
    if !demo && !dir.join(cipher::DEMO_KEY_FILE).exists() {
        return Ok(None);
    }
    Ok(Some(cipher::Keyring::from_file(&cipher::demo_key_file(
        &dir,
    )?)?))
}

/// `data_keys`, installed for this process (`store::cipher::install`); without keys, the
/// error says how to make them.
pub fn install_data_keys(
    file: &ConfigFile,
    env: &Environment,
    database_url: &str,
    demo: bool,
) -> anyhow::Result<()> {
    match data_keys(file, env, database_url, demo)? {
        Some(keys) => {
            cipher::install(keys);
            Ok(())
        }
        None => bail!("{}", cipher::missing_keys_message()),
    }
}

/// The directory of a `sqlite://` database file, where the demo signing key is kept.
fn sqlite_dir(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    Path::new(path).parent().map(Path::to_path_buf)
}

/// Reads the demo signing key beside the database, creating it (mode 0600) on first use.
fn demo_secret(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let secret = super::tokens::new_refresh_token();
    use std::io::Write;
    crate::private_file::options()
        .create(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .with_context(|| format!("cannot write the demo signing key {}", path.display()))?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn file(text: &str) -> ConfigFile {
        toml::from_str(text).unwrap()
    }

    fn env(vars: &[(&str, &str)]) -> Environment {
        vars.iter().copied().collect()
    }

    #[test]
    fn file_values_are_used_and_flags_win() {
        let file = file(&format!(
            "[server]\nlisten = \"127.0.0.1:9000\"\njwt_secret = \"{SECRET}\"\nlockout_threshold = 3\ndatabase = \"sqlite:///tmp/x.db\"\n"
        ));
        let settings = resolve(&file, &ServeFlags::default(), &env(&[])).unwrap();
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.server.lockout.threshold, 3);
        assert_eq!(settings.database_url, "sqlite:///tmp/x.db");
        let flags = ServeFlags {
            listen: Some("127.0.0.1:9001".into()),
            ..ServeFlags::default()
        };
        let settings = resolve(&file, &flags, &env(&[])).unwrap();
        assert_eq!(settings.listen.port(), 9001);
    }

    #[test]
    fn the_environment_is_between_the_file_and_the_flags() {
        let file = file(&format!(
            "[server]\nlisten = \"127.0.0.1:9000\"\njwt_secret = \"{SECRET}\"\nlockout_threshold = 3\ndatabase = \"sqlite:///tmp/x.db\"\nlog_level = \"warn\"\n"
        ));
        let env = env(&[
            ("SYNAPSE_LISTEN", "127.0.0.1:9002"),
            ("SYNAPSE_DATABASE_URL", "sqlite:///tmp/env.db"),
            ("SYNAPSE_LOCKOUT_THRESHOLD", "7"),
            ("SYNAPSE_LOG", "debug"),
        ]);
        let settings = resolve(&file, &ServeFlags::default(), &env).unwrap();
        assert_eq!(settings.listen.port(), 9002);
        assert_eq!(settings.database_url, "sqlite:///tmp/env.db");
        assert_eq!(settings.server.lockout.threshold, 7);
        assert_eq!(settings.log_level, "debug");
        let flags = ServeFlags {
            listen: Some("127.0.0.1:9003".into()),
            database: Some("sqlite:///tmp/flag.db".into()),
            ..ServeFlags::default()
        };
        let settings = resolve(&file, &flags, &env).unwrap();
        assert_eq!(settings.listen.port(), 9003);
        assert_eq!(settings.database_url, "sqlite:///tmp/flag.db");
    }

    #[test]
    fn unknown_settings_short_secrets_and_bad_numbers_are_refused() {
        assert!(toml::from_str::<ConfigFile>("[server]\nlisen = \"x\"\n").is_err());
        let short = file("[server]\njwt_secret = \"short\"\ndatabase = \"sqlite:///tmp/x.db\"\n");
        let error = resolve(&short, &ServeFlags::default(), &env(&[])).unwrap_err();
        assert!(error.to_string().contains("32 characters"), "{error}");

        let good = file(&format!(
            "[server]\njwt_secret = \"{SECRET}\"\ndatabase = \"sqlite:///tmp/x.db\"\n"
        ));
        let error = resolve(
            &good,
            &ServeFlags::default(),
            &env(&[("SYNAPSE_LOCKOUT_MINUTES", "soon")]),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("SYNAPSE_LOCKOUT_MINUTES"),
            "{error}"
        );
        let error = resolve(
            &good,
            &ServeFlags::default(),
            &env(&[("SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE", "0")]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("at least 1"), "{error}");
        for name in [
            "SYNAPSE_EVENT_HEARTBEAT_S",
            "SYNAPSE_EVENT_REPLAY",
            "SYNAPSE_EVENT_STREAMS_PER_USER",
        ] {
            let error = resolve(&good, &ServeFlags::default(), &env(&[(name, "0")])).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn event_stream_settings_come_from_the_file_and_the_environment() {
        let file = file(&format!(
            "[server]\njwt_secret = \"{SECRET}\"\ndatabase = \"sqlite:///tmp/x.db\"\nevent_heartbeat_s = 5\nevent_replay = 50\n"
        ));
        let settings = resolve(
            &file,
            &ServeFlags::default(),
            &env(&[("SYNAPSE_EVENT_STREAMS_PER_USER", "3")]),
        )
        .unwrap();
        let events = &settings.server.events;
        assert_eq!(events.heartbeat, std::time::Duration::from_secs(5));
        assert_eq!(events.replay_keep, 50);
        assert_eq!(events.streams_per_user, 3);
        let defaults = resolve(&good_file(), &ServeFlags::default(), &env(&[])).unwrap();
        assert_eq!(defaults.server.events.streams_per_user, 8);
        assert_eq!(defaults.server.events.replay_keep, 10_000);
    }

    #[test]
    fn the_fhir_mrn_system_comes_from_the_file_or_the_environment_and_must_be_a_uri() {
        let defaults = resolve(&good_file(), &ServeFlags::default(), &env(&[])).unwrap();
        assert_eq!(defaults.server.fhir_mrn_system, "urn:synapse:mrn");
        let file = file(&format!(
            "[server]\njwt_secret = \"{SECRET}\"\ndatabase = \"sqlite:///tmp/x.db\"\nfhir_mrn_system = \"urn:oid:1.2.3\"\n"
        ));
        let from_file = resolve(&file, &ServeFlags::default(), &env(&[])).unwrap();
        assert_eq!(from_file.server.fhir_mrn_system, "urn:oid:1.2.3");
        let from_env = resolve(
            &file,
            &ServeFlags::default(),
            &env(&[("SYNAPSE_FHIR_MRN_SYSTEM", "https://clinic.example/mrn")]),
        )
        .unwrap();
        assert_eq!(
            from_env.server.fhir_mrn_system,
            "https://clinic.example/mrn"
        );
        for bad in ["mrn", "our numbers", ":x", "urn:"] {
            let error = resolve(
                &file,
                &ServeFlags::default(),
                &env(&[("SYNAPSE_FHIR_MRN_SYSTEM", bad)]),
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains("fhir_mrn_system"), "{bad}: {error}");
        }
    }

    #[test]
    fn rate_limits_lockout_and_trusted_proxies_come_from_the_file_and_the_environment() {
        let file = file(&format!(
            "[server]\njwt_secret = \"{SECRET}\"\ndatabase = \"sqlite:///tmp/x.db\"\n\
             requests_per_minute_per_user = 50\nlockout_account_threshold = 9\n\
             trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n"
        ));
        let settings = resolve(
            &file,
            &ServeFlags::default(),
            &env(&[("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS", "7")]),
        )
        .unwrap();
        let server = &settings.server;
        assert_eq!(server.rate_limits.per_user, 50);
        assert_eq!(server.rate_limits.per_address, 7);
        assert_eq!(server.lockout.account_threshold, 9);
        assert_eq!(server.trusted_proxies.len(), 2);
        let env_proxies = resolve(
            &good_file(),
            &ServeFlags::default(),
            &env(&[("SYNAPSE_TRUSTED_PROXIES", "127.0.0.1, 192.168.0.0/16")]),
        )
        .unwrap();
        assert_eq!(env_proxies.server.trusted_proxies.len(), 2);
        let defaults = resolve(&good_file(), &ServeFlags::default(), &env(&[])).unwrap();
        assert!(defaults.server.trusted_proxies.is_empty());
        assert_eq!(defaults.server.rate_limits.per_user, 1200);
        assert_eq!(defaults.server.lockout.account_threshold, 20);

        for (name, value, says) in [
            ("SYNAPSE_TRUSTED_PROXIES", "proxy.local", "trusted_proxies"),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER", "0", "at least 1"),
            (
                "SYNAPSE_LOCKOUT_ACCOUNT_THRESHOLD",
                "2",
                "lockout_account_threshold",
            ),
        ] {
            let error =
                resolve(&good_file(), &ServeFlags::default(), &env(&[(name, value)])).unwrap_err();
            assert!(format!("{error:#}").contains(says), "{name}: {error:#}");
        }
    }

    #[test]
    fn connection_limits_and_tls_files_come_from_the_file_the_environment_and_the_flags() {
        let file = file(&format!(
            "[server]\njwt_secret = \"{SECRET}\"\ndatabase = \"sqlite:///tmp/x.db\"\n\
             header_read_timeout_s = 4\nmax_connections = 100\ntls_cert = \"/file/cert.pem\"\n\
             tls_key = \"/file/key.pem\"\n"
        ));
        let flags = ServeFlags {
            tls_key: Some("/flag/key.pem".into()),
            ..ServeFlags::default()
        };
        let settings = resolve(
            &file,
            &flags,
            &env(&[
                ("SYNAPSE_BODY_TIMEOUT_S", "7"),
                ("SYNAPSE_MAX_CONNECTIONS_PER_ADDRESS", "9"),
            ]),
        )
        .unwrap();
        let c = &settings.server.connections;
        assert_eq!(c.header_read_timeout, Duration::from_secs(4));
        assert_eq!(c.body_timeout, Duration::from_secs(7));
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!((c.max_connections, c.max_connections_per_address), (100, 9));
        let tls = settings.tls.unwrap();
        assert_eq!(tls.cert, PathBuf::from("/file/cert.pem"));
        assert_eq!(tls.key, PathBuf::from("/flag/key.pem"));

        let error = resolve(
            &good_file(),
            &ServeFlags::default(),
            &env(&[("SYNAPSE_IDLE_TIMEOUT_S", "0")]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("idle_timeout_s"), "{error}");
        let only_cert = ServeFlags {
            tls_cert: Some("/c.pem".into()),
            ..ServeFlags::default()
        };
        let error = resolve(&good_file(), &only_cert, &env(&[])).unwrap_err();
        assert!(error.to_string().contains("--tls-key"), "{error}");
    }

    fn good_file() -> ConfigFile {
        file(&format!(
            "[server]\njwt_secret = \"{SECRET}\"\ndatabase = \"sqlite:///tmp/x.db\"\n"
        ))
    }

    #[test]
    fn without_a_key_serve_says_how_to_set_one_and_demo_keeps_one_beside_the_database() {
        let base = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", base.path().join("db").join("s.db").display());
        let flags = ServeFlags {
            database: Some(db),
            ..ServeFlags::default()
        };
        let error = resolve(&ConfigFile::default(), &flags, &env(&[])).unwrap_err();
        assert!(error.to_string().contains("SYNAPSE_JWT_SECRET"), "{error}");

        let demo = ServeFlags {
            demo: true,
            ..flags
        };
        let first = resolve(&ConfigFile::default(), &demo, &env(&[])).unwrap();
        let again = resolve(&ConfigFile::default(), &demo, &env(&[])).unwrap();
        assert_eq!(first.server.jwt_secret, again.server.jwt_secret);
        assert!(base.path().join("db").join("jwt-secret").is_file());
    }
}
