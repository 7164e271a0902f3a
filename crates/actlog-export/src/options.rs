//! What an export is asked for: format, language, time zone, separator, period; and what
//! follows from it: the file name and the Content-Type.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use actlog_domain::OperationDate;
use actlog_domain::catalog::Lang;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The file formats an export can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Excel-compatible CSV (PRODUCT.md §6).
    Csv,
    /// An Excel workbook with real date cells.
    Xlsx,
    /// One API-form JSON record per line, for machines.
    Ndjson,
}

impl Format {
    /// The file extension, which is also the name accepted by [`FromStr`].
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Ndjson => "ndjson",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A format name that is not `csv`, `xlsx` or `ndjson`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an export format: use csv, xlsx or ndjson")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Reads `csv`, `xlsx` or `ndjson`, in any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Format::Csv, Format::Xlsx, Format::Ndjson]
            .into_iter()
            .find(|f| text.trim().eq_ignore_ascii_case(f.extension()))
            .ok_or_else(|| UnknownFormat(text.to_owned()))
    }
}

/// The Content-Type of a download in this format.
pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Format::Ndjson => "application/x-ndjson",
    }
}

/// A separator that is not one a spreadsheet's CSV import offers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a CSV separator: use `,`, `;` or tab")]
pub struct UnknownSeparator(pub String);

/// Reads a separator as a query parameter or flag gives it: `,` `;` or a tab, or by name
/// (`comma`, `semicolon`, `tab`).
pub fn parse_separator(text: &str) -> Result<char, UnknownSeparator> {
    match text {
        "," => Ok(','),
        ";" => Ok(';'),
        "\t" => Ok('\t'),
        _ => match text.trim().to_ascii_lowercase().as_str() {
            "comma" => Ok(','),
            "semicolon" => Ok(';'),
            "tab" | "\\t" => Ok('\t'),
            _ => Err(UnknownSeparator(text.to_owned())),
        },
    }
}

/// The instants an export covers, for its name and the XLSX document title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first instant included.
    pub from: OperationDate,
    /// The first instant excluded; `None` when the export runs up to the present.
    pub to: Option<OperationDate>,
}

impl Period {
    /// The first and last calendar days the period touches in `tz`; an open end is `today`.
    pub fn days(&self, tz: &TimeZone, today: Date) -> (Date, Date) {
        let day = |at: OperationDate| tz.to_datetime(at.timestamp()).date();
        let last = match self.to {
            // The end is exclusive: a period ending at midnight does not touch that day.
            Some(end) if end > self.from => day(OperationDate::from_ticks(end.ticks() - 1)),
            Some(_) => day(self.from),
            None => today,
        };
        (day(self.from), last)
    }
}

/// Everything that shapes an export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    /// Language of headers, labels and markers; also picks the default separator.
    pub lang: Lang,
    /// The time zone of the Date-Time column, named in its header.
    pub tz: TimeZone,
    /// CSV separator: `,`, `;` or tab. `None` follows the language as Excel does
    /// (`,` for English, `;` for Italian, where the comma is the decimal mark).
    pub separator: Option<char>,
    /// The period exported (the caller selects the records; this names the result).
    pub period: Period,
    /// Where XLSX keeps its rows until the file is produced; the system's temporary
    /// directory when `None`.
    pub temp_dir: Option<PathBuf>,
}

impl ExportOptions {
    /// Options with the language's separator and the system's temporary directory.
    pub fn new(format: Format, lang: Lang, tz: TimeZone, period: Period) -> Self {
        ExportOptions {
            format,
            lang,
            tz,
            separator: None,
            period,
            temp_dir: None,
        }
    }

    /// The separator the CSV will use.
    pub fn effective_separator(&self) -> char {
        self.separator.unwrap_or(match self.lang {
            Lang::En => ',',
            Lang::It => ';',
        })
    }
}

/// `activity-log_2025-03-01_2025-03-31.csv` (`.xlsx`, `.ndjson`): the download's name.
pub fn file_name(options: &ExportOptions, from: Date, to: Date) -> String {
    format!("activity-log_{from}_{to}.{}", options.format.extension())
}

/// A `Content-Disposition` value that makes browsers download under `file_name`
/// (our names are plain ASCII, so no RFC 5987 encoding is needed).
pub fn content_disposition(file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}\"")
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn formats_parse_by_name_and_refuse_the_rest_clearly() {
        assert_eq!("csv".parse::<Format>().unwrap(), Format::Csv);
        assert_eq!("XLSX".parse::<Format>().unwrap(), Format::Xlsx);
        assert_eq!(" ndjson ".parse::<Format>().unwrap(), Format::Ndjson);
        let err = "xls".parse::<Format>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`xls` is not an export format: use csv, xlsx or ndjson"
        );
    }

    #[test]
    fn separators_follow_the_language_unless_chosen() {
        let period = Period {
            from: OperationDate::from_ticks(0),
            to: None,
        };
        let mut options = ExportOptions::new(Format::Csv, Lang::It, TimeZone::UTC, period);
        assert_eq!(options.effective_separator(), ';');
        options.lang = Lang::En;
        assert_eq!(options.effective_separator(), ',');
        options.separator = Some('\t');
        assert_eq!(options.effective_separator(), '\t');
        assert_eq!(parse_separator("semicolon"), Ok(';'));
        assert_eq!(parse_separator("\t"), Ok('\t'));
        assert_eq!(parse_separator("TAB"), Ok('\t'));
        assert!(parse_separator("|").is_err());
    }

    #[test]
    fn file_names_and_content_types() {
        let period = Period {
            from: OperationDate::from_ticks(0),
            to: None,
        };
        let options = ExportOptions::new(Format::Xlsx, Lang::En, TimeZone::UTC, period);
        let name = file_name(&options, date(2025, 3, 1), date(2025, 3, 31));
        assert_eq!(name, "activity-log_2025-03-01_2025-03-31.xlsx");
        assert_eq!(
            content_disposition(&name),
            "attachment; filename=\"activity-log_2025-03-01_2025-03-31.xlsx\""
        );
        assert_eq!(
            content_disposition("a \"b\".csv"),
            "attachment; filename=\"a__b_.csv\""
        );
        assert_eq!(content_type(Format::Csv), "text/csv; charset=utf-8");
        assert_eq!(content_type(Format::Ndjson), "application/x-ndjson");
    }

    #[test]
    fn a_period_ending_at_midnight_names_the_day_before() {
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let at = |s: &str| OperationDate::parse_rfc3339(s).unwrap();
        let period = Period {
            from: at("2025-02-28T23:00:00Z"),
            to: Some(at("2025-03-31T22:00:00Z")),
        };
        assert_eq!(
            period.days(&rome, date(2030, 1, 1)),
            (date(2025, 3, 1), date(2025, 3, 31))
        );
        let open = Period { to: None, ..period };
        assert_eq!(
            open.days(&rome, date(2025, 4, 2)),
            (date(2025, 3, 1), date(2025, 4, 2))
        );
    }
}
