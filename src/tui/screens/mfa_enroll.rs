//! Setting up a second factor at the workstation: the server makes a secret, shown as a QR code
//! drawn in the terminal (it scans from a phone over SSH too) and as text grouped for typing by
//! hand; the app's first code turns it on; the ten recovery codes are shown once, and only a
//! deliberate Enter leaves them. Opened by itself after a login whose role needs a second factor
//! the account has not got (the session can do nothing else until then), or from the palette.
//! Its state, keys, answers and view.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::client::{ApiError, ErrorKind, qr};
use crate::model::auth::{MfaEnrollment, MfaRecoveryCodes};
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Screen, State, ToastKind};
use crate::tui::theme::ThemeKind;
use crate::tui::ui::centered;
use crate::tui::update::{call, handle_error};

/// How long the recovery codes stay before Enter leaves them: the Enter that sent the code, or
/// a key bouncing, must not skip codes that are never shown again.
pub const READ_CODES_MS: u64 = 1_000;

/// Columns the text beside the QR code takes (the grouped secret is the widest line).
const TEXT_WIDTH: u16 = 50;
/// Columns between the QR code and the text.
const GAP: u16 = 3;

/// Where the enrolment is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum EnrolStep {
    /// The server is making the secret.
    #[default]
    Starting,
    /// Enrolment could not start, or was undone on the server: why; Enter starts again.
    Failed(String),
    /// The secret to scan or type in, and the field for the app's first code.
    Scan { secret: String, uri: String },
    /// The second factor is on: the recovery codes, shown this once, and when they appeared.
    Codes {
        codes: Vec<String>,
        shown_at_ms: u64,
    },
    /// The account has a second factor already (set up elsewhere meanwhile): the server's
    /// words; Enter goes on.
    AlreadyOn(String),
}

#[derive(Debug, Clone, Default)]
pub struct MfaEnroll {
    pub step: EnrolStep,
    /// The role needs a second factor and the account has none: the session can do nothing
    /// else, so leaving means logging out, and Esc asks first.
    pub required: bool,
    /// The app's first code.
    pub code: Field,
    /// What is wrong with the code typed, under the field.
    pub error: Option<String>,
    /// The code is with the server.
    pub busy: bool,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
    /// Esc during a required enrolment: the question whether to log out is up.
    pub leave_asked: bool,
}

/// Opens the screen and asks the server for a secret. `required` when the session can do
/// nothing else: then the screen is the only one, with nothing behind it to go back to.
pub(crate) fn open(state: &mut State, required: bool) -> Vec<Effect> {
    state.overlay = None;
    state.mfa_enroll = MfaEnroll {
        required,
        ..MfaEnroll::default()
    };
    if required {
        // Nothing behind it answers until the second factor is on.
        state.dialog = None;
        state.history.clear();
        state.screen = Screen::MfaEnroll;
    } else {
        state.go(Screen::MfaEnroll);
    }
    start(state)
}

/// The answer of a login (or a resumed session) whose role needs a second factor the account
/// has not got: signed in, straight to enrolment.
pub(crate) fn on_signed_in(state: &mut State, user: crate::model::auth::User) -> Vec<Effect> {
    state.session.user = Some(user);
    state.session.second_factor = false;
    state.login = Default::default();
    state.recent = Default::default();
    state.last_activity_ms = state.now_ms;
    open(state, true)
}

/// Whether a required enrolment holds the session: calls other screens would make answer 403.
pub fn holds_session(state: &State) -> bool {
    state.screen == Screen::MfaEnroll && state.mfa_enroll.required
}

/// Whether the recovery codes are on screen, not yet acknowledged, or about to be (the code is
/// with the server): leaving now loses them, and they are not shown again.
pub fn codes_at_stake(state: &State) -> bool {
    let enrol = &state.mfa_enroll;
    state.screen == Screen::MfaEnroll
        && (matches!(enrol.step, EnrolStep::Codes { .. }) || enrol.busy)
}

