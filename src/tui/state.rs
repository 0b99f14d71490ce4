//! The workstation's state: plain data, changed only by `update`. One patient at most is in
//! context (`chart`); every screen's data lives here so rendering is a pure function of it.

use uuid::Uuid;

use super::input::{Field, Notes};
use super::keymap::Keymap;
use super::theme::Theme;
use crate::model::auth::User;
use crate::model::consultation::{Consultation, SessionType};
use crate::model::patient::{Patient, PatientSort, PatientSummary};
use crate::model::report::{Report, ReportStats, ReportStatus, ReportSummary};

/// The screens a doctor moves between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    Patients,
    Chart,
    Reports,
    Report,
    Consultation,
    Stats,
}

/// Something loading, loaded, or failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(value) => Some(value),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginFocus {
    #[default]
    Email,
    Password,
}

#[derive(Debug, Clone, Default)]
pub struct LoginState {
    pub email: Field,
    pub password: Field,
    pub focus: LoginFocus,
    pub busy: bool,
    pub error: Option<String>,
}

/// The doctor's patient list, paged from the server with cursors ahead of the viewport.
#[derive(Debug, Clone, Default)]
pub struct PatientList {
    pub items: Vec<PatientSummary>,
    pub total: u64,
    pub next_cursor: Option<String>,
    pub loading: bool,
    pub error: Option<String>,
    pub selected: usize,
    /// The first row drawn: only the visible window is rendered, however many rows are loaded.
    pub offset: usize,
    pub sort: PatientSort,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
    pub loaded_once: bool,
}

/// Patient search: results update as the doctor types; only the latest answer is drawn.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    pub input: Field,
    /// Counts edits, so a debounce timer knows whether the doctor typed again.
    pub edits: u64,
    pub request: u64,
    pub loading: bool,
    pub results: Vec<PatientSummary>,
    pub searched: Option<String>,
    pub error: Option<String>,
    pub selected: usize,
}

/// The patient in context.
#[derive(Debug, Clone, Default)]
pub struct ChartState {
    pub patient_id: Option<Uuid>,
    pub patient: Load<Patient>,
    pub history: Load<Vec<Consultation>>,
    pub reports: Load<Vec<ReportSummary>>,
    pub selected_report: usize,
}

/// The report browser: filters and the list with a preview.
#[derive(Debug, Clone, Default)]
pub struct ReportBrowser {
    pub status: Option<ReportStatus>,
    pub session_type: Option<SessionType>,
    /// Only reports of the last this many days.
    pub within_days: Option<u32>,
    /// Only this patient's reports: id and name, for the chip.
    pub patient: Option<(Uuid, String)>,
    pub items: Load<Vec<ReportSummary>>,
    pub total: u64,
    pub selected: usize,
    pub preview: Option<Report>,
    pub request: u64,
    pub preview_request: u64,
}

/// The report being read, and the list it was opened from (for `n`/`p`).
#[derive(Debug, Clone, Default)]
pub struct ReportView {
    pub report: Load<Report>,
    pub scroll: u16,
    /// Ids of the list the report was opened from, and its position there.
    pub siblings: Vec<Uuid>,
    pub position: usize,
}

/// The running (or just stopped) consultation.
#[derive(Debug, Clone, Default)]
pub struct ConsultationState {
    pub consultation: Option<Consultation>,
    pub notes: Notes,
    /// Counts edits; the save timer carries the count it was set for.
    pub edits: u64,
    pub saved_edits: u64,
    pub saving: bool,
    pub save_error: Option<String>,
    /// The report being generated after stop.
    pub report_status: Option<ReportStatus>,
    pub started_ms: u64,
}

#[derive(Debug, Clone, Default)]
pub struct StatsState {
    pub stats: Load<ReportStats>,
}

/// Modal dialogs. A dialog takes every key until it closes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    StartConsultation {
        session_type: SessionType,
        complaint: Field,
    },
    /// Signing: first a confirmation that defaults to No, then the password.
    Sign {
        report_id: Uuid,
        confirmed: bool,
        yes: bool,
        password: Field,
        error: Option<String>,
        busy: bool,
    },
    CancelConsultation {
        reason: Field,
    },
    Addendum {
        report_id: Uuid,
        text: Field,
    },
    /// Editing one text section of a draft; Tab moves to the next section.
    EditReport {
        report_id: Uuid,
        version: u32,
        section: Section,
        editor: Notes,
    },
    /// The session ended: the password continues where the doctor was.
    SessionExpired {
        password: Field,
        error: Option<String>,
        busy: bool,
    },
}

