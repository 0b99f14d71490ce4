//! The keymap as data: every binding has a command, the screens it works on and a description.
//! Help, the key-hint bar and the command palette are generated from it, and the config file's
//! `[keys]` table can rebind any command.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key can ask for, declared in the order help and the palette list them. The name is
/// the one the config file's `[keys]` table and the palette use; the message is what help says;
/// `hint` is the word the key-hint bar shows when it is not the name. Commands with the
/// `dialog` property are the editors' and dialogs' keys: they are not screen commands, so help
/// and the palette leave them out and each dialog shows its own hints.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumIter,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumMessage,
    strum::EnumProperty,
)]
#[strum(serialize_all = "snake_case")]
pub enum Command {
    #[strum(message = "Open the selected row")]
    Open,
    #[strum(message = "Go back")]
    Back,
    #[strum(message = "Move up")]
    Up,
    #[strum(message = "Move down")]
    Down,
    #[strum(message = "Page up", props(hint = "page up"))]
    PageUp,
    #[strum(message = "Page down", props(hint = "page down"))]
    PageDown,
    #[strum(message = "Go to the first row")]
    Top,
    #[strum(message = "Go to the last row")]
    Bottom,
    #[strum(message = "Search patients")]
    Search,
    #[strum(serialize = "patients", message = "Patients")]
    GoPatients,
    #[strum(serialize = "reports", message = "Reports")]
    GoReports,
    #[strum(serialize = "stats", message = "Statistics")]
    GoStats,
    #[strum(message = "Drafts awaiting signature", props(hint = "to sign"))]
    Drafts,
    #[strum(
        serialize = "running",
        message = "Running consultations",
        props(hint = "running")
    )]
    RunningConsultations,
    #[strum(
        serialize = "recent",
        message = "Patients opened recently",
        props(hint = "recent")
    )]
    RecentPatients,
    #[strum(
        serialize = "sessions",
        message = "Your sessions on every workstation",
        props(hint = "sessions")
    )]
    OwnSessions,
    #[strum(
        serialize = "end_session",
        message = "End the selected session",
        props(hint = "end it")
    )]
    EndOwnSession,
    #[strum(
        serialize = "second_factor",
        message = "Set up a second factor",
        props(hint = "2nd factor")
    )]
    SetUpMfa,
    #[strum(message = "Move to the next pane", props(hint = "pane"))]
    NextPane,
    #[strum(message = "Start a consultation", props(hint = "consult"))]
    StartConsultation,
    #[strum(
        serialize = "resume_consultation",
        message = "Resume the running consultation",
        props(hint = "resume")
    )]
    OpenConsultation,
    #[strum(
        message = "Stop the consultation and generate its report",
        props(hint = "stop")
    )]
    StopConsultation,
    #[strum(message = "Cancel the consultation", props(hint = "cancel"))]
    CancelConsultation,
    #[strum(message = "Next report in the list", props(hint = "next"))]
    NextReport,
    #[strum(message = "Previous report in the list", props(hint = "prev"))]
    PreviousReport,
    #[strum(message = "Edit the report, every section")]
    Edit,
    #[strum(message = "Sign the report")]
    Sign,
    #[strum(message = "Add an addendum")]
    Addendum,
    #[strum(
        serialize = "export_pdf",
        message = "Export to a PDF in the export folder",
        props(hint = "pdf")
    )]
    Export,
    #[strum(serialize = "sort", message = "Change the sort order")]
    CycleSort,
    #[strum(
        serialize = "status_filter",
        message = "Filter by status",
        props(hint = "status")
    )]
    CycleStatus,
    #[strum(serialize = "type_filter", message = "Filter by session type")]
    CycleSessionType,
    #[strum(serialize = "date_filter", message = "Filter by date range")]
    CycleDateRange,
    #[strum(message = "Clear the filters")]
    ClearFilters,
    #[strum(
        serialize = "stats_window",
        message = "Change the days the daily series covers",
        props(hint = "days")
    )]
    CycleStatsWindow,
    #[strum(serialize = "users", message = "User accounts")]
    GoUsers,
    #[strum(serialize = "audit", message = "Audit trail")]
    GoAudit,
    #[strum(serialize = "filter", message = "Filter the rows")]
    FilterRows,
    #[strum(message = "Create an account", props(hint = "new"))]
    NewUser,
    #[strum(message = "Unlock the account", props(hint = "unlock"))]
    UnlockUser,
    #[strum(message = "Disable the account", props(hint = "disable"))]
    DisableUser,
    #[strum(message = "Enable the account", props(hint = "enable"))]
    EnableUser,
    #[strum(message = "Reset the account's password", props(hint = "password"))]
    ResetPassword,
    #[strum(message = "End the account's sessions", props(hint = "end sessions"))]
    EndSessions,
    #[strum(message = "Next page", props(hint = "next page"))]
    NextPage,
    #[strum(message = "Previous page", props(hint = "prev page"))]
    PreviousPage,
    #[strum(serialize = "export", message = "Export the filtered rows to a file")]
    ExportRows,
    #[strum(message = "This patient's reports in the browser")]
    PatientReports,
    #[strum(
        serialize = "register",
        message = "Register a patient",
        props(hint = "new")
    )]
    RegisterPatient,
    #[strum(
        serialize = "edit_patient",
        message = "Change the patient's details",
        props(hint = "edit")
    )]
    EditPatient,
    #[strum(message = "Reload", props(hint = "reload"))]
    Refresh,
    #[strum(
        serialize = "open_notice",
        message = "Open the report a notice names",
        props(hint = "open it")
    )]
    OpenNotice,
    #[strum(message = "Lock the screen now")]
    Lock,
    #[strum(message = "Mask names and contacts")]
    Privacy,
    #[strum(message = "Show keys")]
    Help,
    #[strum(message = "Command palette")]
    Palette,
    #[strum(message = "Quit Synapse")]
    Quit,
    #[strum(
        message = "Confirm the dialog",
        props(dialog = "yes", hint = "confirm")
    )]
    Submit,
    #[strum(
        message = "Close the dialog without acting",
        props(dialog = "yes", hint = "close")
    )]
    Dismiss,
    #[strum(message = "Save the edited section", props(dialog = "yes"))]
    Save,
    #[strum(
        message = "Edit the next section",
        props(dialog = "yes", hint = "next section")
    )]
    NextSection,
    #[strum(message = "Edit the previous section", props(dialog = "yes"))]
    PreviousSection,
    #[strum(
        message = "Add a row (a diagnosis, a medication)",
        props(dialog = "yes")
    )]
    AddRow,
    #[strum(message = "Remove the row", props(dialog = "yes"))]
    RemoveRow,
    #[strum(message = "Next choice", props(dialog = "yes", hint = "next"))]
    NextChoice,
    #[strum(message = "Previous choice", props(dialog = "yes", hint = "previous"))]
    PreviousChoice,
    #[strum(message = "Answer yes", props(dialog = "yes"))]
    Yes,
    #[strum(message = "Answer no", props(dialog = "yes"))]
    No,
}

