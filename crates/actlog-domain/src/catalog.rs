//! The known operation types, resource types and statuses, with readable English and Italian
//! labels.
//!
//! The wire values come from Partner Center's SDK (`catalog/*-sdk.tsv`, kept as published);
//! the labels are ours (`catalog/*-labels.tsv`). A value missing from the catalog is not an
//! error: the catalogs keep growing, so unknown values get a humanized label.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A language actlog speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    It,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en-US",
            Lang::It => "it-IT",
        }
    }

    /// Reads a tag such as `it`, `it-IT` or `en-GB`; `None` for languages actlog lacks.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("it") {
            Some(Lang::It)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// One catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The wire value, e.g. `create_order`.
    pub code: &'static str,
    pub en: &'static str,
    pub it: &'static str,
}

impl Entry {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::It => self.it,
        }
    }
}

/// One catalog: entries in Partner Center's order, and an index by wire value.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_code: HashMap<&'static str, usize>,
}

impl Catalog {
    fn load(labels: &'static str) -> Catalog {
        let entries: Vec<Entry> = labels
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let mut cols = line.split('\t');
                let mut next = || {
                    cols.next()
                        .map(str::trim)
                        .expect("three columns per label row")
                };
                Entry {
                    code: next(),
                    en: next(),
                    it: next(),
                }
            })
            .collect();
        let by_code = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.code, i))
            .collect();
        Catalog { entries, by_code }
    }

    /// Every known entry, in Partner Center's order (`undefined` first).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, code: &str) -> Option<&Entry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// The label for a wire value; unknown values are humanized, never dropped.
    pub fn label(&self, code: &str, lang: Lang) -> Cow<'static, str> {
        match self.get(code) {
            Some(entry) => Cow::Borrowed(entry.label(lang)),
            None => Cow::Owned(humanize(code)),
        }
    }
}

/// Operation types (`operationType`).
pub static OPERATIONS: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(include_str!("../catalog/operation-labels.tsv")));
/// Resource types (`resourceType`).
pub static RESOURCES: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(include_str!("../catalog/resource-labels.tsv")));
/// Operation statuses (`operationStatus`).
pub static STATUSES: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(include_str!("../catalog/status-labels.tsv")));

/// `granular_admin_thing_done` → `Granular admin thing done`.
pub fn humanize(code: &str) -> String {
    let spaced = code.replace(['_', '-'], " ");
    let trimmed = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::from("—"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire values Partner Center's SDK publishes, from the unmodified source file.
    fn sdk_codes(tsv: &str) -> Vec<&str> {
        tsv.lines()
            .skip(1)
            .filter_map(|l| l.split('\t').nth(2))
            .collect()
    }

    #[test]
    fn every_sdk_operation_and_resource_has_both_labels() {
        let sources = [
            (
                &*OPERATIONS,
                sdk_codes(include_str!("../catalog/operation-types-sdk.tsv")),
            ),
            (
                &*RESOURCES,
                sdk_codes(include_str!("../catalog/resource-types-sdk.tsv")),
            ),
        ];
        for (catalog, codes) in sources {
            assert_eq!(catalog.entries().len(), codes.len());
            for code in codes {
                let entry = catalog
                    .get(code)
                    .unwrap_or_else(|| panic!("{code} has no label"));
                assert!(!entry.en.is_empty() && !entry.it.is_empty(), "{code}");
            }
        }
    }

    #[test]
    fn every_status_has_both_labels() {
        let source = include_str!("../catalog/operation-status.txt");
        let codes: Vec<_> = source
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        assert_eq!(codes, ["succeeded", "failed", "progress", "decline"]);
        for code in codes {
            assert!(STATUSES.get(code).is_some(), "{code}");
        }
    }

    #[test]
    fn known_and_unknown_operations_are_readable() {
        assert_eq!(
            OPERATIONS.label("create_order", Lang::En),
            "Created an order"
        );
        assert_eq!(
            OPERATIONS.label("create_order", Lang::It),
            "Ha creato un ordine"
        );
        assert_eq!(
            OPERATIONS.label("launch_rocket_v2", Lang::En),
            "Launch rocket v2"
        );
        assert_eq!(humanize("__"), "—");
    }

    #[test]
    fn language_tags_are_read_loosely() {
        assert_eq!(Lang::from_tag("it-IT"), Some(Lang::It));
        assert_eq!(Lang::from_tag("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("de"), None);
    }
}
