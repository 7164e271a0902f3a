//! SQL for reads: SQLite's spelling of the shared filter translation, and the WHERE clause of
//! a partner's window. Every value is a bound parameter; only fixed SQL text is ever spliced.

use actlog_domain::filter::{Condition, Field, Filter, Operator};
use actlog_domain::query::{Position, Query};
use actlog_store::sql::{Dialect, filter_sql};
use rusqlite::types::Value;

/// SQLite's spelling of [`Dialect`]. `lower()` folds ASCII only (without ICU), which is what
/// the indexes on `lower(customer_id)` / `lower(operation_type)` need and what the stored
/// folds expect (`actlog_domain::folded`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    fn fold_ascii(&self, expr: &str) -> String {
        format!("lower({expr})")
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("instr({haystack}, {needle}) > 0")
    }

    fn starts_with(&self, text: &str, prefix: &str) -> String {
        format!("substr({text}, 1, length({prefix})) = {prefix}")
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
    use rusqlite::Connection;

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
            w.sql
                .contains("instr(coalesce(customer_name_fold, lower(customer_name)), ?4) > 0"),
            "{}",
            w.sql
        );
        assert!(w.sql.ends_with("+seq <= ?5"), "{}", w.sql);
    }

    /// Free text used to search customizedData's JSON (finding `null`, missing `say "hi"`,
    /// written `say \"hi\"` there), and Unicode folding was context-sensitive (`ΑΣ` missed
    /// `ΑΣΑ`): SQL over stored rows must now answer as `Filter::matches` does.
    #[test]
    fn free_text_and_names_match_stored_rows_as_the_reference_does() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::connection::register_functions(&conn).unwrap();
        crate::migrate::run(&mut conn).unwrap();
        let (partner, _) = crate::partners::ensure_row(&conn, "p").unwrap();
        let record = |id: &str, extra: &str| {
            let json = format!(
                r#"{{"id":"{id}","operationType":"create_order","operationDate":"2024-01-02T03:04:05Z"{extra}}}"#
            );
            actlog_domain::ingest::parse_record(&json, "p", &mut || unreachable!()).unwrap()
        };
        let records = [
            record(
                "quoted",
                r#","customizedData":[{"key":"note","value":"say \"hi\""}]"#,
            ),
            record(
                "valueless",
                r#","customizedData":[{"key":"k","value":null}]"#,
            ),
            record("greek", r#","customerName":"ΑΣΑ","customizedData":[]"#),
        ];
        let mut insert = conn.prepare_cached(crate::rows::INSERT).unwrap();
        for r in &records {
            assert!(crate::rows::insert(&mut insert, partner, r, 0).unwrap());
        }
        drop(insert);
        let searches = [
            (
                r#"{"Field":"Text","Value":"say \"hi\"","Operator":"substring"}"#,
                1,
            ),
            (
                r#"{"Field":"Text","Value":"null","Operator":"substring"}"#,
                0,
            ),
            (
                r#"{"Field":"Text","Value":"key","Operator":"substring"}"#,
                0,
            ),
            (
                r#"{"Field":"Text","Value":"\":\"","Operator":"substring"}"#,
                0,
            ),
            (
                r#"{"Field":"Text","Value":"NOTE","Operator":"substring"}"#,
                1,
            ),
            (
                r#"{"Field":"CompanyName","Value":"ΑΣ","Operator":"substring"}"#,
                1,
            ),
            (r#"{"Field":"Text","Value":"σα","Operator":"substring"}"#, 1),
        ];
        for (json, n) in searches {
            let filter = Filter::parse(json).unwrap();
            let want: Vec<&str> = records
                .iter()
                .filter(|r| filter.matches(r))
                .map(|r| r.id.as_str())
                .collect();
            assert_eq!(want.len(), n, "{json}: the reference says {want:?}");
            let query = Query {
                window: Window {
                    start: OperationDate::MIN,
                    end: None,
                },
                filter: Some(filter),
            };
            let w = Where::query(partner, &query);
            let sql = format!("SELECT id FROM {} WHERE {} ORDER BY seq", w.from, w.sql);
            let mut stmt = conn.prepare(&sql).unwrap();
            let got: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(w.params), |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(got, want, "{json}");
        }
    }
}
