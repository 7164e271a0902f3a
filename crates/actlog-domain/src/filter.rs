//! Filters over records: Partner Center's filter JSON (`{"Field":"CompanyName","Value":"bri",
//! "Operator":"substring"}`), extended with more fields, every operator of the SDK, and
//! compound `and` / `or` filters.
//!
//! [`Filter::matches`] is the reference meaning of a filter; every store backend translates the
//! same tree to its query language and is tested against this evaluator.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::record::{AuditRecord, KeyValue};

/// Bounds that keep a hostile filter cheap to parse and to run.
const MAX_DEPTH: usize = 8;
const MAX_CONDITIONS: usize = 32;
const MAX_VALUE_CHARS: usize = 512;
pub const MAX_FILTER_BYTES: usize = 16 * 1024;

/// What [`searchable_text`] puts between a record's texts (U+0001). A `Text` value may not
/// contain it, so that no search matches across the boundary of two texts.
pub const TEXT_SEPARATOR: char = '\u{1}';

/// A filter tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Condition(Condition),
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

/// `field operator value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: Field,
    pub operator: Operator,
    pub value: String,
}

/// A field a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `customerName` (Partner Center).
    CompanyName,
    /// `customerId` (Partner Center).
    CustomerId,
    /// `resourceType` (Partner Center).
    ResourceType,
    OperationType,
    UserPrincipalName,
    OperationStatus,
    ApplicationId,
    /// Free text: any of the record's texts, its details included.
    Text,
}

/// How a field is compared: codes and ids ignore ASCII case only, so that backends can index
/// them with a plain `lower()`; names and free text ignore case in every script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folding {
    Ascii,
    Unicode,
}

/// The SDK's operators (`and` / `or` make compound filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Equals,
    NotEquals,
    GreaterThan,
    GreaterThanOrEquals,
    LessThan,
    LessThanOrEquals,
    Substring,
    StartsWith,
    NotStartsWith,
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: {0}")]
pub struct FilterError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(message.into()))
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::CompanyName,
        Field::CustomerId,
        Field::ResourceType,
        Field::OperationType,
        Field::UserPrincipalName,
        Field::OperationStatus,
        Field::ApplicationId,
        Field::Text,
    ];

    /// The name used in filter JSON.
    pub fn name(self) -> &'static str {
        match self {
            Field::CompanyName => "CompanyName",
            Field::CustomerId => "CustomerId",
            Field::ResourceType => "ResourceType",
            Field::OperationType => "OperationType",
            Field::UserPrincipalName => "UserPrincipalName",
            Field::OperationStatus => "OperationStatus",
            Field::ApplicationId => "ApplicationId",
            Field::Text => "Text",
        }
    }

    pub fn folding(self) -> Folding {
        match self {
            Field::CustomerId
            | Field::ResourceType
            | Field::OperationType
            | Field::OperationStatus => Folding::Ascii,
            Field::CompanyName | Field::UserPrincipalName | Field::ApplicationId | Field::Text => {
                Folding::Unicode
            }
        }
    }

    fn parse(name: &str) -> Result<Field, FilterError> {
        Field::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .map_or_else(
                || {
                    let known: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
                    err(format!(
                        "unknown field `{name}`; use one of {}",
                        known.join(", ")
                    ))
                },
                Ok,
            )
    }
}

impl Folding {
    /// Lowercases `text`. Unicode folding maps one character at a time, never by context:
    /// `str::to_lowercase` turns a word-final `Σ` into `ς` and any other into `σ`, so `ΑΣ`
    /// would fold to `ας` on its own but to `ασ` inside `ΑΣΑ`, and miss itself. Folding a
    /// concatenation is then the concatenation of the folds, which substring tests rely on.
    pub fn fold(self, text: &str) -> String {
        match self {
            Folding::Ascii => text.to_ascii_lowercase(),
            // The same result, faster, for the common all-ASCII text.
            Folding::Unicode if text.is_ascii() => text.to_ascii_lowercase(),
            Folding::Unicode => text.chars().flat_map(char::to_lowercase).collect(),
        }
    }
}

