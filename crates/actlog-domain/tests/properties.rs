//! Property tests for the parsers that read outside input (PRODUCT.md §9: "the parsers are
//! fuzzed"): record batches, record dates, query dates, filters and continuation tokens.
//!
//! Each parser is fed arbitrary, grammar-shaped and mutated input and must answer with a value
//! or a typed error, never a panic. What it accepts is checked against expectations computed
//! here without the crate's help: a calendar for dates, the expected record for a record's
//! JSON, a small case-folding oracle for filters.
//!
//! One file on purpose, so that the fuzzing is one test binary; its sections follow the parsers.
//! Bugs found here are pinned by the regression tests at the end, each named after what broke.

use std::fmt::Debug;

use actlog_domain::cursor::{CursorKey, InvalidToken};
use actlog_domain::extensions::{Extensions, Raw};
use actlog_domain::filter::{Condition, Field, Filter, MAX_FILTER_BYTES, Operator};
use actlog_domain::ingest::{BatchError, MAX_DEPTH, MAX_SHORT_FIELD, parse_batch, parse_record};
use actlog_domain::query::{PageRequest, Position, Query, Window};
use actlog_domain::record::{Attributes, AuditRecord, KeyValue};
use actlog_domain::time::{DateError, OperationDate, QueryDate};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::tz::{TimeZone, offset};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};
use sha2::Sha256;

const PARTNER: &str = "partner-1";

/// No regression files: this crate's tree is not the place for them.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Ids for records that bring none, numbered in batch order.
fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("generated-{n}")
    }
}

/// A small deterministic generator: one proptest seed decides every escaping and spacing
/// choice in a document, so a failing case replays exactly.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Dice(seed | 1)
    }

    /// A number in `0..n` (xorshift64*).
    fn roll(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % n as u64) as usize
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.roll(options.len())]
    }
}

/// JSON whitespace, mostly none.
fn ws(dice: &mut Dice) -> &'static str {
    dice.pick(&["", "", "", " ", "\n", "\t", "\r\n", "  "])
}

// ---------------------------------------------------------------------------------------------
// Calendar: an independent proleptic Gregorian calendar (H. Hinnant's algorithms).

const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;
/// `OperationDate::MIN` and `MAX` (0001-01-01T00:00:00Z, 9999-12-30T22:00:00.9999999Z), as
/// constants so that strategies can use them; checked by `the_test_calendar_is_right`.
const MIN_TICKS: i64 = -621_355_968_000_000_000;
const MAX_TICKS: i64 = 2_534_022_072_009_999_999;

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A UTC date and time to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

impl Civil {
    /// The civil time of `ticks`, and the ticks past its second.
    fn of_ticks(ticks: i64) -> (Civil, i64) {
        let (year, month, day) = civil_from_days(ticks.div_euclid(TICKS_PER_DAY));
        let in_day = ticks.rem_euclid(TICKS_PER_DAY);
        let seconds = in_day / TICKS_PER_SECOND;
        let civil = Civil {
            year,
            month,
            day,
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60,
        };
        (civil, in_day % TICKS_PER_SECOND)
    }

    fn midnight_ticks(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * TICKS_PER_DAY
    }

    fn ticks(self) -> i64 {
        self.midnight_ticks()
            + (self.hour * 3600 + self.minute * 60 + self.second) * TICKS_PER_SECOND
    }

    fn rfc3339(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Partner Center's form of an instant, computed from the calendar above.
fn expected_display(ticks: i64) -> String {
    let (civil, fraction) = Civil::of_ticks(ticks);
    format!("{}.{fraction:07}Z", civil.rfc3339())
}

/// Instants across the accepted range, weighted to its edges and to the epoch.
fn any_ticks() -> impl Strategy<Value = i64> {
    let year = 366 * TICKS_PER_DAY;
    prop_oneof![
        6 => MIN_TICKS..=MAX_TICKS,
        1 => MIN_TICKS..=MIN_TICKS + year,
        1 => MAX_TICKS - year..=MAX_TICKS,
        1 => -year..=year,
        1 => select(vec![MIN_TICKS, MAX_TICKS, -1, 0, 1]),
    ]
}

/// An RFC 3339 instant as a client writes it, and its ticks.
#[derive(Debug, Clone)]
struct DateText {
    text: String,
    ticks: i64,
}

/// 0 to 7 fractional digits, any offset from -23:59 to +23:59, `Z` or `+00:00` for UTC.
fn rfc3339_date() -> impl Strategy<Value = DateText> {
    let offsets = prop_oneof![Just(0i64), -(23 * 60 + 59)..=23 * 60 + 59i64];
    (any_ticks(), 0u32..=7, offsets, any::<bool>()).prop_map(|(ticks, digits, offset, zulu)| {
        let unit = 10i64.pow(7 - digits);
        let ticks = ticks - ticks.rem_euclid(unit);
        let shifted = ticks + offset * 60 * TICKS_PER_SECOND;
        let (offset, local) = if (MIN_TICKS..=MAX_TICKS).contains(&shifted) {
            (offset, shifted)
        } else {
            (0, ticks)
        };
        let (civil, fraction) = Civil::of_ticks(local);
        let mut text = civil.rfc3339();
        if digits > 0 {
            text += &format!(".{:0w$}", fraction / unit, w = digits as usize);
        }
        if offset == 0 && zulu {
            text.push('Z');
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.abs();
            text += &format!("{sign}{:02}:{:02}", abs / 60, abs % 60);
        }
        DateText { text, ticks }
    })
}

// ---------------------------------------------------------------------------------------------
// Text and JSON: strings with every kind of character, written with every kind of escape.

/// Characters that stress escaping, Unicode handling and case folding.
const TRICKY: &[char] = &[
    '"',
    '\\',
    '/',
    '\u{7f}',
    '\u{80}',
    '\u{a0}',
    'é',
    'Σ',
    'ß',
    'İ',
    '\u{2028}',
    '\u{feff}',
    '\u{fffd}',
    '😀',
    '\u{10ffff}',
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '\u{1}',
];

/// Any character but NUL. (Mapped, not filtered: filters on 512-character strings exhaust
/// proptest's rejection budget.)
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => select(TRICKY),
        1 => (1u8..0x20).prop_map(char::from),
        3 => proptest::char::range(' ', '~'),
    ]
    .prop_map(|c| if c == '\0' { '\u{1}' } else { c })
}

/// Free text (names, values): anything without NUL, possibly empty.
fn free_text() -> impl Strategy<Value = String> {
    vec(text_char(), 0..24).prop_map(String::from_iter)
}

/// An identifier or code: 1 to 512 characters, none of them a control character.
fn short_text() -> impl Strategy<Value = String> {
    let c = || text_char().prop_map(|c| if c.is_control() { '~' } else { c });
    prop_oneof![
        8 => vec(c(), 1..24),
        1 => vec(c(), MAX_SHORT_FIELD - 2..=MAX_SHORT_FIELD),
    ]
    .prop_map(String::from_iter)
}

/// `text` as a JSON string literal, each character written raw or escaped as `dice` decides.
fn json_string(text: &str, dice: &mut Dice) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            _ => None,
        };
        let must_escape = c == '"' || c == '\\' || c < ' ';
        let roll = dice.roll(4);
        match short {
            _ if !must_escape && roll < 2 => out.push(c),
            Some(escape) if roll < 3 => out.push_str(escape),
            _ => {
                let upper = dice.roll(2) == 0;
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out += &if upper {
                        format!("\\u{unit:04X}")
                    } else {
                        format!("\\u{unit:04x}")
                    };
                }
            }
        }
    }
    out.push('"');
    out
}

const WORDS: &[&str] = &[
    "Quantity",
    "Name",
    "Società Caffè \"Il Moro\", S.r.l.",
    "😀",
    "a\\b",
    "",
    "line\nbreak",
    "objectType",
    "AuditRecord",
    "\u{2028}",
];

