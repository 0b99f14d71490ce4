//! Property tests for every parser and renderer of text that comes from outside: consultation
//! notes turned into report sections, the terminal sanitiser, paging cursors, dates and times,
//! search terms, config files, and the Markdown and PDF export renderers. Each takes arbitrary
//! input (with the awkward characters weighted in: controls, escapes, bidirectional marks,
//! combining marks, wide characters) and holds what must always be true: no panic, output within
//! bounds, and sanitised output free of control and bidirectional characters.
//!
//! Cases are bounded so the file runs in seconds; a failure is shrunk and kept in
//! `tests/properties.proptest-regressions`, which is committed and replayed first.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use synapse::export::{Banner, Block, Document, Section};
use synapse::model::export::ExportFormat;
use synapse::model::search::{SearchWords, fold};
use synapse::model::text::printable;
use synapse::model::time::{format_timestamp, parse_date, parse_timestamp, time_bound};
use synapse::store::cursor::Cursor;

fn config(cases: u32) -> Config {
    Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Characters that make text handling go wrong, weighted in beside ordinary text.
fn awkward_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        3 => prop::char::range('a', 'z'),
        1 => Just(' '),
        1 => Just('\n'),
        1 => Just('\r'),
        1 => Just('\t'),
        1 => Just('\u{1b}'),
        1 => Just('['),
        1 => Just(']'),
        1 => Just('\u{7}'),
        1 => Just('\u{0}'),
        1 => Just('\u{9b}'),
        1 => prop::char::range('\u{202a}', '\u{202e}'),
        1 => prop::char::range('\u{2066}', '\u{2069}'),
        1 => Just('\u{200e}'),
        1 => Just('\u{200f}'),
        1 => Just('\u{61c}'),
        1 => Just('\u{301}'),
        1 => Just('漢'),
        1 => Just('ễ'),
        1 => Just(':'),
        1 => Just('-'),
        1 => Just('#'),
        1 => Just('*'),
    ]
}

