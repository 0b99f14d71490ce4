//! Signing a report: first a confirmation that defaults to No, naming the patient and the
//! version, then the doctor's password. The version signed is the one on screen: if the report
//! changed since, the server refuses, the dialog shows what changed, section by section, and
//! asks again about the new version. A doctor with a second factor is asked for the
//! authenticator's code beside the password once the server says it is needed.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::{Dialog, Step, View};
use crate::client::{ApiError, ErrorKind};
use crate::model::report::{Report, ReportPatient};
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::report::sections;
use crate::tui::state::{Load, State, ToastKind};
use crate::tui::theme::Theme;
use crate::tui::update::{call, handle_error};

/// At most this many lines of a changed section's old and new text each; the report screen
/// behind the dialog shows the whole new version.
const CHANGE_LINES: usize = 3;

/// The sign dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct SignDialog {
    pub report_id: Uuid,
    /// The version on screen: the one the doctor is asked about and signs.
    pub version: u32,
    /// Who the report is about, named in the question.
    pub patient: ReportPatient,
    /// After a conflict: the version the doctor had read, and what changed since.
    pub changed: Option<Changed>,
    /// Waiting for the report again after the server said it changed.
    pub reloading: bool,
    pub confirmed: bool,
    pub yes: bool,
    pub password: Field,
    /// The server asked for the authenticator's code (the doctor has a second factor).
    pub needs_code: bool,
    pub code: Field,
    /// Typing goes to the code rather than the password.
    pub on_code: bool,
    pub error: Option<String>,
    pub busy: bool,
}

/// What changed between the version the doctor read and the one now stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    pub from_version: u32,
    pub sections: Vec<SectionChange>,
}

/// One section that differs, as the reader shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionChange {
    pub title: &'static str,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

impl SignDialog {
    /// Asks about `report` as it is on screen.
    pub fn new(report: &Report) -> SignDialog {
        SignDialog {
            report_id: report.summary.id,
            version: report.version,
            patient: report.summary.patient.clone(),
            changed: None,
            reloading: false,
            confirmed: false,
            yes: false,
            password: Field::default(),
            needs_code: false,
            code: Field::default(),
            on_code: false,
            error: None,
            busy: false,
        }
    }
}

/// The sections that differ between what the doctor read and what is stored now.
pub fn changes(read: &Report, now: &Report) -> Vec<SectionChange> {
    sections(&read.content)
        .into_iter()
        .zip(sections(&now.content))
        .filter(|((_, before), (_, after))| before != after)
        .map(|((title, before), (_, after))| SectionChange {
            title,
            before,
            after,
        })
        .collect()
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::Sign(sign) = dialog else {
        return Step::Stay(Vec::new());
    };
    if sign.busy || sign.reloading {
        // Esc still closes: the doctor may give up while the server is slow.
        return match state.settings.keymap.command(key, Scope::Dialog) {
            Some(Command::Dismiss) if sign.reloading => Step::Close(Vec::new()),
            _ => Step::Stay(Vec::new()),
        };
    }
    let keymap = &state.settings.keymap;
    if !sign.confirmed {
        return match keymap.command(key, Scope::SignConfirm) {
            Some(Command::Dismiss | Command::No) => Step::Close(Vec::new()),
            // Two choices: either direction moves to the other.
            Some(Command::NextChoice | Command::PreviousChoice) => {
                sign.yes = !sign.yes;
                Step::Stay(Vec::new())
            }
            Some(Command::Yes) => {
                sign.confirmed = true;
                sign.yes = true;
                Step::Stay(Vec::new())
            }
            Some(Command::Submit) if sign.yes => {
                sign.confirmed = true;
                Step::Stay(Vec::new())
            }
            // Enter on the default (No) closes without signing.
            Some(Command::Submit) => Step::Close(Vec::new()),
            _ => Step::Stay(Vec::new()),
        };
    }
    match keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::Submit) if sign.needs_code && sign.code.value.trim().is_empty() => {
            sign.on_code = !sign.password.value.is_empty();
            Step::Stay(Vec::new())
        }
        Some(Command::Submit) if !sign.password.value.is_empty() => {
            // Kept until the answer: a server asking for the code then needs it again.
            let password = sign.password.value.clone();
            let code = sign
                .needs_code
                .then(|| std::mem::take(&mut sign.code).value.trim().to_string());
            let (id, version) = (sign.report_id, sign.version);
            sign.error = None;
            sign.busy = true;
            Step::Stay(vec![call(
                state,
                Call::Sign {
                    id,
                    version,
                    password,
                    code,
                },
            )])
        }
        _ if sign.needs_code && matches!(key.code, KeyCode::Tab | KeyCode::BackTab) => {
            sign.on_code = !sign.on_code;
            Step::Stay(Vec::new())
        }
        _ => {
            if sign.on_code {
                sign.code.edit(key);
            } else {
                sign.password.edit(key);
            }
            Step::Stay(Vec::new())
        }
    }
}

