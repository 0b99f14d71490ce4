//! Aligned plain-text tables and key–value blocks for the scripting CLI.

use crate::model::text::printable;

/// Renders rows under headers, columns padded to the widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| printable(c, true)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let width = widths.get(i).copied().unwrap_or(0);
                format!("{c:<width$}")
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = line(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
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
}
