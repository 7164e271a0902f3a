//! SQL for reads: SQLite's spelling of the shared filter translation, and the WHERE clause of
//! a partner's window. Every value is a bound parameter; only fixed SQL text is ever spliced.

use actlog_domain::filter::{Condition, Field, Filter, Operator};
use actlog_domain::query::{Position, Query};
use actlog_store::sql::{Dialect, SEARCHABLE_COLUMNS, filter_sql};
use rusqlite::types::Value;

/// SQLite's spelling of [`Dialect`]. `lower()` folds ASCII only (without ICU), which is what
/// the indexes on `lower(customer_id)` / `lower(operation_type)` need; `actlog_fold()` is Rust's
/// Unicode lowercasing, registered on every connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    fn fold_ascii(&self, expr: &str) -> String {
        format!("lower({expr})")
    }

    fn fold_unicode(&self, expr: &str) -> String {
        format!("actlog_fold({expr})")
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("instr({haystack}, {needle}) > 0")
    }

    fn starts_with(&self, text: &str, prefix: &str) -> String {
        format!("substr({text}, 1, length({prefix})) = {prefix}")
    }

    fn searchable_text(&self) -> String {
        let parts: Vec<String> = SEARCHABLE_COLUMNS
            .iter()
            .map(|c| format!("coalesce({c}, '')"))
            .collect();
        format!("({})", parts.join(" || char(1) || "))
    }
}

/// A `WHERE` clause and its parameters, numbered in the order they are added, and the index
/// that serves it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Where {
    pub sql: String,
    pub params: Vec<Value>,
    /// `records INDEXED BY …`: the table and the index to read it through.
    pub from: &'static str,
}

/// The index serving a filter: a customer's or an operation type's records when the filter
/// requires one (an `equals` at its top level), else the partner's records by date.
///
/// Forced with `INDEXED BY` rather than left to the planner: without statistics, SQLite
/// prefers the date index as soon as a later page bounds the date on both sides, and then
/// reads every record of the partner's period to find one customer's.
fn index_for(filter: Option<&Filter>) -> &'static str {
    let required = |field: Field| match filter {
        Some(Filter::Condition(c)) => is_equals(c, field),
        Some(Filter::And(parts)) => parts
            .iter()
            .any(|p| matches!(p, Filter::Condition(c) if is_equals(c, field))),
        _ => false,
    };
    if required(Field::CustomerId) {
        "records INDEXED BY records_by_customer"
    } else if required(Field::OperationType) {
        "records INDEXED BY records_by_operation"
    } else {
        "records INDEXED BY records_by_date"
    }
}

fn is_equals(c: &Condition, field: Field) -> bool {
    c.field == field && c.operator == Operator::Equals
}

impl Where {
    /// The records of partner key `partner` that `query` covers.
    pub(crate) fn query(partner: i64, query: &Query) -> Where {
        let mut w = Where {
            sql: String::new(),
            params: Vec::new(),
            from: index_for(query.filter.as_ref()),
        };
        let p = w.bind(partner);
        let start = w.bind(query.window.start.ticks());
        w.sql = format!("partner = {p} AND operation_date >= {start}");
        if let Some(end) = query.window.end {
            let end = w.bind(end.ticks());
            w.and(&format!("operation_date < {end}"));
        }
        if let Some(filter) = &query.filter {
            let fragment = filter_sql(filter, &Sqlite, w.params.len() + 1);
            w.params
                .extend(fragment.params.into_iter().map(Value::Text));
            w.and(&fragment.sql);
        }
        w
    }

    /// Only records stored at or before `snapshot`. The unary `+` keeps the planner from
    /// reading the table in `seq` order instead of using the partner's date index.
    pub(crate) fn snapshot(&mut self, snapshot: i64) {
        let s = self.bind(snapshot);
        self.and(&format!("+seq <= {s}"));
    }

    /// Only records after (older than) `after` in newest-first order.
    pub(crate) fn after(&mut self, after: Position) {
        let date = self.bind(after.date.ticks());
        let seq = self.bind(after.seq);
        self.and(&format!("(operation_date, seq) < ({date}, {seq})"));
    }

    /// Binds a value; its placeholder.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.params.push(value.into());
        Sqlite.placeholder(self.params.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }
}

#[cfg(test)]
mod tests {
    use actlog_domain::OperationDate;
    use actlog_domain::filter::Filter;
    use actlog_domain::query::Window;

    use super::*;

    #[test]
    fn values_are_bound_never_spliced() {
        let hostile = r#"x') OR 1=1; DROP TABLE records; --"#;
        let json = format!(
            r#"{{"Field":"CompanyName","Value":{},"Operator":"substring"}}"#,
            serde_json::to_string(hostile).unwrap()
        );
        let query = Query {
            window: Window {
                start: OperationDate::from_ticks(5),
                end: Some(OperationDate::from_ticks(9)),
            },
            filter: Some(Filter::parse(&json).unwrap()),
        };
        let mut w = Where::query(7, &query);
        w.snapshot(100);
        assert!(!w.sql.contains("DROP"), "{}", w.sql);
        assert_eq!(w.params.len(), 5);
        assert_eq!(w.params[3], Value::Text(hostile.to_lowercase()));
        assert!(
            w.sql.contains("instr(actlog_fold(customer_name), ?4) > 0"),
            "{}",
            w.sql
        );
        assert!(w.sql.ends_with("+seq <= ?5"), "{}", w.sql);
    }
}
