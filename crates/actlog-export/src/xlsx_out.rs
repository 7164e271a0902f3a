//! XLSX, so that no spreadsheet has to guess: dates are date cells, text is text.
//!
//! Written with `rust_xlsxwriter` in constant-memory mode: each finished row is flushed to an
//! (already unlinked) temporary file, one per worksheet, so memory stays flat whatever the
//! size; the temporary files take about the size of the sheet XML on disk (in
//! [`crate::ExportOptions::temp_dir`], or the system's temporary directory — which must not be
//! a RAM disk for this to save memory). An XLSX is a zip whose directory comes last, so the
//! file itself is produced by [`XlsxOut::finish`]; nothing reaches the writer before that.
//!
//! Each worksheet holds the header and at most 1,048,575 records (Excel's 1,048,576 rows); the
//! next records continue on "Activity log (2)", "Activity log (3)", …

use std::io::Write;
use std::path::Path;

use actlog_domain::AuditRecord;
use actlog_domain::catalog::Lang;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::cell::{self, Marking};
use crate::columns::{self, COUNT, LOCAL_TIME, RowText};

/// Rows in one Excel worksheet, the header included.
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;

/// Above this bound on one worksheet's XML the zip must use ZIP64 (its limit: 4 GiB per part).
const ZIP64_THRESHOLD: u64 = 3 << 30;

/// Streams records into a workbook kept on disk until [`Self::finish`].
pub(crate) struct XlsxOut<W: Write + Send> {
    writer: W,
    workbook: Workbook,
    lang: Lang,
    tz: TimeZone,
    headers: [String; COUNT],
    formats: Formats,
    row: RowText,
    /// Records per worksheet (below Excel's limit only in tests).
    per_sheet: u32,
    sheet: usize,
    /// Records on the current worksheet.
    in_sheet: u32,
    /// Estimated XML bytes of the current worksheet.
    sheet_bytes: u64,
    large: bool,
}

impl<W: Write + Send> std::fmt::Debug for XlsxOut<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxOut")
            .field("lang", &self.lang)
            .field("tz", &self.tz)
            .field("sheet", &self.sheet)
            .field("in_sheet", &self.in_sheet)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Formats {
    header: Format,
    date: Format,
    text: Format,
}

impl<W: Write + Send> XlsxOut<W> {
    /// Prepares the first worksheet; writes nothing to `writer` yet.
    pub fn new(
        writer: W,
        lang: Lang,
        tz: TimeZone,
        title: &str,
        temp_dir: Option<&Path>,
    ) -> Result<Self, XlsxError> {
        Self::with_sheet_size(writer, lang, tz, title, temp_dir, EXCEL_MAX_ROWS - 1)
    }