impl Command {
    /// Every command, in the order help lists them.
    pub fn all() -> impl Iterator<Item = Command> {
        <Command as strum::IntoEnumIterator>::iter()
    }

    /// The commands a doctor runs on the screens (help and the palette list these).
    pub fn on_screens() -> impl Iterator<Item = Command> {
        Command::all().filter(|c| !c.in_dialogs())
    }

    /// Whether this is an editor's or a dialog's key rather than a screen command.
    pub fn in_dialogs(self) -> bool {
        strum::EnumProperty::get_str(&self, "dialog").is_some()
    }

    /// The name used in the config file's `[keys]` table and the palette.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// What the command does, for help and the palette.
    pub fn description(self) -> &'static str {
        strum::EnumMessage::get_message(&self).unwrap_or_else(|| self.name())
    }

    /// The word the key-hint bar shows after the key.
    pub fn hint(self) -> &'static str {
        strum::EnumProperty::get_str(&self, "hint").unwrap_or_else(|| self.name())
    }

    pub fn from_name(name: &str) -> Option<Command> {
        name.parse().ok()
    }
}

/// Where a binding works: on every screen, on one screen, or inside a dialog or editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Patients,
    Chart,
    Reports,
    Report,
    Consultation,
    Stats,
    /// The list of running consultations.
    Running,
    /// The patients opened recently.
    Recent,
    /// A past consultation's notes, read-only.
    PastNotes,
    /// The administrator's accounts.
    Users,
    /// The administrator's audit browser.
    Audit,
    /// The user's own sessions.
    Sessions,
    /// The one-line entry dialogs and the lock screen: a reason, an addendum, a password.
    Dialog,
    /// Starting a consultation: the session type is a choice, the complaint a field.
    StartDialog,
    /// Signing's first step: No or Yes.
    SignConfirm,
    /// Editing a draft's section: Enter is a new line, so saving has its own key.
    ReportEditor,
}

