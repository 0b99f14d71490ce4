//! Patient search, an overlay above any screen: results update as the doctor types (after a
//! short pause), only the latest answer is drawn, matches are highlighted (ignoring case and
//! diacritics, as the server matches), and each row shows enough to tell two namesakes apart.
//! Opened again, it shows the last search with its text selected, so typing starts a new one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState};

use crate::client::{ApiError, ErrorKind};
use crate::model::page::SearchResults;
use crate::model::patient::PatientSummary;
use crate::model::search::{SearchWords, fold};
use crate::model::text::printable;
use crate::tui::action::Timer;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::patients::open as open_chart;
use crate::tui::state::{Overlay, State};
use crate::tui::theme::Theme;
use crate::tui::ui::centered;
use crate::tui::ui::common::{mask_name, notice};
use crate::tui::update::handle_error;

/// Patient search: results update as the doctor types; only the latest answer is drawn.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    pub input: Field,
    /// Counts edits, so a debounce timer knows whether the doctor typed again.
    pub edits: u64,
    pub request: u64,
    pub loading: bool,
    pub results: Vec<PatientSummary>,
    /// The term the results are for.
    pub searched: Option<String>,
    /// The term of the search on its way.
    pub asked: String,
    pub error: Option<String>,
    pub selected: usize,
    /// Enter was pressed before the results of what is typed came: the first of them opens
    /// when they do.
    pub open_when_found: bool,
    /// The MRN the palette jumps to: the answer opens that patient's chart when it has them.
    pub jump: Option<String>,
    /// The server answered 429: no search is sent until the wait it asked for is over, then
    /// what is typed by then is searched once.
    pub held: bool,
}

/// Opens the overlay. The last search is still there, its text selected: the first key typed
/// replaces it, while an arrow or End keeps it to edit.
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = Some(Overlay::Search);
    state.search.input.select_all();
    Vec::new()
}

/// Opens the overlay searching for `term` at once (the palette's "find a patient").
pub(crate) fn search_for(state: &mut State, term: &str) -> Vec<Effect> {
    state.overlay = Some(Overlay::Search);
    state.search.input = Field::default();
    state.search.input.insert(term);
    state.search.edits += 1;
    state.search.selected = 0;
    state.search.jump = None;
    search_now(state)
}

/// Searches for `mrn` and opens that patient's chart when the answer has them; otherwise the
/// overlay shows what the search found, so the doctor sees why there was no jump.
pub(crate) fn jump_to_mrn(state: &mut State, mrn: &str) -> Vec<Effect> {
    let effects = search_for(state, mrn);
    state.search.jump = Some(mrn.to_string());
    effects
}

/// Runs the search for what is typed now; answers to earlier searches will be dropped.
pub(crate) fn search_now(state: &mut State) -> Vec<Effect> {
    if state.search.held {
        return Vec::new();
    }
    let term = state.search.input.value.trim().to_string();
    // Accents alone fold to nothing: there is nothing to search for yet.
    if SearchWords::new(&term).folded.is_empty() {
        state.search.results.clear();
        state.search.searched = None;
        state.search.loading = false;
        return Vec::new();
    }
    let request = state.request();
    state.search.request = request;
    state.search.loading = true;
    state.search.asked = term.clone();
    vec![Effect::Call {
        request,
        call: Call::Search(term),
    }]
}

fn edited(state: &mut State) -> Vec<Effect> {
    state.search.edits += 1;
    state.search.open_when_found = false;
    state.search.jump = None;
    state.search.selected = 0;
    vec![Effect::After {
        delay_ms: state.settings.search_debounce_ms,
        timer: Timer::Search(state.search.edits),
    }]
}

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => {
            state.overlay = None;
            return Vec::new();
        }
        Some(Command::Submit) => {
            // The rows shown are for what was typed before (Enter came before the pause ran
            // out, or before the answer): opening one could open another patient than the
            // one typed. Search now and open the first result of what is typed.
            let current = state.search.searched.as_deref() == Some(state.search.input.value.trim());
            if !current || state.search.loading {
                state.search.open_when_found = true;
                return search_now(state);
            }
            return match state.search.results.get(state.search.selected) {
                Some(patient) => {
                    let id = patient.id;
                    open_chart(state, id)
                }
                None => Vec::new(),
            };
        }
        _ => {}
    }
    match key.code {
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
        _ => {
            if state.search.input.edit(key) {
                edited(state)
            } else {
                Vec::new()
            }
        }
    }
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    state.search.input.insert(text);
    edited(state)
}

