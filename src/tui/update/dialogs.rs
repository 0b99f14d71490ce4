//! Keys inside modal dialogs: starting a consultation, signing (confirmation defaulting to No,
//! then the password), cancelling with a reason, an addendum, editing a section, and the
//! password that continues an ended session.

use crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::model::consultation::{SessionType, StartConsultation};
use crate::model::report::ReportContent;
use crate::tui::keymap::{Command, Scope};

pub fn dialog_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(dialog) = state.dialog.take() else {
        return Vec::new();
    };
    let (dialog, effects) = handle(state, dialog, key);
    state.dialog = dialog;
    effects
}

fn next_session_type(current: SessionType, forward: bool) -> SessionType {
    let all = SessionType::ALL;
    let i = all.iter().position(|t| *t == current).unwrap_or(0);
    let len = all.len();
    all[if forward {
        (i + 1) % len
    } else {
        (i + len - 1) % len
    }]
}

/// Handles a key; returns the dialog to keep open (or `None` to close it) and the effects.
fn handle(state: &mut State, dialog: Dialog, key: &KeyEvent) -> (Option<Dialog>, Vec<Effect>) {
    let keymap = &state.settings.keymap;
    let dialog_command = keymap.command(key, Scope::Dialog);
    match dialog {
        Dialog::StartConsultation {
            mut session_type,
            mut complaint,
        } => match keymap.command(key, Scope::StartDialog) {
            Some(Command::Dismiss) => (None, Vec::new()),
            // On an empty complaint → chooses the type too.
            Some(Command::NextChoice) => {
                session_type = next_session_type(session_type, true);
                (
                    Some(Dialog::StartConsultation {
                        session_type,
                        complaint,
                    }),
                    Vec::new(),
                )
            }
            None if key.code == KeyCode::Right && complaint.value.is_empty() => {
                session_type = next_session_type(session_type, true);
                (
                    Some(Dialog::StartConsultation {
                        session_type,
                        complaint,
                    }),
                    Vec::new(),
                )
            }
            Some(Command::PreviousChoice) => {
                session_type = next_session_type(session_type, false);
                (
                    Some(Dialog::StartConsultation {
                        session_type,
                        complaint,
                    }),
                    Vec::new(),
                )
            }
            Some(Command::Submit) => {
                let Some(patient_id) = state.chart.patient_id else {
                    return (None, Vec::new());
                };
                let chief_complaint =
                    Some(complaint.value.trim().to_string()).filter(|c| !c.is_empty());
                let effect = call(
                    state,
                    Call::Start(StartConsultation {
                        patient_id,
                        session_type,
                        chief_complaint,
                    }),
                );
                (None, vec![effect])
            }
            _ => {
                complaint.edit(key);
                (
                    Some(Dialog::StartConsultation {
                        session_type,
                        complaint,
                    }),
                    Vec::new(),
                )
            }
        },
        Dialog::Sign {
            report_id,
            confirmed,
            mut yes,
            mut password,
            error,
            busy,
        } => {
            if busy {
                return (
                    Some(Dialog::Sign {
                        report_id,
                        confirmed,
                        yes,
                        password,
                        error,
                        busy,
                    }),
                    Vec::new(),
                );
            }
            if !confirmed {
                match keymap.command(key, Scope::SignConfirm) {
                    Some(Command::Dismiss | Command::No) => (None, Vec::new()),
                    // Two choices: either direction moves to the other.
                    Some(Command::NextChoice | Command::PreviousChoice) => {
                        yes = !yes;
                        (
                            Some(Dialog::Sign {
                                report_id,
                                confirmed,
                                yes,
                                password,
                                error,
                                busy,
                            }),
                            Vec::new(),
                        )
                    }
                    Some(Command::Yes) => (
                        Some(Dialog::Sign {
                            report_id,
                            confirmed: true,
                            yes: true,
                            password,
                            error,
                            busy,
                        }),
                        Vec::new(),
                    ),
                    Some(Command::Submit) if yes => (
                        Some(Dialog::Sign {
                            report_id,
                            confirmed: true,
                            yes,
                            password,
                            error,
                            busy,
                        }),
                        Vec::new(),
                    ),
                    // Enter on the default (No) closes without signing.
                    Some(Command::Submit) => (None, Vec::new()),
                    _ => (
                        Some(Dialog::Sign {
                            report_id,
                            confirmed,
                            yes,
                            password,
                            error,
                            busy,
                        }),
                        Vec::new(),
                    ),
                }
            } else {
                match dialog_command {
                    Some(Command::Dismiss) => (None, Vec::new()),
                    Some(Command::Submit) if !password.value.is_empty() => {
                        let secret = std::mem::take(&mut password).value;
                        let effect = call(
                            state,
                            Call::Sign {
                                id: report_id,
                                password: secret,
                            },
                        );
                        (
                            Some(Dialog::Sign {
                                report_id,
                                confirmed,
                                yes,
                                password,
                                error: None,
                                busy: true,
                            }),
                            vec![effect],
                        )
                    }
                    _ => {
                        password.edit(key);
                        (
                            Some(Dialog::Sign {
                                report_id,
                                confirmed,
                                yes,
                                password,
                                error,
                                busy,
                            }),
                            Vec::new(),
                        )
                    }
                }
            }
        }
        Dialog::CancelConsultation { mut reason } => match dialog_command {
            Some(Command::Dismiss) => (None, Vec::new()),
            Some(Command::Submit) if !reason.value.trim().is_empty() => {
                let Some(id) = state.consultation.consultation.as_ref().map(|c| c.id) else {
                    return (None, Vec::new());
                };
                let effect = call(
                    state,
                    Call::Cancel {
                        id,
                        reason: reason.value.trim().to_string(),
                    },
                );
                (None, vec![effect])
            }
            _ => {
                reason.edit(key);
                (Some(Dialog::CancelConsultation { reason }), Vec::new())
            }
        },
        Dialog::Addendum {
            report_id,
            mut text,
        } => match dialog_command {
            Some(Command::Dismiss) => (None, Vec::new()),
            Some(Command::Submit) if !text.value.trim().is_empty() => {
                let effect = call(
                    state,
                    Call::Addendum {
                        id: report_id,
                        text: text.value.trim().to_string(),
                    },
                );
                (None, vec![effect])
            }
            _ => {
                text.edit(key);
                (Some(Dialog::Addendum { report_id, text }), Vec::new())
            }
        },
        Dialog::EditReport {
            report_id,
            version,
            mut section,
            mut editor,
        } => {
            let Some(report) = state.report.report.ready() else {
                return (None, Vec::new());
            };
            // The content as it will be saved: the report's sections with this one replaced.
            let mut content: ReportContent = report.content.clone();
            match keymap.command(key, Scope::ReportEditor) {
                Some(Command::Dismiss) => (None, Vec::new()),
                Some(Command::Save) => {
                    let text = editor.text();
                    section.set(
                        &mut content,
                        Some(text.trim().to_string()).filter(|t| !t.is_empty()),
                    );
                    let effect = call(
                        state,
                        Call::EditReport {
                            id: report_id,
                            content,
                            version,
                        },
                    );
                    (None, vec![effect])
                }
                Some(Command::NextSection) => {
                    section = section.next();
                    let text = section.get(&content).cloned().unwrap_or_default();
                    editor = crate::tui::input::Notes::from_text(&text);
                    (
                        Some(Dialog::EditReport {
                            report_id,
                            version,
                            section,
                            editor,
                        }),
                        Vec::new(),
                    )
                }
                _ => {
                    editor.edit(key);
                    (
                        Some(Dialog::EditReport {
                            report_id,
                            version,
                            section,
                            editor,
                        }),
                        Vec::new(),
                    )
                }
            }
        }
        Dialog::SessionExpired {
            mut password,
            error,
            busy,
        } => match dialog_command {
            Some(Command::Submit) if !busy && !password.value.is_empty() => {
                let Some(email) = state.session.user.as_ref().map(|u| u.email.clone()) else {
                    return (None, Vec::new());
                };
                let secret = std::mem::take(&mut password).value;
                let effect = call(
                    state,
                    Call::Unlock {
                        email,
                        password: secret,
                    },
                );
                (
                    Some(Dialog::SessionExpired {
                        password,
                        error: None,
                        busy: true,
                    }),
                    vec![effect],
                )
            }
            _ => {
                password.edit(key);
                (
                    Some(Dialog::SessionExpired {
                        password,
                        error,
                        busy,
                    }),
                    Vec::new(),
                )
            }
        },
    }
}
