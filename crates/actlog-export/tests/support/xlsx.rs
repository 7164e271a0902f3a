//! A small XLSX reader for tests: enough of SpreadsheetML to tell a date cell from a text cell
//! from a formula, for files written by rust_xlsxwriter or converted by LibreOffice.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Seek};

/// A workbook's sheets, in order.
#[derive(Debug)]
pub struct Book {
    pub sheets: Vec<Sheet>,
    pub title: Option<String>,
}

#[derive(Debug)]
pub struct Sheet {
    pub name: String,
    /// Rows by index (0-based); missing cells are `None`.
    pub rows: Vec<Vec<Option<Cell>>>,
    /// The `ref` of `<autoFilter>`, e.g. `A1:L5`.
    pub autofilter: Option<String>,
    pub frozen_rows: Option<f64>,
    /// Column widths by 0-based column.
    pub widths: HashMap<usize, f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub value: Value,
    /// The formula text, if the cell is a formula.
    pub formula: Option<String>,
    /// The cell's number format code (`General` when none).
    pub num_format: String,
    pub bold: bool,
    pub quote_prefix: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    Error(String),
    Empty,
}

impl Cell {
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A number shown with a date format.
    pub fn is_date(&self) -> bool {
        matches!(self.value, Value::Number(_)) && is_date_format(&self.num_format)
    }
}

impl Sheet {
    pub fn cell(&self, row: usize, col: usize) -> Option<&Cell> {
        self.rows.get(row)?.get(col)?.as_ref()
    }
}

fn is_date_format(code: &str) -> bool {
    // Strip quoted literals and bracketed sections ([$-410], [Red]) before looking for y/d.
    let mut plain = String::new();
    let mut quoted = false;
    let mut bracket = false;
    for ch in code.chars() {
        match ch {
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            _ if !quoted && !bracket => plain.push(ch.to_ascii_lowercase()),
            _ => {}
        }
    }
    plain.contains('y') || plain.contains('d')
}

/// Reads every sheet of an XLSX file.
pub fn read(source: impl Read + Seek) -> Book {
    let mut zip = zip::ZipArchive::new(source).expect("an XLSX is a zip");
    let mut part = |name: &str| -> Option<String> {
        let mut file = zip.by_name(name).ok()?;
        let mut text = String::new();
        file.read_to_string(&mut text).expect("parts are UTF-8");
        Some(text)
    };
    let workbook = part("xl/workbook.xml").expect("xl/workbook.xml");
    let rels = part("xl/_rels/workbook.xml.rels").expect("workbook rels");
    let shared = part("xl/sharedStrings.xml").map_or_else(Vec::new, |x| shared_strings(&x));
    let styles = part("xl/styles.xml").map(|x| Styles::parse(&x));
    let title = part("docProps/core.xml").and_then(|x| {
        let events = parse(&x);
        let at = events
            .iter()
            .position(|e| matches!(e, Event::Start(t) if t.name == "dc:title"))?;
        match events.get(at + 1) {
            Some(Event::Text(t)) => Some(t.clone()),
            _ => None,
        }
    });

    let targets: HashMap<String, String> = parse(&rels)
        .into_iter()
        .filter_map(|e| match e {
            Event::Start(tag) | Event::Empty(tag) if tag.name == "Relationship" => {
                Some((tag.attr("Id")?.to_owned(), tag.attr("Target")?.to_owned()))
            }
            _ => None,
        })
        .collect();
    let mut sheets = Vec::new();
    for event in parse(&workbook) {
        if let Event::Start(tag) | Event::Empty(tag) = event
            && tag.name == "sheet"
        {
            let target = &targets[tag.attr("r:id").expect("r:id")];
            let path = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_owned(),
                None => format!("xl/{target}"),
            };
            let xml = part(&path).expect("sheet part");
            let name = tag.attr("name").unwrap().to_owned();
            sheets.push(sheet(name, &xml, &shared, styles.as_ref()));
        }
    }
    Book { sheets, title }
}

fn shared_strings(xml: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut current: Option<String> = None;
    let mut in_t = false;
    let mut in_phonetic = false;
    for event in parse(xml) {
        match event {
            Event::Start(tag) if tag.name == "si" => current = Some(String::new()),
            Event::End(name) if name == "si" => strings.push(current.take().unwrap()),
            Event::Start(tag) if tag.name == "rPh" => in_phonetic = true,
            Event::End(name) if name == "rPh" => in_phonetic = false,
            Event::Start(tag) if tag.name == "t" => in_t = true,
            Event::End(name) if name == "t" => in_t = false,
            Event::Text(text) if in_t && !in_phonetic => {
                current.as_mut().unwrap().push_str(&ooxml_unescape(&text));
            }
            _ => {}
        }
    }
    strings
}

