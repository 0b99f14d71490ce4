//! The patient list: the doctor's patients (every doctor's, at the front desk) as a table, scrolled in a window over the rows
//! loaded so far; the next page is fetched before the selection reaches the end.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};
use uuid::Uuid;

use super::is_motion;
use super::paged::{Paged, stop_key};
use crate::client::ApiError;
use crate::model::auth::Role;
use crate::model::page::Page;
use crate::model::patient::{PatientSort, PatientSummary};
use crate::model::query::PatientListParams;
use crate::tui::components::dialogs;
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::layout::{self, table_rows};
use crate::tui::roles;
use crate::tui::state::{Screen, State, ToastKind};
use crate::tui::ui::common::{contact, name, notice};
use crate::tui::update::{handle_error, run_command};

/// Rows fetched per page of the patient list.
pub const PAGE_SIZE: u32 = 50;
pub use super::paged::PREFETCH_MARGIN;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::Open,
    Command::Search,
    Command::RegisterPatient,
    Command::EditPatient,
    Command::CycleSort,
    Command::GoReports,
    Command::Help,
    Command::Back,
];

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
    Command::Open,
    Command::CycleSort,
    Command::RegisterPatient,
    Command::EditPatient,
];

/// The doctor's patient list, paged from the server with cursors ahead of the viewport.
#[derive(Debug, Clone, Default)]
pub struct PatientList {
    pub rows: Paged<PatientSummary>,
    pub sort: PatientSort,
}

/// The call for a page of the list in its current order.
fn page_call(state: &State, request: u64, cursor: Option<String>, limit: u32) -> Effect {
    Effect::Call {
        request,
        call: Call::ListPatients(PatientListParams {
            limit: Some(limit),
            cursor,
            sort: Some(state.patients.sort),
            ..PatientListParams::default()
        }),
    }
}

/// Loads the first page of the patient list.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    state.patients.rows.restart(request);
    vec![page_call(state, request, None, PAGE_SIZE)]
}

/// Loads the list again because something changed on the server, keeping the rows shown
/// until the answer comes and the place in the list.
pub(crate) fn reload(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    let limit = state.patients.rows.reload(request, PAGE_SIZE);
    vec![page_call(state, request, None, limit)]
}

/// Loads the next page when the selection nears the end of what is loaded, or while `G`
/// walks to the last row.
pub(crate) fn prefetch(state: &mut State) -> Vec<Effect> {
    let Some(next) = state.patients.rows.next_page() else {
        return Vec::new();
    };
    let request = state.request();
    state.patients.rows.asked(request);
    let limit = next.limit(PAGE_SIZE);
    vec![page_call(state, request, Some(next.cursor), limit)]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    if is_motion(command) {
        let visible = layout::list_rows(state);
        state.patients.rows.motion(command, page, visible);
        return prefetch(state);
    }
    match command {
        Command::Open => match state.patients.rows.items.get(state.patients.rows.selected) {
            Some(p) => {
                let id = p.id;
                open(state, id)
            }
            None => Vec::new(),
        },
        Command::RegisterPatient => dialogs::patient_form::open_register(state),
        Command::EditPatient => match state.patients.rows.items.get(state.patients.rows.selected) {
            Some(p) => {
                let form = dialogs::PatientForm::contacts(p);
                dialogs::patient_form::open(state, form)
            }
            None => Vec::new(),
        },
        Command::CycleSort => {
            state.patients.sort = match state.patients.sort {
                PatientSort::LastVisitDesc => PatientSort::Name,
                PatientSort::Name => PatientSort::CreatedDesc,
                PatientSort::CreatedDesc => PatientSort::LastVisitDesc,
            };
            // Another order: the list starts again at its first row.
            let request = state.request();
            state.patients.rows.restart_empty(request);
            vec![page_call(state, request, None, PAGE_SIZE)]
        }
        _ => Vec::new(),
    }
}

/// Opens a patient picked from the list or from search: the chart, for a role that reads
/// charts; `open_registration` for one that does not (the front desk).
pub(crate) fn open(state: &mut State, patient_id: Uuid) -> Vec<Effect> {
    if roles::may_show(state, Screen::Chart) {
        super::chart::open(state, patient_id)
    } else {
        open_registration(state, patient_id)
    }
}

/// The front desk's Enter on a patient: the server answers 403 to a receptionist's chart, so
/// none is asked for; the patient's demographics and contacts open in the patient form.
pub(crate) fn open_registration(state: &mut State, patient_id: Uuid) -> Vec<Effect> {
    state.overlay = None;
    let summary = state
        .patients
        .rows
        .items
        .iter()
        .chain(&state.search.results)
        .find(|p| p.id == patient_id)
        .cloned();
    match summary {
        // The front desk's record of a patient: demographics and contacts, to change.
        Some(summary) => {
            let form = dialogs::PatientForm::contacts(&summary);
            dialogs::patient_form::open(state, form)
        }
        None => {
            state.toast(
                "Charts open for doctors only; the front desk has the patient list and search.",
                ToastKind::Info,
            );
            Vec::new()
        }
    }
}

