//! The components drawn above the screens: the overlays (search, help, the palette), the
//! modal dialogs and the lock screen. Each module holds its state, keys, answers and view.

pub mod dialogs;
pub mod help;
pub mod lock;
pub mod palette;
pub mod quit;
pub mod reauth;
pub mod search;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::tui::input::Field;
use crate::tui::state::State;

/// Overlays drawn above the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Search,
    /// Help: the filter typed, and the first line shown.
    Help {
        filter: Field,
        scroll: usize,
    },
    Palette {
        input: Field,
        selected: usize,
    },
}

/// Draws an overlay above the screen's area.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, overlay: &Overlay) {
    match overlay {
        Overlay::Search => search::draw(frame, area, state),
        Overlay::Help { filter, scroll } => help::draw(frame, area, state, &filter.value, *scroll),
        Overlay::Palette { input, selected } => {
            palette::draw(frame, area, state, &input.value, *selected)
        }
    }
}
