//! Values both engines compute the same way from what they store: the columns search reads,
//! LIKE escaping, consultation codes and durations, offset pagination, today's date, and the
//! report statistics assembled from the counts an engine read.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;

use crate::model::page::Pagination;
use crate::model::report::{DailyCount, ReportFilter, ReportStats, ReportStatus, StatusCounts};
use crate::model::search::fold;
use crate::model::time::now;
use crate::model::validate::digits_of;

use super::{StoreResult, cipher};

/// The name as search sees it: folded as the term is (`model::search::fold`: case and
/// diacritics ignored), with a leading space so " smi" marks a word start.
pub fn fold_name(name: &str) -> String {
    format!(" {}", fold(name))
}

/// The columns of a patient that search and the name order read, derived from what was typed.
/// Every path that writes a patient (create, update, both engines' bulk loads, the refold of
/// `store::refold`) derives them here, so they are never derived two ways. The contact columns
/// are blind indexes (`store::cipher::blind`): search finds a phone or email by its exact
/// normalised value, or a phone by its last four digits, without the clear value being stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchColumns {
    pub name_folded: String,
    pub name_sort: String,
    /// The blind index of the phone's digits ('' without a phone).
    pub phone_digits: String,
    /// The blind index of the phone's last four digits ('' for fewer than four).
    pub phone_last4: String,
    /// The blind index of the folded email ('' without an email).
    pub email_folded: String,
}

impl SearchColumns {
    pub fn of(
        full_name: &str,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<SearchColumns> {
        let digits = phone.map(digits_of).unwrap_or_default();
        Ok(SearchColumns {
            name_folded: fold_name(full_name),
            name_sort: name_sort_key(full_name),
            phone_digits: cipher::blind(&digits)?,
            phone_last4: cipher::blind(last_four(&digits))?,
            email_folded: cipher::blind(&email.map(fold).unwrap_or_default())?,
        })
    }
}

/// The last four digits of a phone's digits, what search by "the last four" compares; empty
/// for a shorter number.
pub fn last_four(digits: &str) -> &str {
    if digits.len() < 4 {
        ""
    } else {
        &digits[digits.len() - 4..]
    }
}

/// The name as the patient list sorts it: the surname (the last word) first, then the given
/// names, folded as search folds them (" smith anna maria"). The migrations that fill it for
/// stored rows rearrange `name_folded` the same way.
pub fn name_sort_key(name: &str) -> String {
    let folded = fold_name(name);
    let words = folded.trim_matches(' ');
    match words.rsplit_once(' ') {
        Some((given, surname)) => format!(" {surname} {}", given.trim_end_matches(' ')),
        None => format!(" {words}"),
    }
}

/// Escapes `\`, `%` and `_` so a search term matches them literally in `LIKE … ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Today's date in UTC, for ages.
pub fn today() -> NaiveDate {
    now().date_naive()
}

/// A human-readable, unique-enough code: `CS-20261126-4F2A9C1B`.
pub fn session_code(id: Uuid, at: DateTime<Utc>) -> String {
    let bytes = id.as_bytes();
    // The last bytes of a v7 UUID are random; the first ones are the timestamp.
    format!(
        "CS-{}-{}",
        at.format("%Y%m%d"),
        hex::encode_upper(&bytes[12..16])
    )
}

/// Minutes between start and end, rounded; `None` while the consultation runs.
pub fn duration_minutes(started_at: DateTime<Utc>, ended_at: Option<DateTime<Utc>>) -> Option<u32> {
    ended_at.map(|end| ((end - started_at).num_seconds().max(0) as f64 / 60.0).round() as u32)
}

/// Pagination for an offset page.
pub fn offset_pagination(total: i64, limit: u32, offset: u64, returned: usize) -> Pagination {
    let total = total.max(0) as u64;
    Pagination {
        total,
        limit,
        offset,
        has_more: offset + (returned as u64) < total,
        next_cursor: None,
    }
}

/// The smallest string above every string that starts with `prefix`, in code point order
/// (SQLite's BINARY collation, PostgreSQL's `COLLATE "C"`): the last character incremented, so
/// `column >= prefix AND column < end` is the index range of the prefix. `None` if there is no
/// such string (all U+10FFFF).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => 0xE000,
            n => n,
        };
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// How many patients a search reads in last-visit order for the cost of ranking one candidate
/// (a lookup by id in a random place of the table, against the next entry of an index read in
/// order); measured in docs/PERFORMANCE.md.
pub const VISIT_ROWS_PER_CANDIDATE: u64 = 8;

/// Whether a prefix search reads the caller's patients in last-visit order until the page is
/// full, rather than ranking every candidate: ranking costs a lookup per candidate, reading in
/// order about `patients / candidates` far cheaper rows per match. `candidates` are counted up
/// to `cap`, at which reading in order always wins. Only for a term of one word: candidates
/// come from one word, so for several they overstate the matches, and the read in order could
/// run long before it finds a page of them.
pub fn prefix_by_visit(candidates: u64, cap: u64, patients: u64, limit: u32, words: usize) -> bool {
    candidates >= cap
        || (words == 1
            && candidates
                .saturating_mul(candidates)
                .saturating_mul(VISIT_ROWS_PER_CANDIDATE)
                >= u64::from(limit).saturating_mul(patients))
}

