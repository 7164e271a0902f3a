//! The forms of a record that filters compare, computed once, in Rust, when the record is
//! stored, so that every backend compares the same text (PostgreSQL's `lower()` follows the
//! database's locale and disagrees with SQLite's, and with [`Folding::Unicode`], on `İ` or a
//! final `Σ`).
//!
//! Backends store these beside the record and never fold text themselves beyond ASCII
//! (`lower()` over ASCII is the same everywhere). To keep rows small, a field's stored fold is
//! absent when ASCII lowercasing gives the same text, which is so for most values: the
//! backend then compares the ASCII lowercase of the field, and the result is the same.

use crate::filter::{Folding, searchable_text};
use crate::record::AuditRecord;

/// What a backend stores beside a record for its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// [`stored_fold`] of `customerName`.
    pub customer_name: Option<String>,
    /// [`stored_fold`] of `userPrincipalName`.
    pub user_principal_name: Option<String>,
    /// [`stored_fold`] of `applicationId`.
    pub application_id: Option<String>,
    /// The record's free text ([`searchable_text`]), Unicode-folded: what a `Text` filter
    /// tests.
    pub text: String,
}

impl Folded {
    /// The stored forms of `record`.
    pub fn of(record: &AuditRecord) -> Folded {
        Folded {
            customer_name: stored_fold(record.customer_name.as_deref()),
            user_principal_name: stored_fold(record.user_principal_name.as_deref()),
            application_id: stored_fold(record.application_id.as_deref()),
            text: Folding::Unicode.fold(&searchable_text(record)),
        }
    }
}

/// The Unicode fold of `text` when it differs from the ASCII lowercase of `text`, else `None`
/// (and `None` for an absent field): `stored.unwrap_or(ascii_lowercase(text))` is always
/// `Folding::Unicode.fold(text)`.
pub fn stored_fold(text: Option<&str>) -> Option<String> {
    let text = text?;
    if text.is_ascii() {
        return None;
    }
    let folded = Folding::Unicode.fold(text);
    (folded != text.to_ascii_lowercase()).then_some(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_fold_exists_only_where_ascii_lowercasing_differs() {
        for text in [
            "Contoso Ltd",
            "Caffè",
            "İSTANBUL",
            "ΟΔΟΣ",
            "Straße",
            "ÀBC",
            "a€b",
        ] {
            let ascii = text.to_ascii_lowercase();
            let unicode = Folding::Unicode.fold(text);
            let stored = stored_fold(Some(text));
            assert_eq!(stored.clone().unwrap_or(ascii.clone()), unicode, "{text}");
            assert_eq!(stored.is_some(), ascii != unicode, "{text}");
        }
        assert_eq!(stored_fold(None), None);
    }
}
