//! The rules every exported text cell obeys, whatever the file format: formula injection is
//! neutralized and over-long text is cut with a visible marker.
//!
//! Stored text is hostile. A customer name such as `=HYPERLINK("http://evil","x")` must never
//! run as a formula when a finance clerk opens the export, so (as OWASP recommends) a cell
//! starting with `=`, `+`, `-`, `@`, tab or CR is marked as text: in CSV with a leading
//! apostrophe, which Excel and Calc show as part of the text; in XLSX the cell is a string
//! cell anyway, and additionally carries the "quote prefix" style so that editing it in Excel
//! does not turn it into a formula either.

use std::borrow::Cow;

use actlog_domain::catalog::Lang;

/// Excel's limit on the text of one cell, counted as Excel counts: in UTF-16 code units.
pub const MAX_CELL_LEN: usize = 32_767;

/// How a format marks a dangerous cell as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marking {
    /// A leading `'` becomes part of the cell text (CSV).
    Apostrophe,
    /// The text stays as it is; the writer marks the cell some other way (XLSX).
    Style,
}

/// A cell ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell<'a> {
    /// The text starts with a character a spreadsheet reads as the start of a formula.
    pub dangerous: bool,
    /// Write `'` before [`Self::body`] (only with [`Marking::Apostrophe`]).
    pub apostrophe: bool,
    /// The text, cut with a marker when it was too long.
    pub body: Cow<'a, str>,
    pub truncated: bool,
}

impl Cell<'_> {
    /// The cell's whole text as a spreadsheet will show it.
    #[cfg(test)]
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(self.body.len() + 1);
        if self.apostrophe {
            text.push('\'');
        }
        text.push_str(&self.body);
        text
    }
}

/// Whether a spreadsheet could read this text as a formula (OWASP's list of leading characters).
#[inline]
pub fn is_dangerous(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Applies both rules to one cell's text.
#[inline]
pub(crate) fn prepare(text: &str, marking: Marking, lang: Lang) -> Cell<'_> {
    let dangerous = is_dangerous(text);
    let apostrophe = dangerous && marking == Marking::Apostrophe;
    let budget = MAX_CELL_LEN - usize::from(apostrophe);
    let (body, truncated) = match truncate(text, budget, lang) {
        Some(cut) => (Cow::Owned(cut), true),
        None => (Cow::Borrowed(text), false),
    };
    Cell {
        dangerous,
        apostrophe,
        body,
        truncated,
    }
}

/// Cuts `text` so that it and the marker fit in `budget` UTF-16 code units; `None` when it
/// already fits.
#[inline]
fn truncate(text: &str, budget: usize, lang: Lang) -> Option<String> {
    // A UTF-8 byte count is never below the UTF-16 count: the common case costs nothing.
    if text.len() <= budget || utf16_len(text) <= budget {
        return None;
    }
    Some(cut(text, budget, lang))
}

#[cold]
fn cut(text: &str, budget: usize, lang: Lang) -> String {
    let total = text.chars().count();
    let marker = match lang {
        Lang::En => format!("… [truncated: {total} characters in total]"),
        Lang::It => format!("… [troncato: {total} caratteri in totale]"),
    };
    let keep = budget - utf16_len(&marker);
    let mut used = 0;
    let mut end = 0;
    for (index, ch) in text.char_indices() {
        if used + ch.len_utf16() > keep {
            break;
        }
        used += ch.len_utf16();
        end = index + ch.len_utf8();
    }
    let mut cut = String::with_capacity(end + marker.len());
    cut.push_str(&text[..end]);
    cut.push_str(&marker);
    cut
}

/// The length Excel sees.
pub(crate) fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Cell<'_> {
        prepare(text, Marking::Apostrophe, Lang::En)
    }

    #[test]
    fn every_owasp_leading_character_is_neutralized_with_an_apostrophe() {
        for text in ["=1+2", "+1", "-5", "@SUM(A1)", "\tx", "\rx"] {
            let cell = csv(text);
            assert!(cell.dangerous && cell.apostrophe, "{text:?}");
            assert_eq!(cell.text(), format!("'{text}"));
        }
    }

    #[test]
    fn harmless_text_is_left_alone() {
        for text in [
            "",
            "Società Caffè",
            " =1+2",
            "a=b",
            "'quoted",
            "\nline",
            "2017",
        ] {
            let cell = csv(text);
            assert!(!cell.dangerous, "{text:?}");
            assert_eq!(cell.text(), text);
        }
    }

    #[test]
    fn style_marking_keeps_the_text_exact() {
        let cell = prepare("=cmd|' /C calc'!A0", Marking::Style, Lang::En);
        assert!(cell.dangerous && !cell.apostrophe);
        assert_eq!(cell.body, "=cmd|' /C calc'!A0");
    }

    #[test]
    fn a_cell_at_the_limit_is_kept_whole() {
        let text = "x".repeat(MAX_CELL_LEN);
        let cell = csv(&text);
        assert!(!cell.truncated);
        assert_eq!(cell.body.len(), MAX_CELL_LEN);
    }

    #[test]
    fn a_long_cell_is_cut_to_the_limit_with_a_visible_marker() {
        let text = "é".repeat(40_000);
        let cell = csv(&text);
        assert!(cell.truncated);
        assert_eq!(utf16_len(&cell.text()), MAX_CELL_LEN);
        assert!(
            cell.body
                .ends_with("… [truncated: 40000 characters in total]")
        );
        assert!(cell.body.starts_with("éééé"));

        let italian = prepare(&text, Marking::Style, Lang::It);
        assert!(
            italian
                .body
                .ends_with("… [troncato: 40000 caratteri in totale]")
        );
    }

    #[test]
    fn the_apostrophe_counts_towards_the_limit() {
        let text = format!("-{}", "1".repeat(MAX_CELL_LEN));
        let cell = csv(&text);
        assert!(cell.truncated && cell.apostrophe);
        assert_eq!(utf16_len(&cell.text()), MAX_CELL_LEN);
        assert!(cell.body.starts_with("-111"));
    }

    #[test]
    fn emoji_count_twice_and_are_never_split() {
        // 20,000 emoji are 80,000 bytes and 40,000 UTF-16 units: over Excel's limit.
        let text = "😀".repeat(20_000);
        let cell = prepare(&text, Marking::Style, Lang::En);
        assert!(cell.truncated);
        assert!(utf16_len(&cell.body) <= MAX_CELL_LEN);
        assert!(utf16_len(&cell.body) >= MAX_CELL_LEN - 1);
        assert!(
            cell.body
                .ends_with("[truncated: 20000 characters in total]")
        );

        // 16,000 emoji are 32,000 units: under the limit although 64,000 bytes long.
        let short = "😀".repeat(16_000);
        assert!(!prepare(&short, Marking::Style, Lang::En).truncated);
    }
}
