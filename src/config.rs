//! Layered settings: built-in defaults < config file < `SYNAPSE_*` environment < flags.
//! The config file is TOML (`~/.config/synapse/config.toml`, or `SYNAPSE_CONFIG`);
//! config.example.toml lists every setting with its default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::server::ServerConfig;

/// The `[server]` table of the config file. Every field is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub jwt_secret: Option<String>,
    pub access_token_ttl_s: Option<i64>,
    pub refresh_token_ttl_s: Option<i64>,
    pub lockout_threshold: Option<u32>,
    pub lockout_minutes: Option<i64>,
    pub hashing_concurrency: Option<usize>,
    pub login_attempts_per_minute: Option<u32>,
    pub log_level: Option<String>,
}

/// The `[client]` table: how the workstation and the CLI reach a server.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub server: Option<String>,
    pub token_store: Option<String>,
    pub connect_timeout_s: Option<u64>,
    pub request_timeout_s: Option<u64>,
    pub ca_certificate: Option<PathBuf>,
}

/// One key or several, as the `[tui.keys]` table accepts them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    pub fn keys(&self) -> Vec<String> {
        match self {
            KeyList::One(key) => vec![key.clone()],
            KeyList::Many(keys) => keys.clone(),
        }
    }
}

/// The `[tui]` table: how the workstation behaves.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuiFile {
    /// Minutes without a key before the screen locks.
    pub lock_minutes: Option<u64>,
    /// terminal, light, dark or mono.
    pub theme: Option<String>,
    /// Capture the mouse (scroll and click); off by default.
    pub mouse: Option<bool>,
    /// Command name → key or keys, overriding the defaults.
    #[serde(default)]
    pub keys: std::collections::HashMap<String, KeyList>,
}

/// The whole config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerFile,
    #[serde(default)]
    pub client: ClientFile,
    #[serde(default)]
    pub tui: TuiFile,
}

/// The workstation's settings from the `[tui]` table and `NO_COLOR`.
pub fn resolve_tui(file: &ConfigFile) -> anyhow::Result<crate::tui::state::Settings> {
    use crate::tui::theme::{Theme, ThemeKind};
    let t = &file.tui;
    let mut settings = crate::tui::state::Settings::default();
    if let Some(minutes) = parse_env("SYNAPSE_LOCK_MINUTES")?.or(t.lock_minutes) {
        settings.lock_after_ms = minutes.max(1) * 60 * 1000;
    }
    let theme = match t.theme.as_deref() {
        Some(name) => ThemeKind::parse(name).with_context(|| {
            format!("[tui] theme {name:?} is not one of terminal, light, dark, mono")
        })?,
        None => ThemeKind::Terminal,
    };
    // NO_COLOR (any value) asks for no colour: https://no-color.org
    let theme = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        ThemeKind::Mono
    } else {
        theme
    };
    settings.theme = Theme::new(theme);
    settings.mouse = t.mouse.unwrap_or(false);
    let overrides = t
        .keys
        .iter()
        .map(|(command, keys)| (command.clone(), keys.keys()))
        .collect();
    settings.keymap = crate::tui::keymap::Keymap::with_overrides(&overrides)
        .map_err(|e| anyhow::anyhow!("in the config file: {e}"))?;
    Ok(settings)
}

/// What the client side needs, resolved: the server (if any is configured), the token store
/// and the HTTP settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub server_url: Option<String>,
    pub token_store: crate::credentials::TokenStoreChoice,
    pub connect_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub ca_certificate: Option<PathBuf>,
}

impl ClientSettings {
    /// The client configuration for `server_url`.
    pub fn client_config(&self, server_url: &str) -> crate::client::ClientConfig {
        let mut config = crate::client::ClientConfig::new(server_url);
        config.connect_timeout = self.connect_timeout;
        config.request_timeout = self.request_timeout;
        config.extra_ca_pem = self.ca_certificate.clone();
        config
    }
}