impl Operator {
    pub const ALL: [Operator; 9] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::GreaterThan,
        Operator::GreaterThanOrEquals,
        Operator::LessThan,
        Operator::LessThanOrEquals,
        Operator::Substring,
        Operator::StartsWith,
        Operator::NotStartsWith,
    ];

    /// The wire name, as in filter JSON.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "not_equals",
            Operator::GreaterThan => "greater_than",
            Operator::GreaterThanOrEquals => "greater_than_or_equals",
            Operator::LessThan => "less_than",
            Operator::LessThanOrEquals => "less_than_or_equals",
            Operator::Substring => "substring",
            Operator::StartsWith => "starts_with",
            Operator::NotStartsWith => "not_starts_with",
        }
    }

    /// Whether a record without the field matches (only the negative operators).
    pub fn matches_absent(self) -> bool {
        matches!(self, Operator::NotEquals | Operator::NotStartsWith)
    }

    /// Applies the operator to already folded texts.
    pub fn test(self, have: &str, want: &str) -> bool {
        match self {
            Operator::Equals => have == want,
            Operator::NotEquals => have != want,
            Operator::GreaterThan => have > want,
            Operator::GreaterThanOrEquals => have >= want,
            Operator::LessThan => have < want,
            Operator::LessThanOrEquals => have <= want,
            Operator::Substring => have.contains(want),
            Operator::StartsWith => have.starts_with(want),
            Operator::NotStartsWith => !have.starts_with(want),
        }
    }
}

impl Filter {
    /// Parses Partner Center's filter JSON (keys and names in any case). Compound filters are
    /// `{"Operator":"and","Filters":[…]}` or the SDK's `{"Operator":"or","LeftFilter":…,
    /// "RightFilter":…}`.
    pub fn parse(json: &str) -> Result<Filter, FilterError> {
        if json.len() > MAX_FILTER_BYTES {
            return err(format!("longer than {MAX_FILTER_BYTES} bytes"));
        }
        let value: Value =
            serde_json::from_str(json).map_err(|e| FilterError(format!("not valid JSON: {e}")))?;
        let mut conditions = 0;
        let filter = Self::from_value(&value, 1, &mut conditions)?;
        Ok(filter)
    }

    fn from_value(
        value: &Value,
        depth: usize,
        conditions: &mut usize,
    ) -> Result<Filter, FilterError> {
        if depth > MAX_DEPTH {
            return err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let Value::Object(object) = value else {
            return err("each filter must be a JSON object with Field, Value and Operator");
        };
        let operator = match member(object, "Operator") {
            Some(Value::String(op)) => op.as_str(),
            Some(_) => return err("Operator must be a string"),
            None => return err("missing Operator"),
        };
        if operator.eq_ignore_ascii_case("and") || operator.eq_ignore_ascii_case("or") {
            let parts = Self::parts(object, depth, conditions)?;
            let and = operator.eq_ignore_ascii_case("and");
            return Ok(if and {
                Filter::And(parts)
            } else {
                Filter::Or(parts)
            });
        }
        *conditions += 1;
        if *conditions > MAX_CONDITIONS {
            return err(format!("more than {MAX_CONDITIONS} conditions"));
        }
        Self::condition(object, operator).map(Filter::Condition)
    }

    fn parts(
        object: &Map<String, Value>,
        depth: usize,
        conditions: &mut usize,
    ) -> Result<Vec<Filter>, FilterError> {
        let children: Vec<&Value> = match (
            member(object, "Filters"),
            member(object, "LeftFilter"),
            member(object, "RightFilter"),
        ) {
            (Some(Value::Array(list)), None, None) => list.iter().collect(),
            (None, Some(left), Some(right)) => vec![left, right],
            _ => return err("and/or need either Filters (a list) or LeftFilter and RightFilter"),
        };
        if children.is_empty() {
            return err("and/or need at least one filter");
        }
        children
            .into_iter()
            .map(|c| Self::from_value(c, depth + 1, conditions))
            .collect()
    }

    fn condition(object: &Map<String, Value>, operator: &str) -> Result<Condition, FilterError> {
        let field = match member(object, "Field") {
            Some(Value::String(name)) => Field::parse(name)?,
            Some(_) => return err("Field must be a string"),
            None => return err("missing Field"),
        };
        let operator = Operator::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(operator))
            .ok_or_else(|| FilterError(format!("unknown operator `{operator}`")))?;
        let value = match member(object, "Value") {
            Some(Value::String(value)) => value.clone(),
            Some(_) => return err("Value must be a string"),
            None => return err("missing Value"),
        };
        if value.chars().count() > MAX_VALUE_CHARS {
            return err(format!("Value is longer than {MAX_VALUE_CHARS} characters"));
        }
        if value.contains('\0') {
            return err("Value contains a NUL character");
        }
        if field == Field::Text && operator != Operator::Substring {
            return err("the Text field only supports the substring operator");
        }
        if field == Field::Text && value.contains(TEXT_SEPARATOR) {
            return err("a Text Value cannot contain the control character U+0001, \
                 which separates the record's texts in free-text search");
        }
        Ok(Condition {
            field,
            operator,
            value,
        })
    }

