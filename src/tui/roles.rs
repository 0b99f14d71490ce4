//! Who sees what: the one place that says which screens and commands each role may use in the
//! workstation, so nothing is offered (a tab, a hint, help, the palette, a key) that the server
//! would answer 403. It follows the server's rules (docs/API.md, Roles): a doctor does the
//! clinical work; a receptionist lists and searches the patients of every doctor but opens no
//! chart, report or consultation; an administrator manages accounts and reads no clinical data.

use super::keymap::Command;
use super::state::{Screen, State};
use crate::model::auth::Role;

/// The screens a doctor moves between: every one but the administrator's.
const DOCTOR_SCREENS: &[Screen] = &[
    Screen::Patients,
    Screen::Chart,
    Screen::Reports,
    Screen::Report,
    Screen::Consultation,
    Screen::Stats,
    Screen::Running,
    Screen::Recent,
    Screen::PastNotes,
    Screen::Sessions,
    Screen::MfaEnroll,
];

/// The front desk: the patient list of every doctor, and search over it.
const RECEPTIONIST_SCREENS: &[Screen] = &[Screen::Patients, Screen::Sessions, Screen::MfaEnroll];

const ADMIN_SCREENS: &[Screen] = &[
    Screen::Users,
    Screen::Audit,
    Screen::Sessions,
    Screen::MfaEnroll,
];

/// The screens `role` may be on after logging in.
pub fn screens(role: Role) -> &'static [Screen] {
    match role {
        Role::Doctor => DOCTOR_SCREENS,
        Role::Receptionist => RECEPTIONIST_SCREENS,
        Role::Admin => ADMIN_SCREENS,
    }
}

/// The screen `role` lands on after logging in, and that the first tab goes to.
pub fn home(role: Role) -> Screen {
    screens(role)[0]
}

/// Whether `role` may be on `screen`.
pub fn shows(role: Role, screen: Screen) -> bool {
    screens(role).contains(&screen)
}

/// Whether `role` may run `command` at all (whether it does something on the current screen
/// is `screens::works_here`'s to say). A command that leads to a screen is the role's when the
/// screen is; the others follow the data they read or change.
pub fn allows(role: Role, command: Command) -> bool {
    let shows = |screen| shows(role, screen);
    match command {
        Command::GoPatients
        | Command::Search
        | Command::CycleSort
        | Command::RegisterPatient
        | Command::EditPatient => shows(Screen::Patients),
        Command::GoReports | Command::Drafts | Command::PatientReports => shows(Screen::Reports),
        Command::GoStats | Command::CycleStatsWindow => shows(Screen::Stats),
        Command::RunningConsultations => shows(Screen::Running),
        Command::RecentPatients => shows(Screen::Recent),
        // Every role has its own sessions.
        Command::OwnSessions | Command::EndOwnSession => shows(Screen::Sessions),
        // Every role may set up a second factor.
        Command::SetUpMfa => shows(Screen::MfaEnroll),
        // The notices that name something name a report.
        Command::OpenNotice => shows(Screen::Report),
        // A doctor's own reports and charts, as the server reads them.
        Command::Export => shows(Screen::Reports) && shows(Screen::Chart),
        Command::NextPane
        | Command::StartConsultation
        | Command::OpenConsultation
        | Command::StopConsultation
        | Command::CancelConsultation => shows(Screen::Chart),
        Command::NextReport
        | Command::PreviousReport
        | Command::Edit
        | Command::Sign
        | Command::Addendum
        | Command::CycleStatus
        | Command::CycleSessionType
        | Command::CycleDateRange => shows(Screen::Reports),
        // The report browser's filters and the audit browser's.
        Command::ClearFilters => shows(Screen::Reports) || shows(Screen::Audit),
        Command::FilterRows => shows(Screen::Users) || shows(Screen::Audit),
        Command::GoUsers
        | Command::NewUser
        | Command::UnlockUser
        | Command::DisableUser
        | Command::EnableUser
        | Command::ResetPassword
        | Command::EndSessions => shows(Screen::Users),
        Command::GoAudit | Command::NextPage | Command::PreviousPage | Command::ExportRows => {
            shows(Screen::Audit)
        }
        // Open, motion, reload, the lock, privacy, help, the palette, back, quit and the
        // dialogs' keys: what they reach is the screen's, and the screen is the role's.
        Command::Open
        | Command::Back
        | Command::Up
        | Command::Down
        | Command::PageUp
        | Command::PageDown
        | Command::Top
        | Command::Bottom
        | Command::Refresh
        | Command::Lock
        | Command::Privacy
        | Command::Help
        | Command::Palette
        | Command::Quit
        | Command::Submit
        | Command::Dismiss
        | Command::Save
        | Command::NextSection
        | Command::PreviousSection
        | Command::AddRow
        | Command::RemoveRow
        | Command::NextChoice
        | Command::PreviousChoice
        | Command::Yes
        | Command::No => true,
    }
}

