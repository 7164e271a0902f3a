//! Filters as SQL, shared by the SQL backends.
//!
//! The translation mirrors [`Filter::matches`] exactly: the conformance suite checks every
//! backend against that evaluator. Values are always bound as parameters, never spliced.

use actlog_domain::filter::{Condition, Field, Filter, Folding, Operator};

/// What differs between SQL dialects.
pub trait Dialect {
    /// The placeholder for the `n`th parameter (from 1).
    fn placeholder(&self, n: usize) -> String;
    /// `expr` lowercased in ASCII only (indexable).
    fn fold_ascii(&self, expr: &str) -> String;
    /// `expr` lowercased in every script.
    fn fold_unicode(&self, expr: &str) -> String;
    /// Whether `haystack` contains `needle`.
    fn contains(&self, haystack: &str, needle: &str) -> String;
    /// Whether `text` starts with `prefix`.
    fn starts_with(&self, text: &str, prefix: &str) -> String;
    /// Byte-order comparison operator applied to `left op right`.
    fn compare(&self, left: &str, op: &str, right: &str) -> String {
        format!("{left} {op} {right}")
    }
    /// The expression joining the searchable columns with U+0001, as
    /// [`actlog_domain::filter::searchable_text`] does. `customized_data` is stored as JSON
    /// but searched as its keys and values ([`actlog_domain::filter::customized_text`]), never
    /// as JSON syntax.
    fn searchable_text(&self) -> String;
}

/// The column each field reads; every backend names its columns this way.
pub fn column(field: Field) -> &'static str {
    match field {
        Field::CompanyName => "customer_name",
        Field::CustomerId => "customer_id",
        Field::ResourceType => "resource_type",
        Field::OperationType => "operation_type",
        Field::UserPrincipalName => "user_principal_name",
        Field::OperationStatus => "operation_status",
        Field::ApplicationId => "application_id",
        Field::Text => "",
    }
}

/// The searchable columns, in [`actlog_domain::filter::searchable_text`]'s order.
pub const SEARCHABLE_COLUMNS: [&str; 11] = [
    "id",
    "customer_id",
    "customer_name",
    "user_principal_name",
    "application_id",
    "resource_type",
    "operation_type",
    "operation_status",
    "customized_data",
    "resource_old_value",
    "resource_new_value",
];

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
    let folding = c.field.folding();
    params.push(folding.fold(&c.value));
    let p = d.placeholder(first + params.len() - 1);
    let raw = if c.field == Field::Text {
        d.searchable_text()
    } else {
        column(c.field).to_owned()
    };
    let folded = match folding {
        Folding::Ascii => d.fold_ascii(&raw),
        Folding::Unicode => d.fold_unicode(&raw),
    };
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
        format!("({raw} IS NULL OR {test})")
    } else {
        format!("({test})")
    }
}
