//! The keymap as data: every binding has a command, the screens it works on and a description.
//! Help, the key-hint bar and the command palette are generated from it, and the config file's
//! `[keys]` table can rebind any command.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Search,
    Help,
    Palette,
    GoPatients,
    GoReports,
    GoStats,
    Lock,
    Privacy,
    NextReport,
    PreviousReport,
    Sign,
    Edit,
    Addendum,
    StartConsultation,
    StopConsultation,
    CancelConsultation,
    CycleSort,
    CycleStatus,
    CycleSessionType,
    CycleDateRange,
    ClearFilters,
    PatientReports,
    Refresh,
    OpenConsultation,
}

impl Command {
    /// Every command, in the order help lists them.
    pub const ALL: [Command; 33] = [
        Command::Open,
        Command::Back,
        Command::Up,
        Command::Down,
        Command::PageUp,
        Command::PageDown,
        Command::Top,
        Command::Bottom,
        Command::Search,
        Command::GoPatients,
        Command::GoReports,
        Command::GoStats,
        Command::StartConsultation,
        Command::OpenConsultation,
        Command::StopConsultation,
        Command::CancelConsultation,
        Command::NextReport,
        Command::PreviousReport,
        Command::Edit,
        Command::Sign,
        Command::Addendum,
        Command::CycleSort,
        Command::CycleStatus,
        Command::CycleSessionType,
        Command::CycleDateRange,
        Command::ClearFilters,
        Command::PatientReports,
        Command::Refresh,
        Command::Lock,
        Command::Privacy,
        Command::Help,
        Command::Palette,
        Command::Quit,
    ];

    /// The name used in the config file's `[keys]` table and the palette.
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Back => "back",
            Command::Up => "up",
            Command::Down => "down",
            Command::PageUp => "page_up",
            Command::PageDown => "page_down",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::Open => "open",
            Command::Search => "search",
            Command::Help => "help",
            Command::Palette => "palette",
            Command::GoPatients => "patients",
            Command::GoReports => "reports",
            Command::GoStats => "stats",
            Command::Lock => "lock",
            Command::Privacy => "privacy",
            Command::NextReport => "next_report",
            Command::PreviousReport => "previous_report",
            Command::Sign => "sign",
            Command::Edit => "edit",
            Command::Addendum => "addendum",
            Command::StartConsultation => "start_consultation",
            Command::StopConsultation => "stop_consultation",
            Command::CancelConsultation => "cancel_consultation",
            Command::CycleSort => "sort",
            Command::CycleStatus => "status_filter",
            Command::CycleSessionType => "type_filter",
            Command::CycleDateRange => "date_filter",
            Command::ClearFilters => "clear_filters",
            Command::PatientReports => "patient_reports",
            Command::Refresh => "refresh",
            Command::OpenConsultation => "resume_consultation",
        }
    }

    /// What the command does, for help and the palette.
    pub fn description(self) -> &'static str {
        match self {
            Command::Quit => "Quit Synapse",
            Command::Back => "Go back",
            Command::Up => "Move up",
            Command::Down => "Move down",
            Command::PageUp => "Page up",
            Command::PageDown => "Page down",
            Command::Top => "Go to the first row",
            Command::Bottom => "Go to the last row",
            Command::Open => "Open the selected row",
            Command::Search => "Search patients",
            Command::Help => "Show keys",
            Command::Palette => "Command palette",
            Command::GoPatients => "Patients",
            Command::GoReports => "Reports",
            Command::GoStats => "Statistics",
            Command::Lock => "Lock the screen now",
            Command::Privacy => "Mask names and contacts",
            Command::NextReport => "Next report in the list",
            Command::PreviousReport => "Previous report in the list",
            Command::Sign => "Sign the report",
            Command::Edit => "Edit the report's assessment",
            Command::Addendum => "Add an addendum",
            Command::StartConsultation => "Start a consultation",
            Command::StopConsultation => "Stop the consultation and generate its report",
            Command::CancelConsultation => "Cancel the consultation",
            Command::CycleSort => "Change the sort order",
            Command::CycleStatus => "Filter by status",
            Command::CycleSessionType => "Filter by session type",
            Command::CycleDateRange => "Filter by date range",
            Command::ClearFilters => "Clear the filters",
            Command::PatientReports => "This patient's reports in the browser",
            Command::Refresh => "Reload",
            Command::OpenConsultation => "Resume the running consultation",
        }
    }

    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Where a binding works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Patients,
    Chart,
    Reports,
    Report,
    Consultation,
    Stats,
}

