//! Answers from the server: each updates its part of the state; stale answers (a newer request
//! of the same kind was sent) are dropped; failures go through `handle_error` first.

use super::*;
use crate::client::ErrorKind;
use crate::model::report::ReportStatus;
use crate::tui::action::Response;

pub fn response(state: &mut State, request: u64, response: Response) -> Vec<Effect> {
    let ok = response_ok(&response);
    if ok && state.offline.is_some() {
        mark_online(state);
    }
    match response {
        Response::Login(result) => {
            state.login.busy = false;
            match result {
                Ok(user) => {
                    state.session.user = Some(user);
                    state.login = LoginState::default();
                    state.screen = Screen::Patients;
                    state.history.clear();
                    state.last_activity_ms = state.now_ms;
                    let mut effects = load_patients(state);
                    effects.push(call(state, Call::Unsigned));
                    effects.push(call(state, Call::Active));
                    effects
                }
                Err(error) => {
                    state.login.error = Some(error.message.clone());
                    Vec::new()
                }
            }
        }
        Response::Resumed(result) => match result {
            Ok(user) => {
                state.session.user = Some(user);
                state.screen = Screen::Patients;
                let mut effects = load_patients(state);
                effects.push(call(state, Call::Unsigned));
                effects
            }
            Err(error) => {
                state.login.error = Some(error.message);
                Vec::new()
            }
        },
        Response::Unlock(result) => {
            match result {
                Ok(user) => {
                    state.session.user = Some(user);
                    state.lock = LockState::default();
                    if matches!(state.dialog, Some(Dialog::SessionExpired { .. })) {
                        state.dialog = None;
                    }
                    state.last_activity_ms = state.now_ms;
                }
                Err(error) => {
                    let message = error.message.clone();
                    if state.lock.locked {
                        state.lock.busy = false;
                        state.lock.error = Some(message);
                    } else if let Some(Dialog::SessionExpired { error: e, busy, .. }) =
                        &mut state.dialog
                    {
                        *busy = false;
                        *e = Some(message);
                    }
                }
            }
            Vec::new()
        }
        Response::LoggedOut => Vec::new(),
        Response::Patients(result) => {
            if request != state.patients.request {
                return Vec::new();
            }
            state.patients.loading = false;
            match result {
                Ok(page) => {
                    let appending =
                        state.patients.loaded_once && state.patients.next_cursor.is_some();
                    if !appending {
                        state.patients.items.clear();
                    }
                    state.patients.items.extend(page.items);
                    state.patients.total = page.pagination.total;
                    state.patients.next_cursor = page.pagination.next_cursor;
                    state.patients.loaded_once = true;
                    state.patients.error = None;
                    prefetch_patients(state)
                }
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.patients.error = Some(error.message);
                    Vec::new()
                }
            }
        }
        Response::Search(result) => {
            // Latest wins: an answer to an older search is never drawn.
            if request != state.search.request {
                return Vec::new();
            }
            state.search.loading = false;
            match result {
                Ok(found) => {
                    state.search.results = found.items;
                    state.search.searched = Some(state.search.input.value.trim().to_string());
                    state.search.error = None;
                    state.search.selected = state
                        .search
                        .selected
                        .min(state.search.results.len().saturating_sub(1));
                    Vec::new()
                }
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.search.error = Some(error.message);
                    Vec::new()
                }
            }
        }
        Response::Patient(result) => {
            match result {
                Ok(patient) if Some(patient.summary.id) == state.chart.patient_id => {
                    state.chart.patient = Load::Ready(patient);
                }
                Ok(_) => {}
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.chart.patient = Load::Failed(error.message);
                }
            }
            Vec::new()
        }
        Response::History(result) => {
            match result {
                Ok(history) if Some(history.patient_id) == state.chart.patient_id => {
                    state.chart.history = Load::Ready(history.items);
                }
                Ok(_) => {}
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.chart.history = Load::Failed(error.message);
                }
            }
            Vec::new()
        }
        Response::PatientReports(result) => {
            match result {
                Ok(page) if page.filters_applied.patient_id == state.chart.patient_id => {
                    state.chart.reports = Load::Ready(page.items);
                }
                Ok(_) => {}
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.chart.reports = Load::Failed(error.message);
                }
            }
            Vec::new()
        }
        Response::Reports(result) => {
            if request != state.reports.request {
                return Vec::new();
            }
            match result {
                Ok(page) => {
                    state.reports.total = page.pagination.total;
                    state.reports.items = Load::Ready(page.items);
                    state.reports.selected = 0;
                    preview_selected_report(state)
                }
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.reports.items = Load::Failed(error.message);
                    Vec::new()
                }
            }
        }
        Response::ReportPreview(result) => {
            if request == state.reports.preview_request
                && let Ok(report) = result
            {
                state.reports.preview = Some(report);
            }
            Vec::new()
        }
        Response::Report(result) => {
            match result {
                // Only the report now asked for: `n`/`p` pressed quickly can answer out of order.
                Ok(report)
                    if state
                        .report
                        .siblings
                        .get(state.report.position)
                        .is_none_or(|wanted| *wanted == report.summary.id) =>
                {
                    state.report.report = Load::Ready(report)
                }
                Ok(_) => {}
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.report.report = Load::Failed(error.message);
                }
            }
            Vec::new()
        }
        Response::ReportSaved(result) => match result {
            Ok(report) => {
                state.report.report = Load::Ready(report);
                state.toast("Saved.", ToastKind::Info);
                Vec::new()
            }
            Err(error) => {
                if let Some(effects) = handle_error(state, &error) {
                    return effects;
                }
                match error.kind {
                    ErrorKind::VersionConflict { .. } => {
                        state.toast(
                            "Someone changed this report while you edited it: reloaded. Make your change again.",
                            ToastKind::Error,
                        );
                        match state.report.report.ready().map(|r| r.summary.id) {
                            Some(id) => vec![call(state, Call::Report(id))],
                            None => Vec::new(),
                        }
                    }
                    _ => {
                        state.toast(error.message, ToastKind::Error);
                        Vec::new()
                    }
                }
            }
        },
        Response::Signed(result) => match result {
            Ok(report) => {
                state.dialog = None;
                state.report.report = Load::Ready(report);
                state.unsigned = state.unsigned.map(|n| n.saturating_sub(1));
                state.toast("Report signed.", ToastKind::Info);
                Vec::new()
            }
            Err(error) => {
                if error.kind == ErrorKind::InvalidCredentials {
                    if let Some(Dialog::Sign { error: e, busy, .. }) = &mut state.dialog {
                        *busy = false;
                        *e = Some(
                            "The password is not correct. Try again, or Esc to cancel.".into(),
                        );
                    }
                    return Vec::new();
                }
                state.dialog = None;
                if let Some(effects) = handle_error(state, &error) {
                    return effects;
                }
                state.toast(error.message, ToastKind::Error);
                Vec::new()
            }
        },
        Response::Consultation(result) => match result {
            Ok(consultation) => {
                let notes = consultation.notes.clone().unwrap_or_default();
                state.consultation = ConsultationState {
                    report_status: consultation.report_status,
                    notes: crate::tui::input::Notes::from_text(&notes),
                    consultation: Some(consultation),
                    started_ms: state.now_ms,
                    ..ConsultationState::default()
                };
                state.go(Screen::Consultation);
                Vec::new()
            }
            Err(error) => {
                if let Some(effects) = handle_error(state, &error) {
                    return effects;
                }
                if let ErrorKind::ConsultationActive {
                    consultation_id: Some(id),
                } = error.kind
                {
                    state.toast(
                        "A consultation is already running: resuming it.",
                        ToastKind::Info,
                    );
                    return vec![call(state, Call::Consultation(id))];
                }
                state.toast(error.message, ToastKind::Error);
                Vec::new()
            }
        },
        Response::NotesSaved(result) => {
            state.consultation.saving = false;
            match result {
                Ok(_) => {
                    state.consultation.save_error = None;
                    Vec::new()
                }
                Err(error) => {
                    // Not saved: mark the notes unsaved and try again after a pause.
                    state.consultation.save_error = Some(error.message.clone());
                    state.consultation.saved_edits = state.consultation.edits.saturating_sub(1);
                    let mut effects = handle_error(state, &error).unwrap_or_default();
                    effects.push(Effect::After {
                        delay_ms: state.settings.notes_debounce_ms * 3,
                        timer: crate::tui::action::Timer::SaveNotes(state.consultation.edits),
                    });
                    effects
                }
            }
        }
        Response::Stopped(result) => match result {
            Ok(consultation) => {
                let report = consultation.report_id;
                state.consultation.report_status = consultation.report_status;
                state.consultation.consultation = Some(consultation);
                state.toast(
                    "Consultation stopped: the report is being generated.",
                    ToastKind::Info,
                );
                match report {
                    Some(id) => vec![poll_later(id)],
                    None => Vec::new(),
                }
            }
            Err(error) => {
                if let Some(effects) = handle_error(state, &error) {
                    return effects;
                }
                state.toast(error.message, ToastKind::Error);
                Vec::new()
            }
        },
        Response::Polled(result) => match result {
            Ok(report) => {
                let status = report.summary.status;
                let ours = state
                    .consultation
                    .consultation
                    .as_ref()
                    .and_then(|c| c.report_id)
                    == Some(report.summary.id);
                if !ours {
                    return Vec::new();
                }
                state.consultation.report_status = Some(status);
                match status {
                    ReportStatus::Pending | ReportStatus::Generating => {
                        vec![poll_later(report.summary.id)]
                    }
                    ReportStatus::Completed => {
                        state.toast("The report is ready: Enter opens it.", ToastKind::Info);
                        state.unsigned = state.unsigned.map(|n| n + 1);
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
            Err(error) => {
                if error.is_offline() {
                    // Keep following the report once the server is back.
                    let id = state
                        .consultation
                        .consultation
                        .as_ref()
                        .and_then(|c| c.report_id);
                    let mut effects = handle_error(state, &error).unwrap_or_default();
                    if let Some(id) = id {
                        effects.push(poll_later(id));
                    }
                    return effects;
                }
                handle_error(state, &error).unwrap_or_default()
            }
        },
        Response::Cancelled(result) => match result {
            Ok(consultation) => {
                state.consultation.consultation = Some(consultation);
                state.toast("Consultation cancelled.", ToastKind::Info);
                if let Some(previous) = state.history.pop() {
                    state.screen = previous;
                }
                Vec::new()
            }
            Err(error) => {
                if let Some(effects) = handle_error(state, &error) {
                    return effects;
                }
                state.toast(error.message, ToastKind::Error);
                Vec::new()
            }
        },
        Response::Active(result) => {
            if let Ok(active) = result
                && !active.items.is_empty()
                && state.consultation.consultation.is_none()
            {
                state.toast(
                    format!(
                        "{} consultation{} still running: open the patient and press o to resume.",
                        active.items.len(),
                        if active.items.len() == 1 {
                            " is"
                        } else {
                            "s are"
                        }
                    ),
                    ToastKind::Info,
                );
            }
            Vec::new()
        }
        Response::Stats(result) => {
            match result {
                Ok(stats) => {
                    state.unsigned = Some(stats.unsigned);
                    state.stats.stats = Load::Ready(stats);
                }
                Err(error) => {
                    if let Some(effects) = handle_error(state, &error) {
                        return effects;
                    }
                    state.stats.stats = Load::Failed(error.message);
                }
            }
            Vec::new()
        }
        Response::Unsigned(result) => match result {
            Ok(stats) => {
                state.unsigned = Some(stats.unsigned);
                Vec::new()
            }
            Err(error) => {
                let was_offline = state.offline.is_some();
                let effects = handle_error(state, &error).unwrap_or_default();
                if was_offline && error.is_offline() {
                    // Still offline: try again later.
                    return vec![reconnect_later()];
                }
                effects
            }
        },
    }
}

fn response_ok(response: &Response) -> bool {
    match response {
        Response::Login(r) | Response::Unlock(r) | Response::Resumed(r) => r.is_ok(),
        Response::LoggedOut => true,
        Response::Patients(r) => r.is_ok(),
        Response::Search(r) => r.is_ok(),
        Response::Patient(r) => r.is_ok(),
        Response::History(r) => r.is_ok(),
        Response::PatientReports(r) | Response::Reports(r) => r.is_ok(),
        Response::Report(r)
        | Response::ReportPreview(r)
        | Response::Polled(r)
        | Response::ReportSaved(r)
        | Response::Signed(r) => r.is_ok(),
        Response::Consultation(r)
        | Response::NotesSaved(r)
        | Response::Stopped(r)
        | Response::Cancelled(r) => r.is_ok(),
        Response::Active(r) => r.is_ok(),
        Response::Stats(r) | Response::Unsigned(r) => r.is_ok(),
    }
}