/// A click on a terminal line: a row is selected, a click on the selected row opens it.
pub(crate) fn click(state: &mut State, line: u16) -> Vec<Effect> {
    let Some(row) = layout::list_row_at(state, line) else {
        return Vec::new();
    };
    let index = state.patients.rows.offset + row;
    if index >= state.patients.rows.items.len() {
        return Vec::new();
    }
    if index == state.patients.rows.selected {
        return run_command(state, Command::Open);
    }
    let visible = layout::list_rows(state);
    state.patients.rows.select(index, visible);
    prefetch(state)
}

/// A page of the list; an answer to an older request is dropped.
pub(crate) fn on_page(
    state: &mut State,
    request: u64,
    result: Result<Page<PatientSummary>, ApiError>,
) -> Vec<Effect> {
    if request != state.patients.rows.request {
        return Vec::new();
    }
    match result {
        Ok(page) => {
            let visible = layout::list_rows(state);
            let rows = &mut state.patients.rows;
            let selected = rows.selected_item().map(|p| p.id);
            let replaced = rows.on_page(page.items, page.pagination, visible);
            if let Some(id) = selected.filter(|_| replaced) {
                rows.reselect(|p| p.id == id, visible);
            }
            prefetch(state)
        }
        Err(error) => {
            state.patients.rows.failed();
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.patients.rows.error = Some(error.message);
            Vec::new()
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let sort = match state.patients.sort {
        PatientSort::LastVisitDesc => "last visit",
        PatientSort::Name => "name",
        PatientSort::CreatedDesc => "newest",
    };
    let list = &state.patients.rows;
    let title = format!(
        " Patients · {} · sorted by {sort}{} ",
        list.counts(),
        list.activity(&stop_key(state))
    );
    let block = Block::bordered().title(Line::styled(title, theme.title()));
    if list.items.is_empty() {
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match (&list.error, list.loading, list.loaded_once) {
            (Some(error), _, _) => notice(frame, inner, state, error, true),
            (None, true, _) | (None, false, false) => {
                notice(frame, inner, state, "Loading patients…", false)
            }
            (None, false, true) => notice(frame, inner, state, "No patients yet.", false),
        }
        return;
    }
    let today = state.wall_now.date_naive();
    // The phone column needs room; below 100 columns it gives way so nothing else is cut.
    let phone = area.width >= 100;
    // A receptionist's list spans every doctor: whose patient each is.
    let doctors = state
        .session
        .user
        .as_ref()
        .is_some_and(|u| u.role == Role::Receptionist);
    // Below 100 columns a receptionist's doctor column takes the last visit's place.
    let last_visit = phone || !doctors;
    // Only the visible window becomes table rows: ten thousand loaded patients cost what a
    // screenful does.
    let visible = usize::from(table_rows(area).height).max(1);
    let offset = list.offset.min(list.items.len().saturating_sub(1));
    let rows = list.items.iter().skip(offset).take(visible).map(|p| {
        let mut cells = vec![
            Cell::from(name(state, &p.full_name)),
            Cell::from(p.mrn.clone()),
            Cell::from(if state.privacy {
                format!("•••• ({})", p.age)
            } else {
                format!("{} ({})", p.date_of_birth, p.age)
            }),
            Cell::from(p.sex.as_str()),
        ];
        if phone {
            cells.push(Cell::from(contact(state, p.phone.as_ref())));
        }
        if doctors {
            cells.push(Cell::from(p.doctor.full_name.clone()));
        }
        if !last_visit {
            return Row::new(cells);
        }
        cells.push(Cell::from(
            p.last_visit_at
                .map(|t| {
                    let days = (today - t.date_naive()).num_days();
                    match days {
                        0 => "today".to_string(),
                        1 => "yesterday".to_string(),
                        d => format!("{} ({d} d)", t.format("%Y-%m-%d")),
                    }
                })
                .unwrap_or_else(|| "—".into()),
        ));
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Min(20),
        Constraint::Length(10),
        Constraint::Length(15),
        Constraint::Length(7),
    ];
    let mut header = vec!["Name", "MRN", "Born (age)", "Sex"];
    if phone {
        widths.push(Constraint::Length(17));
        header.push("Phone");
    }
    if doctors {
        widths.push(Constraint::Length(20));
        header.push("Doctor");
    }
    if last_visit {
        widths.push(Constraint::Length(18));
        header.push("Last visit");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
    let mut table_state =
        TableState::default().with_selected(Some(list.selected.saturating_sub(offset)));
    frame.render_stateful_widget(table, area, &mut table_state);
}