/// Any JSON value, as text with random spacing and escapes.
fn json_value_text(dice: &mut Dice, depth: u32) -> String {
    match dice.roll(if depth == 0 { 4 } else { 6 }) {
        0 => dice
            .pick(&[
                "null",
                "true",
                "false",
                "0",
                "-1",
                "1.5e3",
                "-0.0",
                "1e400",
                "123456789012345678901234567890",
            ])
            .to_owned(),
        1 | 2 => {
            let word = dice.pick(WORDS);
            json_string(word, dice)
        }
        3 => dice.roll(100_000).to_string(),
        _ => json_container(dice, depth - 1),
    }
}

/// A JSON object or array, as text.
fn json_container(dice: &mut Dice, depth: u32) -> String {
    let n = dice.roll(4);
    let object = dice.roll(3) != 0;
    let items: Vec<String> = (0..n)
        .map(|_| {
            let value = json_value_text(dice, depth);
            if object {
                let key = dice.pick(WORDS);
                format!("{}{}:{}{value}", json_string(key, dice), ws(dice), ws(dice))
            } else {
                value
            }
        })
        .collect();
    let (open, close) = if object { ("{", "}") } else { ("[", "]") };
    let sep = format!("{},{}", ws(dice), ws(dice));
    format!("{open}{}{}{}{close}", ws(dice), items.join(&sep), ws(dice))
}

/// An object with `members` (already `"key": value` texts) in a random order.
fn json_object(mut members: Vec<String>, dice: &mut Dice) -> String {
    for i in (1..members.len()).rev() {
        members.swap(i, dice.roll(i + 1));
    }
    let sep = format!("{},{}", ws(dice), ws(dice));
    format!("{{{}{}{}}}", ws(dice), members.join(&sep), ws(dice))
}

fn member(key: &str, value: &str, dice: &mut Dice) -> String {
    format!("{}{}:{}{value}", json_string(key, dice), ws(dice), ws(dice))
}

// ---------------------------------------------------------------------------------------------
// Records: what a client writes, and what actlog must make of it.

/// An optional field: left out, written as `null`, or given.
#[derive(Debug, Clone)]
enum Opt<T> {
    Absent,
    Null,
    Given(T),
}

impl<T: Clone> Opt<T> {
    fn given(&self) -> Option<T> {
        match self {
            Opt::Given(v) => Some(v.clone()),
            Opt::Absent | Opt::Null => None,
        }
    }
}

fn opt<T: Clone + Debug + 'static>(s: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Opt<T>> {
    prop_oneof![1 => Just(Opt::Absent), 1 => Just(Opt::Null), 3 => s.prop_map(Opt::Given)].boxed()
}

/// `resourceOldValue` / `resourceNewValue`: JSON in a string, or a JSON object or array.
#[derive(Debug, Clone)]
enum Resource {
    Text(String),
    Json(String),
}

fn resource() -> impl Strategy<Value = Resource> {
    prop_oneof![
        free_text().prop_map(Resource::Text),
        any::<u64>().prop_map(|seed| Resource::Json(json_container(&mut Dice::new(seed), 3))),
    ]
}

/// One record as a client sends it.
#[derive(Debug, Clone)]
struct Input {
    id: Opt<String>,
    partner: Opt<()>,
    customer_id: Opt<String>,
    customer_name: Opt<String>,
    user: Opt<String>,
    application: Opt<String>,
    resource_type: Opt<String>,
    old: Opt<Resource>,
    new: Opt<Resource>,
    operation_type: String,
    date: DateText,
    status: Opt<String>,
    customized: Opt<Vec<(String, Opt<String>)>>,
    session: Opt<String>,
    correlation: Opt<String>,
    attributes: Option<u64>,
    seed: u64,
}

fn input() -> impl Strategy<Value = Input> {
    let names = (
        opt(short_text()),
        opt(Just(())),
        opt(short_text()),
        opt(free_text()),
        opt(free_text()),
        opt(free_text()),
    );
    let action = (
        opt(short_text()),
        opt(resource()),
        opt(resource()),
        short_text(),
        rfc3339_date(),
        opt(short_text()),
    );
    let rest = (
        opt(vec((free_text(), opt(free_text())), 0..4)),
        opt(short_text()),
        opt(short_text()),
        proptest::option::of(any::<u64>()),
        any::<u64>(),
    );
    (names, action, rest).prop_map(|(names, action, rest)| {
        let (id, partner, customer_id, customer_name, user, application) = names;
        let (resource_type, old, new, operation_type, date, status) = action;
        let (customized, session, correlation, attributes, seed) = rest;
        Input {
            id,
            partner,
            customer_id,
            customer_name,
            user,
            application,
            resource_type,
            old,
            new,
            operation_type,
            date,
            status,
            customized,
            session,
            correlation,
            attributes,
            seed,
        }
    })
}

impl Input {
    /// The record's JSON, members in a random order, strings randomly escaped.
    fn json(&self) -> String {
        let dice = &mut Dice::new(self.seed);
        let mut members = Vec::new();
        let texts = [
            ("id", &self.id),
            ("customerId", &self.customer_id),
            ("customerName", &self.customer_name),
            ("userPrincipalName", &self.user),
            ("applicationId", &self.application),
            ("resourceType", &self.resource_type),
            ("operationStatus", &self.status),
            ("sessionId", &self.session),
            ("originalCorrelationId", &self.correlation),
        ];
        for (key, value) in texts {
            match value {
                Opt::Absent => {}
                Opt::Null => members.push(member(key, "null", dice)),
                Opt::Given(text) => {
                    let text = json_string(text, dice);
                    members.push(member(key, &text, dice));
                }
            }
        }
        match self.partner {
            Opt::Absent => {}
            Opt::Null => members.push(member("partnerId", "null", dice)),
            Opt::Given(()) => {
                let partner = json_string(PARTNER, dice);
                members.push(member("partnerId", &partner, dice));
            }
        }
        for (key, value) in [
            ("resourceOldValue", &self.old),
            ("resourceNewValue", &self.new),
        ] {
            let text = match value {
                Opt::Absent => continue,
                Opt::Null => "null".to_owned(),
                Opt::Given(Resource::Text(text)) => json_string(text, dice),
                Opt::Given(Resource::Json(json)) => json.clone(),
            };
            members.push(member(key, &text, dice));
        }
        let operation_type = json_string(&self.operation_type, dice);
        members.push(member("operationType", &operation_type, dice));
        let date = json_string(&self.date.text, dice);
        members.push(member("operationDate", &date, dice));
        match &self.customized {
            Opt::Absent => {}
            Opt::Null => members.push(member("customizedData", "null", dice)),
            Opt::Given(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|(key, value)| {
                        let key = json_string(key, dice);
                        let mut kv = vec![member("key", &key, dice)];
                        match value {
                            Opt::Absent => {}
                            Opt::Null => kv.push(member("value", "null", dice)),
                            Opt::Given(v) => {
                                let v = json_string(v, dice);
                                kv.push(member("value", &v, dice));
                            }
                        }
                        json_object(kv, dice)
                    })
                    .collect();
                let list = format!("[{}]", items.join(","));
                members.push(member("customizedData", &list, dice));
            }
        }
        if let Some(seed) = self.attributes {
            members.push(member("attributes", &attributes_text(seed), dice));
        }
        json_object(members, dice)
    }

    /// The record actlog must make of it; `new_id` numbers the records that bring no id.
    fn expected(&self, new_id: &mut dyn FnMut() -> String) -> AuditRecord {
        let resource = |value: &Opt<Resource>| {
            value.given().map(|r| match r {
                Resource::Text(text) | Resource::Json(text) => text,
            })
        };
        AuditRecord {
            id: self.id.given().unwrap_or_else(new_id),
            partner_id: PARTNER.to_owned(),
            customer_id: self.customer_id.given(),
            customer_name: self.customer_name.given(),
            user_principal_name: self.user.given(),
            application_id: self.application.given(),
            resource_type: self.resource_type.given(),
            resource_old_value: resource(&self.old),
            resource_new_value: resource(&self.new),
            operation_type: self.operation_type.clone(),
            operation_date: OperationDate::from_ticks(self.date.ticks),
            operation_status: self.status.given(),
            customized_data: self.customized.given().map(|items| {
                items
                    .into_iter()
                    .map(|(key, value)| KeyValue {
                        key,
                        value: value.given(),
                    })
                    .collect()
            }),
            session_id: self.session.given(),
            original_correlation_id: self.correlation.given(),
            attributes: Attributes::audit_record(),
            extensions: Extensions {
                // Attributes other than actlog's own are kept as written.
                attributes: self
                    .attributes
                    .map(attributes_text)
                    .filter(|text| {
                        // null is no attributes, as for every field; the plain form is one
                        // member (a repeated `objectType` is kept as written).
                        let read = serde_json::from_str::<Value>(text).ok();
                        let plain = read == Some(json!({"objectType": "AuditRecord"}))
                            && members_written(text) == 1;
                        !plain && read != Some(Value::Null)
                    })
                    .map(|text| Raw::from_text(&text).unwrap()),
                ..Extensions::default()
            },
        }
    }
}

