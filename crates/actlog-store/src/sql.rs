//! Filters as SQL, shared by the SQL backends.
//!
//! The translation mirrors [`Filter::matches`] exactly: the conformance suite checks every
//! backend against that evaluator. Values are always bound as parameters, never spliced.

use actlog_domain::filter::{Condition, Field, Filter, Folding, Operator};

/// What differs between SQL dialects. No dialect folds text beyond ASCII: the Unicode folds
/// are computed in Rust when a record is stored ([`actlog_domain::folded`]) and compared as
/// stored, so that every backend gives a filter the same meaning.
pub trait Dialect {
    /// The placeholder for the `n`th parameter (from 1).
    fn placeholder(&self, n: usize) -> String;
    /// `expr` lowercased in ASCII only (indexable).
    fn fold_ascii(&self, expr: &str) -> String;
    /// Whether `haystack` contains `needle`.
    fn contains(&self, haystack: &str, needle: &str) -> String;
    /// Whether `text` starts with `prefix`.
    fn starts_with(&self, text: &str, prefix: &str) -> String;
    /// Byte-order comparison operator applied to `left op right`.
    fn compare(&self, left: &str, op: &str, right: &str) -> String {
        format!("{left} {op} {right}")
    }
}

/// The column each field reads; every backend names its columns this way. [`Field::Text`]
/// reads the stored free text ([`actlog_domain::folded::Folded::text`]).
pub fn column(field: Field) -> &'static str {
    match field {
        Field::CompanyName => "customer_name",
        Field::CustomerId => "customer_id",
        Field::ResourceType => "resource_type",
        Field::OperationType => "operation_type",
        Field::UserPrincipalName => "user_principal_name",
        Field::OperationStatus => "operation_status",
        Field::ApplicationId => "application_id",
        Field::Text => "search_text",
    }
}

/// The column holding a Unicode-folded field's stored fold
/// ([`actlog_domain::folded::stored_fold`]), NULL where ASCII lowercasing gives the same.
pub fn fold_column(field: Field) -> Option<&'static str> {
    match field {
        Field::CompanyName => Some("customer_name_fold"),
        Field::UserPrincipalName => Some("user_principal_name_fold"),
        Field::ApplicationId => Some("application_id_fold"),
        _ => None,
    }
}

/// The folded text a condition on `field` compares.
fn folded(field: Field, d: &dyn Dialect) -> String {
    let raw = column(field);
    match (field, field.folding(), fold_column(field)) {
        // Stored folded already.
        (Field::Text, _, _) => raw.to_owned(),
        (_, Folding::Unicode, Some(fold)) => format!("coalesce({fold}, {})", d.fold_ascii(raw)),
        _ => d.fold_ascii(raw),
    }
}

/// A WHERE fragment and the text parameters it binds, numbered from `first_param`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub sql: String,
    pub params: Vec<String>,
}

/// Translates a filter; parameters are numbered from `first_param`.
pub fn filter_sql(filter: &Filter, dialect: &dyn Dialect, first_param: usize) -> Fragment {
    let mut params = Vec::new();
    let sql = node(filter, dialect, first_param, &mut params);
    Fragment { sql, params }
}

fn node(filter: &Filter, d: &dyn Dialect, first: usize, params: &mut Vec<String>) -> String {
    match filter {
        Filter::Condition(c) => condition(c, d, first, params),
        Filter::And(parts) | Filter::Or(parts) => {
            let joiner = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts: Vec<String> = parts.iter().map(|p| node(p, d, first, params)).collect();
            format!("({})", parts.join(joiner))
        }
    }
}

fn condition(c: &Condition, d: &dyn Dialect, first: usize, params: &mut Vec<String>) -> String {
    params.push(c.field.folding().fold(&c.value));
    let p = d.placeholder(first + params.len() - 1);
    let folded = folded(c.field, d);
    let test = match c.operator {
        Operator::Equals => format!("{folded} = {p}"),
        Operator::NotEquals => format!("{folded} <> {p}"),
        Operator::GreaterThan => d.compare(&folded, ">", &p),
        Operator::GreaterThanOrEquals => d.compare(&folded, ">=", &p),
        Operator::LessThan => d.compare(&folded, "<", &p),
        Operator::LessThanOrEquals => d.compare(&folded, "<=", &p),
        Operator::Substring => d.contains(&folded, &p),
        Operator::StartsWith => d.starts_with(&folded, &p),
        Operator::NotStartsWith => format!("NOT ({})", d.starts_with(&folded, &p)),
    };
    if c.operator.matches_absent() {
        format!("({} IS NULL OR {test})", column(c.field))
    } else {
        format!("({test})")
    }
}
