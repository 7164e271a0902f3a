//! Links the pages build: query strings that carry a view's period and filters.

/// Percent-encodes `text` for a URL path segment or query value (RFC 3986 unreserved
/// characters stay as they are).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?name=value&…`, leaving out empty values.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Whether `path` is a path on this site to send a browser back to: it starts with a single
/// `/` followed by anything but `/` or `\` (browsers read `//host` and `/\host` as another
/// site), and holds no control character, no whitespace and no `\` anywhere, neither as
/// written nor once its %-escapes are decoded (browsers drop a tab or newline from a URL, so
/// `/\t/example.com` is `//example.com` to them; and such a path cannot be a `Location`).
pub fn is_local_path(path: &str) -> bool {
    fn shape(path: &str) -> bool {
        let mut chars = path.chars();
        chars.next() == Some('/')
            && !matches!(chars.next(), Some('/' | '\\'))
            && !path
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    }
    const MAX_LEN: usize = 2_000;
    path.len() < MAX_LEN && shape(path) && shape(&decode_escapes(path))
}

/// `text` with its %-escapes decoded (others left as written), as a lossy string.
fn decode_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(&[high, low])) if hex(high).is_some() && hex(low).is_some() => {
                out.push((hex(high).unwrap_or(0) * 16 + hex(low).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_single_slash_path_without_controls_or_spaces_is_local() {
        for local in [
            "/",
            "/activity-log?from=2026-11-01&q=Caff%C3%A8",
            "/customers/c%2F1/subscriptions",
            "/a/b//c",
        ] {
            assert!(is_local_path(local), "{local}");
        }
        for foreign in [
            "",
            "activity-log",
            "//example.com",
            "/\\example.com",
            "/\t/example.com",
            "/\n/x",
            "/\r/x",
            "/ /example.com",
            "/\u{a0}/example.com",
            "/\u{2028}/x",
            "/x\u{7f}",
            "/%09/example.com",
            "/%0a/x",
            "/%2F/example.com",
            "/%5Cexample.com",
            "/a\\b",
            "https://example.com",
            "\t/",
        ] {
            assert!(!is_local_path(foreign), "{foreign:?}");
        }
        assert!(!is_local_path(&format!("/{}", "a".repeat(2_000))));
    }

    #[test]
    fn values_are_encoded_and_empty_ones_left_out() {
        assert_eq!(
            with_query(
                "/activity-log",
                &[
                    ("from", "2026-01-01"),
                    ("q", ""),
                    ("customer", "Caffè & Co/1")
                ]
            ),
            "/activity-log?from=2026-01-01&customer=Caff%C3%A8%20%26%20Co%2F1"
        );
        assert_eq!(with_query("/x", &[("a", "")]), "/x");
    }
}