#[derive(Debug, Default)]
struct Styles {
    /// Per cellXfs index: (number format code, bold, quote prefix).
    xfs: Vec<(String, bool, bool)>,
}

impl Styles {
    fn parse(xml: &str) -> Styles {
        let mut formats: HashMap<u32, String> = builtin_formats();
        let mut fonts_bold = Vec::new();
        let mut section = "";
        let mut xfs = Vec::new();
        for event in parse(xml) {
            match event {
                Event::Start(tag) if ["fonts", "cellXfs", "cellStyleXfs"].contains(&&*tag.name) => {
                    section = match &*tag.name {
                        "fonts" => "fonts",
                        "cellXfs" => "cellXfs",
                        _ => "other",
                    }
                }
                Event::End(name) if ["fonts", "cellXfs", "cellStyleXfs"].contains(&&*name) => {
                    section = ""
                }
                Event::Start(tag) | Event::Empty(tag) => match (&*tag.name, section) {
                    ("numFmt", _) => {
                        let id = tag.attr("numFmtId").unwrap().parse().unwrap();
                        formats.insert(id, tag.attr("formatCode").unwrap().to_owned());
                    }
                    ("font", "fonts") => fonts_bold.push(false),
                    ("b", "fonts") => {
                        let bold = tag.attr("val").is_none_or(|v| v == "1" || v == "true");
                        *fonts_bold.last_mut().unwrap() = bold;
                    }
                    ("xf", "cellXfs") => {
                        let num: u32 = tag.attr("numFmtId").unwrap_or("0").parse().unwrap();
                        let font: usize = tag.attr("fontId").unwrap_or("0").parse().unwrap();
                        let quote = matches!(tag.attr("quotePrefix"), Some("1" | "true"));
                        let code = formats.get(&num).cloned().unwrap_or_default();
                        xfs.push((code, fonts_bold.get(font).copied().unwrap_or(false), quote));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Styles { xfs }
    }
}

fn builtin_formats() -> HashMap<u32, String> {
    let mut map = HashMap::new();
    map.insert(0, "General".to_owned());
    for (id, code) in [
        (14, "mm-dd-yy"),
        (15, "d-mmm-yy"),
        (16, "d-mmm"),
        (17, "mmm-yy"),
        (22, "m/d/yy h:mm"),
    ] {
        map.insert(id, code.to_owned());
    }
    map
}

fn sheet(name: String, xml: &str, shared: &[String], styles: Option<&Styles>) -> Sheet {
    let mut out = Sheet {
        name,
        rows: Vec::new(),
        autofilter: None,
        frozen_rows: None,
        widths: HashMap::new(),
    };
    let mut cell: Option<(usize, usize, String, Option<String>, Cell)> = None;
    let mut field = "";
    for event in parse(xml) {
        match event {
            Event::Start(tag) | Event::Empty(tag) if tag.name == "c" => {
                let (row, col) = cell_ref(tag.attr("r").expect("cells carry r"));
                let style: usize = tag.attr("s").unwrap_or("0").parse().unwrap();
                let (num_format, bold, quote_prefix) = styles
                    .and_then(|s| s.xfs.get(style).cloned())
                    .unwrap_or_else(|| ("General".to_owned(), false, false));
                let kind = tag.attr("t").unwrap_or("n").to_owned();
                let blank = Cell {
                    value: Value::Empty,
                    formula: None,
                    num_format,
                    bold,
                    quote_prefix,
                };
                cell = Some((row, col, kind, None, blank));
                if tag.empty {
                    store(&mut out, cell.take().unwrap(), shared);
                }
            }
            Event::End(name) if name == "c" => store(&mut out, cell.take().unwrap(), shared),
            Event::Start(tag) if ["v", "f", "t"].contains(&&*tag.name) => {
                field = match &*tag.name {
                    "v" => "v",
                    "f" => "f",
                    _ => "t",
                };
            }
            Event::Empty(tag) if tag.name == "f" => {
                if let Some(c) = cell.as_mut() {
                    c.4.formula = Some(String::new());
                }
            }
            Event::End(name) if ["v", "f", "t"].contains(&&*name) => field = "",
            Event::Text(text) if !field.is_empty() => {
                let c = cell.as_mut().expect("text inside a cell");
                match field {
                    "f" => c.4.formula.get_or_insert_default().push_str(&text),
                    "v" => c.3.get_or_insert_default().push_str(&text),
                    _ => c.3.get_or_insert_default().push_str(&ooxml_unescape(&text)),
                }
            }
            Event::Empty(tag) | Event::Start(tag) if tag.name == "autoFilter" => {
                out.autofilter = tag.attr("ref").map(str::to_owned);
            }
            Event::Empty(tag) | Event::Start(tag)
                if tag.name == "pane" && tag.attr("state") == Some("frozen") =>
            {
                out.frozen_rows = tag.attr("ySplit").map(|y| y.parse().unwrap());
            }
            Event::Empty(tag) | Event::Start(tag) if tag.name == "col" => {
                let min: usize = tag.attr("min").unwrap().parse().unwrap();
                let max: usize = tag.attr("max").unwrap().parse().unwrap();
                let width: f64 = tag.attr("width").unwrap_or("0").parse().unwrap();
                for col in min..=max.min(min + 64) {
                    out.widths.insert(col - 1, width);
                }
            }
            _ => {}
        }
    }
    out
}

fn store(
    sheet: &mut Sheet,
    parts: (usize, usize, String, Option<String>, Cell),
    shared: &[String],
) {
    let (row, col, kind, raw, mut cell) = parts;
    cell.value = match (kind.as_str(), raw) {
        (_, None) => Value::Empty,
        ("s", Some(index)) => Value::Text(shared[index.trim().parse::<usize>().unwrap()].clone()),
        ("inlineStr" | "str", Some(text)) => Value::Text(text),
        ("b", Some(v)) => Value::Bool(v.trim() == "1"),
        ("e", Some(v)) => Value::Error(v),
        (_, Some(v)) => Value::Number(v.trim().parse().expect("numeric cell")),
    };
    if sheet.rows.len() <= row {
        sheet.rows.resize_with(row + 1, Vec::new);
    }
    let cells = &mut sheet.rows[row];
    if cells.len() <= col {
        cells.resize_with(col + 1, || None);
    }
    cells[col] = Some(cell);
}

/// `AB12` → (row 11, column 27), both 0-based.
fn cell_ref(text: &str) -> (usize, usize) {
    let split = text.find(|c: char| c.is_ascii_digit()).unwrap();
    let col = text[..split]
        .bytes()
        .fold(0, |acc, b| acc * 26 + usize::from(b - b'A' + 1));
    (text[split..].parse::<usize>().unwrap() - 1, col - 1)
}

#[derive(Debug, Clone)]
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub empty: bool,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    Start(Tag),
    Empty(Tag),
    End(String),
    Text(String),
}

/// A tokenizer for the well-formed, namespace-prefixed XML of OOXML parts. Element names keep
/// their prefix except the default SpreadsheetML namespace, which has none in practice.
pub fn parse(xml: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut rest = xml;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').expect("tags close");
            let inner = &after[..end];
            rest = &after[end + 1..];
            if inner.starts_with('?') || inner.starts_with('!') {
                continue;
            }
            if let Some(name) = inner.strip_prefix('/') {
                events.push(Event::End(local_name(name.trim()).to_owned()));
                continue;
            }
            let empty = inner.ends_with('/');
            let inner = inner.trim_end_matches('/');
            let tag = tag(inner, empty);
            events.push(if empty {
                Event::Empty(tag)
            } else {
                Event::Start(tag)
            });
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            events.push(Event::Text(xml_unescape(&rest[..end])));
            rest = &rest[end..];
        }
    }
    events
}

fn local_name(name: &str) -> &str {
    name.strip_prefix("x:").unwrap_or(name)
}

fn tag(inner: &str, empty: bool) -> Tag {
    let name_end = inner
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(inner.len());
    let mut attrs = Vec::new();
    let mut rest = inner[name_end..].trim_start();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().to_owned();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().expect("quoted attribute");
        let close = after[1..].find(quote).expect("attribute closes") + 1;
        attrs.push((key, xml_unescape(&after[1..close])));
        rest = after[close + 1..].trim_start();
    }
    Tag {
        name: local_name(&inner[..name_end]).to_owned(),
        attrs,
        empty,
    }
}

fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').expect("entities end with ;") + amp;
        let entity = &rest[amp + 1..semi];
        match entity {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let code = match entity.strip_prefix("#x").or(entity.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                    None => entity
                        .strip_prefix('#')
                        .expect("numeric entity")
                        .parse()
                        .unwrap(),
                };
                out.push(char::from_u32(code).unwrap());
            }
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// Decodes OOXML's `_xHHHH_` escapes (how control characters such as CR travel in strings).
fn ooxml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_x") {
        let candidate = rest.get(at..at + 7);
        let code = candidate
            .filter(|c| c.ends_with('_'))
            .and_then(|c| u32::from_str_radix(&c[2..6], 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(ch) => {
                out.push_str(&rest[..at]);
                out.push(ch);
                rest = &rest[at + 7..];
            }
            None => {
                out.push_str(&rest[..at + 2]);
                rest = &rest[at + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Excel's serial number for a wall-clock time (days since 1899-12-30).
pub fn excel_serial(dt: jiff::civil::DateTime) -> f64 {
    let epoch = jiff::civil::date(1899, 12, 30).at(0, 0, 0, 0);
    let span = dt.duration_since(epoch);
    span.as_secs_f64() / 86_400.0
}
