//! Keys: the lock screen, dialogs and overlays take keys first; then text entry (login, notes);
//! then the keymap turns the key into a command for the current screen.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::*;
use crate::tui::keymap::{Command, Scope, fuzzy_score};
use crate::tui::layout;

pub fn key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        state.quit = true;
        return vec![Effect::Quit];
    }
    if state.lock.locked {
        return lock_key(state, &key);
    }
    if state.dialog.is_some() {
        return dialogs::dialog_key(state, &key);
    }
    if state.screen == Screen::Login {
        return login_key(state, &key);
    }
    match state.overlay.clone() {
        Some(Overlay::Search) => return search_key(state, &key),
        Some(Overlay::Help { .. }) => return help_key(state, &key),
        Some(Overlay::Palette { .. }) => return palette_key(state, &key),
        None => {}
    }
    if state.screen == Screen::Consultation
        && consultation_running(state)
        && let Some(effects) = notes_key(state, &key)
    {
        return effects;
    }
    let scope = scope_of(state.screen);
    match state.settings.keymap.command(&key, scope) {
        Some(command) => {
            // `q` quits from the top screen; Esc there does nothing.
            if command == Command::Back
                && key.code == KeyCode::Char('q')
                && state.history.is_empty()
            {
                state.quit = true;
                return vec![Effect::Quit];
            }
            run_command(state, command)
        }
        None => Vec::new(),
    }
}

/// The mouse, when enabled: the wheel moves the selection like the arrow keys, and a click on
/// a row of the patient list selects it (a second click opens it).
pub fn mouse(state: &mut State, mouse: MouseEvent) -> Vec<Effect> {
    if state.lock.locked || state.dialog.is_some() || state.overlay.is_some() {
        return Vec::new();
    }
    match mouse.kind {
        MouseEventKind::ScrollUp => run_command(state, Command::Up),
        MouseEventKind::ScrollDown => run_command(state, Command::Down),
        MouseEventKind::Down(MouseButton::Left) if state.screen == Screen::Patients => {
            let Some(row) = layout::list_row_at(state, mouse.row) else {
                return Vec::new();
            };
            let index = state.patients.offset + row;
            if index >= state.patients.items.len() {
                return Vec::new();
            }
            if index == state.patients.selected {
                return run_command(state, Command::Open);
            }
            state.patients.selected = index;
            prefetch_patients(state)
        }
        _ => Vec::new(),
    }
}

pub fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if state.lock.locked {
        state.lock.password.insert(text);
        return Vec::new();
    }
    if let Some(dialog) = &mut state.dialog {
        match dialog {
            Dialog::StartConsultation { complaint, .. } => complaint.insert(text),
            Dialog::Sign { password, .. } | Dialog::SessionExpired { password, .. } => {
                password.insert(text)
            }
            Dialog::CancelConsultation { reason } => reason.insert(text),
            Dialog::Addendum { text: field, .. } => field.insert(text),
            Dialog::EditReport { editor, .. } => editor.insert(text),
        }
        return Vec::new();
    }
    if state.screen == Screen::Login {
        match state.login.focus {
            LoginFocus::Email => state.login.email.insert(text),
            LoginFocus::Password => state.login.password.insert(text),
        }
        return Vec::new();
    }
    match &mut state.overlay {
        Some(Overlay::Search) => {
            state.search.input.insert(text);
            return search_edited(state);
        }
        // An overlay takes the paste; the notes hidden below it must not.
        Some(Overlay::Help { filter }) => {
            filter.insert(text);
            return Vec::new();
        }
        Some(Overlay::Palette { input, selected }) => {
            input.insert(text);
            *selected = 0;
            return Vec::new();
        }
        None => {}
    }
    if state.screen == Screen::Consultation && consultation_running(state) {
        state.consultation.notes.insert(text);
        return notes_edited(state);
    }
    Vec::new()
}

fn scope_of(screen: Screen) -> Scope {
    match screen {
        Screen::Patients | Screen::Login => Scope::Patients,
        Screen::Chart => Scope::Chart,
        Screen::Reports => Scope::Reports,
        Screen::Report => Scope::Report,
        Screen::Consultation => Scope::Consultation,
        Screen::Stats => Scope::Stats,
    }
}