/// Resolves the client settings: flags < `SYNAPSE_SERVER`/`SYNAPSE_TOKEN_STORE` < file, as the
/// CLI documents (`--server`, then the environment, then the config file).
pub fn resolve_client(
    file: &ConfigFile,
    server_flag: Option<String>,
    token_store_flag: Option<String>,
) -> anyhow::Result<ClientSettings> {
    let f = &file.client;
    let server_url = server_flag
        .or_else(|| env("SYNAPSE_SERVER"))
        .or_else(|| f.server.clone())
        .map(|url| url.trim_end_matches('/').to_string());
    if let Some(url) = &server_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("the server address {url:?} must start with http:// or https://");
    }
    let token_store = token_store_flag
        .or_else(|| env("SYNAPSE_TOKEN_STORE"))
        .or_else(|| f.token_store.clone())
        .map(|name| name.parse::<crate::credentials::TokenStoreChoice>())
        .transpose()?
        .unwrap_or_default();
    let seconds = |value: Option<u64>, default: u64| {
        std::time::Duration::from_secs(value.unwrap_or(default).max(1))
    };
    Ok(ClientSettings {
        server_url,
        token_store,
        connect_timeout: seconds(
            parse_env("SYNAPSE_CONNECT_TIMEOUT_S")?.or(f.connect_timeout_s),
            3,
        ),
        request_timeout: seconds(
            parse_env("SYNAPSE_REQUEST_TIMEOUT_S")?.or(f.request_timeout_s),
            15,
        ),
        ca_certificate: env("SYNAPSE_CA_CERTIFICATE")
            .map(PathBuf::from)
            .or_else(|| f.ca_certificate.clone()),
    })
}

/// Where Synapse keeps its data (the SQLite file, the demo signing key): `SYNAPSE_DATA_DIR`, or
/// the platform's data directory (`~/.local/share/synapse`).
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SYNAPSE_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "synapse")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a home directory for the data; set SYNAPSE_DATA_DIR")
}

fn config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SYNAPSE_CONFIG") {
        return Some(PathBuf::from(path));
    }
    directories::ProjectDirs::from("", "", "synapse").map(|d| d.config_dir().join("config.toml"))
}

/// Reads the config file; a missing default file is fine, a broken one is an error that says
/// where and what.
pub fn load_file(explicit: Option<&Path>) -> anyhow::Result<ConfigFile> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match config_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(ConfigFile::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("the config file {} is not valid", path.display()))
}

/// Flags of `synapse serve` that override the file and environment.
#[derive(Debug, Default, Clone)]
pub struct ServeFlags {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub demo: bool,
}

/// Everything `synapse serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub demo: bool,
    pub log_level: String,
    pub server: ServerConfig,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parse_env<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    env(name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|_| anyhow::anyhow!("{name} must be a number, not {v:?}"))
        })
        .transpose()
}

/// Creates a directory that will hold patient data (the embedded database, the log), readable
/// by its owner only (0700 on Unix) when this creates it: on a shared server where doctors log
/// in over SSH, home directories are often readable by every user.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}

/// Creates the data directory (see [`create_private_dir`]) and returns it.
pub fn create_data_dir() -> anyhow::Result<PathBuf> {
    let dir = data_dir()?;
    create_private_dir(&dir)?;
    Ok(dir)
}

/// The default database: `synapse.db` in the data directory.
pub fn default_database_url() -> anyhow::Result<String> {
    Ok(format!(
        "sqlite://{}",
        data_dir()?.join("synapse.db").display()
    ))
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
    let secret = crate::server::tokens::new_refresh_token();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(&path)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .with_context(|| format!("cannot write the demo signing key {}", path.display()))?;
    Ok(secret)
}

