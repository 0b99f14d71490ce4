//! Pieces every screen shares: the title bar, the status bar, the key-hint bar, the patient
//! banner, toasts, and the privacy mask.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::model::patient::{AllergyStatus, Patient};
use crate::model::text::printable;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Load, Overlay, Screen, State, Toast, ToastKind};

/// Initials only, for the privacy mask: "Anna Smith" → "A. S.".
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn mask_contact(_value: &str) -> String {
    "•••".to_string()
}

/// A patient's name as this screen may show it.
pub fn name(state: &State, name: &str) -> String {
    let name = printable(name, true);
    if state.privacy {
        mask_name(&name)
    } else {
        name
    }
}

/// A phone, email or address as this screen may show it.
pub fn contact(state: &State, value: Option<&String>) -> String {
    match value {
        None => "—".to_string(),
        Some(_) if state.privacy => mask_contact(""),
        Some(v) => printable(v, true),
    }
}

pub fn title_bar(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let screens = [
        (Screen::Patients, "1 Patients"),
        (Screen::Reports, "2 Reports"),
        (Screen::Stats, "3 Stats"),
        (Screen::Users, "4 Users"),
        (Screen::Audit, "5 Audit"),
    ];
    let mut spans = vec![Span::styled(" Synapse ", theme.title())];
    // A required setup of a second factor holds the session: no tab leads anywhere yet.
    let held = crate::tui::screens::mfa_enroll::holds_session(state);
    if let Some(role) = crate::tui::roles::role(state).filter(|_| !held) {
        let screens = screens
            .into_iter()
            .filter(|(screen, _)| crate::tui::roles::shows(role, *screen));
        for (screen, label) in screens {
            let style = if state.screen == screen {
                theme.selected()
            } else {
                theme.muted()
            };
            spans.push(Span::raw(" "));
            spans.push(Span::styled(format!(" {label} "), style));
        }
    }
    if state.privacy {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(" PRIVACY ", theme.warning()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The key hints of what has the keys now, generated from the keymap: a dialog's or an
/// overlay's own keys while one is open, else the current screen's commands with the keys that
/// run them there (inside the running notes editor, only keys it leaves to the keymap).
pub fn hint_bar(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let mut spans = Vec::new();
    for (key, word) in hints(state) {
        spans.push(Span::styled(format!(" {key} "), theme.bar()));
        spans.push(Span::raw(format!(" {word}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The hint bar's `(key, word)` pairs for the state as it is.
pub fn hints(state: &State) -> Vec<(String, &'static str)> {
    let keymap = &state.settings.keymap;
    let first_key = |command: Command, scope: Scope| {
        keymap
            .keys_in(command, scope)
            .first()
            .map(|key| (key.label(), command.hint()))
    };
    let in_scope = |commands: &[Command], scope: Scope| -> Vec<(String, &'static str)> {
        commands
            .iter()
            .filter_map(|command| first_key(*command, scope))
            .collect()
    };
    if state.quit_asked {
        // The question's own keys (`components::quit::key`): y leaves, any other key stays.
        return vec![("y".to_string(), "quit"), ("any key".to_string(), "stay")];
    }
    if let Some(dialog) = &state.dialog {
        let scope = crate::tui::components::dialogs::scope(dialog);
        return in_scope(
            &[
                Command::Submit,
                Command::Save,
                Command::NextSection,
                Command::NextChoice,
                Command::Yes,
                Command::No,
                Command::Dismiss,
            ],
            scope,
        );
    }
    if state.screen == Screen::MfaEnroll {
        return crate::tui::screens::mfa_enroll::hints(state);
    }
    if state.screen == Screen::Login {
        let mut pairs = vec![("Tab".to_string(), "next field")];
        pairs.extend(first_key(Command::Submit, Scope::Dialog).map(|(key, _)| (key, "log in")));
        pairs.extend(
            keymap
                .keys_for(Command::Quit)
                .first()
                .map(|key| (key.label(), "quit")),
        );
        return pairs;
    }
    match &state.overlay {
        Some(Overlay::Search) => {
            let mut pairs = vec![("↑↓".to_string(), "select")];
            pairs.extend(first_key(Command::Submit, Scope::Dialog).map(|(k, _)| (k, "open")));
            pairs.extend(first_key(Command::Dismiss, Scope::Dialog).map(|(k, _)| (k, "close")));
            return pairs;
        }
        Some(Overlay::Help { .. }) => {
            let mut pairs: Vec<(String, &'static str)> = Vec::new();
            let scroll: String = [Command::Down, Command::Up]
                .into_iter()
                .filter_map(|command| first_key(command, Scope::Global).map(|(key, _)| key))
                .collect();
            if !scroll.is_empty() {
                pairs.push((scroll, "scroll"));
            }
            pairs.extend(first_key(Command::PageDown, Scope::Global));
            pairs.push(("type".to_string(), "filter"));
            pairs.extend(first_key(Command::Dismiss, Scope::Dialog).map(|(k, _)| (k, "close")));
            return pairs;
        }
        Some(Overlay::Palette { .. }) => {
            let mut pairs = vec![("↑↓".to_string(), "select")];
            pairs.extend(first_key(Command::Submit, Scope::Dialog).map(|(k, _)| (k, "run")));
            pairs.extend(first_key(Command::Dismiss, Scope::Dialog).map(|(k, _)| (k, "close")));
            return pairs;
        }
        None => {}
    }
    let hints = crate::tui::screens::hints(state.screen);
    hints
        .iter()
        .filter(|command| crate::tui::screens::works_here(state, **command))
        .filter_map(|command| {
            crate::tui::screens::keys_here(state, *command)
                .first()
                .map(|key| (key.label(), command.hint()))
        })
        .collect()
}

/// The parts of the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusSegment {
    User,
    Server,
    TokenStore,
    Expiry,
    Connection,
    /// The count of drafts awaiting signature: a click opens them.
    Unsigned,
    Latency,
}

/// The status bar's segments as drawn on a bar `width` columns wide: in display order, the
/// least important left out first when the bar is too narrow, empty ones left out. The view
/// draws these and the mouse finds its click in them.
fn status_segments(state: &State, width: u16) -> Vec<(StatusSegment, String)> {
    let session = &state.session;
    let user = session
        .user
        .as_ref()
        .map(|u| printable(&u.full_name, true))
        .unwrap_or_else(|| "not logged in".to_string());
    // A session that is not kept means logging in at every start: the bar says so and why
    // (the token store's own short line), and keeps that longer than the server's address
    // when the bar is narrow.
    let store_priority = if session.remembered { 2 } else { 4 };
    let store = session.token_store.clone();
    let expiry = session
        .expires_at
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| {
            format!(
                "token to {}",
                t.with_timezone(&chrono::Local).format("%H:%M")
            )
        })
        .unwrap_or_default();
    let connection = if state.offline.is_some() {
        "offline"
    } else {
        "online"
    };
    // The count is a doctor's; the other roles have none to show.
    let unsigned = match state.unsigned {
        _ if session.user.is_some() && !crate::tui::roles::is_clinical(state) => String::new(),
        Some(n) => format!("{n} unsigned"),
        None => "– unsigned".into(),
    };
    let latency = state
        .latency_ms
        .map(|ms| format!("{ms} ms"))
        .unwrap_or_default();
    // Segments in display order with a priority (lower goes first when the bar is too narrow).
    let mut segments: Vec<(u8, StatusSegment, String)> = vec![
        (6, StatusSegment::User, user),
        (3, StatusSegment::Server, printable(&session.server, true)),
        (store_priority, StatusSegment::TokenStore, store),
        (1, StatusSegment::Expiry, expiry),
        (5, StatusSegment::Connection, connection.to_string()),
        (4, StatusSegment::Unsigned, unsigned),
        (0, StatusSegment::Latency, latency),
    ];
    segments.retain(|(_, _, text)| !text.is_empty());
    while status_width(segments.iter().map(|(_, _, t)| t.as_str())) > usize::from(width)
        && segments.len() > 1
    {
        let lowest = segments
            .iter()
            .enumerate()
            .min_by_key(|(_, (priority, _, _))| *priority)
            .map(|(i, _)| i)
            .unwrap_or(0);
        segments.remove(lowest);
    }
    segments
        .into_iter()
        .map(|(_, segment, text)| (segment, text))
        .collect()
}

/// The columns segments take: a space either side and " │ " between them.
fn status_width<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    let mut count = 0usize;
    let width: usize = texts
        .map(|t| {
            count += 1;
            t.chars().count()
        })
        .sum();
    width + 3 * count.saturating_sub(1) + 2
}

/// The status bar's segment at terminal column `column`, if any.
pub fn status_segment_at(state: &State, column: u16) -> Option<StatusSegment> {
    let mut start = 1usize;
    for (segment, text) in status_segments(state, state.width) {
        let end = start + text.chars().count();
        if (start..end).contains(&usize::from(column)) {
            return Some(segment);
        }
        start = end + 3;
    }
    None
}

pub fn status_bar(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let text = status_segments(state, area.width)
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join(" │ ");
    let line = Line::raw(format!(" {text} "));
    frame.render_widget(Paragraph::new(line).style(theme.bar()), area);
}

/// The banner on every patient screen: two identifiers, age, sex, allergy state and alerts.
pub fn patient_banner(frame: &mut Frame, area: Rect, state: &State, patient: &Patient) {
    let theme = &state.settings.theme;
    let block = Block::new()
        .borders(Borders::BOTTOM)
        .border_style(theme.muted());
    frame.render_widget(
        Paragraph::new(banner_lines(state, patient, area.width))
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
}

/// The banner's lines for a `width`-wide area: who the patient is, then the safety facts
/// (allergies, alerts, a running consultation), each moved to a further line rather than cut.
fn banner_lines(state: &State, patient: &Patient, width: u16) -> Vec<Line<'static>> {
    let theme = &state.settings.theme;
    let s = &patient.summary;
    // Each allergy with its reaction and severity, one fact each, so they flow onto further
    // lines rather than being cut.
    let allergies: Vec<Span<'static>> = match patient.allergies.status {
        AllergyStatus::Known => patient
            .allergies
            .items
            .iter()
            .map(|a| {
                let detail: Vec<String> = [&a.reaction, &a.severity]
                    .into_iter()
                    .flatten()
                    .map(|d| printable(d, true))
                    .collect();
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", detail.join(", "))
                };
                Span::styled(
                    format!("ALLERGY {}{detail}", printable(&a.substance, true)),
                    theme.error(),
                )
            })
            .collect(),
        AllergyStatus::NoneKnown => vec![Span::styled("No known allergies", theme.ok())],
        AllergyStatus::NotRecorded => {
            vec![Span::styled("Allergies not recorded", theme.warning())]
        }
    };
    let first = Line::from(vec![
        Span::styled(name(state, &s.full_name), theme.title()),
        Span::raw(format!(
            "   born {} ({} y)   {}   {}",
            if state.privacy {
                "••••-••-••".to_string()
            } else {
                s.date_of_birth.to_string()
            },
            s.age,
            s.sex.as_str(),
            s.mrn
        )),
    ]);
    let mut facts = allergies;
    if !patient.alerts.is_empty() {
        facts.push(Span::styled(
            format!(
                "ALERTS: {}",
                patient
                    .alerts
                    .iter()
                    .map(|a| printable(a, true))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            theme.warning(),
        ));
    }
    if s.active_consultation_id.is_some() {
        facts.push(Span::styled("consultation running", theme.highlight()));
    }
    let mut lines = vec![first];
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for fact in facts {
        let len = fact.content.chars().count();
        if !current.is_empty() && used + 3 + len > width as usize {
            lines.push(Line::from(std::mem::take(&mut current)));
            used = 0;
        }
        if !current.is_empty() {
            current.push(Span::raw("   "));
            used += 3;
        }
        current.push(fact);
        used += len;
    }
    lines.push(Line::from(current));
    lines
}

/// How many rows `text` takes wrapped at word boundaries to `width` columns.
pub(crate) fn wrapped_rows(text: &str, width: usize) -> u16 {
    let width = width.max(1);
    let mut rows = 1u16;
    let mut used = 0usize;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        let needed = if used == 0 { len } else { used + 1 + len };
        if needed <= width {
            used = needed;
        } else {
            if used > 0 {
                rows += 1;
            }
            rows += (len.saturating_sub(1) / width) as u16;
            used = len % width;
            if used == 0 {
                used = width;
            }
        }
    }
    rows
}

/// The banner above a patient screen (as tall as its lines need) and the rest of `area`.
pub fn banner_layout(area: Rect, state: &State, patient: &Patient) -> [Rect; 2] {
    let rows: u16 = banner_lines(state, patient, area.width)
        .iter()
        .map(|line| wrapped_rows(&line.to_string(), area.width as usize))
        .sum();
    Layout::vertical([Constraint::Length(rows + 1), Constraint::Min(1)]).areas(area)
}

pub fn toast(frame: &mut Frame, area: Rect, state: &State, toast: &Toast) {
    let theme = &state.settings.theme;
    let text = printable(&toast.text, true);
    let width = (text.chars().count() as u16 + 4).min(area.width);
    let rect = Rect {
        x: area.x + area.width.saturating_sub(width),
        y: area.y + area.height.saturating_sub(3),
        width,
        height: 3.min(area.height),
    };
    let style = match toast.kind {
        ToastKind::Info => theme.ok(),
        ToastKind::Error => theme.error(),
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text.bold()).block(Block::bordered().border_style(style)),
        rect,
    );
}

/// "Loading…", an error, or an empty-state line centred in `area`.
pub fn notice(frame: &mut Frame, area: Rect, state: &State, text: &str, error: bool) {
    let theme = &state.settings.theme;
    let style = if error { theme.error() } else { theme.muted() };
    let rect = Rect {
        y: area.y + area.height / 2,
        height: 1.min(area.height),
        ..area
    };
    frame.render_widget(
        Paragraph::new(Line::styled(printable(text, true), style)).centered(),
        rect,
    );
}

/// A list drawn in a box, once its rows are loaded: returns them, or draws the box with what
/// stands in for them (`empty` when there are none, the error, `loading` meanwhile) and
/// returns `None`.
pub fn loaded_rows<'a, T>(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    block: &Block,
    rows: &'a Load<Vec<T>>,
    (empty, loading): (&str, &str),
) -> Option<&'a [T]> {
    let (text, error) = match rows {
        Load::Ready(rows) if !rows.is_empty() => return Some(rows),
        Load::Ready(_) => (empty, false),
        Load::Failed(error) => (error.as_str(), true),
        Load::Idle | Load::Loading => (loading, false),
    };
    let inner = block.inner(area);
    frame.render_widget(block.clone(), area);
    notice(frame, inner, state, text, error);
    None
}