    /// The reference meaning of the filter.
    pub fn matches(&self, record: &AuditRecord) -> bool {
        match self {
            Filter::Condition(c) => c.matches(record),
            Filter::And(parts) => parts.iter().all(|f| f.matches(record)),
            Filter::Or(parts) => parts.iter().any(|f| f.matches(record)),
        }
    }

    /// Whether some condition of it tests a record's text by substring (free text, or any
    /// field's `substring`): what no index serves, so that each record it is tried on is read.
    pub fn reads_text(&self) -> bool {
        match self {
            Filter::Condition(c) => c.field == Field::Text || c.operator == Operator::Substring,
            Filter::And(parts) | Filter::Or(parts) => parts.iter().any(Filter::reads_text),
        }
    }

    /// The filter in its canonical JSON form, which [`Filter::parse`] reads back.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("filters always serialize")
    }
}

impl Condition {
    fn matches(&self, record: &AuditRecord) -> bool {
        let folding = self.field.folding();
        let want = folding.fold(&self.value);
        match field_text(record, self.field) {
            None => self.operator.matches_absent(),
            Some(have) => self.operator.test(&folding.fold(&have), &want),
        }
    }
}

/// The text a field tests on a record. For [`Field::Text`], the searchable texts joined by
/// [`TEXT_SEPARATOR`], which no search value contains.
pub fn field_text(record: &AuditRecord, field: Field) -> Option<String> {
    let text = |v: &Option<String>| v.clone();
    match field {
        Field::CompanyName => text(&record.customer_name),
        Field::CustomerId => text(&record.customer_id),
        Field::ResourceType => text(&record.resource_type),
        Field::OperationType => Some(record.operation_type.clone()),
        Field::UserPrincipalName => text(&record.user_principal_name),
        Field::OperationStatus => text(&record.operation_status),
        Field::ApplicationId => text(&record.application_id),
        Field::Text => Some(searchable_text(record)),
    }
}

/// Every text of a record that free-text search looks into, in a fixed order, joined by
/// [`TEXT_SEPARATOR`]. `customizedData` counts as its keys and values ([`customized_text`]),
/// not as the JSON it is stored as.
pub fn searchable_text(record: &AuditRecord) -> String {
    let customized = record.customized_data.as_deref().map(customized_text);
    [
        Some(record.id.as_str()),
        record.customer_id.as_deref(),
        record.customer_name.as_deref(),
        record.user_principal_name.as_deref(),
        record.application_id.as_deref(),
        record.resource_type.as_deref(),
        Some(record.operation_type.as_str()),
        record.operation_status.as_deref(),
        customized.as_deref(),
        record.resource_old_value.as_deref(),
        record.resource_new_value.as_deref(),
    ]
    .into_iter()
    .map(|t| t.unwrap_or(""))
    .collect::<Vec<_>>()
    .join(&TEXT_SEPARATOR.to_string())
}

/// The keys and values of `customizedData` as free-text search sees them: each its own text,
/// joined by [`TEXT_SEPARATOR`]; an absent value adds nothing. Searching the JSON instead
/// would find its syntax (`null`, `"key"`, braces) and miss values written with escapes.
pub fn customized_text(items: &[KeyValue]) -> String {
    let mut text = String::new();
    let texts = items
        .iter()
        .flat_map(|kv| std::iter::once(kv.key.as_str()).chain(kv.value.as_deref()));
    for (i, t) in texts.enumerate() {
        if i > 0 {
            text.push(TEXT_SEPARATOR);
        }
        text.push_str(t);
    }
    text
}

/// Looks a key up ignoring ASCII case, as Partner Center does.
fn member<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

