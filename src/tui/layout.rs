//! The workstation's layout, computed in one place: the frame (title line, offline banner,
//! screen, key-hint bar, status bar) and the geometry of a bordered table. `update` uses it for
//! scrolling, page sizes and mouse hits, and the view draws into the same rectangles, so no
//! layout number is repeated between the two.

use ratatui::layout::{Constraint, Layout, Rect};

use super::state::State;

/// The smallest terminal the layout is made for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Rows a page key keeps in view from the page before, so the doctor does not lose their place.
const PAGE_OVERLAP: usize = 2;

/// The frame's parts, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameAreas {
    pub title: Rect,
    /// The offline banner's line, while offline.
    pub offline: Option<Rect>,
    /// What the current screen draws into.
    pub screen: Rect,
    pub hints: Rect,
    pub status: Rect,
}

impl FrameAreas {
    pub fn new(area: Rect, offline: bool) -> FrameAreas {
        let [title, body, hints, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        let (offline, screen) = if offline {
            let [banner, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
            (Some(banner), rest)
        } else {
            (None, body)
        };
        FrameAreas {
            title,
            offline,
            screen,
            hints,
            status,
        }
    }

    /// The frame of the terminal the state was last told about.
    pub fn of(state: &State) -> FrameAreas {
        FrameAreas::new(
            Rect::new(0, 0, state.width, state.height),
            state.offline.is_some(),
        )
    }
}

/// Where the rows of a bordered table with a header line are drawn inside `area`.
pub fn table_rows(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(2),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(3),
    }
}

/// How many rows a list filling the screen shows (at least one).
pub fn list_rows(state: &State) -> usize {
    usize::from(table_rows(FrameAreas::of(state).screen).height).max(1)
}

/// How far PageUp and PageDown move a selection or a scroll.
pub fn page_rows(state: &State) -> usize {
    list_rows(state).saturating_sub(PAGE_OVERLAP).max(1)
}

/// The report browser's parts: the filter chips' line, the list, and the preview beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBrowserAreas {
    pub chips: Rect,
    pub list: Rect,
    pub preview: Rect,
}

impl ReportBrowserAreas {
    pub fn new(screen: Rect) -> ReportBrowserAreas {
        let [chips, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(screen);
        let [list, preview] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        ReportBrowserAreas {
            chips,
            list,
            preview,
        }
    }
}

/// How many rows the report browser's list shows (at least one).
pub fn report_list_rows(state: &State) -> usize {
    let areas = ReportBrowserAreas::new(FrameAreas::of(state).screen);
    usize::from(table_rows(areas.list).height).max(1)
}

/// The statistics screen's parts: the summary line, the bars by status, the daily series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsAreas {
    pub summary: Rect,
    pub by_status: Rect,
    pub daily: Rect,
}

impl StatsAreas {
    pub fn new(screen: Rect) -> StatsAreas {
        // The daily series gets the most room: it is the one with dates to read.
        let [summary, by_status, daily] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Percentage(35),
            Constraint::Min(8),
        ])
        .areas(screen);
        StatsAreas {
            summary,
            by_status,
            daily,
        }
    }
}

/// The list row under a terminal line, if the line is one of the rows the list shows.
pub fn list_row_at(state: &State, line: u16) -> Option<usize> {
    let rows = table_rows(FrameAreas::of(state).screen);
    let row = line.checked_sub(rows.y)?;
    (row < rows.height).then_some(usize::from(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_sits_between_the_bars_and_below_the_offline_banner() {
        let online = FrameAreas::new(Rect::new(0, 0, 80, 24), false);
        assert_eq!(online.screen, Rect::new(0, 1, 80, 21));
        assert_eq!(online.hints.y, 22);
        assert_eq!(online.status.y, 23);
        let offline = FrameAreas::new(Rect::new(0, 0, 80, 24), true);
        assert_eq!(offline.offline, Some(Rect::new(0, 1, 80, 1)));
        assert_eq!(offline.screen, Rect::new(0, 2, 80, 20));
        assert_eq!(table_rows(offline.screen), Rect::new(1, 4, 78, 17));
    }

    #[test]
    fn the_report_list_sits_below_the_chips_beside_the_preview() {
        let screen = FrameAreas::new(Rect::new(0, 0, 80, 24), false).screen;
        let areas = ReportBrowserAreas::new(screen);
        assert_eq!(areas.chips, Rect::new(0, 1, 80, 1));
        assert_eq!(areas.list, Rect::new(0, 2, 44, 20));
        assert_eq!(areas.preview.x, 44);
        assert_eq!(table_rows(areas.list).height, 17);
    }
}