impl Scope {
    /// The scope asked when this one has no binding for a key: screens fall back to the
    /// global bindings; a dialog takes only its own keys, so text typed there stays text.
    pub fn fallback(self) -> Option<Scope> {
        match self {
            Scope::Patients
            | Scope::Chart
            | Scope::Reports
            | Scope::Report
            | Scope::Consultation
            | Scope::Stats
            | Scope::Running
            | Scope::Recent
            | Scope::PastNotes
            | Scope::Users
            | Scope::Audit
            | Scope::Sessions => Some(Scope::Global),
            Scope::Global
            | Scope::Dialog
            | Scope::StartDialog
            | Scope::SignConfirm
            | Scope::ReportEditor => None,
        }
    }

    /// Whether this scope is a screen's (or every screen's), as help lists them.
    pub fn is_screen(self) -> bool {
        self == Scope::Global || self.fallback() == Some(Scope::Global)
    }
}

/// A key with its modifiers, as written in the config (`ctrl-l`, `alt-s`, `G`, `pgdn`, `f1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    /// Alt (Meta): Alt+S is its own key, never the bare S.
    pub alt: bool,
}

impl Key {
    pub const fn plain(c: char) -> Key {
        Key::code(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
            alt: false,
        }
    }

    pub const fn alt(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
            alt: true,
        }
    }

    pub const fn code(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
        }
    }

    pub fn from_event(event: &KeyEvent) -> Key {
        // Terminals report Shift+g as 'G' with SHIFT; the letter already says it, so SHIFT is
        // not part of the key.
        Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses `ctrl-l`, `alt-s`, `ctrl-alt-x`, `G`, `enter`, `esc`, `pgdn`, `f1`, `?`.
    pub fn parse(text: &str) -> Option<Key> {
        let mut rest = text;
        let (mut ctrl, mut alt) = (false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
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
        Some(Key { code, ctrl, alt })
    }

    /// How help shows the key.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
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
        // Ctrl letters read the same either case; Alt ones do not (Alt-s, Alt-S).
        let base = if self.ctrl {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        };
        if self.alt {
            format!("Alt-{base}")
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
                b(Key::ctrl('o'), OpenNotice, Global),
                b(Key::plain('u'), Drafts, Global),
                b(Key::plain('C'), RunningConsultations, Global),
                b(Key::plain('H'), RecentPatients, Global),
                b(Key::plain('A'), OwnSessions, Global),
                b(Key::plain('M'), SetUpMfa, Global),
                b(Key::plain('x'), EndOwnSession, Sessions),
                b(Key::code(KeyCode::Tab), NextPane, Chart),
                b(Key::plain('s'), CycleSort, Patients),
                b(Key::plain('n'), RegisterPatient, Patients),
                b(Key::plain('e'), EditPatient, Patients),
                b(Key::plain('e'), EditPatient, Chart),
                b(Key::plain('c'), StartConsultation, Chart),
                b(Key::plain('o'), OpenConsultation, Chart),
                b(Key::plain('f'), CycleStatus, Reports),
                b(Key::plain('t'), CycleSessionType, Reports),
                b(Key::plain('d'), CycleDateRange, Reports),
                b(Key::plain('x'), ClearFilters, Reports),
                b(Key::plain('d'), CycleStatsWindow, Stats),
                b(Key::plain('R'), PatientReports, Chart),
                b(Key::plain('n'), NextReport, Report),
                b(Key::plain('p'), PreviousReport, Report),
                b(Key::plain('e'), Edit, Report),
                b(Key::plain('S'), Sign, Report),
                b(Key::plain('a'), Addendum, Report),
                b(Key::plain('x'), Export, Report),
                b(Key::plain('x'), Export, Chart),
                b(Key::ctrl('s'), StopConsultation, Consultation),
                b(Key::plain('4'), GoUsers, Users),
                b(Key::plain('4'), GoUsers, Audit),
                b(Key::plain('5'), GoAudit, Users),
                b(Key::plain('5'), GoAudit, Audit),
                b(Key::plain('f'), FilterRows, Users),
                b(Key::plain('n'), NewUser, Users),
                b(Key::plain('u'), UnlockUser, Users),
                b(Key::plain('d'), DisableUser, Users),
                b(Key::plain('e'), EnableUser, Users),
                b(Key::plain('p'), ResetPassword, Users),
                b(Key::plain('x'), EndSessions, Users),
                b(Key::plain('f'), FilterRows, Audit),
                b(Key::plain('x'), ClearFilters, Audit),
                b(Key::plain('n'), NextPage, Audit),
                b(Key::plain('p'), PreviousPage, Audit),
                b(Key::plain('w'), ExportRows, Audit),
                b(Key::ctrl('x'), CancelConsultation, Consultation),
                // The dialogs' and editors' keys; a dialog takes only these.
                b(Key::code(KeyCode::Enter), Submit, Dialog),
                b(Key::code(KeyCode::Esc), Dismiss, Dialog),
                b(Key::code(KeyCode::Enter), Submit, StartDialog),
                b(Key::code(KeyCode::Esc), Dismiss, StartDialog),
                b(Key::code(KeyCode::Tab), NextChoice, StartDialog),
                b(Key::code(KeyCode::BackTab), PreviousChoice, StartDialog),
                b(Key::code(KeyCode::Enter), Submit, SignConfirm),
                b(Key::code(KeyCode::Esc), Dismiss, SignConfirm),
                b(Key::code(KeyCode::Right), NextChoice, SignConfirm),
                b(Key::code(KeyCode::Tab), NextChoice, SignConfirm),
                b(Key::code(KeyCode::Left), PreviousChoice, SignConfirm),
                b(Key::code(KeyCode::BackTab), PreviousChoice, SignConfirm),
                b(Key::plain('y'), Yes, SignConfirm),
                b(Key::plain('Y'), Yes, SignConfirm),
                b(Key::plain('n'), No, SignConfirm),
                b(Key::plain('N'), No, SignConfirm),
                b(Key::ctrl('s'), Save, ReportEditor),
                b(Key::code(KeyCode::Tab), NextSection, ReportEditor),
                b(Key::code(KeyCode::BackTab), PreviousSection, ReportEditor),
                b(Key::ctrl('n'), AddRow, ReportEditor),
                b(Key::ctrl('d'), RemoveRow, ReportEditor),
                b(Key::code(KeyCode::Esc), Dismiss, ReportEditor),
            ],
        }
    }
}

