//! Statistics: report counts by status as a bar chart, the daily series as a chart with dates
//! and counts on its axes over a window the doctor chooses (7, 30, 90 or 365 days), and the
//! average confidence.

use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Chart, Dataset, GraphType, Paragraph,
};

use crate::client::ApiError;
use crate::model::query::ReportStatsParams;
use crate::model::report::{DailyCount, ReportStats, ReportStatus};
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::{Command, Scope};
use crate::tui::layout::StatsAreas;
use crate::tui::state::{Load, State};
use crate::tui::ui::common::notice;
use crate::tui::update::handle_error;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[Command::CycleStatsWindow, Command::Refresh, Command::Back];

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[Command::CycleStatsWindow];

/// The windows of the daily series, in the order the key steps through them.
pub const WINDOWS: [u32; 4] = [7, 30, 90, 365];

/// The window shown first.
pub const DEFAULT_WINDOW: u32 = 30;

/// Columns per date label on the time axis: a label and the room between labels.
const COLUMNS_PER_LABEL: u16 = 12;

#[derive(Debug, Clone)]
pub struct StatsState {
    pub stats: Load<ReportStats>,
    /// How many days the daily series covers, ending today.
    pub days: u32,
    /// The request whose answer is awaited; older answers (another window) are dropped.
    pub request: u64,
    pub loading: bool,
}

impl Default for StatsState {
    fn default() -> StatsState {
        StatsState {
            stats: Load::Idle,
            days: DEFAULT_WINDOW,
            request: 0,
            loading: false,
        }
    }
}

/// Loads the statistics for the window chosen. Figures already shown stay until the answer
/// comes, so changing the window does not blank the screen.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    if state.stats.stats.ready().is_none() {
        state.stats.stats = Load::Loading;
    }
    let request = state.request();
    state.stats.request = request;
    state.stats.loading = true;
    vec![Effect::Call {
        request,
        call: Call::Stats(ReportStatsParams {
            patient_id: None,
            days: Some(state.stats.days),
        }),
    }]
}

pub(crate) fn command(state: &mut State, command: Command) -> Vec<Effect> {
    match command {
        Command::CycleStatsWindow => {
            let next = WINDOWS
                .iter()
                .position(|days| *days == state.stats.days)
                .and_then(|i| WINDOWS.get(i + 1))
                .copied()
                .unwrap_or(WINDOWS[0]);
            state.stats.days = next;
            load(state)
        }
        _ => Vec::new(),
    }
}

pub(crate) fn on_stats(
    state: &mut State,
    request: u64,
    result: Result<ReportStats, ApiError>,
) -> Vec<Effect> {
    if request != state.stats.request {
        return Vec::new();
    }
    state.stats.loading = false;
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
    let areas = StatsAreas::new(area);
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
        areas.summary,
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
        areas.by_status,
    );
    draw_daily(frame, areas.daily, state, &stats.daily);
}

/// The daily series: a bar per day across the whole width, dates under it, counts beside it.
fn draw_daily(frame: &mut Frame, area: Rect, state: &State, daily: &[DailyCount]) {
    let theme = &state.settings.theme;
    let key = state
        .settings
        .keymap
        .hint_key(Command::CycleStatsWindow, Scope::Stats);
    let windows = WINDOWS.map(|d| d.to_string()).join("/");
    let loading = if state.stats.loading {
        " · loading…"
    } else {
        ""
    };
    let block = Block::bordered().title(Line::styled(
        format!(
            " Reports per day, last {} days{loading} · {key} {windows} ",
            daily.len()
        ),
        theme.title(),
    ));
    let points: Vec<(f64, f64)> = daily
        .iter()
        .enumerate()
        .map(|(i, d)| (i as f64, d.count as f64))
        .collect();
    let top = value_top(daily.iter().map(|d| d.count).max().unwrap_or(0));
    let label_count = usize::from((area.width.saturating_sub(8) / COLUMNS_PER_LABEL).max(2));
    let dataset = Dataset::default()
        .marker(Marker::HalfBlock)
        .graph_type(GraphType::Bar)
        .style(theme.title())
        .data(&points);
    let chart = Chart::new(vec![dataset])
        .block(block)
        .x_axis(
            Axis::default()
                .style(theme.muted())
                .bounds([-0.5, daily.len().max(1) as f64 - 0.5])
                .labels(date_labels(daily, label_count)),
        )
        .y_axis(
            Axis::default()
                .style(theme.muted())
                .bounds([0.0, top as f64])
                .labels([0, top / 2, top].map(|v| v.to_string())),
        );
    frame.render_widget(chart, area);
}

/// The top of the count axis: at least 2 and even, so its middle label is a whole count.
fn value_top(max: u64) -> u64 {
    max.max(2).next_multiple_of(2)
}

/// Up to `count` dates spread evenly from the first day to the last, as the time axis shows
/// them (a year's window names months, shorter ones days).
fn date_labels(daily: &[DailyCount], count: usize) -> Vec<String> {
    let dates: Vec<NaiveDate> = daily.iter().map(|d| d.date).collect();
    let format = if dates.len() > 120 { "%b %Y" } else { "%d %b" };
    let count = count.min(dates.len());
    if count < 2 {
        return dates.iter().map(|d| d.format(format).to_string()).collect();
    }
    (0..count)
        .map(|i| {
            dates[i * (dates.len() - 1) / (count - 1)]
                .format(format)
                .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: i64) -> Vec<DailyCount> {
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        (0..n)
            .map(|i| DailyCount {
                date: first + chrono::Duration::days(i),
                count: 0,
            })
            .collect()
    }

    #[test]
    fn date_labels_run_from_the_first_day_to_the_last() {
        assert_eq!(date_labels(&days(7), 3), ["01 Jan", "04 Jan", "07 Jan"]);
        assert_eq!(date_labels(&days(1), 4), ["01 Jan"]);
        let year = date_labels(&days(365), 5);
        assert_eq!(year.first().map(String::as_str), Some("Jan 2026"));
        assert_eq!(year.last().map(String::as_str), Some("Dec 2026"));
    }

    #[test]
    fn the_count_axis_ends_on_an_even_count() {
        assert_eq!(value_top(0), 2);
        assert_eq!(value_top(5), 6);
        assert_eq!(value_top(8), 8);
    }
}