/// Whether a report list's total can be read from the running tallies (kept per doctor, day
/// and status): when it filters by status at most, as the report browser's usual views do.
pub fn counted_by_tallies(filter: &ReportFilter) -> bool {
    filter.patient_id.is_none()
        && filter.session_type.is_none()
        && filter.date_from.is_none()
        && filter.date_to.is_none()
}

/// The time span of the report statistics asked at `at` for `days` days.
#[derive(Debug, Clone, Copy)]
pub struct StatsWindow {
    /// `recent_7d` counts reports created at or after this instant.
    pub recent_from: DateTime<Utc>,
    /// The first UTC day of the `daily` series (which ends today).
    pub first_day: NaiveDate,
    pub days: u32,
}

impl StatsWindow {
    pub fn new(at: DateTime<Utc>, days: u32) -> StatsWindow {
        StatsWindow {
            recent_from: at - Duration::days(7),
            first_day: at.date_naive() - Duration::days(i64::from(days) - 1),
            days,
        }
    }

    /// The UTC day `recent_from` falls in, and the start of the day after it: reports of later
    /// days are counted whole from the daily tallies, those of this day one by one.
    pub fn recent_partial_day(&self) -> (NaiveDate, DateTime<Utc>) {
        let day = self.recent_from.date_naive();
        let next = (day + Duration::days(1)).and_time(NaiveTime::MIN).and_utc();
        (day, next)
    }

    pub fn first_instant(&self) -> DateTime<Utc> {
        self.first_day.and_time(NaiveTime::MIN).and_utc()
    }
}

/// The reports of one status, as counted for the statistics.
#[derive(Debug, Clone, Copy)]
pub struct StatusTally {
    pub status: ReportStatus,
    pub reports: u64,
    /// The sum of the confidences of the `rated` reports that have one.
    pub confidence_sum: f64,
    pub rated: u64,
}

/// The statistics from an engine's counts: `tallies` by status (all time), reports since
/// `window.recent_from`, and reports per UTC day of the window (days without any are absent).
pub fn assemble_stats(
    tallies: &[StatusTally],
    recent_7d: u64,
    per_day: &HashMap<NaiveDate, u64>,
    window: StatsWindow,
) -> ReportStats {
    let mut by_status = StatusCounts::default();
    let (mut total, mut confidence_sum, mut rated) = (0, 0.0, 0);
    for tally in tallies {
        by_status.add(tally.status, tally.reports);
        total += tally.reports;
        confidence_sum += tally.confidence_sum;
        rated += tally.rated;
    }
    let daily = window
        .first_day
        .iter_days()
        .take(window.days as usize)
        .map(|date| DailyCount {
            date,
            count: per_day.get(&date).copied().unwrap_or(0),
        })
        .collect();
    ReportStats {
        total,
        unsigned: by_status.completed,
        by_status,
        recent_7d,
        average_confidence: (rated > 0)
            .then(|| (confidence_sum / rated as f64 * 1000.0).round() / 1000.0),
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_search_reads_in_visit_order_when_its_candidates_are_common() {
        // A common surname among 16,000 patients: 640 lookups cost more than reading about
        // 500 patients in order.
        assert!(prefix_by_visit(640, 1000, 16_000, 20, 1));
        // An MRN prefix held by 100 of them: reading in order would pass about 3,200.
        assert!(!prefix_by_visit(100, 1000, 16_000, 20, 1));
        // The same 640 candidates of one word of two: the matches of both may be few.
        assert!(!prefix_by_visit(640, 1000, 16_000, 20, 2));
        // At the cap, whatever the words.
        assert!(prefix_by_visit(1000, 1000, 100_000, 20, 2));
        // Counts at their limits do not overflow.
        assert!(prefix_by_visit(u64::MAX, u64::MAX, u64::MAX, u32::MAX, 1));
    }

    #[test]
    fn prefix_end_is_the_next_string_in_byte_order() {
        assert_eq!(prefix_end("smi").as_deref(), Some("smj"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        // Every string starting with the prefix sorts below the end, in UTF-8 byte order.
        for s in ["smi", "smith", "smi\u{10FFFF}\u{10FFFF}", "smiz"] {
            assert!(s.as_bytes() < b"smj".as_slice());
        }
    }

    #[test]
    fn like_wildcards_are_escaped_and_names_folded() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(fold_name("Anna SMITH"), " anna smith");
        assert_eq!(fold_name("Hans MÜLLER"), " hans muller");
    }

    #[test]
    fn search_columns_fold_the_name_and_keep_blind_indexes_of_the_contacts() {
        cipher::install_for_tests();
        let blind = |text: &str| cipher::blind(text).unwrap();
        assert_eq!(
            SearchColumns::of(
                "Inés Fernández",
                Some("+34 (91) 555-0101"),
                Some("Inés@Example.ES")
            )
            .unwrap(),
            SearchColumns {
                name_folded: " ines fernandez".into(),
                name_sort: " fernandez ines".into(),
                phone_digits: blind("34915550101"),
                phone_last4: blind("0101"),
                email_folded: blind("ines@example.es"),
            }
        );
        assert_eq!(
            SearchColumns::of("Ann", Some("12"), None).unwrap(),
            SearchColumns {
                name_folded: " ann".into(),
                name_sort: " ann".into(),
                phone_digits: blind("12"),
                phone_last4: String::new(),
                email_folded: String::new(),
            }
        );
    }

    #[test]
    fn offset_pages_know_whether_more_follow() {
        assert!(offset_pagination(45, 20, 20, 20).has_more);
        assert!(!offset_pagination(45, 20, 40, 5).has_more);
    }
}
