//! Aligned plain-text tables and key–value blocks, for the scripting CLI and `synapse bench`.
//! Cells are cleaned of control and escape sequences: they can hold text from the server.

use crate::model::text::printable;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    /// For numbers, so their digits line up.
    Right,
}

enum Line {
    Cells(Vec<String>),
    /// A dashed line across the table, e.g. above a total.
    Rule,
}

/// A table: headers, then rows and rules, each column padded to its widest cell and two
/// spaces between columns; trailing spaces trimmed.
pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    lines: Vec<Line>,
}

impl Table {
    /// A table with these headers, every column left-aligned.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            align: vec![Align::Left; headers.len()],
            lines: Vec::new(),
        }
    }

    /// Aligns every column from `first` on (header included) to `align`.
    pub fn align_from(mut self, first: usize, align: Align) -> Table {
        for column in self.align.iter_mut().skip(first) {
            *column = align;
        }
        self
    }

    /// Adds a row; cells past the last header are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let cells = cells
            .iter()
            .take(self.headers.len())
            .map(|c| printable(c, true))
            .collect();
        self.lines.push(Line::Cells(cells));
    }

    /// Adds a dashed line as wide as the table.
    pub fn rule(&mut self) {
        self.lines.push(Line::Rule);
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for line in &self.lines {
            if let Line::Cells(cells) = line {
                for (width, cell) in widths.iter_mut().zip(cells) {
                    *width = (*width).max(cell.chars().count());
                }
            }
        }
        let render_cells = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.align)
                .map(|((cell, &width), align)| match align {
                    Align::Left => format!("{cell:<width$}"),
                    Align::Right => format!("{cell:>width$}"),
                })
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        };
        let rule_width = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        let mut out = render_cells(&self.headers);
        for line in &self.lines {
            match line {
                Line::Cells(cells) => out.push_str(&render_cells(cells)),
                Line::Rule => {
                    out.push_str(&"-".repeat(rule_width));
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// Renders rows under headers, every column left-aligned.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut table = Table::new(headers);
    for row in rows {
        table.row(row.clone());
    }
    table.render()
}

/// Renders `key: value` lines with the keys aligned; multi-line values are indented.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let value = printable(value, false);
        let indent = " ".repeat(width + 2);
        let value = value.replace('\n', &format!("\n{indent}"));
        out.push_str(&format!("{key:<width$}  {value}\n"));
    }
    out
}

/// `-` for an absent value.
pub fn or_dash(value: Option<impl ToString>) -> String {
    value
        .map(|v| v.to_string())
        .unwrap_or_else(|| "-".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_escapes_are_removed() {
        let out = table(
            &["NAME", "AGE"],
            &[
                vec!["Anna\u{1b}[2J Smith".into(), "44".into()],
                vec!["Bo".into(), "7".into()],
            ],
        );
        assert_eq!(out, "NAME        AGE\nAnna Smith  44\nBo          7\n");
    }

    #[test]
    fn number_columns_align_right_and_a_rule_spans_the_table() {
        let mut table = Table::new(&["endpoint", "requests"]).align_from(1, Align::Right);
        table.row(vec!["GET /health".into(), "1,000".into()]);
        table.row(vec!["GET /a".into(), "7".into()]);
        table.rule();
        table.row(vec!["total".into(), "1,007".into()]);
        assert_eq!(
            table.render(),
            "endpoint     requests\n\
             GET /health     1,000\n\
             GET /a              7\n\
             ---------------------\n\
             total           1,007\n"
        );
    }
}