impl Keymap {
    /// The default keymap with the config file's overrides: `command = "key"` or
    /// `command = ["key", "key"]`. The keys replace the command's default keys wherever those
    /// worked (Esc closes every dialog; its override does too). Unknown commands or keys are
    /// reported, not ignored.
    pub fn with_overrides(overrides: &HashMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        for (name, keys) in overrides {
            let command = Command::from_name(name)
                .ok_or_else(|| format!("[keys] has an unknown command {name:?}"))?;
            let mut scopes: Vec<Scope> = Vec::new();
            for binding in keymap.bindings.iter().filter(|b| b.command == command) {
                if !scopes.contains(&binding.scope) {
                    scopes.push(binding.scope);
                }
            }
            if scopes.is_empty() {
                scopes.push(Scope::Global);
            }
            keymap.bindings.retain(|b| b.command != command);
            for key in keys {
                let key = Key::parse(key)
                    .ok_or_else(|| format!("[keys] {name} has a key it cannot read: {key:?}"))?;
                for scope in &scopes {
                    keymap.bindings.push(Binding {
                        key,
                        command,
                        scope: *scope,
                    });
                }
            }
        }
        Ok(keymap)
    }

    /// The command of a key in a scope: the scope's own bindings win over its fallback's.
    pub fn command(&self, event: &KeyEvent, scope: Scope) -> Option<Command> {
        self.own_command(event, scope).or_else(|| {
            scope
                .fallback()
                .and_then(|fallback| self.own_command(event, fallback))
        })
    }

    /// The command a scope binds the key to itself, without its fallback: an editor asks this
    /// first, so its command keys win over typing while every other key is text.
    pub fn own_command(&self, event: &KeyEvent, scope: Scope) -> Option<Command> {
        let key = Key::from_event(event);
        self.bindings
            .iter()
            .find(|b| b.key == key && b.scope == scope)
            .map(|b| b.command)
    }

