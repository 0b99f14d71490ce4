//! The patient list: the doctor's patients as a table, scrolled in a window over the rows
//! loaded so far; the next page is fetched before the selection reaches the end.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use super::common::{contact, name, notice};
use crate::model::patient::PatientSort;
use crate::tui::state::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let list = &state.patients;
    let sort = match list.sort {
        PatientSort::LastVisitDesc => "last visit",
        PatientSort::Name => "name",
        PatientSort::CreatedDesc => "newest",
    };
    let title = format!(
        " Patients · {} of {} · sorted by {sort}{} ",
        list.items.len(),
        list.total,
        if list.loading { " · loading…" } else { "" }
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
    // Only the visible window becomes table rows: ten thousand loaded patients cost what a
    // screenful does.
    let visible = usize::from(crate::tui::layout::table_rows(area).height).max(1);
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
    widths.push(Constraint::Length(18));
    header.push("Last visit");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
    let mut table_state =
        TableState::default().with_selected(Some(list.selected.saturating_sub(offset)));
    frame.render_stateful_widget(table, area, &mut table_state);
}