fn start(state: &mut State) -> Vec<Effect> {
    let enrol = &mut state.mfa_enroll;
    enrol.step = EnrolStep::Starting;
    enrol.code = Field::default();
    enrol.error = None;
    enrol.busy = false;
    let effect = call(state, Call::EnrollMfa);
    if let Effect::Call { request, .. } = &effect {
        state.mfa_enroll.request = *request;
    }
    vec![effect]
}

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    if state.mfa_enroll.leave_asked {
        // The question's own keys: y logs out; any other key stays.
        state.mfa_enroll.leave_asked = false;
        return match key.code {
            KeyCode::Char('y' | 'Y') => log_out(state),
            _ => Vec::new(),
        };
    }
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => return dismiss(state),
        Some(Command::Submit) => return submit(state),
        _ => {}
    }
    let enrol = &mut state.mfa_enroll;
    if matches!(enrol.step, EnrolStep::Scan { .. }) && !enrol.busy && enrol.code.edit(key) {
        enrol.error = None;
    }
    Vec::new()
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    let enrol = &mut state.mfa_enroll;
    if matches!(enrol.step, EnrolStep::Scan { .. }) && !enrol.busy && !enrol.leave_asked {
        enrol.code.insert(text.trim());
        enrol.error = None;
    }
    Vec::new()
}

/// Esc: back where the user came from; during a required enrolment, the question whether to
/// log out. The recovery codes are left only with Enter.
fn dismiss(state: &mut State) -> Vec<Effect> {
    // The code is with the server: its answer may be the recovery codes, which must be seen.
    if state.mfa_enroll.busy {
        return Vec::new();
    }
    match state.mfa_enroll.step {
        EnrolStep::Codes { .. } => Vec::new(),
        EnrolStep::AlreadyOn(_) => finish(state, false),
        _ if state.mfa_enroll.required => {
            state.mfa_enroll.leave_asked = true;
            Vec::new()
        }
        _ => {
            // A secret not confirmed is not in force; the next enrolment replaces it.
            state.mfa_enroll = MfaEnroll::default();
            back(state);
            Vec::new()
        }
    }
}

fn submit(state: &mut State) -> Vec<Effect> {
    let enrol = &mut state.mfa_enroll;
    match &enrol.step {
        EnrolStep::Starting => Vec::new(),
        EnrolStep::Failed(_) => start(state),
        EnrolStep::Scan { .. } => confirm(state),
        EnrolStep::Codes { shown_at_ms, .. } => {
            if state.now_ms.saturating_sub(*shown_at_ms) < READ_CODES_MS {
                return Vec::new();
            }
            finish(state, true)
        }
        EnrolStep::AlreadyOn(_) => finish(state, false),
    }
}

/// Enter on the code: sent when it is six digits, else what to type is said.
fn confirm(state: &mut State) -> Vec<Effect> {
    let enrol = &mut state.mfa_enroll;
    if enrol.busy {
        return Vec::new();
    }
    let code: String = enrol
        .code
        .value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        enrol.error = Some("Type the 6 digits your authenticator app shows now.".into());
        return Vec::new();
    }
    enrol.busy = true;
    enrol.error = None;
    let effect = call(state, Call::ConfirmMfa { code });
    if let Effect::Call { request, .. } = &effect {
        state.mfa_enroll.request = *request;
    }
    vec![effect]
}

/// The second factor is on: a required enrolment goes on to the role's first screen, a
/// voluntary one back where the user was. The secret and the codes leave the state.
fn finish(state: &mut State, enrolled_here: bool) -> Vec<Effect> {
    let required = state.mfa_enroll.required;
    state.mfa_enroll = MfaEnroll::default();
    state.session.second_factor = true;
    let effects = if required {
        super::login::arrive(state)
    } else {
        back(state);
        Vec::new()
    };
    if enrolled_here {
        state.toast(
            "The second factor is on: logging in and signing now ask for the app's code.",
            ToastKind::Info,
        );
    }
    effects
}

/// Back to the screen before, or the role's first one.
fn back(state: &mut State) {
    match state.history.pop() {
        Some(previous) => state.screen = previous,
        None => {
            state.screen = crate::tui::roles::role(state)
                .map(crate::tui::roles::home)
                .unwrap_or(Screen::Login);
        }
    }
}

/// Leaves a required enrolment: the session ends at the server and the login screen shows,
/// with the email kept and what to do next.
fn log_out(state: &mut State) -> Vec<Effect> {
    let email = state
        .session
        .user
        .take()
        .map(|u| u.email)
        .unwrap_or_default();
    state.session.second_factor = false;
    state.mfa_enroll = MfaEnroll::default();
    state.history.clear();
    state.overlay = None;
    state.dialog = None;
    state.screen = Screen::Login;
    state.login = Default::default();
    state.login.email = Field::with(&email);
    state.login.focus = super::login::LoginFocus::Password;
    state.login.error = Some(
        "Logged out. Your role needs a second factor: log in again to set it up, with your phone at hand."
            .into(),
    );
    vec![call(state, Call::Logout)]
}

