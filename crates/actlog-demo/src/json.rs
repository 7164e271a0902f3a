//! Partner Center-shaped JSON, written by hand in Partner Center's field order.
//!
//! `serde_json::json!` sorts keys alphabetically (or keeps insertion order, depending on a
//! feature another crate of the build may switch on), so its output could change without any
//! change here. This writer always produces the same bytes, in the order Partner Center uses
//! (`Id` first, `Attributes` last).

use actlog_domain::{KeyValue, OperationDate};

/// A JSON object under construction.
#[derive(Debug)]
pub(crate) struct Obj {
    buf: String,
}

impl Obj {
    pub(crate) fn new() -> Self {
        Obj {
            buf: String::from("{"),
        }
    }

    /// Keys are our own identifiers (`LineItems`, `ObjectType`), which need no escaping.
    fn key(&mut self, key: &str) {
        debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
        if self.buf.len() > 1 {
            self.buf.push(',');
        }
        self.buf.push('"');
        self.buf.push_str(key);
        self.buf.push_str("\":");
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        push_quoted(&mut self.buf, value);
        self
    }

    /// A string, or `null` when absent.
    pub(crate) fn opt(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.null(key),
        }
    }

    /// A number (or any other JSON literal given as text).
    pub(crate) fn num(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.key(key);
        self.buf.push_str(&value.to_string());
        self
    }

    pub(crate) fn bool(self, key: &str, value: bool) -> Self {
        self.num(key, value)
    }

    pub(crate) fn null(self, key: &str) -> Self {
        self.num(key, "null")
    }

    /// A value that is already JSON (a nested object or array).
    pub(crate) fn raw(self, key: &str, json: &str) -> Self {
        self.num(key, json)
    }

    /// `"Attributes":{"ObjectType":…}` and the closing brace, as every Partner Center resource ends.
    pub(crate) fn end(self, object_type: &str) -> String {
        let attributes = Obj::new().str("ObjectType", object_type).done();
        self.raw("Attributes", &attributes).done()
    }

    pub(crate) fn done(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

/// A JSON array of already-serialized items.
pub(crate) fn array<I: IntoIterator<Item = String>>(items: I) -> String {
    let items: Vec<String> = items.into_iter().collect();
    format!("[{}]", items.join(","))
}

/// A JSON array of strings.
pub(crate) fn strings<'a, I: IntoIterator<Item = &'a str>>(items: I) -> String {
    array(items.into_iter().map(quote))
}

/// A JSON string literal.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_quoted(&mut out, text);
    out
}

/// Appends a JSON string literal; most values (ids, names) need no escaping, and skipping the
/// escaper for them keeps generation fast even in unoptimized test builds.
fn push_quoted(buf: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push('"');
        buf.push_str(text);
        buf.push('"');
    } else {
        buf.push_str(&serde_json::to_string(text).expect("strings always serialize"));
    }
}

/// Partner Center's link object: `{"Uri":…,"Method":"GET","Headers":[]}`.
pub(crate) fn link(uri: &str) -> String {
    Obj::new()
        .str("Uri", uri)
        .str("Method", "GET")
        .raw("Headers", "[]")
        .done()
}

/// A `customizedData` entry.
pub(crate) fn kv(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value.into()),
    }
}

/// A `customizedData` entry whose value may be `null`.
pub(crate) fn kv_opt(key: &str, value: Option<&str>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: value.map(str::to_owned),
    }
}

/// An amount of money in cents as a JSON number with two decimals.
pub(crate) fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// An instant with milliseconds, as Partner Center writes resource dates (`…T10:15:22.077Z`).
pub(crate) fn iso_ms(ticks: i64) -> String {
    let full = OperationDate::from_ticks(ticks).to_string();
    format!("{}Z", &full[..23])
}

/// Midnight UTC of the instant's day, `months` months later (`…T00:00:00Z`).
pub(crate) fn day_plus_months(ticks: i64, months: i32) -> String {
    let date = OperationDate::from_ticks(ticks)
        .timestamp()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let date = date
        .checked_add(jiff::Span::new().months(months))
        .unwrap_or(date);
    format!("{date}T00:00:00Z")
}

/// An opaque entity tag, as Partner Center attaches to orders: base64 of `{"id":…,"version":n}`.
pub(crate) fn etag(id: &str, version: u32) -> String {
    base64(format!("{{\"id\":\"{id}\",\"version\":{version}}}").as_bytes())
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_partner_center_field_order_and_escape_text() {
        let json = Obj::new()
            .str("Id", "a\"b")
            .num("Quantity", 25)
            .null("ParentSubscriptionId")
            .end("Order");
        assert_eq!(
            json,
            r#"{"Id":"a\"b","Quantity":25,"ParentSubscriptionId":null,"Attributes":{"ObjectType":"Order"}}"#
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["Id"], "a\"b");
    }

    #[test]
    fn quoting_matches_serde_json() {
        for text in [
            "plain",
            "Caffè \"Il Moro\"",
            "a\\b",
            "tab\there",
            "x\u{7f}y",
            "株式会社 🚀",
            "",
        ] {
            assert_eq!(quote(text), serde_json::to_string(text).unwrap());
        }
    }

    #[test]
    fn etags_match_partner_centers_sample() {
        // From the sample response in reference/partner-center.
        assert_eq!(
            etag("d51a052e-043c-4a2a-aa37-2bb938cef6c1", 1),
            "eyJpZCI6ImQ1MWEwNTJlLTA0M2MtNGEyYS1hYTM3LTJiYjkzOGNlZjZjMSIsInZlcnNpb24iOjF9"
        );
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn dates_are_written_as_partner_center_writes_them() {
        let at = OperationDate::parse_rfc3339("2025-01-31T22:56:05.0589308Z").unwrap();
        assert_eq!(iso_ms(at.ticks()), "2025-01-31T22:56:05.058Z");
        assert_eq!(day_plus_months(at.ticks(), 1), "2025-02-28T00:00:00Z");
        assert_eq!(money(123_405), "1234.05");
    }
}