    pub(crate) fn with_sheet_size(
        writer: W,
        lang: Lang,
        tz: TimeZone,
        title: &str,
        temp_dir: Option<&Path>,
        per_sheet: u32,
    ) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        if let Some(dir) = temp_dir {
            workbook.set_tempdir(dir)?;
        }
        workbook.set_properties(&DocProperties::new().set_title(title));
        let headers = columns::headers(lang, &columns::zone_name(&tz));
        let mut this = XlsxOut {
            writer,
            workbook,
            lang,
            tz,
            headers,
            formats: Formats {
                header: Format::new().set_bold(),
                date: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
                // Marks a formula-like string so that editing the cell keeps it text.
                text: Format::new().set_quote_prefix(),
            },
            row: RowText::default(),
            per_sheet,
            sheet: 0,
            in_sheet: 0,
            sheet_bytes: 0,
            large: false,
        };
        this.start_sheet()?;
        Ok(this)
    }

    /// Adds one row; returns how many of its cells were cut.
    pub fn write_record(&mut self, record: &AuditRecord) -> Result<u32, XlsxError> {
        if self.in_sheet == self.per_sheet {
            self.end_sheet()?;
            self.sheet += 1;
            self.in_sheet = 0;
            self.start_sheet()?;
        }
        self.in_sheet += 1;
        let row_number = self.in_sheet;
        let mut row = std::mem::take(&mut self.row);
        let result = self.write_row(row_number, &mut row, record);
        self.row = row;
        result
    }

    /// Worksheets so far.
    pub fn sheets(&self) -> u32 {
        self.sheet as u32 + 1
    }

    /// Produces the XLSX file into the writer.
    pub fn finish(mut self) -> Result<(), XlsxError> {
        self.end_sheet()?;
        self.workbook.use_zip_large_file(self.large);
        self.workbook.save_to_writer(self.writer)
    }

    fn write_row(
        &mut self,
        row_number: u32,
        row: &mut RowText,
        record: &AuditRecord,
    ) -> Result<u32, XlsxError> {
        let filled = row.fill(record, self.lang, &self.tz);
        let sheet = self.workbook.worksheet_from_index(self.sheet)?;
        let mut truncated = 0;
        let mut bytes = 0;
        for (col, text) in filled.cells.into_iter().enumerate() {
            bytes += xml_len(text);
            if col == LOCAL_TIME
                && let Some(date) = excel_date(filled.local)
            {
                sheet.write_datetime_with_format(row_number, 0, date, &self.formats.date)?;
                continue;
            }
            let cell = cell::prepare(text, Marking::Style, self.lang);
            truncated += u32::from(cell.truncated);
            let col = col as u16;
            if cell.dangerous {
                sheet.write_string_with_format(row_number, col, cell.body, &self.formats.text)?;
            } else {
                sheet.write_string(row_number, col, cell.body)?;
            }
        }
        self.sheet_bytes += bytes;
        Ok(truncated)
    }

    fn start_sheet(&mut self) -> Result<(), XlsxError> {
        let name = sheet_name(self.lang, self.sheet + 1);
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        for (col, width) in columns::WIDTHS.into_iter().enumerate() {
            sheet.set_column_width(col as u16, width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (col, header) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, header, &self.formats.header)?;
        }
        self.sheet_bytes = 0;
        Ok(())
    }

    /// Filter buttons over the header and every record of the sheet.
    fn end_sheet(&mut self) -> Result<(), XlsxError> {
        self.large |= self.sheet_bytes > ZIP64_THRESHOLD;
        let last_row = self.in_sheet;
        let sheet: &mut Worksheet = self.workbook.worksheet_from_index(self.sheet)?;
        sheet.autofilter(0, 0, last_row, COUNT as u16 - 1)?;
        Ok(())
    }
}

/// An upper bound of the bytes a text cell takes in the sheet XML: the element, the text, and
/// what escaping adds (`&amp;` for `&`, `_x0001_` for a control character, …).
fn xml_len(text: &str) -> u64 {
    let escaped = text
        .bytes()
        .filter(|&b| matches!(b, b'&' | b'<' | b'>' | b'_') || (b < 0x20 && b != b'\n'))
        .count();
    (text.len() + 6 * escaped + 64) as u64
}

/// "Activity log", then "Activity log (2)", … (in the export's language).
fn sheet_name(lang: Lang, number: usize) -> String {
    let base = match lang {
        Lang::En => "Activity log",
        Lang::It => "Log attività",
    };
    match number {
        1 => base.to_owned(),
        n => format!("{base} ({n})"),
    }
}

/// The Excel date for a wall-clock time; `None` before 1 March 1900, where Excel's calendar
/// is wrong (it believes 1900 was a leap year) or has no dates at all. Those rows keep the text.
fn excel_date(dt: DateTime) -> Option<ExcelDateTime> {
    if dt.date() < jiff::civil::date(1900, 3, 1) {
        return None;
    }
    ExcelDateTime::from_ymd(dt.year() as u16, dt.month() as u8, dt.day() as u8)
        .and_then(|d| d.and_hms(dt.hour() as u16, dt.minute() as u8, dt.second()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_estimate_covers_escaping() {
        assert_eq!(xml_len("abc"), 67);
        // `&` becomes `&amp;`, CR `_x000D_`, and `_x0041_` gets its underscore escaped.
        assert!(xml_len("&\r_x0041_") >= (5 + 7 + 13) as u64);
    }

    #[test]
    fn sheets_are_named_in_the_export_language() {
        assert_eq!(sheet_name(Lang::En, 1), "Activity log");
        assert_eq!(sheet_name(Lang::En, 2), "Activity log (2)");
        assert_eq!(sheet_name(Lang::It, 3), "Log attività (3)");
    }

    #[test]
    fn dates_excel_cannot_show_stay_text() {
        assert!(excel_date(jiff::civil::datetime(1900, 2, 28, 23, 0, 0, 0)).is_none());
        assert!(excel_date(jiff::civil::datetime(1, 1, 1, 0, 0, 0, 0)).is_none());
        let date = excel_date(jiff::civil::datetime(2017, 6, 16, 0, 56, 5, 0)).unwrap();
        // 2017-06-16 is Excel day 42902; 00:56:05 is 3365 s into it.
        assert!((date.to_excel() - (42902.0 + 3365.0 / 86400.0)).abs() < 1e-9);
    }
}
