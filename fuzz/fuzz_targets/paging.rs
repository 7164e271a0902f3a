//! The query string of `GET /v1/auditrecords`, page tokens and row offsets, on arbitrary text.
//!
//! - `Params::parse`: what it accepts gives a size of 1 to 5,000 and windows in range, start
//!   before end; the first page it asks for, continued with the token issued for it (in `seek`
//!   or in the header, with the same parameters repeated), is the same query; a changed token
//!   is refused; `links.next` is the same query without its seek and with `seekOperation=Next`;
//!   names and values encoded the way form encoders and the .NET SDK write them read back
//!   exactly.
//! - `row_number`: accepts exactly the digit strings of 1 to `MAX_ROW_NUMBER`.

#![no_main]

use actlog_domain::cursor::CursorKey;
use actlog_domain::query::{MAX_PAGE_SIZE, PageRequest, Position};
use actlog_domain::time::OperationDate;
use actlog_fuzz::{text, zone};
use actlog_server::error::Code;
use actlog_server::paging::{self, CONTINUATION_HEADER, MAX_ROW_NUMBER, row_number};
use actlog_server::params::{self, Params};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const PARTNER: &str = "partner-fuzz";

fuzz_target!(|data: &[u8]| {
    if let Some(head) = data.first_chunk::<8>() {
        let n = u64::from_le_bytes(*head) % (2 * MAX_ROW_NUMBER);
        let ok = (1..=MAX_ROW_NUMBER).contains(&n);
        assert_eq!(row_number(&n.to_string()).ok(), ok.then_some(n));
    }
    let _ = encoded_pairs_read_back(&mut Unstructured::new(data));
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    rows(raw);
    match Params::parse(raw) {
        Ok(params) => query(raw, &params),
        Err(e) => assert!(e.code == Code::InvalidParameter && !e.detail.is_empty()),
    }
});

fn rows(raw: &str) {
    match row_number(raw) {
        Ok(n) => {
            assert!(raw.bytes().all(|b| b.is_ascii_digit()), "{raw:?}");
            assert!((1..=MAX_ROW_NUMBER).contains(&n));
            assert_eq!(raw.parse::<u64>(), Ok(n));
        }
        Err(e) => assert_eq!(e.code, Code::InvalidParameter),
    }
}

fn now() -> OperationDate {
    OperationDate::parse_rfc3339("2025-06-01T12:00:00Z").expect("a date")
}

fn query(raw: &str, params: &Params) {
    let _ = params.check(&params::QUERY_PARAMS);
    if let Ok(size) = params::size(params) {
        assert!((1..=MAX_PAGE_SIZE).contains(&size));
    }
    if let Ok(q) = params::query(params, now()) {
        let end = q.window.end.expect("Partner Center's windows end");
        assert!(q.window.start <= end, "{q:?}");
        in_range(q.window.start);
        in_range(end);
    }
    for z in 0..6 {
        if let Ok(q) = params::query_in(params, now(), &zone(z)) {
            in_range(q.window.start);
            if let Some(end) = q.window.end {
                assert!(q.window.start < end, "{q:?}");
                in_range(end);
            }
        }
    }
    links(raw, params);
    let key = CursorKey::new(*b"0123456789abcdef0123456789abcdef");
    let Ok(first) = paging::page_request(params, &HeaderMap::new(), &key, PARTNER, now()) else {
        return;
    };
    assert_eq!((first.after, first.snapshot), (None, None));
    assert_eq!(params::size(params).ok(), Some(first.size));
    let after = Position {
        date: first.query.window.start,
        seq: 7,
    };
    let token = key.issue(PARTNER, &first, after, 99);
    let next = PageRequest {
        after: Some(after),
        snapshot: Some(99),
        ..first.clone()
    };
    let in_seek = Params::parse(&format!("{raw}&seek={token}")).expect("a token is form-safe");
    let opened = paging::page_request(&in_seek, &HeaderMap::new(), &key, PARTNER, now());
    assert_eq!(opened.ok(), Some(next.clone()), "{raw:?} continued in seek");
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&token).expect("a token is a header value");
    headers.insert(CONTINUATION_HEADER, value);
    let opened = paging::page_request(params, &headers, &key, PARTNER, now());
    assert_eq!(opened.ok(), Some(next), "{raw:?} continued in the header");
    let changed = format!("{raw}&seek={}", token.replacen('.', ".A", 1));
    let changed = Params::parse(&changed).expect("still form-safe");
    let refused = paging::page_request(&changed, &HeaderMap::new(), &key, PARTNER, now());
    assert_eq!(
        refused.err().map(|e| e.code),
        Some(Code::InvalidContinuationToken)
    );
}

fn in_range(at: OperationDate) {
    assert!(
        (OperationDate::MIN..=OperationDate::MAX).contains(&at),
        "{at:?}"
    );
}

/// `links.next`: the same parameters, without seek, with `seekOperation=Next`.
fn links(raw: &str, params: &Params) {
    let links = paging::links(Some(raw), Some("tok.en"));
    let uri = links["next"]["uri"].as_str().expect("a next link");
    let next_raw = uri.strip_prefix("/auditrecords?").expect("the collection");
    let next = Params::parse(next_raw).expect("the next link's query parses");
    assert_eq!(next.get("seek"), None, "{uri}");
    assert_eq!(next.get("seekOperation"), Some("Next"), "{uri}");
    for name in ["startDate", "endDate", "filter", "size", "first", ""] {
        assert_eq!(next.get(name), params.get(name), "{name} in {uri}");
    }
    let this = links["self"]["uri"].as_str().expect("a self link");
    let expected = if raw.is_empty() {
        "/auditrecords".to_owned()
    } else {
        format!("/auditrecords?{raw}")
    };
    assert_eq!(this, expected);
}

/// Pairs written with every byte but letters and digits %-escaped, a space as `%20` or as
/// `+`, read back as written.
fn encoded_pairs_read_back(u: &mut Unstructured<'_>) -> Result<()> {
    let mut pairs = Vec::new();
    for _ in 0..u.int_in_range(1..=4)? {
        pairs.push((text(u)?, text(u)?));
    }
    for plus in [false, true] {
        let raw: Vec<String> = pairs
            .iter()
            .map(|(n, v)| format!("{}={}", encode(n, plus), encode(v, plus)))
            .collect();
        let raw = raw.join("&");
        let params = Params::parse(&raw).expect("escaped pairs parse");
        for (name, _) in &pairs {
            let first = pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
            assert_eq!(params.get(name), first.map(|(_, v)| v.as_str()), "{raw}");
        }
    }
    Ok(())
}

fn encode(text: &str, plus_for_space: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b' ' if plus_for_space => out.push('+'),
            b if b.is_ascii_alphanumeric() => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