fn consultation_running(state: &State) -> bool {
    state
        .consultation
        .consultation
        .as_ref()
        .is_some_and(|c| c.status == crate::model::consultation::ConsultationStatus::InProgress)
}

fn lock_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Submit) if !state.lock.busy && !state.lock.password.value.is_empty() => {
            let Some(email) = state.session.user.as_ref().map(|u| u.email.clone()) else {
                return Vec::new();
            };
            let password = std::mem::take(&mut state.lock.password).value;
            state.lock.busy = true;
            state.lock.error = None;
            vec![call(state, Call::Unlock { email, password })]
        }
        _ => {
            state.lock.password.edit(key);
            Vec::new()
        }
    }
}

fn login_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let login = &mut state.login;
    match key.code {
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Down | KeyCode::Up => {
            login.focus = match login.focus {
                LoginFocus::Email => LoginFocus::Password,
                LoginFocus::Password => LoginFocus::Email,
            };
            Vec::new()
        }
        KeyCode::Enter => {
            if login.busy {
                return Vec::new();
            }
            if login.focus == LoginFocus::Email {
                login.focus = LoginFocus::Password;
                return Vec::new();
            }
            let email = login.email.value.trim().to_string();
            if email.is_empty() || login.password.value.is_empty() {
                login.error = Some("Enter your email and password.".into());
                return Vec::new();
            }
            let password = std::mem::take(&mut login.password).value;
            login.busy = true;
            login.error = None;
            vec![call(state, Call::Login { email, password })]
        }
        KeyCode::Esc => Vec::new(),
        _ => {
            match login.focus {
                LoginFocus::Email => login.email.edit(key),
                LoginFocus::Password => login.password.edit(key),
            };
            Vec::new()
        }
    }
}

fn search_edited(state: &mut State) -> Vec<Effect> {
    state.search.edits += 1;
    state.search.selected = 0;
    vec![Effect::After {
        delay_ms: state.settings.search_debounce_ms,
        timer: Timer::Search(state.search.edits),
    }]
}

fn search_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            state.overlay = None;
            Vec::new()
        }
        KeyCode::Up => {
            state.search.selected = state.search.selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Down => {
            if state.search.selected + 1 < state.search.results.len() {
                state.search.selected += 1;
            }
            Vec::new()
        }
        KeyCode::Enter => match state.search.results.get(state.search.selected) {
            Some(patient) => {
                let id = patient.id;
                open_chart(state, id)
            }
            // Enter before the debounce ran: search at once.
            None => search_now(state),
        },
        _ => {
            if state.search.input.edit(key) {
                search_edited(state)
            } else {
                Vec::new()
            }
        }
    }
}

fn help_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    if let Some(Overlay::Help { filter }) = &mut state.overlay {
        match key.code {
            KeyCode::Esc | KeyCode::Enter => state.overlay = None,
            KeyCode::F(1) => state.overlay = None,
            KeyCode::Char('?') if filter.value.is_empty() => state.overlay = None,
            _ => {
                filter.edit(key);
            }
        }
    }
    Vec::new()
}

/// The palette's commands matching what is typed, best first.
pub fn palette_matches(input: &str) -> Vec<Command> {
    let mut scored: Vec<(usize, Command)> = Command::on_screens()
        .filter_map(|c| {
            let by_description = fuzzy_score(input, c.description());
            let by_name = fuzzy_score(input, c.name());
            by_description
                .into_iter()
                .chain(by_name)
                .min()
                .map(|score| (score, c))
        })
        .collect();
    scored.sort_by_key(|(score, _)| *score);
    scored.into_iter().map(|(_, c)| c).collect()
}

fn palette_key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(Overlay::Palette { input, selected }) = &mut state.overlay else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => {
            state.overlay = None;
            Vec::new()
        }
        KeyCode::Up => {
            *selected = selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Down => {
            *selected += 1;
            let count = palette_matches(&input.value).len();
            if *selected >= count {
                *selected = count.saturating_sub(1);
            }
            Vec::new()
        }
        KeyCode::Enter => {
            let chosen = palette_matches(&input.value).get(*selected).copied();
            state.overlay = None;
            match chosen {
                Some(command) => run_command(state, command),
                None => Vec::new(),
            }
        }
        _ => {
            if input.edit(key) {
                *selected = 0;
            }
            Vec::new()
        }
    }
}

