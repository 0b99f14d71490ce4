//! Section headings: which section of the report a line of notes opens ("Plan:", "## Dx:",
//! "**MSE:**"), in the spellings doctors use.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    History,
    MentalStatus,
    Assessment,
    Diagnoses,
    Medications,
    Recommendations,
    FollowUp,
}

/// Headings are short; looking no further than this for the colon keeps long lines cheap and
/// stops "Patient says: …" deep inside a sentence from being taken for one.
const MAX_HEADING_BYTES: usize = 48;

/// If the line opens with a known heading ("Plan:", "## Dx:", "**MSE:**"), the section and the
/// text after the colon.
pub(super) fn heading(line: &str) -> Option<(Section, &str)> {
    let colon = line
        .as_bytes()
        .iter()
        .take(MAX_HEADING_BYTES)
        .position(|&b| b == b':')?;
    // ':' is ASCII, so both slices start and end on character boundaries.
    let label = line[..colon].trim().trim_start_matches('#').trim_start();
    let label = strip_emphasis(label, str::strip_prefix).trim();
    let label = strip_emphasis(label, str::strip_suffix).trim();
    let section = section_named(label)?;
    let rest = &line[colon + 1..];
    Some((section, strip_emphasis(rest, str::strip_prefix)))
}

/// Removes Markdown bold markers (`**` or `__`) on one side of a heading.
fn strip_emphasis<'a>(
    text: &'a str,
    strip: fn(&'a str, &'static str) -> Option<&'a str>,
) -> &'a str {
    strip(text, "**")
        .or_else(|| strip(text, "__"))
        .unwrap_or(text)
}

/// The section a heading label names, compared case-insensitively with spaces, hyphens and
/// underscores treated alike ("Follow-up", "follow up", "FOLLOW_UP").
fn section_named(label: &str) -> Option<Section> {
    let mut buf = [0u8; MAX_HEADING_BYTES];
    let mut len = 0;
    for &b in label.as_bytes() {
        let b = match b {
            b'a'..=b'z' => b,
            b'A'..=b'Z' => b.to_ascii_lowercase(),
            b' ' | b'\t' | b'-' | b'_' => b' ',
            // Digits, punctuation and non-ASCII letters appear in no heading we know.
            _ => return None,
        };
        if b == b' ' && (len == 0 || buf[len - 1] == b' ') {
            continue;
        }
        buf[len] = b;
        len += 1;
    }
    while len > 0 && buf[len - 1] == b' ' {
        len -= 1;
    }
    let section = match &buf[..len] {
        b"history"
        | b"hpi"
        | b"hpc"
        | b"presenting complaint"
        | b"history of presenting complaint"
        | b"history of presenting illness"
        | b"history of present illness" => Section::History,
        b"mental status"
        | b"mse"
        | b"mental status examination"
        | b"mental state examination"
        | b"mental state"
        | b"examination"
        | b"exam"
        | b"physical examination" => Section::MentalStatus,
        b"assessment" | b"impression" | b"clinical impression" => Section::Assessment,
        b"diagnosis" | b"diagnoses" | b"dx" | b"working diagnosis" => Section::Diagnoses,
        b"medications" | b"medication" | b"meds" | b"rx" | b"prescription" | b"prescriptions"
        | b"medication plan" => Section::Medications,
        b"plan" | b"recommendations" | b"recommendation" | b"management" | b"management plan" => {
            Section::Recommendations
        }
        b"follow up" | b"followup" => Section::FollowUp,
        _ => return None,
    };
    Some(section)
}
