//! A `Document` as Markdown: the banner as a quoted block at the top, sections separated by
//! rules, a draft section opened by its warning. Text from people is escaped, so a note that
//! starts with `#` or holds `<script>` stays text.

use std::fmt::Write;

use super::document::{Block, DRAFT_MARK, Document};

/// `text` with the characters Markdown (and the HTML it may hold) reads as markup escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One-line text (a title, a heading, a field, a list item, a notice) escaped, its line breaks
/// turned into spaces: a break inside a list item or a heading would let the rest of the text
/// start a list item, a rule or a heading of its own.
fn inline(text: &str) -> String {
    escape(&text.replace(['\r', '\n'], " "))
}

/// Free text with its line breaks kept (a hard break: two spaces before the newline), and
/// blank lines between paragraphs as written. A line that would start a list is escaped.
fn paragraph(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = escape(line.trim_end());
            match line.chars().next() {
                Some('-' | '+') => format!("\\{line}"),
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("  \n")
}

pub fn render(document: &Document) -> String {
    let mut out = String::new();
    let banner = &document.banner;
    // `write!` to a String cannot fail.
    let _ = writeln!(
        out,
        "> **{}** · born {} · {}  \n> {}\n",
        inline(&banner.full_name),
        banner.date_of_birth,
        inline(&banner.mrn),
        inline(&banner.allergies)
    );
    for (i, section) in document.sections.iter().enumerate() {
        if i > 0 {
            out.push_str("\n---\n\n");
        }
        if section.draft {
            let _ = writeln!(out, "**{DRAFT_MARK}**\n");
        }
        for block in &section.blocks {
            let _ = match block {
                Block::Title(text) => writeln!(out, "# {}\n", inline(text)),
                Block::Heading(text) => writeln!(out, "\n## {}\n", inline(text)),
                Block::Subheading(text) => writeln!(out, "### {}\n", inline(text)),
                Block::Field(label, value) => {
                    writeln!(out, "- **{}:** {}", inline(label), inline(value))
                }
                Block::Paragraph(text) => writeln!(out, "\n{}\n", paragraph(text)),
                Block::Bullet(text) => writeln!(out, "- {}", inline(text)),
                Block::Notice(text) => writeln!(out, "\n> **{}**\n", inline(text)),
            };
        }
    }
    let _ = writeln!(out, "\n---\n\n_{}_", inline(&document.footer));
    out
}