/// Resolves the serve settings: defaults < file < environment < flags.
pub fn resolve_serve(file: &ConfigFile, flags: &ServeFlags) -> anyhow::Result<ServeSettings> {
    let f = &file.server;
    let listen = flags
        .listen
        .clone()
        .or_else(|| env("SYNAPSE_LISTEN"))
        .or_else(|| f.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listen: SocketAddr = listen.parse().with_context(|| {
        format!("the listen address {listen:?} is not host:port, like 127.0.0.1:8080")
    })?;
    let database_url = match flags
        .database
        .clone()
        .or_else(|| env("SYNAPSE_DATABASE_URL"))
        .or_else(|| f.database.clone())
    {
        Some(url) => url,
        None => {
            create_data_dir()?;
            default_database_url()?
        }
    };
    let secret = match env("SYNAPSE_JWT_SECRET").or_else(|| f.jwt_secret.clone()) {
        Some(secret) => secret,
        None if flags.demo => {
            let dir = match sqlite_dir(&database_url) {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => data_dir()?,
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
    if let Some(v) = parse_env("SYNAPSE_ACCESS_TOKEN_TTL_S")?.or(f.access_token_ttl_s) {
        server.access_token_ttl_s = v;
    }
    if let Some(v) = parse_env("SYNAPSE_REFRESH_TOKEN_TTL_S")?.or(f.refresh_token_ttl_s) {
        server.refresh_token_ttl_s = v;
    }
    if let Some(v) = parse_env("SYNAPSE_LOCKOUT_THRESHOLD")?.or(f.lockout_threshold) {
        server.lockout.threshold = v;
    }
    if let Some(v) = parse_env("SYNAPSE_LOCKOUT_MINUTES")?.or(f.lockout_minutes) {
        server.lockout.duration = chrono::Duration::minutes(v);
    }
    if let Some(v) = parse_env("SYNAPSE_HASHING_CONCURRENCY")?.or(f.hashing_concurrency) {
        server.hashing_concurrency = v;
    }
    if let Some(v) = parse_env("SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE")?.or(f.login_attempts_per_minute)
    {
        server.login_attempts_per_minute = v;
    }
    if server.access_token_ttl_s < 10 || server.refresh_token_ttl_s < server.access_token_ttl_s {
        bail!(
            "token lifetimes must be at least 10 s, and the refresh lifetime at least the access lifetime"
        );
    }
    if server.lockout.threshold == 0 {
        bail!("lockout_threshold must be at least 1");
    }
    let log_level = env("SYNAPSE_LOG")
        .or_else(|| f.log_level.clone())
        .unwrap_or_else(|| "info".to_string());
    Ok(ServeSettings {
        listen,
        database_url,
        demo: flags.demo,
        log_level,
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_data_directory_is_created_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("share").join("synapse");
        create_private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{mode:o}");
        // Creating it again is fine.
        create_private_dir(&dir).unwrap();
    }

    #[test]
    fn file_values_are_used_and_flags_win() {
        let file: ConfigFile = toml::from_str(
            "[server]\nlisten = \"127.0.0.1:9000\"\njwt_secret = \"0123456789abcdef0123456789abcdef\"\nlockout_threshold = 3\ndatabase = \"sqlite:///tmp/x.db\"\n",
        )
        .unwrap();
        let settings = resolve_serve(&file, &ServeFlags::default()).unwrap();
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.server.lockout.threshold, 3);
        let flags = ServeFlags {
            listen: Some("127.0.0.1:9001".into()),
            ..ServeFlags::default()
        };
        assert_eq!(resolve_serve(&file, &flags).unwrap().listen.port(), 9001);
    }

    #[test]
    fn unknown_settings_and_short_secrets_are_refused() {
        assert!(toml::from_str::<ConfigFile>("[server]\nlisen = \"x\"\n").is_err());
        let file: ConfigFile =
            toml::from_str("[server]\njwt_secret = \"short\"\ndatabase = \"sqlite:///tmp/x.db\"\n")
                .unwrap();
        let error = resolve_serve(&file, &ServeFlags::default()).unwrap_err();
        assert!(error.to_string().contains("32 characters"));
    }
}
