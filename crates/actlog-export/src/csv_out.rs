//! CSV that Excel opens correctly: UTF-8 with a byte-order mark (without it Excel reads the
//! file in the system code page and "Città" turns to mojibake), CRLF line ends, RFC 4180
//! quoting, a separator that follows the language as Excel's list separator does.
//!
//! The writer is ours rather than the `csv` crate's because a neutralized cell must always be
//! quoted, a per-field decision that crate does not offer; RFC 4180 quoting is a few lines.

use std::io::{self, Write};

use actlog_domain::AuditRecord;
use actlog_domain::catalog::Lang;
use jiff::tz::TimeZone;

use crate::cell::{self, Cell, Marking};
use crate::columns::{self, RowText};

const BOM: &[u8] = "\u{feff}".as_bytes();

/// Output is handed to the writer in pieces of about this size.
const CHUNK: usize = 256 * 1024;

/// Streams records as CSV rows.
#[derive(Debug)]
pub(crate) struct CsvOut<W: Write> {
    writer: W,
    /// Rows not yet handed to the writer (our own buffer rather than a `BufWriter`, so that a
    /// row is assembled where it is sent from: one copy fewer per byte).
    buffer: Vec<u8>,
    separator: u8,
    lang: Lang,
    tz: TimeZone,
    row: RowText,
}

impl<W: Write> CsvOut<W> {
    /// Writes the byte-order mark and the header row.
    pub fn new(writer: W, separator: u8, lang: Lang, tz: TimeZone) -> io::Result<Self> {
        let mut this = CsvOut {
            writer,
            buffer: Vec::with_capacity(CHUNK + 64 * 1024),
            separator,
            lang,
            tz,
            row: RowText::default(),
        };
        this.buffer.extend_from_slice(BOM);
        let headers = columns::headers(lang, &columns::zone_name(&this.tz));
        this.write_line(headers.iter().map(String::as_str))?;
        Ok(this)
    }

    /// Writes one row; returns how many of its cells were cut.
    pub fn write_record(&mut self, record: &AuditRecord) -> io::Result<u32> {
        let mut row = std::mem::take(&mut self.row);
        let filled = row.fill(record, self.lang, &self.tz);
        let truncated = self.write_line(filled.cells.into_iter());
        self.row = row;
        truncated
    }

    /// Hands everything to the writer and flushes it.
    pub fn finish(mut self) -> io::Result<()> {
        self.writer.write_all(&self.buffer)?;
        self.writer.flush()
    }

    fn write_line<'a>(&mut self, cells: impl Iterator<Item = &'a str>) -> io::Result<u32> {
        let mut truncated = 0;
        for (index, text) in cells.enumerate() {
            if index > 0 {
                self.buffer.push(self.separator);
            }
            let cell = cell::prepare(text, Marking::Apostrophe, self.lang);
            truncated += u32::from(cell.truncated);
            push_field(&mut self.buffer, &cell, self.separator);
        }
        self.buffer.extend_from_slice(b"\r\n");
        if self.buffer.len() >= CHUNK {
            self.writer.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(truncated)
    }
}

/// Appends one field, quoted when it holds the separator, a quote, CR or LF, or when it was
/// neutralized (so that the apostrophe and the text travel together through any importer).
#[inline]
fn push_field(line: &mut Vec<u8>, cell: &Cell<'_>, separator: u8) {
    let body = cell.body.as_bytes();
    if !cell.apostrophe && !needs_quotes(body, separator) {
        line.extend_from_slice(body);
        return;
    }
    line.push(b'"');
    if cell.apostrophe {
        line.push(b'\'');
    }
    let mut rest = body;
    while let Some(quote) = memchr::memchr(b'"', rest) {
        line.extend_from_slice(&rest[..=quote]);
        line.push(b'"');
        rest = &rest[quote + 1..];
    }
    line.extend_from_slice(rest);
    line.push(b'"');
}

/// Whether a field holds a quote, CR, LF or the separator. Short fields (most of a row) are
/// scanned byte by byte; long ones with SIMD, where the set-up pays for itself.
#[inline]
fn needs_quotes(body: &[u8], separator: u8) -> bool {
    if body.len() < 64 {
        body.iter()
            .any(|&b| b == b'"' || b == b'\r' || b == b'\n' || b == separator)
    } else {
        memchr::memchr3(b'"', b'\r', b'\n', body).is_some()
            || memchr::memchr(separator, body).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str, separator: u8) -> String {
        let mut line = Vec::new();
        let cell = cell::prepare(text, Marking::Apostrophe, Lang::En);
        push_field(&mut line, &cell, separator);
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn plain_fields_are_written_bare() {
        assert_eq!(field("Società Caffè", b','), "Società Caffè");
        assert_eq!(field("a;b", b','), "a;b");
        assert_eq!(field("a,b", b';'), "a,b");
        assert_eq!(field("a\tb", b','), "a\tb");
        assert_eq!(field("", b','), "");
    }

    #[test]
    fn rfc_4180_specials_are_quoted_and_quotes_doubled() {
        assert_eq!(field("a,b", b','), "\"a,b\"");
        assert_eq!(field("a;b", b';'), "\"a;b\"");
        assert_eq!(field("a\tb", b'\t'), "\"a\tb\"");
        assert_eq!(field("Il \"Moro\"", b','), "\"Il \"\"Moro\"\"\"");
        assert_eq!(field("\"", b','), "\"\"\"\"");
        assert_eq!(field("a\r\nb", b','), "\"a\r\nb\"");
        assert_eq!(field("a\nb", b','), "\"a\nb\"");
        assert_eq!(field("a\rb", b','), "\"a\rb\"");
        let long = format!("{}\"{}", "x".repeat(100), "y".repeat(100));
        assert_eq!(
            field(&long, b';'),
            format!("\"{}\"\"{}\"", "x".repeat(100), "y".repeat(100))
        );
        assert_eq!(
            field(&"z;".repeat(50), b';'),
            format!("\"{}\"", "z;".repeat(50))
        );
        assert_eq!(field(&"z,".repeat(50), b';'), "z,".repeat(50));
    }

    #[test]
    fn neutralized_fields_are_always_quoted() {
        assert_eq!(field("=1+2", b','), "\"'=1+2\"");
        assert_eq!(field("-5", b';'), "\"'-5\"");
        assert_eq!(field("@x\"y", b','), "\"'@x\"\"y\"");
        assert_eq!(field("\tx", b'\t'), "\"'\tx\"");
    }

    #[test]
    fn the_file_starts_with_a_bom_and_headers_and_ends_lines_with_crlf() {
        let mut out = Vec::new();
        let csv = CsvOut::new(&mut out, b';', Lang::It, TimeZone::UTC).unwrap();
        csv.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\u{feff}Data-ora (UTC);Cliente interessato;Azione;"));
        assert!(text.ends_with(";Dettagli\r\n"));
        assert_eq!(text.matches('\n').count(), 1);
    }
}
