//! The figures a benchmark measured, beside their reference, as `all` collects them: printed as
//! one table at the end and written as JSON.

use serde_json::{Value, json};

use crate::backend::Backend;
use crate::rows::Shape;

/// One measured figure and the reference it is compared with in the same run.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The benchmark: `ingest`, `export`, `query`.
    pub bench: &'static str,
    /// What was measured, e.g. "HTTP batches of 1,000".
    pub name: String,
    /// actlog's figure.
    pub value: f64,
    /// Its unit, e.g. "records/s".
    pub unit: &'static str,
    /// The reference's name and figure (same unit), when there is one.
    pub reference: Option<(&'static str, f64)>,
    /// The ratio PRODUCT §8 asks for at least.
    pub target: Option<f64>,
    /// The most the figure may be (a latency, a size), when it has a bound of its own.
    pub at_most: Option<f64>,
}

impl Figure {
    /// actlog's figure over the reference's.
    pub fn ratio(&self) -> Option<f64> {
        self.reference.map(|(_, r)| self.value / r)
    }

    /// Whether the figure meets its target ratio and its bound (`None`: it has neither).
    pub fn met(&self) -> Option<bool> {
        let ratio = self.ratio().zip(self.target).map(|(r, t)| r >= t);
        let bound = self.at_most.map(|most| self.value <= most);
        match (ratio, bound) {
            (None, None) => None,
            (ratio, bound) => Some(ratio.unwrap_or(true) && bound.unwrap_or(true)),
        }
    }
}

/// Figures of one benchmark run, with the rows and backend they were measured on.
#[derive(Debug, Clone)]
pub struct Measured {
    pub shape: Shape,
    pub backend: Backend,
    /// What the rows were (`RowSpec::describe`).
    pub rows: String,
    pub figure: Figure,
}

impl Measured {
    fn json(&self) -> Value {
        let f = &self.figure;
        json!({
            "bench": f.bench,
            "backend": format!("{:?}", self.backend).to_lowercase(),
            "shape": format!("{:?}", self.shape).to_lowercase(),
            "rows": self.rows,
            "figure": f.name,
            "unit": f.unit,
            "actlog": f.value,
            "reference": f.reference.map(|(name, _)| name),
            "reference_value": f.reference.map(|(_, v)| v),
            "ratio": f.ratio(),
            "target": f.target,
            "at_most": f.at_most,
            "met": f.met(),
        })
    }
}

/// Prints every figure as one table.
pub fn print(all: &[Measured]) {
    println!("\n== all figures ==");
    for m in all {
        let f = &m.figure;
        let versus = match (f.reference, f.ratio()) {
            (Some((name, value)), Some(ratio)) => format!(
                " vs {name} {value:.0} = {ratio:.2}×{}",
                f.target.map_or(String::new(), |t| format!(
                    " (§8 asks ≥ {t}×{})",
                    if ratio >= t { ", met" } else { ", NOT met" }
                ))
            ),
            _ => String::new(),
        };
        let bound = f.at_most.map_or(String::new(), |most| {
            let met = if f.value <= most { "met" } else { "NOT met" };
            format!(" (asks ≤ {most} {}, {met})", f.unit)
        });
        println!(
            "{:<8} {:<7} {:<8} {:<40} {:>10.1} {}{versus}{bound}",
            f.bench,
            format!("{:?}", m.backend).to_lowercase(),
            format!("{:?}", m.shape).to_lowercase(),
            f.name,
            f.value,
            f.unit
        );
    }
}

/// The JSON document `all --out` writes.
pub fn document(all: &[Measured], command: &str) -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({
        "command": command,
        "finished": jiff::Timestamp::now().to_string(),
        "machine": { "cores": cores, "os": std::env::consts::OS, "arch": std::env::consts::ARCH },
        "figures": all.iter().map(Measured::json).collect::<Vec<_>>(),
    })
}