/// A key with its modifiers, as written in the config (`ctrl-l`, `G`, `pgdn`, `f1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn plain(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
        }
    }

    pub const fn code(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }

    pub fn from_event(event: &KeyEvent) -> Key {
        // Terminals report Shift+g as 'G' with SHIFT; the letter already says it, so SHIFT is
        // not part of the key.
        Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// Parses `ctrl-l`, `G`, `enter`, `esc`, `pgdn`, `f1`, `?`.
    pub fn parse(text: &str) -> Option<Key> {
        let (ctrl, rest) = if text.to_ascii_lowercase().starts_with("ctrl-") {
            (true, &text[5..])
        } else {
            (false, text)
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            f if f.starts_with('f') && f.len() > 1 => KeyCode::F(f[1..].parse().ok()?),
            _ => {
                let mut chars = rest.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
        };
        Some(Key { code, ctrl })
    }

    /// How help shows the key.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub key: Key,
    pub command: Command,
    pub scope: Scope,
}

/// The bindings, defaults first, then the user's overrides.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        use Command::*;
        use Scope::*;
        let b = |key, command, scope| Binding {
            key,
            command,
            scope,
        };
        Keymap {
            bindings: vec![
                b(Key::ctrl('c'), Quit, Global),
                b(Key::plain('q'), Back, Global),
                b(Key::code(KeyCode::Esc), Back, Global),
                b(Key::code(KeyCode::Up), Up, Global),
                b(Key::plain('k'), Up, Global),
                b(Key::code(KeyCode::Down), Down, Global),
                b(Key::plain('j'), Down, Global),
                b(Key::code(KeyCode::PageUp), PageUp, Global),
                b(Key::code(KeyCode::PageDown), PageDown, Global),
                b(Key::plain('g'), Top, Global),
                b(Key::code(KeyCode::Home), Top, Global),
                b(Key::plain('G'), Bottom, Global),
                b(Key::code(KeyCode::End), Bottom, Global),
                b(Key::code(KeyCode::Enter), Open, Global),
                b(Key::plain('/'), Search, Global),
                b(Key::plain('?'), Help, Global),
                b(Key::code(KeyCode::F(1)), Help, Global),
                b(Key::plain(':'), Palette, Global),
                b(Key::plain('1'), GoPatients, Global),
                b(Key::plain('2'), GoReports, Global),
                b(Key::plain('3'), GoStats, Global),
                b(Key::ctrl('l'), Lock, Global),
                b(Key::ctrl('p'), Privacy, Global),
                b(Key::plain('r'), Refresh, Global),
                b(Key::plain('s'), CycleSort, Patients),
                b(Key::plain('c'), StartConsultation, Chart),
                b(Key::plain('o'), OpenConsultation, Chart),
                b(Key::plain('f'), CycleStatus, Reports),
                b(Key::plain('t'), CycleSessionType, Reports),
                b(Key::plain('d'), CycleDateRange, Reports),
                b(Key::plain('x'), ClearFilters, Reports),
                b(Key::plain('R'), PatientReports, Chart),
                b(Key::plain('n'), NextReport, Report),
                b(Key::plain('p'), PreviousReport, Report),
                b(Key::plain('e'), Edit, Report),
                b(Key::plain('S'), Sign, Report),
                b(Key::plain('a'), Addendum, Report),
                b(Key::ctrl('s'), StopConsultation, Consultation),
                b(Key::ctrl('x'), CancelConsultation, Consultation),
            ],
        }
    }
}