/// The answer: signed; a wrong password asked again; a report changed since it was read
/// fetched again to show what changed; any other error closes the dialog.
pub(crate) fn on_signed(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => {
            state.dialog = None;
            state.report.report = Load::Ready(report);
            state.unsigned = state.unsigned.map(|n| n.saturating_sub(1));
            state.toast("Report signed.", ToastKind::Info);
            Vec::new()
        }
        Err(error) => {
            if let Some(Dialog::Sign(sign)) = &mut state.dialog {
                match &error.kind {
                    ErrorKind::InvalidCredentials => {
                        sign.busy = false;
                        sign.password = Field::default();
                        sign.on_code = false;
                        sign.error = Some(
                            "The password is not correct. Try again, or Esc to cancel.".into(),
                        );
                        return Vec::new();
                    }
                    ErrorKind::Validation { fields }
                        if fields.iter().any(|f| f.field == "code") =>
                    {
                        sign.busy = false;
                        sign.needs_code = true;
                        sign.on_code = true;
                        sign.error = Some(
                            "Your account has a second factor: type the code your authenticator app shows."
                                .into(),
                        );
                        return Vec::new();
                    }
                    ErrorKind::MfaCodeInvalid => {
                        sign.busy = false;
                        sign.on_code = true;
                        sign.error = Some(error.message.clone());
                        return Vec::new();
                    }
                    ErrorKind::VersionConflict { .. } => {
                        sign.busy = false;
                        sign.reloading = true;
                        let id = sign.report_id;
                        return vec![call(state, Call::Report(id))];
                    }
                    _ => {}
                }
            }
            state.dialog = None;
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.toast(error.message, ToastKind::Error);
            Vec::new()
        }
    }
}

/// The report fetched again after a conflict: the screen shows the new version and the dialog
/// asks again, from the start, about it. Returns the report back when no dialog waits for it.
pub(crate) fn on_reloaded(state: &mut State, report: Report) -> Option<Report> {
    let Some(Dialog::Sign(sign)) = &mut state.dialog else {
        return Some(report);
    };
    if !sign.reloading || sign.report_id != report.summary.id {
        return Some(report);
    }
    let read_version = sign.version;
    let sections = match state.report.report.ready() {
        Some(read) => changes(read, &report),
        None => Vec::new(),
    };
    *sign = SignDialog {
        changed: Some(Changed {
            from_version: read_version,
            sections,
        }),
        ..SignDialog::new(&report)
    };
    state.report.report = Load::Ready(report);
    None
}

