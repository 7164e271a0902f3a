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

#[cfg(test)]
mod tests {
    use super::*;

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