fn awkward_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(awkward_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// Notes as doctors write them, with headings, list markers and prescriptions mixed into
/// arbitrary text.
fn notes() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        2 => awkward_text(40),
        1 => prop::sample::select(vec![
            "History:", "MSE:", "Assessment:", "Dx:", "Diagnosis:", "Rx:", "Plan:",
            "Recommendations:", "Follow-up:", "- F32.1 Major depressive disorder",
            "1. sertraline 50 mg once daily for 4 weeks, with food", "* ", "- ", "Dx: F41",
            "Rx: fluoxetine 20mg bd x2/52",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

/// Bidirectional controls: they reorder how text reads on screen.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
    )
}

fn all_texts(content: &synapse::model::report::ReportContent) -> Vec<String> {
    let value = serde_json::to_value(content).expect("report content as JSON");
    let mut texts = Vec::new();
    collect_strings(&value, &mut texts);
    texts
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => out.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// The sanitiser leaves nothing that can move the cursor, recolour the screen, set the
    /// title or reorder the text; it never adds characters, and a second pass changes nothing.
    #[test]
    fn printable_text_has_no_control_or_bidi_characters(text in awkward_text(80), single in any::<bool>()) {
        let out = printable(&text, single);
        for c in out.chars() {
            prop_assert!(!c.is_control() || (c == '\n' && !single), "{c:?} in {out:?}");
            prop_assert!(!is_bidi_control(c), "{c:?} in {out:?}");
        }
        prop_assert!(out.chars().count() <= text.chars().count());
        prop_assert_eq!(printable(&out, single), out);
    }

    /// Any notes give a draft or a reason; the draft's text is free of control characters
    /// other than line breaks and tabs, and never longer than the notes it came from (it
    /// invents nothing).
    #[test]
    fn notes_become_sections_within_bounds(notes in notes()) {
        match synapse::reportgen::generate(&notes, None) {
            Ok(generated) => {
                prop_assert!((0.0..=1.0).contains(&generated.confidence));
                let texts = all_texts(&generated.content);
                let total: usize = texts.iter().map(|t| t.chars().count()).sum();
                prop_assert!(total <= notes.chars().count(), "{total} chars from {} of notes", notes.chars().count());
                for text in texts {
                    prop_assert!(
                        !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                        "a control character in {text:?}"
                    );
                }
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    /// A cursor from a client is decoded or refused with a field error, never a panic; one
    /// the server made reads back exactly, and only in its own scope.
    #[test]
    fn cursors_round_trip_and_arbitrary_ones_are_refused_cleanly(
        scope in "[a-z_.]{1,12}",
        key in awkward_text(synapse::model::validate::MAX_NAME),
        id in any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        offset in any::<u64>(),
        junk in awkward_text(60),
    ) {
        let cursor = Cursor { scope: scope.clone(), key, id, offset };
        let text = cursor.encode();
        prop_assert!(text.is_ascii());
        prop_assert_eq!(Cursor::decode(&text, &scope).ok(), Some(cursor));
        let other_scope = format!("{scope}x");
        prop_assert!(Cursor::decode(&text, &other_scope).is_err());
        let _ = Cursor::decode(&junk, &scope);
    }

    /// Dates and times: arbitrary text never panics, and what the server writes reads back.
    #[test]
    fn dates_and_times_parse_or_are_refused(
        text in awkward_text(40),
        days in -100_000i64..100_000,
        millis in 0i64..4_000_000_000_000,
        end in any::<bool>(),
    ) {
        let _ = parse_date(&text);
        let _ = parse_timestamp(&text);
        let _ = time_bound(&text, end);
        let date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(days);
        prop_assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Some(date));
        let at = chrono::DateTime::from_timestamp_millis(millis).unwrap();
        prop_assert_eq!(parse_timestamp(&format_timestamp(at)), Some(at));
    }

    /// Search terms: folding never panics, is idempotent, and never grows the term past a
    /// bound; splitting a term into words never panics.
    #[test]
    fn search_terms_fold_stably(term in awkward_text(60)) {
        let folded = fold(&term);
        prop_assert_eq!(fold(&folded), folded.clone());
        prop_assert!(folded.chars().count() <= 3 * term.chars().count());
        let words = SearchWords::new(&term);
        let _ = words.takes_substrings();
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// A config file of any content is read or refused with an error naming the file; never
    /// a panic.
    #[test]
    fn config_files_load_or_name_the_file(
        lines in prop::collection::vec(
            prop_oneof![
                awkward_text(30),
                prop::sample::select(vec![
                    "[server]", "[client]", "[store]", "listen = \"127.0.0.1:0\"",
                    "database_url = 7", "server_url = \"http://x\"", "demo = true",
                    "session_idle_timeout_s = -1", "[server.tls]", "unknown = 1",
                ]).prop_map(str::to_string),
            ],
            0..12,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let env = synapse::config::Environment::from_os(std::iter::empty());
        if let Err(error) = synapse::config::load_file(Some(&path), &env) {
            prop_assert!(format!("{error:#}").contains(&path.display().to_string()), "{error:#}");
        }
    }

    /// The Markdown export escapes what people wrote: whatever a name, a field or a note holds,
    /// the document has exactly the headings, list items and rules the renderer put there.
    #[test]
    fn markdown_export_keeps_its_structure_whatever_the_text(document in document()) {
        let bytes = synapse::export::render(&document, ExportFormat::Md).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let headings = document.sections.iter().flat_map(|s| &s.blocks)
            .filter(|b| matches!(b, Block::Heading(_))).count();
        let items = document.sections.iter().flat_map(|s| &s.blocks)
            .filter(|b| matches!(b, Block::Field(..) | Block::Bullet(_))).count();
        let rules = document.sections.len().saturating_sub(1) + 1;
        prop_assert_eq!(text.lines().filter(|l| l.starts_with("## ")).count(), headings, "{}", text);
        prop_assert_eq!(text.lines().filter(|l| l.starts_with("- ")).count(), items, "{}", text);
        prop_assert_eq!(text.lines().filter(|l| l.trim_end() == "---").count(), rules, "{}", text);
        prop_assert_eq!(text.lines().filter(|l| l.starts_with("# ")).count(),
            document.sections.iter().flat_map(|s| &s.blocks).filter(|b| matches!(b, Block::Title(_))).count());
    }
}

proptest! {
    // A PDF takes a while to write in a debug build.
    #![proptest_config(config(12))]

    /// The PDF export writes a document for any text, with a page per section at least.
    #[test]
    fn pdf_export_writes_any_text(document in document()) {
        let bytes = synapse::export::render(&document, ExportFormat::Pdf).unwrap();
        prop_assert!(bytes.starts_with(b"%PDF-"));
        prop_assert!(bytes.len() < 4 * 1024 * 1024);
    }
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        awkward_text(30).prop_map(Block::Title),
        awkward_text(30).prop_map(Block::Heading),
        awkward_text(30).prop_map(Block::Subheading),
        (awkward_text(15), awkward_text(40)).prop_map(|(l, v)| Block::Field(l, v)),
        awkward_text(200).prop_map(Block::Paragraph),
        awkward_text(40).prop_map(Block::Bullet),
        awkward_text(40).prop_map(Block::Notice),
    ]
}

fn document() -> impl Strategy<Value = Document> {
    let section = (any::<bool>(), prop::collection::vec(block(), 0..8))
        .prop_map(|(draft, blocks)| Section { draft, blocks });
    (
        awkward_text(30),
        awkward_text(30),
        "[A-Z]{3}-[0-9]{6}",
        awkward_text(40),
        prop::collection::vec(section, 1..4),
        awkward_text(30),
    )
        .prop_map(
            |(full_name, title, mrn, allergies, sections, footer)| Document {
                title,
                banner: Banner {
                    full_name,
                    date_of_birth: "1970-01-01".into(),
                    mrn,
                    allergies,
                },
                sections,
                footer,
            },
        )
}
