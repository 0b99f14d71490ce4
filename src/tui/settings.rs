//! The workstation's settings: the `[tui]` table of the config file, `SYNAPSE_LOCK_MINUTES`
//! and `NO_COLOR`, resolved into `state::Settings` by config's layering rule.

use anyhow::Context;

use super::keymap::Keymap;
use super::state::Settings;
use super::theme::{Theme, ThemeKind};
use crate::config::{Environment, TuiFile, layered};

/// Resolves the workstation's settings; a theme or key binding it does not know is an error
/// that names it.
pub fn resolve(file: &TuiFile, env: &Environment) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    if let Some(minutes) = layered(None, env.number("SYNAPSE_LOCK_MINUTES")?, file.lock_minutes) {
        settings.lock_after_ms = minutes.max(1) * 60 * 1000;
    }
    let theme = match file.theme.as_deref() {
        Some(name) => ThemeKind::parse(name).with_context(|| {
            format!("[tui] theme {name:?} is not one of terminal, light, dark, mono")
        })?,
        None => ThemeKind::Terminal,
    };
    // NO_COLOR (any value but empty) asks for no colour: https://no-color.org
    let theme = if env.get("NO_COLOR").is_some() {
        ThemeKind::Mono
    } else {
        theme
    };
    settings.theme = Theme::new(theme);
    settings.mouse = file.mouse.unwrap_or(false);
    if let Ok(dir) = crate::config::data_dir(env) {
        settings.export_dir = dir;
    }
    settings.documents_dir = match &file.export_dir {
        Some(dir) => dir.clone(),
        None => directories::UserDirs::new()
            .and_then(|dirs| {
                dirs.document_dir()
                    .map(std::path::Path::to_path_buf)
                    .or_else(|| Some(dirs.home_dir().to_path_buf()))
            })
            .unwrap_or_else(|| std::path::PathBuf::from(".")),
    };
    let overrides = file
        .keys
        .iter()
        .map(|(command, keys)| (command.clone(), keys.keys()))
        .collect();
    settings.keymap = Keymap::with_overrides(&overrides)
        .map_err(|e| anyhow::anyhow!("in the config file: {e}"))?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> TuiFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_lock_delay_comes_from_the_environment_before_the_file() {
        let file = file("lock_minutes = 5\nmouse = true\n");
        let settings = resolve(&file, &Environment::default()).unwrap();
        assert_eq!(settings.lock_after_ms, 5 * 60 * 1000);
        assert!(settings.mouse);
        let env: Environment = [("SYNAPSE_LOCK_MINUTES", "2")].into_iter().collect();
        assert_eq!(resolve(&file, &env).unwrap().lock_after_ms, 2 * 60 * 1000);
        let env: Environment = [("SYNAPSE_LOCK_MINUTES", "soon")].into_iter().collect();
        assert!(resolve(&file, &env).is_err());
    }

    #[test]
    fn no_color_forces_mono_and_unknown_themes_are_named() {
        let dark = file("theme = \"dark\"\n");
        let env: Environment = [("NO_COLOR", "1")].into_iter().collect();
        assert_eq!(resolve(&dark, &env).unwrap().theme.kind, ThemeKind::Mono);
        assert_eq!(
            resolve(&dark, &Environment::default()).unwrap().theme.kind,
            ThemeKind::Dark
        );
        let error = resolve(&file("theme = \"neon\"\n"), &Environment::default()).unwrap_err();
        assert!(error.to_string().contains("neon"), "{error}");
    }
}
