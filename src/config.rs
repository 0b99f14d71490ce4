//! The config file and the rules every room resolves its settings by: built-in defaults <
//! config file < `SYNAPSE_*` environment < flags. The file is TOML
//! (`~/.config/synapse/config.toml`, or `SYNAPSE_CONFIG`); config.example.toml lists every
//! setting with its default. This module holds the file's tables as plain data and the
//! layering helpers; the server, the workstation and the client each turn them into their own
//! settings (`server::settings`, `tui::settings`, `client::settings`), so it knows none of them.
//!
//! The environment is a parameter ([`Environment`]), never read here: `main` passes the
//! process's, tests pass a map of their own.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use serde::Deserialize;

/// The `[server]` table of the config file. Every field is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    pub listen: Option<String>,
    pub database: Option<String>,
    pub jwt_secret: Option<String>,
    pub jwt_previous_secret: Option<String>,
    pub access_token_ttl_s: Option<i64>,
    pub refresh_token_ttl_s: Option<i64>,
    pub session_idle_timeout_s: Option<i64>,
    pub session_lifetime_s: Option<i64>,
    pub lockout_threshold: Option<u32>,
    pub lockout_minutes: Option<i64>,
    pub lockout_account_threshold: Option<u32>,
    pub hashing_concurrency: Option<usize>,
    pub login_attempts_per_minute: Option<u32>,
    pub requests_per_minute_per_user: Option<u32>,
    pub requests_per_minute_per_address: Option<u32>,
    pub trusted_proxies: Option<Vec<String>>,
    pub require_mfa: Option<Vec<String>>,
    pub event_heartbeat_s: Option<u64>,
    pub event_replay: Option<u64>,
    pub event_streams_per_user: Option<usize>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    pub header_read_timeout_s: Option<u64>,
    pub body_timeout_s: Option<u64>,
    pub idle_timeout_s: Option<u64>,
    pub shutdown_grace_s: Option<u64>,
    pub audit_reserve_mb: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_connections_per_address: Option<usize>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub fhir_mrn_system: Option<String>,
    /// The data keys of field encryption (`store::cipher`), for serve, seed and admin.
    pub key_file: Option<PathBuf>,
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
    /// Where `x` exports a report's or a record's PDF; the user's documents directory when
    /// not set.
    pub export_dir: Option<std::path::PathBuf>,
    /// Command name → key or keys, overriding the defaults.
    #[serde(default)]
    pub keys: HashMap<String, KeyList>,
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

/// The environment settings are resolved against: variable name → value. An empty value
/// counts as unset, so `SYNAPSE_SERVER= synapse …` falls back to the file.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    vars: HashMap<String, String>,
}

impl Environment {
    /// The variables of this process. One whose name or value is not UTF-8 is left out (as if
    /// unset) rather than stopping the program, which `std::env::vars` would do.
    pub fn from_os(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Environment {
        vars.into_iter()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect()
    }

    /// The variable's value, when it is set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The variable's value as an owned string, when set.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// The variable parsed as a number; set but not a number is an error that names it.
    pub fn number<T: FromStr>(&self, name: &str) -> anyhow::Result<Option<T>> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse::<T>()
                    .map_err(|_| anyhow::anyhow!("{name} must be a number, not {v:?}"))
            })
            .transpose()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(vars: I) -> Environment {
        Environment {
            vars: vars
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }
}

/// The layering rule of every setting: the flag, else the environment, else the config file.
/// `None` when none of them is set, and the caller's built-in default applies.
pub fn layered<T>(flag: Option<T>, env: Option<T>, file: Option<T>) -> Option<T> {
    flag.or(env).or(file)
}