impl Keymap {
    /// The default keymap with the config file's overrides: `command = "key"` or
    /// `command = ["key", "key"]`. Unknown commands or keys are reported, not ignored.
    pub fn with_overrides(overrides: &HashMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        for (name, keys) in overrides {
            let command = Command::from_name(name)
                .ok_or_else(|| format!("[keys] has an unknown command {name:?}"))?;
            let scope = keymap
                .bindings
                .iter()
                .find(|b| b.command == command)
                .map(|b| b.scope)
                .unwrap_or(Scope::Global);
            keymap.bindings.retain(|b| b.command != command);
            for key in keys {
                let key = Key::parse(key)
                    .ok_or_else(|| format!("[keys] {name} has a key it cannot read: {key:?}"))?;
                keymap.bindings.push(Binding {
                    key,
                    command,
                    scope,
                });
            }
        }
        Ok(keymap)
    }

    /// The command of a key on a screen: the screen's own bindings win over global ones.
    pub fn command(&self, event: &KeyEvent, scope: Scope) -> Option<Command> {
        let key = Key::from_event(event);
        let find = |s: Scope| {
            self.bindings
                .iter()
                .find(|b| b.key == key && b.scope == s)
                .map(|b| b.command)
        };
        find(scope).or_else(|| find(Scope::Global))
    }

    /// The keys bound to a command, for hints.
    pub fn keys_for(&self, command: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|b| b.command == command)
            .map(|b| b.key)
            .collect()
    }

    /// `key label, description` pairs for help, filtered by `filter` (case-insensitive).
    pub fn help_lines(&self, filter: &str) -> Vec<(String, &'static str)> {
        let filter = filter.to_lowercase();
        Command::ALL
            .into_iter()
            .filter_map(|command| {
                let keys = self.keys_for(command);
                if keys.is_empty() {
                    return None;
                }
                let label = keys.iter().map(Key::label).collect::<Vec<_>>().join(" ");
                let line = (label, command.description());
                let matches = filter.is_empty()
                    || line.1.to_lowercase().contains(&filter)
                    || line.0.to_lowercase().contains(&filter)
                    || command.name().contains(&filter);
                matches.then_some(line)
            })
            .collect()
    }
}

/// Fuzzy match for the palette: every character of `pattern` appears in order in `text`.
/// Returns a score (lower is better) or `None`.
pub fn fuzzy_score(pattern: &str, text: &str) -> Option<usize> {
    let text = text.to_lowercase();
    let mut position = 0;
    let mut gaps = 0;
    for c in pattern
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
    {
        let found = text[position..].find(c)?;
        gaps += found;
        position += found + c.len_utf8();
    }
    Some(gaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_screen_bindings_win() {
        assert_eq!(Key::parse("ctrl-l"), Some(Key::ctrl('l')));
        assert_eq!(Key::parse("G"), Some(Key::plain('G')));
        assert_eq!(Key::parse("f1"), Some(Key::code(KeyCode::F(1))));
        assert_eq!(Key::parse("nonsense"), None);
        let keymap = Keymap::default();
        let p = KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE);
        assert_eq!(
            keymap.command(&p, Scope::Report),
            Some(Command::PreviousReport)
        );
        assert_eq!(keymap.command(&p, Scope::Patients), None);
    }

    #[test]
    fn overrides_replace_a_commands_keys() {
        let mut overrides = HashMap::new();
        overrides.insert("lock".to_string(), vec!["ctrl-k".to_string()]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(keymap.keys_for(Command::Lock), vec![Key::ctrl('k')]);
        overrides.insert("teleport".to_string(), vec!["t".to_string()]);
        assert!(Keymap::with_overrides(&overrides).is_err());
    }

    #[test]
    fn fuzzy_matches_in_order() {
        assert!(fuzzy_score("srch", "Search patients").is_some());
        assert!(fuzzy_score("xyz", "Search patients").is_none());
        assert!(fuzzy_score("rep", "Reports") < fuzzy_score("rep", "Previous report in the list"));
    }
}
