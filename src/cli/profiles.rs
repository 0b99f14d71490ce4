//! The CLI's remembered servers: named profiles (like kubectl contexts) in a small state file,
//! `profiles.toml` in the user's config directory, beside (never inside) the hand-edited
//! `config.toml`. `synapse login` writes the server it logged in to under the profile in use
//! and makes that profile current, so the next command needs no `--server`. No token is ever
//! written here: sessions stay in the token store, keyed by server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::Environment;

/// The profile used when none is named and none is current.
pub const DEFAULT_PROFILE: &str = "default";

/// The state file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profiles {
    /// The profile the last `login` used: the one a command uses without `--profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One remembered server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub server: String,
}

/// Where the state file is: `SYNAPSE_PROFILES`, else `profiles.toml` in the config directory
/// (`$XDG_CONFIG_HOME/synapse`, usually `~/.config/synapse`).
pub fn path(env: &Environment) -> anyhow::Result<PathBuf> {
    if let Some(path) = env.get("SYNAPSE_PROFILES") {
        return Ok(PathBuf::from(path));
    }
    directories::ProjectDirs::from("", "", "synapse")
        .map(|d| d.config_dir().join("profiles.toml"))
        .context("cannot find a home directory for the profiles; set SYNAPSE_PROFILES")
}

/// A profile name must be a plain word: it is typed on the command line and shown in messages.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        bail!(
            "--profile {name:?} is not a profile name: use letters, digits, '-', '_' or '.' (at most 64)"
        );
    }
    Ok(())
}

impl Profiles {
    /// Reads the state file; a missing file is no profiles.
    pub fn load(path: &Path) -> anyhow::Result<Profiles> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Profiles::default());
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot read the profiles file {}", path.display()));
            }
        };
        toml::from_str(&text).with_context(|| {
            format!(
                "the profiles file {} is not valid: fix it, or delete it and log in again",
                path.display()
            )
        })
    }

    /// Writes the state file whole (a temporary file renamed over it, so a crash never leaves
    /// half a file), creating its directory.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            crate::config::create_private_dir(dir)?;
        }
        let text = toml::to_string(self).context("cannot write the profiles")?;
        let temporary = path.with_extension("toml.tmp");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, path))
            .with_context(|| format!("cannot write the profiles file {}", path.display()))
    }

    /// The profile a command uses: `--profile`, else `SYNAPSE_PROFILE`, else the current one,
    /// else `default`.
    pub fn choose(&self, flag: Option<String>, env: &Environment) -> anyhow::Result<String> {
        let name = flag
            .or_else(|| env.string("SYNAPSE_PROFILE"))
            .or_else(|| self.current.clone())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
        check_name(&name)?;
        Ok(name)
    }

    /// The server remembered under `name`.
    pub fn server(&self, name: &str) -> Option<&str> {
        self.profiles.get(name).map(|p| p.server.as_str())
    }

    /// Remembers `server` under `name` and makes it the current profile.
    pub fn remember(&mut self, name: &str, server: &str) {
        self.profiles.insert(
            name.to_string(),
            Profile {
                server: server.to_string(),
            },
        );
        self.current = Some(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_then_the_environment_then_the_current_profile_then_default() {
        let mut profiles = Profiles::default();
        let none = Environment::default();
        assert_eq!(profiles.choose(None, &none).unwrap(), DEFAULT_PROFILE);
        profiles.remember("clinic", "https://clinic.example");
        assert_eq!(profiles.choose(None, &none).unwrap(), "clinic");
        let env: Environment = [("SYNAPSE_PROFILE", "lab")].into_iter().collect();
        assert_eq!(profiles.choose(None, &env).unwrap(), "lab");
        assert_eq!(profiles.choose(Some("x".into()), &env).unwrap(), "x");
        let error = profiles.choose(Some("a b".into()), &none).unwrap_err();
        assert!(error.to_string().contains("--profile"), "{error}");
    }

    #[test]
    fn profiles_survive_a_round_trip_and_a_missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("synapse").join("profiles.toml");
        assert_eq!(Profiles::load(&path).unwrap(), Profiles::default());
        let mut profiles = Profiles::default();
        profiles.remember("default", "http://127.0.0.1:1");
        profiles.remember("lab", "https://lab.example");
        profiles.save(&path).unwrap();
        let loaded = Profiles::load(&path).unwrap();
        assert_eq!(loaded, profiles);
        assert_eq!(loaded.current.as_deref(), Some("lab"));
        assert_eq!(loaded.server("default"), Some("http://127.0.0.1:1"));
        std::fs::write(&path, "current = 3").unwrap();
        let error = Profiles::load(&path).unwrap_err();
        assert!(format!("{error:#}").contains("not valid"), "{error:#}");
    }
}
