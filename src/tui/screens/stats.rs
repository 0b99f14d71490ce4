//! Statistics: report counts by status as a bar chart, the daily series, average confidence.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Sparkline};

use crate::client::ApiError;
use crate::model::query::ReportStatsParams;
use crate::model::report::{ReportStats, ReportStatus};
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::state::{Load, State};
use crate::tui::ui::common::notice;
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[Command::Refresh, Command::Back];

#[derive(Debug, Clone, Default)]
pub struct StatsState {
    pub stats: Load<ReportStats>,
}

/// Loads the last thirty days' statistics.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    state.stats.stats = Load::Loading;
    vec![call(
        state,
        Call::Stats(ReportStatsParams {
            patient_id: None,
            days: Some(30),
        }),
    )]
}

pub(crate) fn on_stats(state: &mut State, result: Result<ReportStats, ApiError>) -> Vec<Effect> {
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

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let stats = match &state.stats.stats {
        Load::Ready(stats) => stats,
        Load::Failed(error) => return notice(frame, area, state, error, true),
        _ => return notice(frame, area, state, "Loading statistics…", false),
    };
    let [summary, bars, daily] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(8),
        Constraint::Length(6),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(vec![Line::raw(format!(
            "Total {}   unsigned {}   last 7 days {}   average confidence {}",
            stats.total,
            stats.unsigned,
            stats.recent_7d,
            stats
                .average_confidence
                .map(|c| format!("{:.0}%", c * 100.0))
                .unwrap_or_else(|| "—".into())
        ))])
        .block(Block::bordered().title(Line::styled(" Reports ", theme.title()))),
        summary,
    );
    let b = &stats.by_status;
    let counts = [
        (ReportStatus::Pending, b.pending),
        (ReportStatus::Generating, b.generating),
        (ReportStatus::Completed, b.completed),
        (ReportStatus::Signed, b.signed),
        (ReportStatus::Failed, b.failed),
    ];
    let bars_data: Vec<Bar> = counts
        .iter()
        .map(|(status, count)| {
            Bar::default()
                .label(Line::raw(status.as_str()))
                .value(*count)
                .style(theme.status(*status))
                .text_value(count.to_string())
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .block(Block::bordered().title(" By status "))
            .bar_width(11)
            .bar_gap(2)
            .data(BarGroup::default().bars(&bars_data)),
        bars,
    );
    let series: Vec<u64> = stats.daily.iter().map(|d| d.count).collect();
    let first = stats
        .daily
        .first()
        .map(|d| d.date.to_string())
        .unwrap_or_default();
    let last = stats
        .daily
        .last()
        .map(|d| d.date.to_string())
        .unwrap_or_default();
    frame.render_widget(
        Sparkline::default()
            .block(Block::bordered().title(format!(" Reports per day, {first} to {last} ")))
            .data(&series)
            .style(theme.title()),
        daily,
    );
}