/// The wait the server asked for is over: search for what is typed now.
pub(crate) fn resume(state: &mut State) -> Vec<Effect> {
    state.search.held = false;
    state.search.error = None;
    search_now(state)
}

/// The results; the answer to an older search is never drawn.
pub(crate) fn on_results(
    state: &mut State,
    request: u64,
    result: Result<SearchResults<PatientSummary>, ApiError>,
) -> Vec<Effect> {
    if request != state.search.request {
        return Vec::new();
    }
    state.search.loading = false;
    match result {
        Ok(found) => {
            if let Some(mrn) = state.search.jump.take()
                && let Some(patient) = found
                    .items
                    .iter()
                    .find(|p| p.mrn.eq_ignore_ascii_case(&mrn))
            {
                let id = patient.id;
                state.search.results = found.items;
                state.search.searched = Some(mrn);
                return open_chart(state, id);
            }
            state.search.results = found.items;
            state.search.searched = Some(std::mem::take(&mut state.search.asked));
            state.search.error = None;
            state.search.selected = state
                .search
                .selected
                .min(state.search.results.len().saturating_sub(1));
            let open = std::mem::take(&mut state.search.open_when_found);
            match state.search.results.first() {
                Some(first) if open && state.overlay == Some(Overlay::Search) => {
                    let id = first.id;
                    open_chart(state, id)
                }
                _ => Vec::new(),
            }
        }
        Err(error) => {
            state.search.open_when_found = false;
            if let ErrorKind::RateLimited { retry_after_s } = error.kind {
                // Back off: typing goes on, but the next search waits for the server.
                state.search.held = true;
                state.search.error = Some(format!(
                    "Too many searches: the server asks to wait {retry_after_s} s; searching again then."
                ));
                return vec![Effect::After {
                    delay_ms: retry_after_s.saturating_mul(1000),
                    timer: Timer::SearchResume,
                }];
            }
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.search.error = Some(error.message);
            Vec::new()
        }
    }
}