pub(super) fn view(state: &State, sign: &SignDialog) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::SignConfirm);
    let patient = &sign.patient;
    let born = if state.privacy {
        "••••-••-••".to_string()
    } else {
        patient.date_of_birth.to_string()
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            crate::tui::ui::common::name(state, &patient.full_name),
            theme.title(),
        ),
        Span::raw(format!(
            "   born {born} ({} y)   {}",
            patient.age, patient.mrn
        )),
    ])];
    if sign.reloading {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "This report changed since you read it; loading the new version…",
            theme.warning(),
        ));
        return View {
            title: " Sign report ",
            lines,
            height: 6,
            cursor: None,
        };
    }
    // What changed is said first and shown last, so the question stays in the box however
    // much changed.
    if let Some(changed) = &sign.changed {
        lines.push(Line::styled(
            format!(
                "Changed since you read it (version {} → {}): {}",
                changed.from_version,
                sign.version,
                if changed.sections.is_empty() {
                    "no section's text".to_string()
                } else {
                    changed
                        .sections
                        .iter()
                        .map(|s| s.title)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            theme.warning(),
        ));
    }
    lines.push(Line::raw(""));
    let mut cursor = None;
    if !sign.confirmed {
        let (no_style, yes_style) = if sign.yes {
            (theme.base(), theme.selected())
        } else {
            (theme.selected(), theme.base())
        };
        lines.extend([
            Line::raw(format!(
                "Sign version {} of this report? Signed reports can no longer change.",
                sign.version
            )),
            Line::raw(""),
            Line::from(vec![
                Span::styled("  [ No ]  ", no_style),
                Span::raw("   "),
                Span::styled("  [ Yes ]  ", yes_style),
            ]),
            Line::raw(""),
            Line::styled(
                format!(
                    "{}/{} choose · {} confirms · {} cancels",
                    key(Command::PreviousChoice),
                    key(Command::NextChoice),
                    key(Command::Submit),
                    key(Command::Dismiss)
                ),
                theme.muted(),
            ),
        ]);
    } else {
        // The line typed on, where the cursor is while the doctor types.
        if !sign.busy {
            cursor = Some(if sign.on_code {
                (lines.len() + 3, 10 + sign.code.cursor as u16)
            } else {
                (lines.len() + 2, 10 + sign.password.cursor as u16)
            });
        }
        let style = |focused: bool| {
            if focused {
                theme.selected()
            } else {
                theme.base()
            }
        };
        lines.extend([
            Line::raw(if sign.needs_code {
                format!(
                    "Enter your password and the code to sign version {} (Tab between them).",
                    sign.version
                )
            } else {
                format!("Enter your password to sign version {}.", sign.version)
            }),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Password "),
                Span::styled(
                    format!(" {:<30}", "•".repeat(sign.password.value.chars().count())),
                    style(!sign.on_code),
                ),
            ]),
        ]);
        if sign.needs_code {
            lines.push(Line::from(vec![
                Span::raw("Code     "),
                Span::styled(format!(" {:<30}", sign.code.value), style(sign.on_code)),
            ]));
        }
        lines.push(Line::raw(""));
    }
    if sign.busy {
        lines.push(Line::styled("Signing…", theme.muted()));
    } else if let Some(error) = &sign.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    if let Some(changed) = &sign.changed {
        lines.extend(changed_lines(theme, changed));
    }
    let height = (lines.len() as u16).saturating_add(2).max(8);
    View {
        title: " Sign report ",
        lines,
        height,
        cursor,
    }
}

/// What changed, section by section: the old lines marked `-`, the new ones `+`.
fn changed_lines(theme: &Theme, changed: &Changed) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for section in &changed.sections {
        lines.push(Line::raw(""));
        lines.push(Line::styled(section.title.to_string(), theme.title()));
        for (mark, text, style) in [
            ("-", &section.before, theme.error()),
            ("+", &section.after, theme.ok()),
        ] {
            let all: Vec<String> = text
                .iter()
                .flat_map(|entry| {
                    printable(entry, false)
                        .lines()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
            if all.is_empty() {
                lines.push(Line::styled(format!("{mark} —"), style));
            }
            for line in all.iter().take(CHANGE_LINES) {
                lines.push(Line::styled(format!("{mark} {line}"), style));
            }
            if all.len() > CHANGE_LINES {
                lines.push(Line::styled(
                    format!("{mark} … {} more lines", all.len() - CHANGE_LINES),
                    theme.muted(),
                ));
            }
        }
    }
    lines
}
