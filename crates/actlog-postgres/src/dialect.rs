//! SQL for reads: PostgreSQL's spelling of the shared filter translation, and the WHERE clause
//! of a partner's window. Every value is a bound parameter; only fixed SQL text is spliced.

use actlog_domain::query::{Position, Query};
use actlog_store::sql::{Dialect, filter_sql};
use tokio_postgres::types::ToSql;

/// PostgreSQL's spelling of [`Dialect`]. Text is compared under `COLLATE "C"`: byte order, and
/// a `lower()` that folds ASCII only, whatever the database's locale, as the stored folds
/// expect (`actlog_domain::folded`) and the indexes on `lower(… COLLATE "C")` serve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Postgres;

impl Dialect for Postgres {
    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn fold_ascii(&self, expr: &str) -> String {
        format!("lower({expr} COLLATE \"C\")")
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("strpos({haystack}, {needle}) > 0")
    }

    fn starts_with(&self, text: &str, prefix: &str) -> String {
        format!("starts_with({text} COLLATE \"C\", {prefix})")
    }

    fn compare(&self, left: &str, op: &str, right: &str) -> String {
        format!("{left} COLLATE \"C\" {op} {right}")
    }
}

/// A parameter of a query.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// A `WHERE` clause (over `records r`) and its parameters, numbered in the order added.
#[derive(Debug)]
pub(crate) struct Where {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Where {
    /// The records of partner key `partner` that `query` covers.
    pub(crate) fn query(partner: i64, query: &Query) -> Where {
        let mut w = Where {
            sql: String::new(),
            params: Vec::new(),
        };
        let p = w.bind(partner);
        let start = w.bind(query.window.start.ticks());
        w.sql = format!("r.partner = {p} AND r.operation_date >= {start}");
        if let Some(end) = query.window.end {
            let end = w.bind(end.ticks());
            w.and(&format!("r.operation_date < {end}"));
        }
        if let Some(filter) = &query.filter {
            let fragment = filter_sql(filter, &Postgres, w.params.len() + 1);
            for value in fragment.params {
                w.params.push(Box::new(value));
            }
            w.and(&fragment.sql);
        }
        w
    }

    /// Only records numbered at or below `snapshot` (committed before the walk began).
    pub(crate) fn snapshot(&mut self, snapshot: i64) {
        let s = self.bind(snapshot);
        self.and(&format!("r.seq <= {s}"));
    }

    /// Only records after (older than) `after` in newest-first order.
    pub(crate) fn after(&mut self, after: Position) {
        let date = self.bind(after.date.ticks());
        let seq = self.bind(after.seq);
        self.and(&format!("(r.operation_date, r.seq) < ({date}, {seq})"));
    }

    /// Binds a value; its placeholder.
    pub(crate) fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        Postgres.placeholder(self.params.len())
    }

    /// The parameters as the driver takes them.
    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }
}
