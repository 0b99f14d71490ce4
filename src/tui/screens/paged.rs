//! A list paged from the server with cursors, as the patient list and the report browser show
//! it: the rows loaded so far, the selection and the first row drawn, the next page fetched
//! before the selection reaches the end, and `G`/End reaching the true last row.
//!
//! `G`/End loads the pages that remain, one after the other, with the cursor the server gave,
//! rather than asking for the last page some other way: the rows then stay one contiguous run
//! from the first row, so row numbers, `k` from the last row and the next sort are the same as
//! after scrolling there, and a keyset page costs the same however deep it is. The walk is
//! bounded (`JUMP_ROWS` more rows per key press), shows its progress in the list's title and
//! stops at any other motion key or Esc, keeping what it loaded.

use crossterm::event::KeyCode;

use crate::model::page::{MAX_LIMIT, Pagination};
use crate::tui::keymap::{Command, Key};
use crate::tui::state::State;

use super::moved;

/// Fetch the next page when the selection comes this close to the end of what is loaded.
pub const PREFETCH_MARGIN: usize = 15;

/// The most rows one `G`/End loads before it stops and says so (another `G` goes on): a list
/// of this many rows is still a few megabytes in the workstation.
pub const JUMP_ROWS: usize = 20_000;

/// Rows per page while `G`/End walks to the end: the largest page the server gives.
pub const JUMP_PAGE: u32 = MAX_LIMIT;

/// A list of `T` loaded page by page.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub next_cursor: Option<String>,
    pub loading: bool,
    pub error: Option<String>,
    pub selected: usize,
    /// The first row drawn: only the visible window is rendered, however many rows are loaded.
    pub offset: usize,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
    pub loaded_once: bool,
    /// While `G`/End walks to the last row: how many rows it may have loaded before it stops.
    pub jump_until: Option<usize>,
}

impl<T> Default for Paged<T> {
    fn default() -> Paged<T> {
        Paged {
            items: Vec::new(),
            total: 0,
            next_cursor: None,
            loading: false,
            error: None,
            selected: 0,
            offset: 0,
            request: 0,
            loaded_once: false,
            jump_until: None,
        }
    }
}

/// The next page a list asks for: after this cursor, and whether for the walk to the last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage {
    pub cursor: String,
    pub to_end: bool,
}

impl NextPage {
    /// The page size to ask: the list's own, or the largest while walking to the last row.
    pub fn limit(&self, page_size: u32) -> u32 {
        if self.to_end { JUMP_PAGE } else { page_size }
    }
}

impl<T> Paged<T> {
    /// The first page is on its way (a reload): the rows shown stay until it replaces them.
    pub fn restart(&mut self, request: u64) {
        self.request = request;
        self.loading = true;
        self.error = None;
        self.next_cursor = None;
        self.jump_until = None;
    }

    /// Like `restart`, with the old rows gone at once and the list drawn from its first row
    /// (another order or other filters).
    pub fn restart_empty(&mut self, request: u64) {
        self.restart(request);
        self.items.clear();
        self.selected = 0;
        self.offset = 0;
    }

    /// Like `restart`, for a reload the doctor did not ask for (something changed on the
    /// server): as many rows as are loaded now are asked again (up to the largest page), so
    /// the place in the list survives. Returns the page size to ask.
    pub fn reload(&mut self, request: u64, page_size: u32) -> u32 {
        self.restart(request);
        u32::try_from(self.items.len())
            .unwrap_or(JUMP_PAGE)
            .clamp(page_size, JUMP_PAGE)
    }

    /// The row selected now, if any.
    pub fn selected_item(&self) -> Option<&T> {
        self.items.get(self.selected)
    }

    /// After the rows were replaced: selects the row `is_it` names again where it still is, so
    /// a row added above it does not move the selection onto another row.
    pub fn reselect(&mut self, is_it: impl Fn(&T) -> bool, visible: usize) {
        if self.jumping() {
            return;
        }
        if let Some(index) = self.items.iter().position(is_it) {
            self.selected = index;
            self.scroll_into_view(visible);
        }
    }

    /// The page `next_page` named was asked for under `request`.
    pub fn asked(&mut self, request: u64) {
        self.request = request;
        self.loading = true;
    }

    /// Whether `G`/End is walking to the last row.
    pub fn jumping(&self) -> bool {
        self.jump_until.is_some()
    }

    /// Stops a walk to the last row; the rows loaded stay. Whether one was under way.
    pub fn stop_jump(&mut self) -> bool {
        self.jump_until.take().is_some()
    }