fn notes_edited(state: &mut State) -> Vec<Effect> {
    state.consultation.edits += 1;
    vec![Effect::After {
        delay_ms: state.settings.notes_debounce_ms,
        timer: Timer::SaveNotes(state.consultation.edits),
    }]
}

/// The notes editor takes text keys; returns `None` for keys it leaves to the keymap.
fn notes_key(state: &mut State, key: &KeyEvent) -> Option<Vec<Effect>> {
    // The consultation's own keys (stop, cancel) win over typing, whatever they are bound to.
    if let Some(command) = state.settings.keymap.own_command(key, Scope::Consultation) {
        return Some(run_command(state, command));
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Esc | KeyCode::F(_) => None,
        KeyCode::Char(_) if ctrl || alt => None,
        KeyCode::PageUp | KeyCode::PageDown => None,
        _ => {
            if state.consultation.notes.edit(key) {
                Some(notes_edited(state))
            } else {
                Some(Vec::new())
            }
        }
    }
}

/// Moves a selection within `len` rows.
fn moved(selected: usize, len: usize, command: Command, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match command {
        Command::Up => selected.saturating_sub(1),
        Command::Down => (selected + 1).min(last),
        Command::PageUp => selected.saturating_sub(page),
        Command::PageDown => (selected + page).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        _ => selected,
    }
}

fn is_motion(command: Command) -> bool {
    matches!(
        command,
        Command::Up
            | Command::Down
            | Command::PageUp
            | Command::PageDown
            | Command::Top
            | Command::Bottom
    )
}

/// Runs a command from the keymap or the palette.
pub fn run_command(state: &mut State, command: Command) -> Vec<Effect> {
    let page = layout::page_rows(state);
    match command {
        Command::Quit => {
            state.quit = true;
            vec![Effect::Quit]
        }
        Command::Back => back(state),
        Command::Search => {
            state.overlay = Some(Overlay::Search);
            Vec::new()
        }
        Command::Help => {
            state.overlay = Some(Overlay::Help {
                filter: Default::default(),
            });
            Vec::new()
        }
        Command::Palette => {
            state.overlay = Some(Overlay::Palette {
                input: Default::default(),
                selected: 0,
            });
            Vec::new()
        }
        Command::GoPatients => {
            state.history.clear();
            state.screen = Screen::Patients;
            if state.patients.items.is_empty() && !state.patients.loading {
                return load_patients(state);
            }
            Vec::new()
        }
        Command::GoReports => {
            state.go(Screen::Reports);
            load_reports(state)
        }
        Command::GoStats => {
            state.go(Screen::Stats);
            load_stats(state)
        }
        Command::Lock => {
            lock(state);
            Vec::new()
        }
        Command::Privacy => {
            state.privacy = !state.privacy;
            Vec::new()
        }
        Command::Refresh => refresh(state),
        _ => screen_command(state, command, page),
    }
}

fn back(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.screen == Screen::Consultation {
        // Leaving the notes saves them now rather than after the pause.
        effects.extend(save_notes(state));
    }
    if let Some(previous) = state.history.pop() {
        state.screen = previous;
    }
    effects
}