/// How many members the JSON object `text` has as written, repeated names counted each time.
/// An `attributes` member Partner Center's clients can read: null (none), or an object whose
/// `objectType`, when it has one, is `AuditRecord`, with any other members.
fn attributes_text(seed: u64) -> String {
    let extra = json_value_text(&mut Dice::new(seed), 2);
    match seed % 4 {
        0 => "null".to_owned(),
        1 => r#"{"objectType":"AuditRecord"}"#.to_owned(),
        2 => format!(r#"{{"objectType":"AuditRecord","etag":{extra}}}"#),
        _ => format!(r#"{{"etag":{extra}}}"#),
    }
}

fn members_written(text: &str) -> usize {
    struct Count;
    impl<'de> serde::de::Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
            let mut n = 0;
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {
                n += 1;
            }
            Ok(n)
        }
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut reader, Count).unwrap_or(0)
}

/// The three shapes of a batch body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Array,
    Ndjson,
    Envelope,
}

const FORMS: [Form; 3] = [Form::Array, Form::Ndjson, Form::Envelope];

/// A batch body holding `records` in `form`, and the byte offset where each record starts.
fn batch(records: &[String], form: Form, dice: &mut Dice) -> (String, Vec<usize>) {
    let mut body = String::new();
    if dice.roll(8) == 0 {
        body.push('\u{feff}');
    }
    let mut starts = Vec::new();
    if form == Form::Ndjson {
        body += dice.pick(&["", "\n", " "]);
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                body += dice.pick(&["\n", "\r\n", "\n\n", " \n\t"]);
            }
            starts.push(body.len());
            body += record;
        }
        body += dice.pick(&["", "\n", "\r\n"]);
        return (body, starts);
    }
    if form == Form::Envelope {
        body += &format!("{{\"totalCount\":{},{}\"items\":", records.len(), ws(dice));
    }
    body.push('[');
    for (i, record) in records.iter().enumerate() {
        body += ws(dice);
        if i > 0 {
            body.push(',');
            body += ws(dice);
        }
        starts.push(body.len());
        body += record;
    }
    body += ws(dice);
    body.push(']');
    if form == Form::Envelope {
        body += r#","links":{"self":{"uri":"/customers/auditrecords","method":"GET","headers":[]}},"attributes":{"objectType":"Collection"}}"#;
    }
    (body, starts)
}

fn line_at(body: &str, offset: usize) -> usize {
    1 + body[..offset].matches('\n').count()
}

/// A stored record, written out by serde and read back, is the same record.
fn assert_round_trips(record: &AuditRecord) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(record).expect("records serialize");
    let again = parse_record(&json, &record.partner_id, &mut ids());
    prop_assert_eq!(again.as_ref(), Ok(record), "re-read from {}", json);
    // Members as text: kept values may hold numbers no `Value` holds (1e400).
    let value: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_str(&json).expect("records serialize as a JSON object");
    let present = [
        ("customerId", record.customer_id.is_some()),
        ("customerName", record.customer_name.is_some()),
        ("userPrincipalName", record.user_principal_name.is_some()),
        ("applicationId", record.application_id.is_some()),
        ("resourceType", record.resource_type.is_some()),
        ("resourceOldValue", record.resource_old_value.is_some()),
        ("resourceNewValue", record.resource_new_value.is_some()),
        ("operationStatus", record.operation_status.is_some()),
        ("customizedData", record.customized_data.is_some()),
        ("sessionId", record.session_id.is_some()),
        (
            "originalCorrelationId",
            record.original_correlation_id.is_some(),
        ),
    ];
    for (key, is_some) in present {
        prop_assert_eq!(value.contains_key(key), is_some, "{} in {}", key, json);
    }
    let attributes = match &record.extensions.attributes {
        Some(kept) => kept.get(),
        None => r#"{"objectType":"AuditRecord"}"#,
    };
    prop_assert_eq!(value["attributes"].get(), attributes);
    Ok(())
}

/// What any outcome of `parse_batch` must satisfy, whatever the body.
fn check_batch_outcome(body: &[u8], max: usize) -> Result<(), TestCaseError> {
    let lines = 1 + body.iter().filter(|&&b| b == b'\n').count();
    match parse_batch(body, PARTNER, max, &mut ids()) {
        Ok(records) => {
            prop_assert!(
                (1..=max).contains(&records.len()),
                "{} records",
                records.len()
            );
            for record in &records {
                prop_assert_eq!(&record.partner_id, PARTNER);
                assert_round_trips(record)?;
            }
        }
        Err(error) => {
            prop_assert!(!error.to_string().is_empty());
            match error {
                BatchError::NotUtf8 { offset } => {
                    prop_assert!(std::str::from_utf8(&body[..offset]).is_ok());
                    prop_assert!(std::str::from_utf8(&body[offset..]).is_err());
                }
                BatchError::Invalid(problems) => {
                    prop_assert!((1..=20).contains(&problems.len()));
                    for p in problems {
                        prop_assert!(
                            (1..=lines).contains(&p.line),
                            "line {} of {}",
                            p.line,
                            lines
                        );
                        prop_assert!(!p.message.is_empty() && !p.to_string().is_empty());
                    }
                }
                BatchError::TooMany { max: said } => prop_assert_eq!(said, max),
                BatchError::TooDeep { max: said, line } => {
                    prop_assert_eq!(said, MAX_DEPTH);
                    prop_assert!((1..=lines).contains(&line));
                }
                BatchError::Empty => {}
            }
        }
    }
    Ok(())
}

/// Pieces of JSON, and of what is not JSON, for bodies that almost parse.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "\"",
    ":",
    ",",
    "\\",
    "\\\"",
    "\\n",
    "\\u00e8",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\u0000",
    " ",
    "\n",
    "\r\n",
    "\t",
    "0",
    "-1",
    "1e999",
    "12.5",
    "true",
    "null",
    "x",
    "é",
    "😀",
    "\u{feff}",
    "\"operationType\"",
    "\"operationDate\"",
    "\"2024-01-02T03:04:05Z\"",
    "\"items\"",
    "\"resourceNewValue\"",
    "\"customizedData\"",
    "\"key\"",
    "\"value\"",
    "\"id\"",
    "\"partnerId\"",
    "\"totalCount\"",
];

/// A token, rarely a byte that is not UTF-8 (so that half the bodies get past the UTF-8 check).
fn jsonish_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        40 => select(TOKENS).prop_map(|s| s.as_bytes().to_vec()),
        1 => select(vec![0xffu8, 0xc3, 0x80, 0xed, 0xa0, 0xf4, 0x90, 0xc0]).prop_map(|b| vec![b]),
        6 => "[a-zA-Z0-9]{1,4}".prop_map(String::into_bytes),
    ]
}