/// The server's new secret, or why there is none.
pub(crate) fn on_enrolment(
    state: &mut State,
    request: u64,
    result: Result<MfaEnrollment, ApiError>,
) -> Vec<Effect> {
    if request != state.mfa_enroll.request || state.screen != Screen::MfaEnroll {
        return Vec::new();
    }
    match result {
        Ok(enrolment) => {
            let enrol = &mut state.mfa_enroll;
            enrol.step = EnrolStep::Scan {
                secret: enrolment.secret,
                uri: enrolment.otpauth_uri,
            };
            enrol.code = Field::default();
            enrol.error = None;
            Vec::new()
        }
        Err(error) => {
            if error.kind == ErrorKind::MfaAlreadyEnabled {
                state.mfa_enroll.step = EnrolStep::AlreadyOn(error.message);
                return Vec::new();
            }
            state.mfa_enroll.step = EnrolStep::Failed(failure(&error, "press Enter to try again"));
            passing(state, &error)
        }
    }
}

/// The answer to the app's first code: the recovery codes, or what is wrong with the code.
pub(crate) fn on_confirmed(
    state: &mut State,
    request: u64,
    result: Result<MfaRecoveryCodes, ApiError>,
) -> Vec<Effect> {
    if request != state.mfa_enroll.request || state.screen != Screen::MfaEnroll {
        return Vec::new();
    }
    state.mfa_enroll.busy = false;
    let error = match result {
        Ok(codes) => {
            // The secret leaves the state: only the app keeps it now.
            let enrol = &mut state.mfa_enroll;
            enrol.step = EnrolStep::Codes {
                codes: codes.recovery_codes,
                shown_at_ms: state.now_ms,
            };
            enrol.code = Field::default();
            enrol.error = None;
            state.session.second_factor = true;
            return Vec::new();
        }
        Err(error) => error,
    };
    match &error.kind {
        ErrorKind::Validation { fields } => {
            // A wrong code: cleared, so the next one is typed fresh.
            let said = fields
                .iter()
                .find(|f| f.field == "code")
                .map(|f| format!("That code {}.", printable(&f.message, true)))
                .unwrap_or_else(|| error.message.clone());
            state.mfa_enroll.code = Field::default();
            state.mfa_enroll.error = Some(said);
            Vec::new()
        }
        ErrorKind::MfaCodeInvalid => {
            state.mfa_enroll.code = Field::default();
            state.mfa_enroll.error = Some(error.message.clone());
            Vec::new()
        }
        ErrorKind::MfaAlreadyEnabled => {
            state.mfa_enroll.step = EnrolStep::AlreadyOn(error.message.clone());
            Vec::new()
        }
        ErrorKind::InvalidState => {
            // The pending secret is gone (an administrator's reset, another enrolment).
            state.mfa_enroll.step = EnrolStep::Failed(
                "This setup is no longer pending on the server, so the secret shown is not valid. Press Enter to start again with a new one, and scan it again."
                    .into(),
            );
            Vec::new()
        }
        _ => {
            // Anything else keeps the code typed: Enter sends it again.
            state.mfa_enroll.error = Some(failure(&error, "then press Enter again"));
            passing(state, &error)
        }
    }
}

/// What a failure says on this screen: the wait the server asked for, or its message.
fn failure(error: &ApiError, then: &str) -> String {
    match error.kind {
        ErrorKind::RateLimited { retry_after_s } => {
            format!("The server asks to slow down: wait {retry_after_s} seconds, {then}.")
        }
        _ => error.message.clone(),
    }
}

/// An ended session or a lost server is also everyone's (the password asked, the offline
/// banner); the rest this screen shows itself.
fn passing(state: &mut State, error: &ApiError) -> Vec<Effect> {
    if error.needs_login() || error.is_offline() {
        return handle_error(state, error).unwrap_or_default();
    }
    Vec::new()
}