impl Serialize for Filter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(3))?;
        match self {
            Filter::Condition(c) => {
                map.serialize_entry("Field", c.field.name())?;
                map.serialize_entry("Value", &c.value)?;
                map.serialize_entry("Operator", c.operator.name())?;
            }
            Filter::And(parts) | Filter::Or(parts) => {
                let op = if matches!(self, Filter::And(_)) {
                    "and"
                } else {
                    "or"
                };
                map.serialize_entry("Operator", op)?;
                map.serialize_entry("Filters", parts)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_center_filters_parse() {
        let f = Filter::parse(r#"{"Field":"CompanyName","Value":"bri","Operator":"substring"}"#)
            .unwrap();
        let want = Condition {
            field: Field::CompanyName,
            operator: Operator::Substring,
            value: "bri".into(),
        };
        assert_eq!(f, Filter::Condition(want));
        let lower =
            Filter::parse(r#"{"field":"customerid","value":"X","operator":"EQUALS"}"#).unwrap();
        assert!(matches!(
            lower,
            Filter::Condition(Condition {
                field: Field::CustomerId,
                ..
            })
        ));
    }

    #[test]
    fn compound_filters_parse_in_both_forms_and_round_trip() {
        let list = Filter::parse(
            r#"{"Operator":"or","Filters":[{"Field":"ResourceType","Value":"order","Operator":"equals"},
               {"Operator":"and","LeftFilter":{"Field":"Text","Value":"x","Operator":"substring"},
                "RightFilter":{"Field":"OperationStatus","Value":"failed","Operator":"not_equals"}}]}"#,
        )
        .unwrap();
        assert!(matches!(&list, Filter::Or(parts) if parts.len() == 2));
        assert_eq!(Filter::parse(&list.to_json()).unwrap(), list);
    }

    #[test]
    fn hostile_filters_are_refused_with_a_reason() {
        let deep = format!(
            "{}{}{}",
            r#"{"Operator":"and","Filters":["#.repeat(20),
            r#"{"Field":"Text","Value":"x","Operator":"substring"}"#,
            "]}".repeat(20)
        );
        let many = format!(
            r#"{{"Operator":"or","Filters":[{}]}}"#,
            vec![r#"{"Field":"Text","Value":"x","Operator":"substring"}"#; 40].join(",")
        );
        for bad in [
            "",
            "null",
            "[]",
            "{",
            r#"{"Field":"Colour","Value":"x","Operator":"equals"}"#,
            r#"{"Field":"CompanyName","Value":"x","Operator":"like"}"#,
            r#"{"Field":"CompanyName","Value":5,"Operator":"equals"}"#,
            r#"{"Field":"CompanyName","Operator":"equals"}"#,
            r#"{"Field":"Text","Value":"x","Operator":"equals"}"#,
            r#"{"Operator":"and","Filters":[]}"#,
            &deep,
            &many,
        ] {
            let e = Filter::parse(bad).expect_err(bad);
            assert!(!e.0.is_empty());
        }
    }

    #[test]
    fn a_text_value_with_the_separator_is_refused_with_a_reason() {
        let across = r#"{"Field":"Text","Value":"order\u0001failed","Operator":"substring"}"#;
        let e = Filter::parse(across).unwrap_err();
        assert!(e.to_string().starts_with("filter: a Text Value"), "{e}");
        assert!(e.to_string().contains("U+0001"), "{e}");
        // A single field has no boundary to cross: there U+0001 is a character like any other.
        let one_field = r#"{"Field":"CompanyName","Value":"a\u0001b","Operator":"equals"}"#;
        assert!(Filter::parse(one_field).is_ok());
    }

    #[test]
    fn unicode_folding_maps_sigma_the_same_anywhere_in_a_word() {
        let fold = |text| Folding::Unicode.fold(text);
        assert_eq!(fold("ΣΑΣ"), "σασ");
        assert_eq!(fold("σας"), "σας");
        assert_eq!(fold("ΟΔΟΣ ΣΟΦΙΑΣ"), "οδοσ σοφιασ");
        assert_eq!(fold("ΑΣ") + &fold("Α"), fold("ΑΣΑ"));
        assert_eq!(fold("İSTANBUL"), "i\u{307}stanbul");
        assert_eq!(fold("ÀBC-Xyz"), "àbc-xyz");
        assert_eq!(Folding::Ascii.fold("ÀBC-Xyz"), "Àbc-xyz");
    }

    #[test]
    fn customized_data_is_searched_as_its_keys_and_values() {
        let kv = |key: &str, value: Option<&str>| KeyValue {
            key: key.into(),
            value: value.map(Into::into),
        };
        let items = [
            kv("note", Some("say \"hi\"")),
            kv("k", None),
            kv("", Some("v")),
        ];
        assert_eq!(
            customized_text(&items),
            "note\u{1}say \"hi\"\u{1}k\u{1}\u{1}v"
        );
        assert_eq!(customized_text(&[]), "");
    }
}