/// Whether `role` does clinical work: the unsigned count in the status bar, the running
/// consultations at login and the live event stream are a doctor's (the server answers 403 to
/// the others).
pub fn clinical(role: Role) -> bool {
    role == Role::Doctor
}

/// The role of whoever is logged in.
pub fn role(state: &State) -> Option<Role> {
    state.session.user.as_ref().map(|user| user.role)
}

/// Whether the person logged in may run `command`; before login nothing is gated here (the
/// login screen takes its own keys).
pub fn allowed(state: &State, command: Command) -> bool {
    role(state).is_none_or(|role| allows(role, command))
}

/// Whether the person logged in may be on `screen`.
pub fn may_show(state: &State, screen: Screen) -> bool {
    role(state).is_none_or(|role| shows(role, screen))
}

/// Whether the person logged in does clinical work (see `clinical`).
pub fn is_clinical(state: &State) -> bool {
    role(state).is_some_and(clinical)
}

/// What a key for a command the role may not use says, instead of sending a call that would
/// answer 403.
pub fn refusal(role: Role, command: Command) -> String {
    format!(
        "{} is not part of the {} workstation.",
        command.description(),
        role_name(role)
    )
}

/// The role as the interface names it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Doctor => "doctor's",
        Role::Receptionist => "front desk's",
        Role::Admin => "administrator's",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::auth::User;
    use crate::tui::screens::works_here;
    use crate::tui::state::{SessionInfo, Settings};
    use strum::VariantArray;

    fn state_of(role: Role, screen: Screen) -> State {
        let mut state = State::new(SessionInfo::default(), Settings::default());
        state.session.user = Some(User {
            id: uuid::Uuid::from_u128(1),
            email: "someone@clinic.test".into(),
            full_name: "Someone".into(),
            role,
            created_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        });
        state.screen = screen;
        state
    }

    /// The role matrix: on each screen a role can reach, everything help, the palette and the
    /// hint bar offer (what `works_here` says) is the role's; the screens a command leads to
    /// are the role's; the role's home is one of its screens.
    #[test]
    fn every_command_offered_on_a_reachable_screen_is_allowed() {
        for role in Role::VARIANTS.iter().copied() {
            assert!(shows(role, home(role)), "{role:?}");
            for screen in screens(role).iter().copied() {
                let mut state = state_of(role, screen);
                // With somewhere to go back to, and a notice naming a report, so the commands
                // that depend on them are asked about too.
                state.history.push(home(role));
                state.notice(
                    "Report ready",
                    crate::tui::state::ToastKind::Info,
                    crate::tui::state::Jump::Report(uuid::Uuid::from_u128(2)),
                );
                for command in Command::on_screens() {
                    if works_here(&state, command) {
                        assert!(
                            allows(role, command),
                            "{role:?} is offered {command:?} on {screen:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_doctor_keeps_every_screen_and_command() {
        // Every command but the administrator's own.
        let administrators = |command| {
            allows(Role::Admin, command)
                && !matches!(
                    command,
                    Command::ClearFilters
                        | Command::OwnSessions
                        | Command::SetUpMfa
                        | Command::EndOwnSession
                        | Command::Open
                        | Command::Back
                        | Command::Up
                        | Command::Down
                        | Command::PageUp
                        | Command::PageDown
                        | Command::Top
                        | Command::Bottom
                        | Command::Refresh
                        | Command::Lock
                        | Command::Privacy
                        | Command::Help
                        | Command::Palette
                        | Command::Quit
                )
                && !command.in_dialogs()
        };
        for command in Command::all() {
            assert_eq!(
                allows(Role::Doctor, command),
                !administrators(command),
                "{command:?}"
            );
        }
        assert_eq!(home(Role::Doctor), Screen::Patients);
    }

    #[test]
    fn the_front_desk_has_the_list_and_search_and_nothing_clinical() {
        let role = Role::Receptionist;
        assert_eq!(
            screens(role),
            &[Screen::Patients, Screen::Sessions, Screen::MfaEnroll]
        );
        for command in [
            Command::GoPatients,
            Command::Search,
            Command::Open,
            Command::OwnSessions,
        ] {
            assert!(allows(role, command), "{command:?}");
        }
        for command in [
            Command::GoReports,
            Command::GoStats,
            Command::Drafts,
            Command::RunningConsultations,
            Command::RecentPatients,
            Command::StartConsultation,
            Command::OpenNotice,
        ] {
            assert!(!allows(role, command), "{command:?}");
        }
        assert!(!clinical(role));
    }

    #[test]
    fn the_administrator_has_no_patient_screens() {
        let role = Role::Admin;
        assert_eq!(home(role), Screen::Users);
        for command in [
            Command::GoPatients,
            Command::Search,
            Command::GoReports,
            Command::GoStats,
            Command::Drafts,
            Command::RecentPatients,
        ] {
            assert!(!allows(role, command), "{command:?}");
        }
        for command in [
            Command::Help,
            Command::Lock,
            Command::Quit,
            Command::OwnSessions,
        ] {
            assert!(allows(role, command), "{command:?}");
        }
        assert!(!clinical(role));
    }
}