/// The text sections of a report a doctor can edit in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    History,
    MentalStatus,
    Assessment,
    FollowUp,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::History,
        Section::MentalStatus,
        Section::Assessment,
        Section::FollowUp,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::History => "History",
            Section::MentalStatus => "Mental status",
            Section::Assessment => "Assessment",
            Section::FollowUp => "Follow-up",
        }
    }

    pub fn next(self) -> Section {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Section::ALL[(i + 1) % Section::ALL.len()]
    }

    /// The section's text in a report's content.
    pub fn get(self, content: &crate::model::report::ReportContent) -> Option<&String> {
        match self {
            Section::History => content.history.as_ref(),
            Section::MentalStatus => content.mental_status.as_ref(),
            Section::Assessment => content.assessment.as_ref(),
            Section::FollowUp => content.follow_up.as_ref(),
        }
    }

    pub fn set(self, content: &mut crate::model::report::ReportContent, text: Option<String>) {
        match self {
            Section::History => content.history = text,
            Section::MentalStatus => content.mental_status = text,
            Section::Assessment => content.assessment = text,
            Section::FollowUp => content.follow_up = text,
        }
    }
}

/// Overlays drawn above the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Search,
    Help { filter: Field },
    Palette { input: Field, selected: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub kind: ToastKind,
    pub until_ms: u64,
}

/// The inactivity lock: everything patient-related is hidden until the password is entered.
#[derive(Debug, Clone, Default)]
pub struct LockState {
    pub locked: bool,
    pub password: Field,
    pub error: Option<String>,
    pub busy: bool,
}

/// Facts about the session shown in the status bar.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    pub user: Option<User>,
    pub server: String,
    pub token_store: String,
    pub remembered: bool,
    pub expires_at: Option<i64>,
    /// Demo accounts to show on the login screen (embedded demo server only).
    pub demo_accounts: Vec<String>,
}

/// Settings that shape behaviour, from the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub lock_after_ms: u64,
    pub search_debounce_ms: u64,
    pub notes_debounce_ms: u64,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Whether the mouse is captured (scroll moves the selection, a click selects a row).
    pub mouse: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            lock_after_ms: 10 * 60 * 1000,
            search_debounce_ms: 120,
            notes_debounce_ms: 800,
            keymap: Keymap::default(),
            theme: Theme::default(),
            mouse: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub screen: Screen,
    /// Where Esc goes back to.
    pub history: Vec<Screen>,
    pub overlay: Option<Overlay>,
    pub dialog: Option<Dialog>,
    pub login: LoginState,
    pub patients: PatientList,
    pub search: SearchState,
    pub chart: ChartState,
    pub reports: ReportBrowser,
    pub report: ReportView,
    pub consultation: ConsultationState,
    pub stats: StatsState,
    pub lock: LockState,
    pub session: SessionInfo,
    pub settings: Settings,
    pub privacy: bool,
    pub offline: Option<String>,
    pub unsigned: Option<u64>,
    pub latency_ms: Option<u64>,
    pub toast: Option<Toast>,
    pub now_ms: u64,
    /// The wall clock at the last frame, for "today" and elapsed times (set by the event loop,
    /// fixed in tests so renders are repeatable).
    pub wall_now: chrono::DateTime<chrono::Utc>,
    pub last_activity_ms: u64,
    pub width: u16,
    pub height: u16,
    /// Numbers API requests so answers can be matched and stale ones dropped.
    pub next_request: u64,
    /// Whether something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
}

impl State {
    pub fn new(session: SessionInfo, settings: Settings) -> State {
        State {
            screen: Screen::Login,
            history: Vec::new(),
            overlay: None,
            dialog: None,
            login: LoginState::default(),
            patients: PatientList::default(),
            search: SearchState::default(),
            chart: ChartState::default(),
            reports: ReportBrowser::default(),
            report: ReportView::default(),
            consultation: ConsultationState::default(),
            stats: StatsState::default(),
            lock: LockState::default(),
            session,
            settings,
            privacy: false,
            offline: None,
            unsigned: None,
            latency_ms: None,
            toast: None,
            now_ms: 0,
            wall_now: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            last_activity_ms: 0,
            width: 80,
            height: 24,
            next_request: 1,
            dirty: true,
            quit: false,
        }
    }

    /// A fresh request number.
    pub fn request(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    pub fn toast(&mut self, text: impl Into<String>, kind: ToastKind) {
        self.toast = Some(Toast {
            text: text.into(),
            kind,
            until_ms: self.now_ms + 4000,
        });
    }

    /// Goes to a screen, remembering where the doctor was.
    pub fn go(&mut self, screen: Screen) {
        if self.screen != screen {
            if self.screen != Screen::Login {
                self.history.push(self.screen);
            }
            self.screen = screen;
        }
    }

    /// The patient in context, if loaded.
    pub fn patient(&self) -> Option<&Patient> {
        self.chart.patient.ready()
    }
}