fn refresh(state: &mut State) -> Vec<Effect> {
    match state.screen {
        Screen::Patients => load_patients(state),
        Screen::Chart => match state.chart.patient_id {
            Some(id) => {
                state.screen = Screen::Patients;
                let previous = state.history.clone();
                let effects = open_chart(state, id);
                state.history = previous;
                effects
            }
            None => Vec::new(),
        },
        Screen::Reports => load_reports(state),
        Screen::Stats => load_stats(state),
        Screen::Report => match state.report.report.ready().map(|r| r.summary.id) {
            Some(id) => vec![call(state, Call::Report(id))],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn screen_command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    match state.screen {
        Screen::Patients => {
            if is_motion(command) {
                let len = state.patients.items.len();
                state.patients.selected = moved(state.patients.selected, len, command, page);
                let visible = layout::list_rows(state);
                let list = &mut state.patients;
                if list.selected < list.offset {
                    list.offset = list.selected;
                } else if list.selected >= list.offset + visible {
                    list.offset = list.selected + 1 - visible;
                }
                return prefetch_patients(state);
            }
            match command {
                Command::Open => match state.patients.items.get(state.patients.selected) {
                    Some(p) => {
                        let id = p.id;
                        open_chart(state, id)
                    }
                    None => Vec::new(),
                },
                Command::CycleSort => {
                    use crate::model::patient::PatientSort;
                    state.patients.sort = match state.patients.sort {
                        PatientSort::LastVisitDesc => PatientSort::Name,
                        PatientSort::Name => PatientSort::CreatedDesc,
                        PatientSort::CreatedDesc => PatientSort::LastVisitDesc,
                    };
                    state.patients.selected = 0;
                    state.patients.items.clear();
                    load_patients(state)
                }
                _ => Vec::new(),
            }
        }
        Screen::Chart => {
            let reports_len = state.chart.reports.ready().map_or(0, Vec::len);
            if is_motion(command) {
                state.chart.selected_report =
                    moved(state.chart.selected_report, reports_len, command, page);
                return Vec::new();
            }
            match command {
                Command::Open => {
                    let Some(reports) = state.chart.reports.ready() else {
                        return Vec::new();
                    };
                    let Some(selected) = reports.get(state.chart.selected_report) else {
                        return Vec::new();
                    };
                    let id = selected.id;
                    let siblings = reports.iter().map(|r| r.id).collect();
                    open_report(state, id, siblings)
                }
                Command::StartConsultation => start_or_resume(state),
                Command::PatientReports => {
                    let Some(patient) = state.patient() else {
                        return Vec::new();
                    };
                    let chip = (patient.summary.id, patient.summary.full_name.clone());
                    state.reports.patient = Some(chip);
                    state.reports.selected = 0;
                    state.go(Screen::Reports);
                    load_reports(state)
                }
                Command::OpenConsultation => match state
                    .patient()
                    .and_then(|p| p.summary.active_consultation_id)
                {
                    Some(id) => vec![call(state, Call::Consultation(id))],
                    None => {
                        state.toast(
                            "No consultation is running for this patient.",
                            ToastKind::Info,
                        );
                        Vec::new()
                    }
                },
                _ => Vec::new(),
            }
        }
        Screen::Reports => {
            let len = state.reports.items.ready().map_or(0, Vec::len);
            if is_motion(command) {
                let before = state.reports.selected;
                state.reports.selected = moved(before, len, command, page);
                if state.reports.selected != before || state.reports.preview.is_none() {
                    return preview_selected_report(state);
                }
                return Vec::new();
            }
            match command {
                Command::Open => {
                    let Some(items) = state.reports.items.ready() else {
                        return Vec::new();
                    };
                    let Some(selected) = items.get(state.reports.selected) else {
                        return Vec::new();
                    };
                    let id = selected.id;
                    let siblings = items.iter().map(|r| r.id).collect();
                    open_report(state, id, siblings)
                }
                Command::CycleSessionType => {
                    use crate::model::consultation::SessionType;
                    let all = SessionType::ALL;
                    state.reports.session_type = match state.reports.session_type {
                        None => Some(all[0]),
                        Some(current) => all
                            .iter()
                            .position(|t| *t == current)
                            .and_then(|i| all.get(i + 1))
                            .copied(),
                    };
                    state.reports.selected = 0;
                    load_reports(state)
                }
                Command::CycleDateRange => {
                    state.reports.within_days = match state.reports.within_days {
                        None => Some(7),
                        Some(7) => Some(30),
                        Some(30) => Some(90),
                        Some(90) => Some(365),
                        Some(_) => None,
                    };
                    state.reports.selected = 0;
                    load_reports(state)
                }
                Command::ClearFilters => {
                    let reports = &mut state.reports;
                    reports.status = None;
                    reports.session_type = None;
                    reports.within_days = None;
                    reports.patient = None;
                    reports.selected = 0;
                    load_reports(state)
                }
                Command::CycleStatus => {
                    use crate::model::report::ReportStatus::*;
                    state.reports.status = match state.reports.status {
                        None => Some(Completed),
                        Some(Completed) => Some(Signed),
                        Some(Signed) => Some(Pending),
                        Some(Pending) => Some(Generating),
                        Some(Generating) => Some(Failed),
                        Some(Failed) => None,
                    };
                    state.reports.selected = 0;
                    load_reports(state)
                }
                _ => Vec::new(),
            }
        }
        Screen::Report => report_command(state, command, page),
        Screen::Consultation => match command {
            Command::StopConsultation if consultation_running(state) => {
                let Some(id) = state.consultation.consultation.as_ref().map(|c| c.id) else {
                    return Vec::new();
                };
                let notes = state.consultation.notes.text();
                state.consultation.saved_edits = state.consultation.edits;
                vec![call(state, Call::Stop { id, notes })]
            }
            Command::CancelConsultation if consultation_running(state) => {
                state.dialog = Some(Dialog::CancelConsultation {
                    reason: Default::default(),
                });
                Vec::new()
            }
            Command::Open => {
                let report = state
                    .consultation
                    .consultation
                    .as_ref()
                    .and_then(|c| c.report_id);
                let ready = matches!(
                    state.consultation.report_status,
                    Some(crate::model::report::ReportStatus::Completed)
                        | Some(crate::model::report::ReportStatus::Failed)
                );
                match report {
                    Some(id) if ready => open_report(state, id, vec![id]),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        },
        Screen::Stats | Screen::Login => Vec::new(),
    }
}

fn start_or_resume(state: &mut State) -> Vec<Effect> {
    let Some(patient) = state.patient() else {
        return Vec::new();
    };
    if let Some(running) = patient.summary.active_consultation_id {
        state.toast(
            "A consultation is already running for this patient: resuming it.",
            ToastKind::Info,
        );
        return vec![call(state, Call::Consultation(running))];
    }
    state.dialog = Some(Dialog::StartConsultation {
        session_type: crate::model::consultation::SessionType::FollowUp,
        complaint: Default::default(),
    });
    Vec::new()
}

fn report_command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    match command {
        Command::Up => state.report.scroll = state.report.scroll.saturating_sub(1),
        Command::Down => state.report.scroll = state.report.scroll.saturating_add(1),
        Command::PageUp => state.report.scroll = state.report.scroll.saturating_sub(page as u16),
        Command::PageDown => state.report.scroll = state.report.scroll.saturating_add(page as u16),
        Command::Top => state.report.scroll = 0,
        Command::NextReport | Command::PreviousReport => {
            let len = state.report.siblings.len();
            if len == 0 {
                return Vec::new();
            }
            let position = state.report.position;
            let next = if command == Command::NextReport {
                (position + 1).min(len - 1)
            } else {
                position.saturating_sub(1)
            };
            if next == position {
                return Vec::new();
            }
            let id = state.report.siblings[next];
            state.report.position = next;
            state.report.scroll = 0;
            state.report.report = Load::Loading;
            return vec![call(state, Call::Report(id))];
        }
        Command::Sign => {
            use crate::model::report::ReportStatus;
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            match report.summary.status {
                ReportStatus::Completed => {
                    state.dialog = Some(Dialog::Sign {
                        report_id: report.summary.id,
                        confirmed: false,
                        yes: false,
                        password: Default::default(),
                        error: None,
                        busy: false,
                    });
                }
                ReportStatus::Signed => state.toast(
                    "This report is already signed; add an addendum with a.",
                    ToastKind::Info,
                ),
                other => state.toast(
                    format!("A {} report cannot be signed.", other.as_str()),
                    ToastKind::Info,
                ),
            }
        }
        Command::Edit => {
            use crate::model::report::ReportStatus;
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            if report.summary.status != ReportStatus::Completed {
                state.toast("Only a completed draft can be edited.", ToastKind::Info);
                return Vec::new();
            }
            let section = Section::Assessment;
            let text = section.get(&report.content).cloned().unwrap_or_default();
            state.dialog = Some(Dialog::EditReport {
                report_id: report.summary.id,
                version: report.version,
                section,
                editor: crate::tui::input::Notes::from_text(&text),
            });
        }
        Command::Addendum => {
            use crate::model::report::ReportStatus;
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            if report.summary.status != ReportStatus::Signed {
                state.toast(
                    "Addenda are for signed reports; edit the draft instead.",
                    ToastKind::Info,
                );
                return Vec::new();
            }
            state.dialog = Some(Dialog::Addendum {
                report_id: report.summary.id,
                text: Default::default(),
            });
        }
        _ => {}
    }
    Vec::new()
}