/// The secret in groups of four, as it is read out and typed into an app by hand.
pub fn grouped(secret: &str) -> String {
    secret
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code's lines and how they are drawn. The code is drawn dark on light in colours of
/// its own, as phones read it whatever the terminal's background; the monochrome theme uses no
/// colour, so it draws the light modules on the (usually dark) background, as the CLI does.
fn qr_code(state: &State, uri: &str) -> (Vec<String>, Style) {
    if state.settings.theme.kind == ThemeKind::Mono {
        return (qr::lines(uri, true), Style::new());
    }
    (
        qr::lines(uri, false),
        Style::new().fg(Color::Black).bg(Color::White),
    )
}

/// The hint bar's `(key, word)` pairs on this screen.
pub fn hints(state: &State) -> Vec<(String, &'static str)> {
    let keymap = &state.settings.keymap;
    let enrol = &state.mfa_enroll;
    if enrol.leave_asked {
        return vec![
            ("y".to_string(), "log out"),
            ("any key".to_string(), "stay"),
        ];
    }
    let submit = keymap.hint_key(Command::Submit, Scope::Dialog);
    let dismiss = keymap.hint_key(Command::Dismiss, Scope::Dialog);
    let away = if enrol.required { "log out" } else { "back" };
    match &enrol.step {
        EnrolStep::Starting => vec![(dismiss, away)],
        EnrolStep::Failed(_) => vec![(submit, "try again"), (dismiss, away)],
        EnrolStep::Scan { .. } => vec![(submit, "confirm the code"), (dismiss, away)],
        EnrolStep::Codes { .. } => vec![(submit, "written down: continue")],
        EnrolStep::AlreadyOn(_) => vec![(submit, "continue")],
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let enrol = &state.mfa_enroll;
    let title = if enrol.required {
        " Set up a second factor · your role needs one before anything else "
    } else {
        " Set up a second factor "
    };
    let block = Block::bordered().title(Line::styled(title, theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let submit = state
        .settings
        .keymap
        .hint_key(Command::Submit, Scope::Dialog);
    match &enrol.step {
        EnrolStep::Starting => frame.render_widget(
            Paragraph::new(Line::styled(
                "Asking the server for a new secret…",
                theme.muted(),
            )),
            inner,
        ),
        EnrolStep::Failed(message) => frame.render_widget(
            Paragraph::new(vec![
                Line::styled(printable(message, true), theme.error()),
                Line::raw(""),
                Line::styled(format!("{submit} starts again."), theme.muted()),
            ])
            .wrap(Wrap { trim: false }),
            inner,
        ),
        EnrolStep::AlreadyOn(message) => frame.render_widget(
            Paragraph::new(vec![
                Line::raw(printable(message, true)),
                Line::raw(""),
                Line::styled(format!("{submit} continues."), theme.muted()),
            ])
            .wrap(Wrap { trim: false }),
            inner,
        ),
        EnrolStep::Scan { secret, uri } => draw_scan(frame, inner, state, secret, uri),
        EnrolStep::Codes { codes, .. } => draw_codes(frame, inner, state, codes),
    }
    if enrol.leave_asked {
        let lines = vec![
            Line::raw("Your role needs a second factor before Synapse can be used."),
            Line::raw("Leaving logs out; the next login starts the setup again."),
            Line::raw(""),
            Line::styled("y logs out · any other key stays", theme.muted()),
        ];
        let rect = centered(area, 66, lines.len() as u16 + 2);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(Line::styled(
                " Leave without a second factor? ",
                theme.title(),
            ))),
            rect,
        );
    }
}

/// The lines beside (or below) the QR code, which of them is the code field, and what is said
/// under the field (wrapped, so drawn apart).
fn scan_text(state: &State, secret: &str) -> (Vec<Line<'static>>, usize, Option<Line<'static>>) {
    let theme = &state.settings.theme;
    let enrol = &state.mfa_enroll;
    let account = state
        .session
        .user
        .as_ref()
        .map(|u| printable(&u.email, true))
        .unwrap_or_default();
    let label = |text: &str| Span::styled(format!("  {text:<9}"), theme.muted());
    let mut lines = vec![
        Line::styled("1. Scan the code with the authenticator app", theme.title()),
        Line::raw("   on your phone, or type the secret in by hand."),
        Line::raw(""),
        Line::from(vec![
            label("Account"),
            Span::raw(format!("Synapse: {account}")),
        ]),
        Line::from(vec![
            label("Secret"),
            Span::styled(grouped(&printable(secret, true)), theme.title()),
        ]),
        Line::from(vec![
            label("Kind"),
            Span::raw("time-based, 6 digits, every 30 s"),
        ]),
        Line::raw(""),
        Line::styled("2. Type the 6-digit code the app shows now", theme.title()),
        Line::raw(""),
    ];
    let field = lines.len();
    let style = if enrol.busy {
        theme.muted()
    } else {
        theme.selected()
    };
    lines.push(Line::from(vec![
        label("Code"),
        Span::styled(format!(" {:<8}", enrol.code.value), style),
    ]));
    let said = if enrol.busy {
        Some(Line::styled("Checking the code…", theme.muted()))
    } else {
        enrol
            .error
            .as_ref()
            .map(|error| Line::styled(printable(error, true), theme.error()))
    };
    (lines, field, said)
}

fn draw_scan(frame: &mut Frame, area: Rect, state: &State, secret: &str, uri: &str) {
    let theme = &state.settings.theme;
    let (code, style) = qr_code(state, uri);
    let code_width = code.first().map_or(0, |l| l.chars().count()) as u16;
    let code_height = code.len() as u16;
    let (text, field, said) = scan_text(state, secret);
    // The field's line, a blank one and two of what is said under it.
    let text_height = text.len() as u16 + 3;
    let drawn = |frame: &mut Frame, rect: Rect| {
        let lines: Vec<Line> = code
            .iter()
            .map(|l| Line::styled(l.clone(), style))
            .collect();
        frame.render_widget(Paragraph::new(lines), rect);
    };
    let text_area = if code_width > 0
        && area.width >= code_width + GAP + TEXT_WIDTH
        && area.height >= code_height
    {
        // Side by side: the code on the left, what to do on the right.
        let [left, _, right] = Layout::horizontal([
            Constraint::Length(code_width),
            Constraint::Length(GAP),
            Constraint::Min(TEXT_WIDTH),
        ])
        .areas(area);
        drawn(frame, Rect::new(left.x, left.y, code_width, code_height));
        right
    } else if code_width > 0
        && area.width >= code_width.max(TEXT_WIDTH)
        && area.height >= code_height + 1 + text_height
    {
        // Stacked, in a tall and narrow window.
        drawn(frame, Rect::new(area.x, area.y, code_width, code_height));
        Rect {
            y: area.y + code_height + 1,
            height: area.height - code_height - 1,
            ..area
        }
    } else {
        // No room for the whole code: a cut one would not scan, so say how big the window
        // must be, and the secret still shows for typing in by hand.
        let full = frame.area();
        let around_w = full.width.saturating_sub(area.width);
        let around_h = full.height.saturating_sub(area.height);
        let needed_w = code_width + GAP + TEXT_WIDTH + around_w;
        let needed_h = code_height.max(text_height) + around_h;
        let lines = vec![
            Line::styled(
                format!(
                    "The QR code needs a window of at least {needed_w}×{needed_h} (this one is {}×{}).",
                    full.width, full.height
                ),
                theme.warning(),
            ),
            Line::raw("Make it larger to scan the code, or type the secret in by hand."),
        ];
        let [message, _, rest] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), message);
        rest
    };
    let cursor_row = text_area.y + field as u16;
    frame.render_widget(Paragraph::new(text), text_area);
    let under = cursor_row.saturating_add(2);
    if let Some(said) = said
        && under < text_area.bottom()
    {
        let rect = Rect {
            x: text_area.x + 2,
            y: under,
            width: text_area.width.saturating_sub(2),
            height: text_area.bottom() - under,
        };
        frame.render_widget(Paragraph::new(said).wrap(Wrap { trim: true }), rect);
    }
    let enrol = &state.mfa_enroll;
    if !enrol.busy && !enrol.leave_asked && cursor_row < text_area.bottom() {
        // After the label (2 + 9 columns) and the field's leading space.
        frame.set_cursor_position((text_area.x + 12 + enrol.code.cursor as u16, cursor_row));
    }
}

