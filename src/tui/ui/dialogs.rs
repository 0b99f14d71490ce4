//! Modal dialogs, drawn above everything but the lock screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::centered;
use crate::model::text::printable;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Dialog, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, dialog: &Dialog) {
    let theme = &state.settings.theme;
    // The hint lines name the keys the keymap has for the dialog's commands.
    let key = |command, scope| state.settings.keymap.hint_key(command, scope);
    let (title, lines, height): (&str, Vec<Line>, u16) = match dialog {
        Dialog::StartConsultation {
            session_type,
            complaint,
        } => (
            " Start a consultation ",
            vec![
                Line::from(vec![
                    Span::raw("Type       "),
                    Span::styled(format!(" ◀ {} ▶ ", session_type.as_str()), theme.selected()),
                ]),
                Line::styled(
                    format!(
                        "           {} changes the type",
                        key(Command::NextChoice, Scope::StartDialog)
                    ),
                    theme.muted(),
                ),
                Line::raw(""),
                Line::from(vec![
                    Span::raw("Complaint  "),
                    Span::styled(format!(" {:<40}", complaint.value), theme.selected()),
                ]),
                Line::raw(""),
                Line::styled(
                    format!(
                        "{} starts · {} cancels",
                        key(Command::Submit, Scope::StartDialog),
                        key(Command::Dismiss, Scope::StartDialog)
                    ),
                    theme.muted(),
                ),
            ],
            8,
        ),
        Dialog::Sign {
            confirmed,
            yes,
            password,
            error,
            busy,
            ..
        } => {
            let mut lines = if !confirmed {
                let (no_style, yes_style) = if *yes {
                    (theme.base(), theme.selected())
                } else {
                    (theme.selected(), theme.base())
                };
                vec![
                    Line::raw("Sign this report? Signed reports can no longer change."),
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
                            key(Command::PreviousChoice, Scope::SignConfirm),
                            key(Command::NextChoice, Scope::SignConfirm),
                            key(Command::Submit, Scope::SignConfirm),
                            key(Command::Dismiss, Scope::SignConfirm)
                        ),
                        theme.muted(),
                    ),
                ]
            } else {
                vec![
                    Line::raw("Enter your password to sign."),
                    Line::raw(""),
                    Line::from(vec![
                        Span::raw("Password "),
                        Span::styled(
                            format!(" {:<30}", "•".repeat(password.value.chars().count())),
                            theme.selected(),
                        ),
                    ]),
                    Line::raw(""),
                ]
            };
            if *busy {
                lines.push(Line::styled("Signing…", theme.muted()));
            } else if let Some(error) = error {
                lines.push(Line::styled(printable(error, true), theme.error()));
            }
            (" Sign report ", lines, 8)
        }
        Dialog::CancelConsultation { reason } => (
            " Cancel the consultation ",
            vec![
                Line::raw("Why is it cancelled? (kept in the record)"),
                Line::raw(""),
                Line::styled(format!(" {:<48}", reason.value), theme.selected()),
                Line::raw(""),
                Line::styled(
                    format!(
                        "{} cancels the consultation · {} keeps it running",
                        key(Command::Submit, Scope::Dialog),
                        key(Command::Dismiss, Scope::Dialog)
                    ),
                    theme.muted(),
                ),
            ],
            7,
        ),
        Dialog::Addendum { text, .. } => (
            " Add an addendum ",
            vec![
                Line::raw("The signed report stays as it is; the addendum is added below it."),
                Line::raw(""),
                Line::styled(format!(" {:<56}", text.value), theme.selected()),
                Line::raw(""),
                Line::styled(
                    format!(
                        "{} adds it · {} cancels",
                        key(Command::Submit, Scope::Dialog),
                        key(Command::Dismiss, Scope::Dialog)
                    ),
                    theme.muted(),
                ),
            ],
            7,
        ),
        Dialog::EditReport {
            section, editor, ..
        } => {
            let mut lines = vec![
                Line::styled(
                    format!(
                        "{} ({}: next section)",
                        section.label(),
                        key(Command::NextSection, Scope::ReportEditor)
                    ),
                    theme.title(),
                ),
                Line::raw(""),
            ];
            for line in &editor.lines {
                lines.push(Line::raw(line.replace('\t', "    ")));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!(
                    "{} saves · {} discards",
                    key(Command::Save, Scope::ReportEditor),
                    key(Command::Dismiss, Scope::ReportEditor)
                ),
                theme.muted(),
            ));
            let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
            (" Edit draft ", lines, height)
        }
        Dialog::SessionExpired {
            password,
            error,
            busy,
        } => {
            let mut lines = vec![
                Line::raw("Your session has ended. Enter your password to continue"),
                Line::raw("where you were."),
                Line::raw(""),
                Line::from(vec![
                    Span::raw("Password "),
                    Span::styled(
                        format!(" {:<30}", "•".repeat(password.value.chars().count())),
                        theme.selected(),
                    ),
                ]),
                Line::raw(""),
            ];
            if *busy {
                lines.push(Line::styled("Checking…", theme.muted()));
            } else if let Some(error) = error {
                lines.push(Line::styled(printable(error, true), theme.error()));
            }
            (" Session ended ", lines, 9)
        }
    };
    let rect = centered(area, 66, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Line::styled(title, theme.title()))),
        rect,
    );
}
