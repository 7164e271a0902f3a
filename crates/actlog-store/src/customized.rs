//! Reading a stored `customized_data` back into the key/value list a scan refills in place.
//!
//! The column holds what `serde_json` wrote for the list (`[{"key":"…","value":"…"|null},…]`),
//! so nearly every value has exactly that shape with no escape in it. Such text is read
//! directly into the strings the record already holds; anything else (an escape, other
//! spacing, a missing field) goes to `serde_json`, so the result is always what `serde_json`
//! reads.

use actlog_domain::KeyValue;

/// Replaces `list` with the entries of `json`, reusing its strings where the text is in the
/// stored shape.
pub fn read_into(json: &str, list: &mut Vec<KeyValue>) -> serde_json::Result<()> {
    if !read_plain(json, list) {
        *list = serde_json::from_str(json)?;
    }
    Ok(())
}

/// Reads `json` if it is in the plain stored shape; false (and `list` left in any state) if
/// it is not.
fn read_plain(json: &str, list: &mut Vec<KeyValue>) -> bool {
    let mut at = Cursor { json, at: 0 };
    if !at.eat("[") {
        return false;
    }
    let mut used = 0;
    if !at.eat("]") {
        loop {
            let Some((key, value)) = at.entry() else {
                return false;
            };
            match list.get_mut(used) {
                Some(entry) => {
                    crate::refill::set(&mut entry.key, key);
                    crate::refill::set_optional(&mut entry.value, value);
                }
                None => list.push(KeyValue {
                    key: key.to_owned(),
                    value: value.map(str::to_owned),
                }),
            }
            used += 1;
            if at.eat("]") {
                break;
            }
            if !at.eat(",") {
                return false;
            }
        }
    }
    list.truncate(used);
    if list.capacity() > 4 * used.max(16) {
        list.shrink_to_fit(); // as [`crate::refill::set`]: keep no memory of a rare long list
    }
    at.at == json.len()
}

struct Cursor<'a> {
    json: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, text: &str) -> bool {
        let found = self.json.as_bytes()[self.at..].starts_with(text.as_bytes());
        if found {
            self.at += text.len();
        }
        found
    }

    /// `{"key":"…","value":"…"|null}`.
    fn entry(&mut self) -> Option<(&'a str, Option<&'a str>)> {
        if !self.eat(r#"{"key":"#) {
            return None;
        }
        let key = self.string()?;
        if !self.eat(r#","value":"#) {
            return None;
        }
        let value = if self.eat("null") {
            None
        } else {
            Some(self.string()?)
        };
        self.eat("}").then_some((key, value))
    }

    /// A string without escapes or control characters (which JSON would escape).
    fn string(&mut self) -> Option<&'a str> {
        if !self.eat("\"") {
            return None;
        }
        let rest = &self.json.as_bytes()[self.at..];
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        let text = &self.json[self.at..self.at + len];
        self.at += len + 1;
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: Option<&str>) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: value.map(str::to_owned),
        }
    }

    /// What `read_into` gives, starting from a list that held something else.
    fn read(json: &str) -> serde_json::Result<Vec<KeyValue>> {
        let mut list = vec![kv("old", Some("stale")), kv("older", None), kv("x", None)];
        read_into(json, &mut list).map(|()| list)
    }

    #[test]
    fn stored_lists_read_as_serde_json_reads_them() {
        let lists = [
            vec![],
            vec![kv("OfferName", Some("Microsoft 365 E3"))],
            vec![
                kv("Quantity", Some("5")),
                kv("Note", None),
                kv("", Some("")),
            ],
            vec![
                kv("Città", Some("Caffè \"Il Moro\", S.r.l.")),
                kv("漢字", None),
            ],
            vec![kv("a\\b", Some("line\nbreak\ttab")), kv("=1+2", Some("😀"))],
            (0..9).map(|i| kv(&format!("k{i}"), Some("v"))).collect(),
        ];
        for list in lists {
            let json = serde_json::to_string(&list).unwrap();
            assert_eq!(read(&json).unwrap(), list, "{json}");
            let plain = read_plain(&json, &mut Vec::new());
            assert_eq!(plain, !json.contains('\\'), "read directly: {json}");
        }
    }

    #[test]
    fn other_spellings_of_the_same_json_are_read_by_serde_json() {
        let cases = [
            (r#" [ {"key" : "a", "value": null} ] "#, vec![kv("a", None)]),
            (r#"[{"value":"v","key":"k"}]"#, vec![kv("k", Some("v"))]),
            (r#"[{"key":"k"}]"#, vec![kv("k", None)]),
            (
                r#"[{"key":"\u0041","value":"\/"}]"#,
                vec![kv("A", Some("/"))],
            ),
        ];
        for (json, list) in cases {
            assert_eq!(read(json).unwrap(), list, "{json}");
        }
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for json in [
            "",
            "[",
            "[]x",
            r#"[{"key":"k","value":"v"}"#,
            r#"[{"key":"k","value":"v"},]"#,
            r#"[{"key":"k","value":"v","extra":1}]"#,
            "[{\"key\":\"tab\there\",\"value\":null}]",
            r#"{"key":"k","value":"v"}"#,
        ] {
            assert!(read(json).is_err(), "{json:?}");
        }
    }
}