    /// The keys bound to a command on the screens, for hints and help.
    pub fn keys_for(&self, command: Command) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|b| b.command == command && b.scope.is_screen())
            .map(|b| b.key)
            .collect()
    }

    /// The keys that run `command` in `scope`: its own bindings, and the fallback's where the
    /// scope does not bind the same key to something else.
    pub fn keys_reaching(&self, command: Command, scope: Scope) -> Vec<Key> {
        let mut keys = self.keys_in(command, scope);
        if let Some(fallback) = scope.fallback() {
            for key in self.keys_in(command, fallback) {
                let shadowed = self
                    .bindings
                    .iter()
                    .any(|b| b.key == key && b.scope == scope && b.command != command);
                if !shadowed && !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    /// The keys bound to a command in one scope.
    pub fn keys_in(&self, command: Command, scope: Scope) -> Vec<Key> {
        self.bindings
            .iter()
            .filter(|b| b.command == command && b.scope == scope)
            .map(|b| b.key)
            .collect()
    }

    /// The first key of a command in a scope, as a dialog's hint line shows it.
    pub fn hint_key(&self, command: Command, scope: Scope) -> String {
        self.keys_in(command, scope)
            .first()
            .map(Key::label)
            .unwrap_or_else(|| format!("({} unbound)", command.name()))
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
    fn alt_with_a_key_is_not_the_bare_key() {
        let keymap = Keymap::default();
        let alt_sign = KeyEvent::new(KeyCode::Char('S'), KeyModifiers::ALT | KeyModifiers::SHIFT);
        assert_eq!(keymap.command(&alt_sign, Scope::Report), None);
        let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
        assert_eq!(keymap.command(&alt_q, Scope::Patients), None);
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
    fn alt_keys_parse_label_and_bind() {
        assert_eq!(Key::parse("alt-s"), Some(Key::alt('s')));
        assert_eq!(Key::parse("alt-S"), Some(Key::alt('S')));
        assert_eq!(Key::alt('s').label(), "Alt-s");
        assert_eq!(
            Key::parse("ctrl-alt-x").map(|k| k.label()),
            Some("Alt-Ctrl-X".into())
        );
        let mut overrides = HashMap::new();
        overrides.insert("sign".to_string(), vec!["alt-s".to_string()]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        let alt_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::ALT);
        assert_eq!(keymap.command(&alt_s, Scope::Report), Some(Command::Sign));
        let bare_s = KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT);
        assert_eq!(keymap.command(&bare_s, Scope::Report), None);
    }

    #[test]
    fn command_names_are_the_config_files_and_read_back() {
        let names: Vec<&str> = Command::all().map(Command::name).collect();
        for name in [
            "quit",
            "back",
            "page_up",
            "patients",
            "reports",
            "stats",
            "sort",
            "status_filter",
            "type_filter",
            "date_filter",
            "resume_consultation",
            "stop_consultation",
            "dismiss",
            "save",
        ] {
            assert!(names.contains(&name), "{name} is missing");
        }
        for command in Command::all() {
            assert_eq!(Command::from_name(command.name()), Some(command));
            assert_ne!(command.description(), command.name(), "{command:?}");
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn dialog_keys_are_in_the_keymap_but_not_in_help() {
        let keymap = Keymap::default();
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(keymap.command(&esc, Scope::Dialog), Some(Command::Dismiss));
        // A dialog takes only its own keys: q is text there, not Back.
        assert_eq!(keymap.command(&q, Scope::Dialog), None);
        assert_eq!(
            keymap.command(&ctrl_s, Scope::ReportEditor),
            Some(Command::Save)
        );
        assert_eq!(
            keymap.command(&ctrl_s, Scope::Consultation),
            Some(Command::StopConsultation)
        );
        assert!(Command::on_screens().all(|c| c != Command::Dismiss));

        // Overriding a dialog key moves it in every dialog that had it.
        let mut overrides = HashMap::new();
        overrides.insert("dismiss".to_string(), vec!["ctrl-g".to_string()]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        let ctrl_g = KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL);
        for scope in [
            Scope::Dialog,
            Scope::StartDialog,
            Scope::SignConfirm,
            Scope::ReportEditor,
        ] {
            assert_eq!(keymap.command(&ctrl_g, scope), Some(Command::Dismiss));
            assert_eq!(keymap.command(&esc, scope), None);
            assert_eq!(keymap.hint_key(Command::Dismiss, scope), "Ctrl-G");
        }
    }

    #[test]
    fn a_screens_own_binding_shadows_the_global_one() {
        let mut overrides = HashMap::new();
        // `r` reloads everywhere; bound to sign on the report, it signs there and only there.
        overrides.insert("sign".to_string(), vec!["r".to_string()]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        assert!(
            !keymap
                .keys_reaching(Command::Refresh, Scope::Report)
                .contains(&Key::plain('r'))
        );
        assert_eq!(
            keymap.keys_reaching(Command::Refresh, Scope::Chart),
            vec![Key::plain('r')]
        );
        assert_eq!(
            keymap.keys_reaching(Command::Sign, Scope::Report),
            vec![Key::plain('r')]
        );
    }

    #[test]
    fn fuzzy_matches_in_order() {
        assert!(fuzzy_score("srch", "Search patients").is_some());
        assert!(fuzzy_score("xyz", "Search patients").is_none());
        assert!(fuzzy_score("rep", "Reports") < fuzzy_score("rep", "Previous report in the list"));
    }
}