/// Where Synapse keeps its data (the SQLite file, the demo signing key, the workstation's
/// log): `SYNAPSE_DATA_DIR`, or the platform's data directory (`~/.local/share/synapse`).
pub fn data_dir(env: &Environment) -> anyhow::Result<PathBuf> {
    if let Some(dir) = env.get("SYNAPSE_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "synapse")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a home directory for the data; set SYNAPSE_DATA_DIR")
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
pub fn create_data_dir(env: &Environment) -> anyhow::Result<PathBuf> {
    let dir = data_dir(env)?;
    create_private_dir(&dir)?;
    Ok(dir)
}

/// The database of every command that opens one (`serve`, `seed`, the embedded server):
/// `--database`, else `SYNAPSE_DATABASE_URL`, else `database` in the `[server]` table, else
/// `synapse.db` in the data directory (which this then creates, owner-only).
pub fn database_url(
    flag: Option<String>,
    file: &ConfigFile,
    env: &Environment,
) -> anyhow::Result<String> {
    match layered(
        flag,
        env.string("SYNAPSE_DATABASE_URL"),
        file.server.database.clone(),
    ) {
        Some(url) => Ok(url),
        None => {
            let dir = create_data_dir(env)?;
            Ok(format!("sqlite://{}", dir.join("synapse.db").display()))
        }
    }
}

fn config_path(env: &Environment) -> Option<PathBuf> {
    if let Some(path) = env.get("SYNAPSE_CONFIG") {
        return Some(PathBuf::from(path));
    }
    directories::ProjectDirs::from("", "", "synapse").map(|d| d.config_dir().join("config.toml"))
}

/// Reads the config file: `explicit` (`--config`), else `SYNAPSE_CONFIG`, else the platform's
/// default. A missing file is fine unless it was named by `--config`; a broken one is an error
/// that says where and what.
pub fn load_file(explicit: Option<&Path>, env: &Environment) -> anyhow::Result<ConfigFile> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match config_path(env) {
            Some(p) if p.exists() => p,
            _ => return Ok(ConfigFile::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("the config file {} is not valid", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        vars.iter().copied().collect()
    }

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
    fn the_flag_wins_over_the_environment_which_wins_over_the_file() {
        assert_eq!(layered(Some(1), Some(2), Some(3)), Some(1));
        assert_eq!(layered(None, Some(2), Some(3)), Some(2));
        assert_eq!(layered(None, None, Some(3)), Some(3));
        assert_eq!(layered::<u8>(None, None, None), None);
    }

    #[test]
    fn empty_variables_are_unset_and_numbers_are_checked() {
        let env = env(&[("A", ""), ("B", " 42 "), ("C", "many")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("missing"), None);
        assert_eq!(env.number::<u32>("B").unwrap(), Some(42));
        assert_eq!(env.number::<u32>("A").unwrap(), None);
        let error = env.number::<u32>("C").unwrap_err().to_string();
        assert!(error.contains("C must be a number"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn variables_that_are_not_utf8_are_left_out() {
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::from_os([
            (OsString::from("GOOD"), OsString::from("yes")),
            (OsString::from("BAD"), OsString::from_vec(vec![0xff, 0xfe])),
        ]);
        assert_eq!(env.get("GOOD"), Some("yes"));
        assert_eq!(env.get("BAD"), None);
    }

    #[test]
    fn the_database_url_is_the_flag_then_the_environment_then_the_file_then_the_data_dir() {
        let base = tempfile::tempdir().unwrap();
        let data = base.path().join("data");
        let file: ConfigFile =
            toml::from_str("[server]\ndatabase = \"sqlite:///from/file.db\"\n").unwrap();
        let with_var = env(&[
            ("SYNAPSE_DATABASE_URL", "sqlite:///from/env.db"),
            ("SYNAPSE_DATA_DIR", data.to_str().unwrap()),
        ]);
        let without_var = env(&[("SYNAPSE_DATA_DIR", data.to_str().unwrap())]);
        let flag = || Some("sqlite:///from/flag.db".to_string());

        assert_eq!(
            database_url(flag(), &file, &with_var).unwrap(),
            "sqlite:///from/flag.db"
        );
        assert_eq!(
            database_url(None, &file, &with_var).unwrap(),
            "sqlite:///from/env.db"
        );
        assert_eq!(
            database_url(None, &file, &without_var).unwrap(),
            "sqlite:///from/file.db"
        );
        assert!(!data.exists(), "a configured database made the data dir");
        assert_eq!(
            database_url(None, &ConfigFile::default(), &without_var).unwrap(),
            format!("sqlite://{}", data.join("synapse.db").display())
        );
        assert!(data.is_dir(), "the default database's directory is made");
    }

    #[test]
    fn the_config_file_comes_from_the_flag_or_synapse_config() {
        let base = tempfile::tempdir().unwrap();
        let named = base.path().join("named.toml");
        std::fs::write(&named, "[client]\nserver = \"http://named:1\"\n").unwrap();
        let env = env(&[("SYNAPSE_CONFIG", named.to_str().unwrap())]);
        let file = load_file(None, &env).unwrap();
        assert_eq!(file.client.server.as_deref(), Some("http://named:1"));

        let missing = base.path().join("missing.toml");
        let missing_env: Environment = [("SYNAPSE_CONFIG", missing.to_str().unwrap())]
            .into_iter()
            .collect();
        assert!(
            load_file(None, &missing_env)
                .unwrap()
                .client
                .server
                .is_none()
        );
        let error = format!("{:#}", load_file(Some(&missing), &missing_env).unwrap_err());
        assert!(error.contains("cannot read the config file"), "{error}");

        std::fs::write(&named, "[server]\nlisen = \"x\"\n").unwrap();
        let error = format!("{:#}", load_file(None, &env).unwrap_err());
        assert!(
            error.contains("is not valid") && error.contains("lisen"),
            "{error}"
        );
    }
}
