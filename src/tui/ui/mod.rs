//! Rendering: a pure function of `State`. The frame is a title line, the screen (drawn by its
//! module in `tui/screens`), the key-hint bar and the status bar; overlays and dialogs (from
//! `tui/components`) draw above; the lock screen replaces it all. Every string from the server
//! passes through `text::printable` first.

pub(crate) mod common;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::layout::FrameAreas;
use super::state::State;
use super::{components, screens};
pub use common::{mask_contact, mask_name};

pub use super::layout::{MIN_HEIGHT, MIN_WIDTH};

pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    let theme = &state.settings.theme;
    frame.render_widget(Block::new().style(theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = vec![
            Line::styled("Synapse", theme.title()),
            Line::raw(""),
            Line::raw(format!(
                "The terminal is {}×{}; Synapse needs at least {MIN_WIDTH}×{MIN_HEIGHT}.",
                area.width, area.height
            )),
            Line::raw("Make the window larger (or the font smaller)."),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    if state.lock.locked {
        components::lock::draw(frame, area, state);
        if state.quit_asked {
            components::quit::draw(frame, area, state);
        }
        return;
    }
    let FrameAreas {
        title,
        offline,
        screen: body,
        hints,
        status,
    } = FrameAreas::new(area, state.offline.is_some());
    common::title_bar(frame, title, state);
    if let (Some(banner), Some(reason)) = (offline, &state.offline) {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" OFFLINE ", theme.error()),
                Span::raw(format!(
                    " {} Showing what was loaded.",
                    super::super::model::text::printable(reason, true)
                )),
            ])),
            banner,
        );
    }
    screens::draw(frame, body, state);
    common::hint_bar(frame, hints, state);
    common::status_bar(frame, status, state);
    if let Some(overlay) = &state.overlay {
        components::draw(frame, body, state, overlay);
    }
    if let Some(dialog) = &state.dialog {
        // Below the patient's banner, when the screen pins one: a dialog about a patient
        // (signing, editing) must not hide who it is about or their allergies.
        let dialog_area = match screens::pinned_patient(state) {
            Some(patient) => {
                let [_, rest] = common::banner_layout(body, state, patient);
                Rect {
                    y: rest.y,
                    height: area.bottom().saturating_sub(rest.y),
                    ..area
                }
            }
            None => area,
        };
        components::dialogs::draw(frame, dialog_area, state, dialog);
    }
    if let Some(toast) = &state.toast {
        common::toast(frame, body, state, toast);
    }
    if state.quit_asked {
        components::quit::draw(frame, area, state);
    }
}

/// A rectangle of at most `width`×`height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