fn draw_codes(frame: &mut Frame, area: Rect, state: &State, codes: &[String]) {
    let theme = &state.settings.theme;
    let mut lines = vec![
        Line::styled(
            "The second factor is on: logging in and signing now ask for the app's code.",
            theme.ok(),
        ),
        Line::raw(""),
        Line::styled(
            "Write these recovery codes down now and keep them somewhere safe.",
            theme.warning(),
        ),
        Line::raw(
            "Each works once, in place of the app's code, if the phone is lost. They are not shown again.",
        ),
        Line::raw(""),
    ];
    let half = codes.len().div_ceil(2);
    for row in 0..half {
        let left = codes
            .get(row)
            .map(|c| printable(c, true))
            .unwrap_or_default();
        let right = codes
            .get(row + half)
            .map(|c| printable(c, true))
            .unwrap_or_default();
        lines.push(Line::styled(
            format!(
                "    {:>2}. {left:<16} {:>2}. {right}",
                row + 1,
                row + 1 + half
            ),
            theme.title(),
        ));
    }
    lines.push(Line::raw(""));
    let submit = state
        .settings
        .keymap
        .hint_key(Command::Submit, Scope::Dialog);
    lines.push(Line::styled(
        format!("Written them down? {submit} continues."),
        theme.muted(),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn the_secret_reads_in_groups_of_four() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(grouped("ABCDEF"), "ABCD EF");
        assert_eq!(grouped(""), "");
    }
}