fn jsonish_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(jsonish_token(), 0..64).prop_map(|tokens| tokens.concat())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, x)| Mutation::Flip(at, x)),
        (any::<usize>(), 1u8..0x80).prop_map(|(at, x)| Mutation::Flip(at, x)),
        (any::<usize>(), select(vec![" ", "\n", "\r\n"]))
            .prop_map(|(at, w)| Mutation::Insert(at, w.as_bytes().to_vec())),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), jsonish_token()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), 1usize..16).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), 1usize..32).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
    ]
}

fn mutate(body: &mut Vec<u8>, mutation: &Mutation) {
    let len = body.len();
    match *mutation {
        Mutation::Flip(at, x) if len > 0 => body[at % len] ^= x,
        Mutation::Truncate(at) => body.truncate(at % (len + 1)),
        Mutation::Insert(at, ref bytes) => {
            let at = at % (len + 1);
            body.splice(at..at, bytes.iter().copied());
        }
        Mutation::Delete(at, n) if len > 0 => {
            let at = at % len;
            body.drain(at..(at + n).min(len));
        }
        Mutation::Duplicate(at, n) if len > 0 => {
            let at = at % len;
            let part = body[at..(at + n).min(len)].to_vec();
            body.splice(at..at, part);
        }
        _ => {}
    }
}