    /// A motion key: moves the selection and keeps it in the `visible` rows drawn (`next_page`
    /// then says what to fetch). `G`/End with more pages on the server starts the walk to the
    /// last row; any other motion stops one.
    pub fn motion(&mut self, command: Command, page: usize, visible: usize) {
        if command == Command::Bottom && self.next_cursor.is_some() {
            if !self.jumping() {
                self.jump_until = Some(self.items.len() + JUMP_ROWS);
            }
        } else {
            self.stop_jump();
        }
        self.selected = moved(self.selected, self.items.len(), command, page);
        self.scroll_into_view(visible);
    }

    /// Selects row `index` (a click), as a motion would.
    pub fn select(&mut self, index: usize, visible: usize) {
        self.stop_jump();
        self.selected = index.min(self.items.len().saturating_sub(1));
        self.scroll_into_view(visible);
    }

    /// Moves the first row drawn so the selection is among the `visible` rows and, where
    /// there are rows enough, the window is full rather than one row above blanks.
    pub fn scroll_into_view(&mut self, visible: usize) {
        let visible = visible.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + visible {
            self.offset = self.selected + 1 - visible;
        }
        self.offset = self.offset.min(self.items.len().saturating_sub(visible));
    }

    /// The page to fetch now: the next one when the selection nears the end of what is loaded
    /// or a walk to the last row goes on; none while one is on its way or none is left.
    pub fn next_page(&self) -> Option<NextPage> {
        let cursor = self.next_cursor.clone()?;
        if self.loading {
            return None;
        }
        let to_end = self.jumping();
        (to_end || self.selected + PREFETCH_MARGIN >= self.items.len())
            .then_some(NextPage { cursor, to_end })
    }

    /// A page arrived for the awaited request: the first page replaces the rows (the
    /// selection stays where it was, within the rows now there), a next page follows them. A
    /// walk to the last row selects the last row loaded and goes on, or stops at the end or at
    /// its bound.
    /// Whether the page replaced the rows (a first page) rather than followed them.
    pub fn on_page(&mut self, items: Vec<T>, pagination: Pagination, visible: usize) -> bool {
        self.loading = false;
        let appending = self.loaded_once && self.next_cursor.is_some();
        if !appending {
            self.items.clear();
        }
        self.items.extend(items);
        self.total = pagination.total;
        self.next_cursor = pagination.next_cursor;
        self.loaded_once = true;
        self.error = None;
        let last = self.items.len().saturating_sub(1);
        if let Some(until) = self.jump_until {
            self.selected = last;
            if self.next_cursor.is_none() || self.items.len() >= until {
                self.jump_until = None;
            }
        }
        self.selected = self.selected.min(last);
        self.scroll_into_view(visible);
        !appending
    }

    /// The awaited page failed: the rows loaded stay, a walk to the last row stops. The screen
    /// sets `error` when the failure is its to show.
    pub fn failed(&mut self) {
        self.loading = false;
        self.jump_until = None;
    }

    /// How much is loaded, for the title: `120 of 588`.
    pub fn counts(&self) -> String {
        format!("{} of {}", self.items.len(), self.total)
    }

    /// What the list is doing, for the end of the title: loading, or walking to the end and
    /// how to stop it; empty when idle.
    pub fn activity(&self, stop_key: &str) -> String {
        if self.jumping() {
            format!(" · to end… {stop_key} stops")
        } else if self.loading {
            " · loading…".to_string()
        } else {
            String::new()
        }
    }
}

/// The key that stops a walk to the last row, as the title names it: Esc (Back's key that does
/// not also quit from the first screen), or whatever Back is bound to.
pub fn stop_key(state: &State) -> String {
    let keys = state.settings.keymap.keys_for(Command::Back);
    keys.iter()
        .find(|k| k.code == KeyCode::Esc)
        .or(keys.first())
        .map(Key::label)
        .unwrap_or_else(|| Command::Back.name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pagination(total: u64, next: Option<&str>) -> Pagination {
        Pagination {
            total,
            limit: 50,
            offset: 0,
            has_more: next.is_some(),
            next_cursor: next.map(str::to_string),
        }
    }

    #[test]
    fn a_walk_to_the_end_is_bounded() {
        let mut list = Paged::<usize>::default();
        list.restart(1);
        list.on_page((0..50).collect(), pagination(100_000, Some("c")), 10);
        list.motion(Command::Bottom, 8, 10);
        assert_eq!(list.next_page().map(|p| p.limit(50)), Some(JUMP_PAGE));
        let mut loaded = 50;
        while list.jumping() {
            list.asked(2);
            list.on_page((0..100).collect(), pagination(100_000, Some("c")), 10);
            loaded += 100;
        }
        assert!((50 + JUMP_ROWS..50 + JUMP_ROWS + 100).contains(&loaded));
        assert_eq!(list.selected, loaded - 1);
        assert_eq!(list.offset, loaded - 10);
        assert_eq!(
            list.next_page().map(|p| p.to_end),
            Some(false),
            "only a prefetch"
        );
    }
}
