//! Answers from the server, handed to the screen or component that asked: each updates its
//! part of the state, drops stale answers (a newer request of the same kind was sent) and lets
//! `handle_error` see failures first. Any successful answer while offline means online again,
//! and what failed to load meanwhile is loaded again.

use super::{handle_error, reconnect_later};
use crate::client::ApiError;
use crate::tui::action::Response;
use crate::tui::components::{dialogs, lock, search};
use crate::tui::effect::Effect;
use crate::tui::live;
use crate::tui::screens::{
    audit, chart, consultation, login, mfa_enroll, past_notes, patients, report, reports, running,
    sessions, stats, users,
};
use crate::tui::state::{State, ToastKind};

pub fn response(state: &mut State, request: u64, response: Response) -> Vec<Effect> {
    let mut effects = Vec::new();
    if response.is_ok() && state.offline.is_some() {
        effects = live::back_online(state);
    }
    effects.extend(answer(state, request, response));
    effects
}

fn answer(state: &mut State, request: u64, response: Response) -> Vec<Effect> {
    match response {
        Response::Login(result) => login::on_login(state, result),
        Response::Resumed(result) => login::on_resumed(state, result),
        Response::Unlock(result) => lock::on_unlock(state, result),
        Response::MustEnrol(user) => mfa_enroll::on_signed_in(state, user),
        Response::LoggedOut => Vec::new(),
        Response::MfaEnrolment(result) => mfa_enroll::on_enrolment(state, request, result),
        Response::MfaConfirmed(result) => mfa_enroll::on_confirmed(state, request, result),
        Response::Patients(result) => patients::on_page(state, request, result),
        Response::Search(result) => search::on_results(state, request, result),
        Response::Patient(result) => chart::on_patient(state, result),
        Response::BannerPatient(result) => report::on_banner_patient(state, result),
        Response::History(result) => chart::on_history(state, result),
        Response::PatientReports(result) => chart::on_reports(state, result),
        Response::Reports(result) => reports::on_list(state, request, result),
        Response::ReportPreview(result) => reports::on_preview(state, request, result),
        Response::Report(result) => report::on_report(state, result),
        Response::ReportSaved(result) => dialogs::on_saved(state, result),
        Response::Signed(result) => dialogs::on_signed(state, result),
        Response::AddendumAdded(result) => dialogs::on_added(state, result),
        Response::Consultation(result) => consultation::on_consultation(state, result),
        Response::ConsultationChanged(result) => consultation::on_changed(state, result),
        Response::NotesSaved(result) => consultation::on_notes_saved(state, result),
        Response::Stopped(result) => consultation::on_stopped(state, result),
        Response::Polled(result) => consultation::on_polled(state, result),
        Response::Cancelled(result) => consultation::on_cancelled(state, result),
        Response::Active(result) => consultation::on_active(state, result),
        Response::Running(result) => running::on_list(state, request, result),
        Response::PastConsultation(result) => past_notes::on_consultation(state, result),
        Response::Stats(result) => stats::on_stats(state, request, result),
        Response::Users(result) => {
            let still_offline =
                state.offline.is_some() && result.as_ref().is_err_and(|e| e.is_offline());
            let effects = users::on_list(state, request, result);
            if still_offline {
                // An administrator's reconnect loop asks for the accounts: try again later.
                return vec![reconnect_later(state)];
            }
            effects
        }
        Response::AccountChanged(action, result) => users::on_changed(state, action, result),
        Response::PasswordReset(result) => dialogs::on_password_reset(state, result),
        Response::UserCreated(result) => dialogs::on_user_created(state, result),
        Response::SessionsEnded(result) => users::on_sessions_ended(state, result),
        Response::OwnSessions(result) => sessions::on_list(state, request, result),
        Response::OwnSessionEnded(id, result) => sessions::on_ended(state, id, result),
        Response::Audit(result) => audit::on_page(state, request, result),
        Response::AuditExported(result) => audit::on_exported(state, result),
        Response::Exported(result) => {
            match result {
                Ok(path) => state.toast(format!("Exported to {path}"), ToastKind::Info),
                Err(message) => state.toast(message, ToastKind::Error),
            }
            Vec::new()
        }
        Response::Doctors(result) => dialogs::patient_form::on_doctors(state, result),
        Response::Duplicates(result) => dialogs::patient_form::on_duplicates(state, result),
        Response::PatientSaved(result) => dialogs::patient_form::on_saved(state, result),
        Response::Unsigned(result) => match result {
            // The status bar's count.
            Ok(stats) => {
                state.unsigned = Some(stats.unsigned);
                Vec::new()
            }
            Err(error) => heartbeat_failed(state, &error),
        },
        Response::Me(result) => match result {
            Ok(_) => Vec::new(),
            Err(error) => heartbeat_failed(state, &error),
        },
    }
}

/// The call that asks whether the server answers (`update::heartbeat`) failed.
fn heartbeat_failed(state: &mut State, error: &ApiError) -> Vec<Effect> {
    let was_offline = state.offline.is_some();
    let effects = handle_error(state, error).unwrap_or_default();
    if was_offline && error.is_offline() {
        // Still offline: try again later.
        return vec![reconnect_later(state)];
    }
    effects
}