/// Splits `text` into spans with the parts matching any word of `term` highlighted, compared
/// folded as the server compares them ("mull" marks "Müll" in "Müller").
fn highlighted(text: &str, term: &str, theme: &Theme) -> Line<'static> {
    // The text folded character by character, each folded byte knowing the character it came
    // from, so a match in the folded text marks whole characters of the text as shown.
    let chars: Vec<char> = text.chars().collect();
    let mut folded = String::with_capacity(text.len());
    let mut source = Vec::with_capacity(text.len());
    let mut folds_away = Vec::with_capacity(chars.len());
    for (n, c) in chars.iter().enumerate() {
        let piece = fold(c.encode_utf8(&mut [0; 4]));
        source.extend(std::iter::repeat_n(n, piece.len()));
        folds_away.push(piece.is_empty());
        folded.push_str(&piece);
    }
    let mut marks = vec![false; chars.len()];
    for word in SearchWords::new(term).words {
        let mut from = 0;
        while let Some(found) = folded[from..].find(&word) {
            let start = from + found;
            for &n in &source[start..start + word.len()] {
                marks[n] = true;
            }
            from = start + word.len();
        }
    }
    // A combining mark folds to nothing; it goes with the letter before it.
    let mut before = false;
    for (mark, away) in marks.iter_mut().zip(folds_away) {
        if away {
            *mark = before;
        }
        before = *mark;
    }
    let mut spans = Vec::new();
    let mut current = String::new();
    let mut marked = false;
    for (c, m) in chars.into_iter().zip(marks) {
        if m != marked && !current.is_empty() {
            spans.push(if marked {
                Span::styled(std::mem::take(&mut current), theme.highlight())
            } else {
                Span::raw(std::mem::take(&mut current))
            });
        }
        marked = m;
        current.push(c);
    }
    if !current.is_empty() {
        spans.push(if marked {
            Span::styled(current, theme.highlight())
        } else {
            Span::raw(current)
        });
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let s = &state.search;
    let rect = centered(
        area,
        area.width.saturating_sub(6).min(110),
        area.height.saturating_sub(2).min(22),
    );
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(Line::styled(" Find a patient ", theme.title()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [input, results] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    let status = if s.loading { "  searching…" } else { "" };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::raw("/ "),
                if s.input.selected {
                    Span::styled(s.input.value.clone(), theme.selected())
                } else {
                    Span::raw(s.input.value.clone())
                },
                Span::styled(status, theme.muted()),
            ]),
            Line::styled(
                "name, MRN, phone or email — Enter opens, Esc returns",
                theme.muted(),
            ),
        ]),
        input,
    );
    frame.set_cursor_position((input.x + 2 + s.input.cursor as u16, input.y));
    if let Some(error) = &s.error {
        return notice(frame, results, state, error, true);
    }
    if s.results.is_empty() {
        let text = empty_results_notice(s.searched.as_deref(), s.loading);
        return notice(frame, results, state, text, false);
    }
    let term = s.searched.clone().unwrap_or_default();
    let rows = s.results.iter().map(|p| {
        let name = printable(&p.full_name, true);
        let name = if state.privacy {
            Line::raw(mask_name(&name))
        } else {
            highlighted(&name, &term, theme)
        };
        let phone_tail = match (&p.phone, state.privacy) {
            (Some(_), true) => "•••".to_string(),
            (Some(phone), false) => {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                format!("…{}", &digits[digits.len().saturating_sub(4)..])
            }
            (None, _) => "—".to_string(),
        };
        Row::new(vec![
            Cell::from(name),
            Cell::from(if state.privacy {
                "••••-••-••".to_string()
            } else {
                p.date_of_birth.to_string()
            }),
            Cell::from(format!("{} y", p.age)),
            Cell::from(p.sex.as_str()),
            Cell::from(highlighted(&p.mrn, &term, theme)),
            Cell::from(phone_tail),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(11),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["Name", "Born", "Age", "Sex", "MRN", "Phone"]).style(theme.muted()))
    .row_highlight_style(theme.selected());
    let mut table_state = TableState::default().with_selected(Some(s.selected));
    frame.render_stateful_widget(table, results, &mut table_state);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::ThemeKind;

    /// The spans of a highlighted line, the highlighted ones in brackets.
    fn marked(text: &str, term: &str) -> String {
        let theme = Theme::new(ThemeKind::Dark);
        highlighted(text, term, &theme)
            .spans
            .iter()
            .map(|span| {
                if span.style == theme.highlight() {
                    format!("[{}]", span.content)
                } else {
                    span.content.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn matches_are_highlighted_ignoring_case_and_diacritics() {
        assert_eq!(marked("Hans Müller", "mull"), "Hans [Müll]er");
        assert_eq!(marked("Hans Müller", "MÜLLER hans"), "[Hans] [Müller]");
        assert_eq!(marked("Ana Gómez", "gomez"), "Ana [Gómez]");
        assert_eq!(marked("Rosa GÓMEZ", "óme"), "Rosa G[ÓME]Z");
        // A name stored decomposed keeps each mark with its letter.
        assert_eq!(marked("Mu\u{308}ller", "mu"), "[Mu\u{308}]ller");
        assert_eq!(marked("Straße", "strass"), "[Straß]e");
        assert_eq!(marked("MRN-000060", "mrn-0000"), "[MRN-0000]60");
        assert_eq!(marked("Mia Lee", "gomez"), "Mia Lee");
    }
}

/// What an empty result list says: why nothing came, and what does match.
fn empty_results_notice(searched: Option<&str>, loading: bool) -> &'static str {
    match searched {
        _ if loading => "Searching…",
        // Contacts are stored sealed and found by blind indexes, so a piece from the middle of
        // a number finds nothing; say what does.
        Some(term) if looks_like_part_of_a_phone(term) => {
            "No patient matches: a phone is found whole, or by its last 4 digits."
        }
        Some(term) if !SearchWords::new(term).takes_substrings() && !term.trim().is_empty() => {
            "Nothing starts with this; three letters also search inside names."
        }
        Some(term) if !term.is_empty() => "No patient matches.",
        _ => "Part of a name or MRN; a whole phone or email; a phone's last 4.",
    }
}

/// Mostly digits (a phone's separators aside), and at least three of them.
fn looks_like_part_of_a_phone(term: &str) -> bool {
    let digits = term.chars().filter(char::is_ascii_digit).count();
    let others = term
        .chars()
        .filter(|c| !c.is_ascii_digit() && !matches!(c, ' ' | '-' | '.' | '(' | ')' | '+'))
        .count();
    digits >= 3 && others == 0
}

#[cfg(test)]
mod empty_results_tests {
    use super::empty_results_notice;

    #[test]
    fn a_fragment_of_a_phone_that_finds_nothing_says_what_matches() {
        assert!(empty_results_notice(Some("5550"), false).contains("last 4 digits"));
        assert!(empty_results_notice(Some("(555) 02"), false).contains("last 4 digits"));
        assert_eq!(
            empty_results_notice(Some("zebedee"), false),
            "No patient matches."
        );
        assert!(empty_results_notice(None, false).contains("last 4"));
    }
}