/// Records a batch must refuse, each for one reason.
fn bad_record() -> impl Strategy<Value = String> {
    let date = r#""operationDate":"2024-01-02T03:04:05Z""#;
    select(vec![
        format!("{{{date}}}"),
        r#"{"operationType":"x","operationDate":"nope"}"#.to_owned(),
        r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05"}"#.to_owned(),
        r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05.12345678Z"}"#.to_owned(),
        r#"{"operationType":"x","operationDate":"0000-12-31T23:59:59Z"}"#.to_owned(),
        format!(r#"{{"operationType":"x","operationType":"y",{date}}}"#),
        format!(r#"{{"partnerId":"someone-else","operationType":"x",{date}}}"#),
        format!(r#"{{"operationType":"",{date}}}"#),
        format!(r#"{{"operationType":"a\tb",{date}}}"#),
        format!(
            r#"{{"operationType":"{}",{date}}}"#,
            "x".repeat(MAX_SHORT_FIELD + 1)
        ),
        format!(r#"{{"operationType":"x",{date},"customerName":"a\u0000"}}"#),
        format!(r#"{{"operationType":"x",{date},"resourceNewValue":7}}"#),
        format!(r#"{{"operationType":"x",{date},"customizedData":[{{"key":"k","value":1}}]}}"#),
        format!(r#"{{"operationType":"x",{date},"customizedData":[{{"value":"v","extra":""}}]}}"#),
        r#""a string""#.to_owned(),
        "42".to_owned(),
    ])
}

proptest! {
    #![proptest_config(config(256))]

    /// 1. No body makes `parse_batch` panic, and what it accepts is sound.
    #[test]
    fn arbitrary_bytes_never_panic_the_batch_parser(
        body in prop_oneof![vec(any::<u8>(), 0..256), any::<String>().prop_map(String::into_bytes)],
        max in 1usize..4,
    ) {
        check_batch_outcome(&body, max)?;
    }

    #[test]
    fn jsonish_bodies_never_panic_the_batch_parser(body in jsonish_bytes(), max in 1usize..4) {
        check_batch_outcome(&body, max)?;
    }

    #[test]
    fn mutated_batches_never_panic_the_batch_parser(
        inputs in vec(input(), 1..4),
        form in select(FORMS.to_vec()),
        seed in any::<u64>(),
        mutations in vec(mutation(), 0..3),
        max in 1usize..5,
    ) {
        let records: Vec<String> = inputs.iter().map(Input::json).collect();
        let (body, _) = batch(&records, form, &mut Dice::new(seed));
        let mut body = body.into_bytes();
        for m in &mutations {
            mutate(&mut body, m);
        }
        check_batch_outcome(&body, max)?;
    }

    /// 2. Valid records parse to exactly what they say, in every batch form, and round-trip.
    #[test]
    fn every_batch_form_reads_exactly_the_records_written(
        inputs in vec(input(), 1..5),
        seed in any::<u64>(),
    ) {
        let records: Vec<String> = inputs.iter().map(Input::json).collect();
        let mut new_id = ids();
        let expected: Vec<AuditRecord> = inputs.iter().map(|i| i.expected(&mut new_id)).collect();
        let dice = &mut Dice::new(seed);
        for form in FORMS {
            let (body, _) = batch(&records, form, dice);
            let parsed = parse_batch(body.as_bytes(), PARTNER, 100, &mut ids());
            prop_assert_eq!(parsed.as_ref(), Ok(&expected), "{:?} body: {}", form, body);
        }
        for record in &expected {
            assert_round_trips(record)?;
        }
    }

    /// A refused batch names the one bad record by its index and the line it starts on.
    #[test]
    fn a_bad_record_is_named_by_index_and_line(
        inputs in vec(input(), 0..4),
        bad in bad_record(),
        at in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        let mut records: Vec<String> = inputs.iter().map(Input::json).collect();
        let index = at.index(records.len() + 1);
        records.insert(index, bad);
        let dice = &mut Dice::new(seed);
        for form in FORMS {
            let (body, starts) = batch(&records, form, dice);
            let text = body.strip_prefix('\u{feff}').unwrap_or(&body);
            let shift = body.len() - text.len();
            let parsed = parse_batch(body.as_bytes(), PARTNER, 100, &mut ids());
            let Err(BatchError::Invalid(problems)) = &parsed else {
                return Err(TestCaseError::fail(format!("{form:?} {parsed:?} for {body}")));
            };
            prop_assert_eq!(problems.len(), 1, "{:?}", problems);
            prop_assert_eq!(problems[0].index, index);
            prop_assert_eq!(problems[0].line, line_at(text, starts[index] - shift), "{:?} {}", form, body);
        }
    }

    /// Nesting is refused past `MAX_DEPTH` levels, counted over the whole body, and accepted
    /// (kept exactly) up to it.
    #[test]
    fn nesting_is_accepted_up_to_the_limit_and_refused_past_it(
        levels in 55usize..75,
        objects in any::<bool>(),
        array in any::<bool>(),
        blank_lines in 0usize..3,
    ) {
        let nested = if objects {
            format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels))
        } else {
            format!("{}{}", "[".repeat(levels), "]".repeat(levels))
        };
        let record = format!(
            r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","resourceNewValue":{nested}}}"#
        );
        let newlines = "\n".repeat(blank_lines);
        let body = if array { format!("[{newlines}{record}]") } else { format!("{newlines}{record}") };
        let depth = levels + 1 + usize::from(array);
        let parsed = parse_batch(body.as_bytes(), PARTNER, 10, &mut ids());
        if depth <= MAX_DEPTH {
            let records = parsed.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(records[0].resource_new_value.as_deref(), Some(nested.as_str()));
        } else {
            let line = 1 + blank_lines;
            prop_assert_eq!(parsed, Err(BatchError::TooDeep { max: MAX_DEPTH, line }));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. OperationDate.

/// Strings that look like RFC 3339 instants, right or wrong.
const DATEISH: &str = "[+-]?[0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{0,12})?)?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2}(:[0-9]{2})?)?|\\[[A-Za-z/_]{1,20}\\])?";
/// Strings that look like .NET's `M/d/yyyy h:mm:ss AM`, right or wrong.
const DOTNETISH: &str = "\\s?[0-9]{1,3}/[0-9]{1,3}/[+-]?[0-9]{1,5}( {1,2}[0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?( (AM|PM|am|Pm|XM|A\\.M\\.))?)?\\s?";

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn operation_dates_display_as_the_calendar_says_and_parse_back(ticks in any_ticks()) {
        let date = OperationDate::from_ticks(ticks);
        let text = date.to_string();
        prop_assert_eq!(&text, &expected_display(ticks));
        prop_assert_eq!(OperationDate::parse_rfc3339(&text), Ok(date));
        let json = serde_json::to_string(&date).expect("in range");
        prop_assert_eq!(serde_json::from_str::<OperationDate>(&json).ok(), Some(date));
    }

    #[test]
    fn operation_dates_sort_as_their_text_does(
        a in any_ticks(),
        delta in prop_oneof![any::<i64>(), -1_000i64..1_000, Just(TICKS_PER_DAY)],
    ) {
        let b = a.saturating_add(delta).clamp(MIN_TICKS, MAX_TICKS);
        let (a, b) = (OperationDate::from_ticks(a), OperationDate::from_ticks(b));
        prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
    }

    #[test]
    fn rfc3339_dates_with_any_precision_and_offset_parse_to_their_instant(date in rfc3339_date()) {
        let parsed = OperationDate::parse_rfc3339(&date.text);
        prop_assert_eq!(parsed, Ok(OperationDate::from_ticks(date.ticks)), "{}", date.text);
    }

    #[test]
    fn the_rfc3339_parser_never_panics(text in prop_oneof![any::<String>(), DATEISH]) {
        match OperationDate::parse_rfc3339(&text) {
            Ok(date) => {
                prop_assert!((OperationDate::MIN..=OperationDate::MAX).contains(&date));
                prop_assert_eq!(OperationDate::parse_rfc3339(&date.to_string()), Ok(date));
            }
            Err(e) => prop_assert!(e.to_string().contains(&text)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. QueryDate.

fn civil_datetime() -> impl Strategy<Value = Civil> {
    let years =
        prop_oneof![4 => 1i64..=9999, 1 => select(vec![1i64, 999, 1000, 1969, 1970, 2000, 9999])];
    // The first and last days, whose ends fall outside the accepted range in some zones.
    let edges = select(vec![(1i64, 1i64, 1i64), (9999, 12, 30), (9999, 12, 31)]);
    let days = prop_oneof![
        8 => (years, 1i64..=12, 1i64..=31)
            .prop_map(|(year, month, day)| (year, month, day.min(days_in_month(year, month)))),
        1 => edges,
    ];
    let hours = prop_oneof![0i64..24, select(vec![0i64, 11, 12, 22, 23])];
    (days, hours, 0i64..60, 0i64..60).prop_map(|((year, month, day), hour, minute, second)| Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// A query instant parsed from the text of `ticks`: that instant, or out of range past `MAX`.
fn check_instant(parsed: Result<QueryDate, DateError>, ticks: i64) -> Result<(), TestCaseError> {
    if ticks <= MAX_TICKS {
        prop_assert_eq!(
            parsed,
            Ok(QueryDate::Instant(OperationDate::from_ticks(ticks)))
        );
    } else {
        // The last hours of 9999 (where .NET's `DateTime.MaxValue` lies) are the latest
        // instant actlog represents.
        prop_assert_eq!(parsed, Ok(QueryDate::Instant(OperationDate::MAX)));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// `yyyy-mm-dd`, RFC 3339 and the two .NET forms name the same day or instant.
    #[test]
    fn every_query_date_form_names_the_same_instant(
        c in civil_datetime(),
        lower in any::<bool>(),
        pad in select(vec!["", " ", "\t", "\n "]),
    ) {
        let parse = |text: String| QueryDate::parse(&format!("{pad}{text}{pad}"));
        let (y, m, d) = (c.year, c.month, c.day);
        let day = parse(format!("{y:04}-{m:02}-{d:02}"));
        prop_assert!(matches!(day, Ok(QueryDate::Day(_))), "{:?}", day);
        let day = day.expect("checked");
        prop_assert_eq!(parse(format!("{m}/{d}/{y:04}")), Ok(day));
        prop_assert_eq!(parse(format!("{m:02}/{d:02}/{y:04}")), Ok(day));
        // The last 26 hours of 9999 are past MAX: a day there ends (or starts) at MAX.
        let utc = TimeZone::UTC;
        prop_assert_eq!(day.start(&utc).ticks(), c.midnight_ticks().min(MAX_TICKS));
        let next_midnight = c.midnight_ticks() + TICKS_PER_DAY;
        prop_assert_eq!(day.end_exclusive(&utc).ticks(), next_midnight.min(MAX_TICKS));

        let (h, mi, s) = (c.hour, c.minute, c.second);
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        let meridiem = match (h < 12, lower) {
            (true, false) => "AM",
            (false, false) => "PM",
            (true, true) => "am",
            (false, true) => "pm",
        };
        let (rfc, at) = (c.rfc3339(), c.ticks());
        check_instant(parse(format!("{rfc}Z")), at)?;
        check_instant(parse(format!("{rfc}+00:00")), at)?;
        check_instant(parse(rfc), at)?;
        check_instant(parse(format!("{m}/{d}/{y:04} {h12}:{mi:02}:{s:02} {meridiem}")), at)?;
        check_instant(parse(format!("{m:02}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02}")), at)?;
        let whole_minute = at - s * TICKS_PER_SECOND;
        check_instant(parse(format!("{m}/{d}/{y:04} {h12}:{mi:02} {meridiem}")), whole_minute)?;
    }

    #[test]
    fn the_query_date_parser_never_panics(text in prop_oneof![any::<String>(), DATEISH, DOTNETISH]) {
        match QueryDate::parse(&text) {
            Ok(QueryDate::Instant(at)) => {
                prop_assert!((OperationDate::MIN..=OperationDate::MAX).contains(&at));
            }
            Ok(QueryDate::Day(date)) => {
                prop_assert!((1..=9999).contains(&date.year()), "{}", date);
                let day = QueryDate::Day(date);
                for tz in [TimeZone::UTC, TimeZone::fixed(offset(-12)), TimeZone::fixed(offset(14))] {
                    let (start, end) = (day.start(&tz), day.end_exclusive(&tz));
                    prop_assert!(start <= end, "{:?} in {:?}", day, tz);
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Filters.

fn depth(f: &Filter) -> usize {
    match f {
        Filter::Condition(_) => 1,
        Filter::And(parts) | Filter::Or(parts) => 1 + parts.iter().map(depth).max().unwrap_or(0),
    }
}

fn conditions(f: &Filter) -> Vec<&Condition> {
    match f {
        Filter::Condition(c) => vec![c],
        Filter::And(parts) | Filter::Or(parts) => parts.iter().flat_map(conditions).collect(),
    }
}

/// Whether a filter is one `Filter::parse` may return.
fn within_limits(f: &Filter) -> bool {
    let nodes_ok = |f: &Filter| match f {
        Filter::And(parts) | Filter::Or(parts) => !parts.is_empty(),
        Filter::Condition(c) => {
            c.value.chars().count() <= 512
                && !c.value.contains('\0')
                && (c.field != Field::Text
                    || (c.operator == Operator::Substring && !c.value.contains('\u{1}')))
        }
    };
    fn all(f: &Filter, ok: &dyn Fn(&Filter) -> bool) -> bool {
        ok(f)
            && match f {
                Filter::Condition(_) => true,
                Filter::And(parts) | Filter::Or(parts) => parts.iter().all(|p| all(p, ok)),
            }
    }
    depth(f) <= 8 && conditions(f).len() <= 32 && all(f, &nodes_ok)
}

fn condition(values: impl Strategy<Value = String>) -> impl Strategy<Value = Condition> {
    (
        select(Field::ALL.to_vec()),
        select(Operator::ALL.to_vec()),
        values,
    )
        .prop_map(|(field, operator, value)| Condition {
            field,
            operator: if field == Field::Text {
                Operator::Substring
            } else {
                operator
            },
            value,
        })
}

fn filter_value() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => vec(text_char(), 0..16),
        1 => vec(text_char(), 500..=512),
    ]
    .prop_map(String::from_iter)
}

fn filter_tree(levels: u32) -> impl Strategy<Value = Filter> {
    condition(filter_value())
        .prop_map(Filter::Condition)
        .prop_recursive(levels - 1, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 1..4).prop_map(Filter::And),
                vec(inner, 1..4).prop_map(Filter::Or),
            ]
        })
}

/// `name` in a random ASCII case.
fn any_case(name: &str, dice: &mut Dice) -> String {
    name.chars()
        .map(|c| {
            if dice.roll(2) == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// A filter spelled as a client might: keys and names in any case, escapes, spacing, member
/// order, and the SDK's `LeftFilter` / `RightFilter` for two-part filters.
fn spell(f: &Filter, dice: &mut Dice) -> String {
    let key_value =
        |key: &str, value: &str, dice: &mut Dice| member(&any_case(key, dice), value, dice);
    let members = match f {
        Filter::Condition(c) => {
            let field = json_string(&any_case(c.field.name(), dice), dice);
            let operator = json_string(&any_case(c.operator.name(), dice), dice);
            let value = json_string(&c.value, dice);
            vec![
                key_value("Field", &field, dice),
                key_value("Operator", &operator, dice),
                key_value("Value", &value, dice),
            ]
        }
        Filter::And(parts) | Filter::Or(parts) => {
            let name = if matches!(f, Filter::And(_)) {
                "and"
            } else {
                "or"
            };
            let operator = json_string(&any_case(name, dice), dice);
            let mut members = vec![key_value("Operator", &operator, dice)];
            if let [left, right] = &parts[..]
                && dice.roll(2) == 0
            {
                let (left, right) = (spell(left, dice), spell(right, dice));
                members.push(key_value("LeftFilter", &left, dice));
                members.push(key_value("RightFilter", &right, dice));
            } else {
                let list: Vec<String> = parts.iter().map(|p| spell(p, dice)).collect();
                let list = format!("[{}]", list.join(&format!("{},", ws(dice))));
                members.push(key_value("Filters", &list, dice));
            }
            members
        }
    };
    json_object(members, dice)
}

/// After `Filter::parse` accepted `json`, the filter is within limits and round-trips.
fn check_filter_outcome(json: &str) -> Result<(), TestCaseError> {
    match Filter::parse(json) {
        Ok(filter) => {
            prop_assert!(within_limits(&filter), "{:?}", filter);
            prop_assert_eq!(Filter::parse(&filter.to_json()), Ok(filter));
        }
        Err(e) => prop_assert!(e.to_string().starts_with("filter: ")),
    }
    Ok(())
}

const FILTER_KEYS: &[&str] = &[
    "Field",
    "field",
    "Value",
    "VALUE",
    "Operator",
    "operator",
    "Filters",
    "LeftFilter",
    "rightfilter",
    "Other",
];
const FILTER_WORDS: &[&str] = &[
    "CompanyName",
    "customerid",
    "Text",
    "OperationStatus",
    "equals",
    "substring",
    "and",
    "OR",
    "not_starts_with",
    "greater_than",
    "x",
    "",
    "\u{0}",
];

/// Any JSON value, biased to the shapes of filters.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        3 => select(FILTER_WORDS).prop_map(Value::from),
        1 => ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(10, 96, 8, |inner| {
        prop_oneof![
            1 => vec(inner.clone(), 0..8).prop_map(Value::Array),
            3 => vec((select(FILTER_KEYS), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

const FIELD_NAMES: &[&str] = &[
    "CompanyName",
    "customerid",
    "RESOURCETYPE",
    "OperationType",
    "UserPrincipalName",
    "OperationStatus",
    "ApplicationId",
    "CompanyName",
    "customerid",
    "Text",
    "Colour",
];
const OPERATOR_NAMES: &[&str] = &[
    "equals",
    "NOT_EQUALS",
    "greater_than",
    "greater_than_or_equals",
    "less_than",
    "less_than_or_equals",
    "substring",
    "starts_with",
    "not_starts_with",
    "like",
    "and",
];

/// JSON shaped like filters, right or wrong: their keys, names and nesting, some missing or
/// of the wrong type.
fn filter_shaped() -> impl Strategy<Value = Value> {
    let junk = || {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from)
        ]
    };
    let name = |names: &'static [&'static str]| prop_oneof![20 => select(names).prop_map(Value::from), 1 => junk()];
    let value = prop_oneof![20 => filter_value().prop_map(Value::from), 1 => junk()];
    let keep = prop_oneof![20 => Just(7u8), 1 => 0u8..8];
    let leaf = (name(FIELD_NAMES), value, name(OPERATOR_NAMES), keep).prop_map(
        |(field, value, operator, keep)| {
            let mut map = serde_json::Map::new();
            for (bit, key, v) in [
                (1, "Field", field),
                (2, "value", value),
                (4, "OPERATOR", operator),
            ] {
                if keep & bit != 0 {
                    map.insert(key.to_owned(), v);
                }
            }
            Value::Object(map)
        },
    );
    leaf.prop_recursive(10, 64, 4, |inner| {
        let operators = select(vec![
            "and", "Or", "AND", "or", "and", "Or", "AND", "or", "equals",
        ]);
        let parts = prop_oneof![20 => vec(inner.clone(), 1..4), 1 => vec(inner, 0..1)];
        (operators, parts, any::<bool>()).prop_map(|(operator, parts, binary)| {
            let mut map = serde_json::Map::new();
            map.insert("Operator".to_owned(), Value::from(operator));
            match <[Value; 2]>::try_from(parts) {
                Ok([left, right]) if binary => {
                    map.insert("LeftFilter".to_owned(), left);
                    map.insert("RightFilter".to_owned(), right);
                }
                Ok(pair) => {
                    map.insert("Filters".to_owned(), Value::Array(pair.into()));
                }
                Err(parts) => {
                    map.insert("Filters".to_owned(), Value::Array(parts));
                }
            }
            Value::Object(map)
        })
    })
}

/// Characters for the matching oracle: cased pairs in several scripts, letters whose lower
/// case is longer, not ASCII or depends on context (`Σ`), and the JSON syntax of
/// customizedData (`[{"key":"value":null}]`), which free-text search must not see. U+0001 is
/// left out: a `Text` value cannot hold it (`free_text_search_does_not_match_across_fields`).
const ORACLE_CHARS: &[char] = &[
    'b', 'B', 'c', 'C', 'd', 'D', 'é', 'É', 'İ', 'i', 'I', 'ı', 'ü', 'Ü', 'ß', 'ẞ', 'σ', 'ς', 'Σ',
    'x', 'X', '0', '1', '-', ' ', 'ǅ', 'ǆ', 'Ǆ', '"', '\\', '{', '}', '[', ']', ':', ',', 'n', 'u',
    'l',
];

fn oracle_text() -> impl Strategy<Value = String> {
    vec(select(ORACLE_CHARS), 0..5).prop_map(String::from_iter)
}

fn oracle_record() -> impl Strategy<Value = AuditRecord> {
    let o = || proptest::option::of(oracle_text());
    let kv = vec((oracle_text(), o()), 0..3).prop_map(|kv| {
        kv.into_iter()
            .map(|(key, value)| KeyValue { key, value })
            .collect()
    });
    (
        (oracle_text(), o(), o(), o(), o(), o()),
        (oracle_text(), o(), proptest::option::of(kv), o(), o()),
    )
        .prop_map(
            |((id, customer_id, customer_name, user, application, resource_type), rest)| {
                let (operation_type, operation_status, customized_data, old, new) = rest;
                AuditRecord {
                    id,
                    partner_id: PARTNER.to_owned(),
                    customer_id,
                    customer_name,
                    user_principal_name: user,
                    application_id: application,
                    resource_type,
                    resource_old_value: old,
                    resource_new_value: new,
                    operation_type,
                    operation_date: OperationDate::from_ticks(0),
                    operation_status,
                    customized_data,
                    session_id: None,
                    original_correlation_id: None,
                    attributes: Attributes::audit_record(),
                    extensions: Default::default(),
                }
            },
        )
}

/// The oracle's case folding: codes and ids fold ASCII letters only; names and free text fold
/// every letter, one character at a time.
fn fold(field: Field, text: &str) -> String {
    match field {
        Field::CustomerId | Field::ResourceType | Field::OperationType | Field::OperationStatus => {
            text.chars().map(|c| c.to_ascii_lowercase()).collect()
        }
        _ => text.chars().flat_map(char::to_lowercase).collect(),
    }
}

/// The texts a condition on `field` looks at: one field, or for free text every text field.
fn oracle_texts(record: &AuditRecord, field: Field) -> Vec<&str> {
    fn one(v: &Option<String>) -> Vec<&str> {
        v.as_deref().into_iter().collect()
    }
    let r = record;
    match field {
        Field::CompanyName => one(&r.customer_name),
        Field::CustomerId => one(&r.customer_id),
        Field::ResourceType => one(&r.resource_type),
        Field::OperationType => vec![r.operation_type.as_str()],
        Field::UserPrincipalName => one(&r.user_principal_name),
        Field::OperationStatus => one(&r.operation_status),
        Field::ApplicationId => one(&r.application_id),
        Field::Text => {
            let mut texts = vec![r.id.as_str(), r.operation_type.as_str()];
            for v in [
                &r.customer_id,
                &r.customer_name,
                &r.user_principal_name,
                &r.application_id,
            ] {
                texts.extend(v.as_deref());
            }
            for v in [
                &r.resource_type,
                &r.operation_status,
                &r.resource_old_value,
                &r.resource_new_value,
            ] {
                texts.extend(v.as_deref());
            }
            for kv in r.customized_data.iter().flatten() {
                texts.push(&kv.key);
                texts.extend(kv.value.as_deref());
            }
            texts
        }
    }
}

fn oracle(c: &Condition, record: &AuditRecord) -> bool {
    let want = fold(c.field, &c.value);
    let texts = oracle_texts(record, c.field);
    if c.field == Field::Text {
        return texts.iter().any(|t| fold(c.field, t).contains(&want));
    }
    let Some(have) = texts.first().map(|t| fold(c.field, t)) else {
        return matches!(c.operator, Operator::NotEquals | Operator::NotStartsWith);
    };
    match c.operator {
        Operator::Equals => have == want,
        Operator::NotEquals => have != want,
        Operator::GreaterThan => have > want,
        Operator::GreaterThanOrEquals => have >= want,
        Operator::LessThan => have < want,
        Operator::LessThanOrEquals => have <= want,
        Operator::Substring => have.contains(&want),
        Operator::StartsWith => have.starts_with(&want),
        Operator::NotStartsWith => !have.starts_with(&want),
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_strings_never_panic_the_filter_parser(
        text in prop_oneof![any::<String>(), jsonish_bytes().prop_map(|b| String::from_utf8_lossy(&b).into_owned())],
    ) {
        check_filter_outcome(&text)?;
    }

    #[test]
    fn arbitrary_json_never_panics_the_filter_parser(value in json_value()) {
        check_filter_outcome(&value.to_string())?;
    }

    #[test]
    fn filter_shaped_json_never_panics_the_filter_parser(value in filter_shaped()) {
        check_filter_outcome(&value.to_string())?;
    }

    #[test]
    fn mutated_filters_never_panic_the_filter_parser(
        filter in filter_tree(8),
        seed in any::<u64>(),
        mutations in vec(mutation(), 1..3),
    ) {
        let mut json = spell(&filter, &mut Dice::new(seed)).into_bytes();
        for m in &mutations {
            mutate(&mut json, m);
        }
        check_filter_outcome(&String::from_utf8_lossy(&json))?;
    }

    /// Chains of brackets and of `and` filters far past serde_json's own recursion limit.
    #[test]
    fn deep_filters_are_refused_not_overflowed(levels in 1usize..300, brackets in any::<bool>()) {
        let leaf = r#"{"Field":"Text","Value":"x","Operator":"substring"}"#;
        let json = if brackets {
            format!("{}{}", "[".repeat(levels), "]".repeat(levels))
        } else {
            format!("{}{leaf}{}", r#"{"Operator":"and","Filters":["#.repeat(levels), "]}".repeat(levels))
        };
        let parsed = Filter::parse(&json);
        prop_assert_eq!(parsed.is_ok(), !brackets && levels < 8, "{} levels", levels);
    }

    /// A filter is accepted exactly when it keeps every documented limit.
    #[test]
    fn filters_are_accepted_exactly_within_the_limits(
        levels in 1usize..=11,
        count in 1usize..=40,
        value_chars in prop_oneof![0usize..8, 505usize..520],
        and in any::<bool>(),
    ) {
        let leaf = |value: String| Filter::Condition(Condition {
            field: Field::CompanyName,
            operator: Operator::Substring,
            value,
        });
        let wrap = |parts: Vec<Filter>| if and { Filter::And(parts) } else { Filter::Or(parts) };
        let mut filter = leaf("é".repeat(value_chars));
        for _ in 1..levels {
            filter = wrap(vec![filter]);
        }
        let count = if levels == 1 { 1 } else { count };
        if let Filter::And(parts) | Filter::Or(parts) = &mut filter {
            parts.extend((1..count).map(|i| leaf(i.to_string())));
        }
        let json = filter.to_json();
        let within = levels <= 8 && count <= 32 && value_chars <= 512 && json.len() <= MAX_FILTER_BYTES;
        let parsed = Filter::parse(&json);
        prop_assert_eq!(parsed.is_ok(), within, "{} levels, {} conditions, {} chars: {:?}", levels, count, value_chars, parsed);
        if within {
            prop_assert_eq!(parsed.ok(), Some(filter));
        }
    }

    /// Every valid filter reads back from its canonical JSON and from any client spelling.
    #[test]
    fn filters_round_trip_through_every_spelling(filter in filter_tree(8), seed in any::<u64>()) {
        let json = filter.to_json();
        prop_assume!(within_limits(&filter) && json.len() <= MAX_FILTER_BYTES);
        prop_assert_eq!(Filter::parse(&json), Ok(filter.clone()));
        let spelled = spell(&filter, &mut Dice::new(seed));
        prop_assert_eq!(Filter::parse(&spelled), Ok(filter), "{}", spelled);
    }

}

proptest! {
    // Cheap cases, and the interesting ones (a re-cased letter, an absent field) are rare.
    #![proptest_config(config(4096))]

    /// A single condition matches exactly when the oracle says so.
    #[test]
    fn conditions_match_as_the_oracle_says(
        record in oracle_record(),
        shape in condition(oracle_text()),
        quote in proptest::option::weighted(0.75, any::<(prop::sample::Index, prop::sample::Index, u64)>()),
    ) {
        let mut c = shape;
        // Half the time, quote a piece of the field itself, re-cased, so that matches happen.
        let texts = oracle_texts(&record, c.field);
        if let (Some((which, start, seed)), false) = (quote, texts.is_empty()) {
            let chars: Vec<char> = which.get(&texts).chars().collect();
            let from = start.index(chars.len() + 1);
            let dice = &mut Dice::new(seed);
            let len = dice.roll(chars.len() - from + 1);
            c.value = chars[from..from + len]
                .iter()
                .map(|&ch| match dice.roll(3) {
                    0 => ch.to_uppercase().next().unwrap_or(ch),
                    1 => ch.to_lowercase().next().unwrap_or(ch),
                    _ => ch,
                })
                .collect();
        }
        let filter = Filter::Condition(c.clone());
        prop_assert_eq!(filter.matches(&record), oracle(&c, &record), "{:?} on {:?}", c, record);
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Continuation tokens.

fn page_request() -> impl Strategy<Value = (PageRequest, Position, i64)> {
    let small_filter = filter_tree(3).prop_filter("within limits", |f| {
        within_limits(f) && f.to_json().len() <= MAX_FILTER_BYTES
    });
    (
        any::<i64>(),
        proptest::option::of(any::<i64>()),
        proptest::option::of(small_filter),
        any::<usize>(),
        (any::<i64>(), any::<i64>()),
        any::<i64>(),
    )
        .prop_map(|(start, end, filter, size, (date, seq), snapshot)| {
            let window = Window {
                start: OperationDate::from_ticks(start),
                end: end.map(OperationDate::from_ticks),
            };
            let request = PageRequest {
                query: Query { window, filter },
                size,
                after: None,
                snapshot: None,
            };
            let at = Position {
                date: OperationDate::from_ticks(date),
                seq,
            };
            (request, at, snapshot)
        })
}

/// A token for `json` signed as `CursorKey` signs, to reach the parsing past the signature.
fn signed(key: &[u8], json: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(json);
    let tag = mac.finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json),
        URL_SAFE_NO_PAD.encode(&tag[..16])
    )
}

const TOKEN_CHARS: &[char] = &[
    'A', 'Q', 'g', 'w', 'z', '0', '9', '-', '_', '.', '=', '+', '/', ' ', '\t', '%', 'é',
];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_tokens_never_panic_and_are_refused(
        key in any::<[u8; 32]>(),
        token in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_=-]{0,40}\\.[A-Za-z0-9_=-]{0,30}",
            (vec(any::<u8>(), 0..64), vec(any::<u8>(), 16..=16))
                .prop_map(|(a, b)| format!("{}.{}", URL_SAFE_NO_PAD.encode(a), URL_SAFE_NO_PAD.encode(b))),
        ],
    ) {
        prop_assert_eq!(CursorKey::new(key).open(PARTNER, &token), Err(InvalidToken));
    }

    /// Even a correctly signed payload of any content is answered, never a panic.
    #[test]
    fn signed_garbage_payloads_never_panic(
        key in any::<[u8; 32]>(),
        (request, at, snapshot) in page_request(),
        payload in prop_oneof![jsonish_bytes(), json_value().prop_map(|v| v.to_string().into_bytes())],
        mutations in vec(mutation(), 0..4),
        real in any::<bool>(),
    ) {
        let cursor = CursorKey::new(key);
        let mut json = if real {
            let token = cursor.issue(PARTNER, &request, at, snapshot);
            let body = token.split_once('.').map_or("", |(body, _)| body);
            URL_SAFE_NO_PAD.decode(body).expect("issued tokens decode")
        } else {
            payload
        };
        for m in &mutations {
            mutate(&mut json, m);
        }
        let _ = cursor.open(PARTNER, &signed(&key, &json));
    }

    /// A token opens to the request it continues, for its partner and key only, and any one
    /// changed character spoils it.
    #[test]
    fn tokens_continue_their_request_and_nothing_else(
        key in any::<[u8; 32]>(),
        other_key in any::<[u8; 32]>(),
        partner in any::<String>(),
        other_partner in any::<String>(),
        (request, at, snapshot) in page_request(),
        position in any::<prop::sample::Index>(),
        replacement in prop_oneof![select(TOKEN_CHARS), any::<char>()],
    ) {
        let cursor = CursorKey::new(key);
        let token = cursor.issue(&partner, &request, at, snapshot);
        let opened = cursor.open(&partner, &token).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&opened.query, &request.query);
        prop_assert_eq!((opened.size, opened.after, opened.snapshot), (request.size, Some(at), Some(snapshot)));

        if other_partner != partner {
            prop_assert_eq!(cursor.open(&other_partner, &token), Err(InvalidToken));
        }
        if other_key != key {
            prop_assert_eq!(CursorKey::new(other_key).open(&partner, &token), Err(InvalidToken));
        }
        let mut chars: Vec<char> = token.chars().collect();
        let i = position.index(chars.len());
        prop_assume!(chars[i] != replacement);
        chars[i] = replacement;
        let altered: String = chars.into_iter().collect();
        prop_assert_eq!(cursor.open(&partner, &altered), Err(InvalidToken), "{} -> {}", token, altered);
    }
}

#[test]
fn the_test_calendar_is_right() {
    assert_eq!(MIN_TICKS, OperationDate::MIN.ticks());
    assert_eq!(MAX_TICKS, OperationDate::MAX.ticks());
    assert_eq!(days_from_civil(1, 1, 1) * TICKS_PER_DAY, MIN_TICKS);
    let top = jiff::Timestamp::MAX.as_nanosecond() / 100;
    assert_eq!(i128::from(MAX_TICKS), top);
    assert_eq!(expected_display(0), "1970-01-01T00:00:00.0000000Z");
    assert_eq!(expected_display(-1), "1969-12-31T23:59:59.9999999Z");
    assert_eq!(expected_display(MAX_TICKS), "9999-12-30T22:00:00.9999999Z");
    let (leap_day, _) = Civil::of_ticks(days_from_civil(2000, 2, 29) * TICKS_PER_DAY + 1);
    assert_eq!((leap_day.year, leap_day.month, leap_day.day), (2000, 2, 29));
}

// ---------------------------------------------------------------------------------------------
// Regressions, each the smallest input that showed a bug the properties above found.

fn record(extra: &str) -> AuditRecord {
    let json = format!(
        r#"{{"id":"r1","operationType":"create_order","operationDate":"2024-01-02T03:04:05Z"{extra}}}"#
    );
    parse_record(&json, PARTNER, &mut ids()).expect("a valid record")
}

fn matches(filter: &str, record: &AuditRecord) -> bool {
    Filter::parse(filter)
        .expect("a valid filter")
        .matches(record)
}

#[test]
fn instants_past_the_maximum_are_out_of_range() {
    // A well-formed RFC 3339 instant on 9999-12-31 is answered with "is not a date: use
    // yyyy-mm-dd, RFC 3339 …", because jiff cannot parse it; the year-0 side says OutOfRange.
    let last_day = "9999-12-31T12:00:00Z";
    let err = OperationDate::parse_rfc3339(last_day).unwrap_err();
    assert!(matches!(err, DateError::OutOfRange(_)), "{err:?}");
}

#[test]
fn the_first_day_starts_at_the_beginning_in_zones_east_of_utc() {
    // Midnight of 0001-01-01 at +14:00 precedes MIN, yet the start is clamped to MAX, which
    // empties any period starting that day.
    let first = QueryDate::parse("0001-01-01").unwrap();
    assert_eq!(
        first.start(&TimeZone::fixed(offset(14))),
        OperationDate::MIN
    );
}

#[test]
fn query_days_outside_years_1_to_9999_are_refused() {
    // Each comes back as Ok(QueryDate::Day(..)) for the year 0 or -123.
    for text in ["0000-01-01", "1/1/0000", "6/1/-123"] {
        assert!(QueryDate::parse(text).is_err(), "{text} accepted");
    }
}

#[test]
fn a_greek_capital_sigma_matches_itself_inside_a_word() {
    // "ΑΣ" folds to "ας" (final sigma), "ΑΣΑ" to "ασα": the verbatim substring does not match.
    let named = record(r#","customerName":"ΑΣΑ""#);
    assert!(matches(
        r#"{"Field":"CompanyName","Value":"ΑΣ","Operator":"substring"}"#,
        &named
    ));
}

#[test]
fn free_text_search_sees_customized_data_keys_and_values_not_its_json() {
    let quoted = record(r#","customizedData":[{"key":"note","value":"say \"hi\""}]"#);
    assert!(matches(
        r#"{"Field":"Text","Value":"say \"hi\"","Operator":"substring"}"#,
        &quoted
    ));
    let nulled = record(r#","customizedData":[{"key":"k","value":null}]"#);
    assert!(!matches(
        r#"{"Field":"Text","Value":"null","Operator":"substring"}"#,
        &nulled
    ));
}

#[test]
fn free_text_search_does_not_match_across_fields() {
    // searchable_text joins fields with U+0001 "which no search value contains", but
    // Filter::parse accepts U+0001 in a value.
    let failed = record(r#","operationStatus":"failed""#);
    let across = r#"{"Field":"Text","Value":"order\u0001failed","Operator":"substring"}"#;
    assert!(!Filter::parse(across).is_ok_and(|f| f.matches(&failed)));
}
