//! Export engine benchmark: N realistic records to CSV, against `sqlite3 -csv` on the same rows.
//!
//! ```text
//! cargo run --release -p actlog-export --example bench_export -- [N] [--xlsx] [--no-sqlite]
//! ```
//!
//! N defaults to 1,000,000. Records (≈300 bytes of details each) are made from a ring of
//! 10,000 pre-generated ones whose id and date change per row, so the timing is the engine's
//! (no store read) and memory stays flat. The reference: the same rows imported with the
//! `sqlite3` shell into a table with an index on (operationDate, id), then
//! `sqlite3 -csv db 'SELECT … ORDER BY operationDate DESC, id DESC' > out.csv`.
//! Each side runs three times; the best run counts. Peak memory is this process's VmHWM.
//! `--xlsx` also times an XLSX export of the same rows; `--no-sqlite` skips the reference.
//! Not part of the test suite.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use actlog_domain::catalog::{Lang, OPERATIONS};
use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use actlog_export::{ExportOptions, Exporter, Format, Period};
use jiff::tz::TimeZone;

const RING: usize = 10_000;
const RUNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: u64 = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(1_000_000, |a| {
            a.replace('_', "").parse().expect("N is a number")
        });
    let with_xlsx = args.iter().any(|a| a == "--xlsx");
    let with_sqlite = !args.iter().any(|a| a == "--no-sqlite");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut ring = Ring::new();
    let baseline = peak_rss_kib();

    println!(
        "export engine benchmark: {rows} records, ≈300-byte details, CSV (it, ';', Europe/Rome)"
    );
    let csv_path = dir.path().join("actlog.csv");
    let (actlog_time, bytes) = best_of(|| export(&mut ring, rows, Format::Csv, &csv_path));
    let export_peak = peak_rss_kib();
    let actlog_rate = rows as f64 / actlog_time.as_secs_f64();
    println!(
        "actlog CSV:    {:>8.3} s  {:>10.0} rows/s  {:.0} MB written",
        actlog_time.as_secs_f64(),
        actlog_rate,
        bytes as f64 / 1e6
    );
    println!("peak RSS:      {export_peak} KiB (before exporting: {baseline} KiB)");
    print_sample_row(&csv_path);

    if with_xlsx {
        let xlsx_path = dir.path().join("actlog.xlsx");
        let start = Instant::now();
        let bytes = export(&mut ring, rows, Format::Xlsx, &xlsx_path);
        let time = start.elapsed();
        println!(
            "actlog XLSX:   {:>8.3} s  {:>10.0} rows/s  {:.0} MB written, peak RSS {} KiB",
            time.as_secs_f64(),
            rows as f64 / time.as_secs_f64(),
            bytes as f64 / 1e6,
            peak_rss_kib()
        );
    }

    if !with_sqlite {
        return;
    }
    let db = dir.path().join("reference.sqlite");
    let import_time = load_sqlite(&mut ring, rows, &db, dir.path());
    println!(
        "(sqlite3 .import of the same rows: {:.1} s)",
        import_time.as_secs_f64()
    );
    let out = dir.path().join("sqlite3.csv");
    let (sqlite_time, _) = best_of(|| sqlite_export(&db, &out));
    let sqlite_rate = rows as f64 / sqlite_time.as_secs_f64();
    println!(
        "sqlite3 -csv:  {:>8.3} s  {:>10.0} rows/s  {:.0} MB written",
        sqlite_time.as_secs_f64(),
        sqlite_rate,
        std::fs::metadata(&out).unwrap().len() as f64 / 1e6
    );
    println!(
        "ratio actlog ÷ sqlite3: {:.2}× (PRODUCT.md §8 asks ≥ 1.5×)",
        actlog_rate / sqlite_rate
    );
}

/// The first record of the CSV, to show what a row looks like (read without loading the file).
fn print_sample_row(path: &Path) {
    let mut head = vec![0; 4096];
    let n = std::io::Read::read(&mut File::open(path).unwrap(), &mut head).unwrap();
    let text = String::from_utf8_lossy(&head[..n]);
    if let Some(sample) = text.split("\r\n").nth(1) {
        println!("sample row ({} bytes):\n{sample}", sample.len());
    }
}

fn best_of<T>(mut run: impl FnMut() -> T) -> (Duration, T) {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let value = run();
        let time = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| time < *b) {
            best = Some((time, value));
        }
    }
    best.unwrap()
}

fn export(ring: &mut Ring, rows: u64, format: Format, path: &Path) -> u64 {
    let period = Period {
        from: OperationDate::from_ticks(0),
        to: None,
    };
    let tz = TimeZone::get("Europe/Rome").unwrap();
    let mut options = ExportOptions::new(format, Lang::It, tz, period);
    options.temp_dir = Some(path.parent().unwrap().to_owned());
    let mut file = File::create(path).unwrap();
    let mut exporter = Exporter::new(&mut file, &options).unwrap();
    for i in 0..rows {
        exporter.write_record(ring.record(i, rows)).unwrap();
    }
    let summary = exporter.finish().unwrap();
    assert_eq!(summary.rows, rows);
    std::fs::metadata(path).unwrap().len()
}

/// Creates the reference table and imports the same rows through an intermediate CSV.
fn load_sqlite(ring: &mut Ring, rows: u64, db: &Path, dir: &Path) -> Duration {
    let import = dir.join("import.csv");
    let mut out = csv::Writer::from_writer(BufWriter::new(File::create(&import).unwrap()));
    for i in 0..rows {
        let r = ring.record(i, rows);
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        out.write_record([
            r.id.clone(),
            r.partner_id.clone(),
            opt(&r.customer_id),
            opt(&r.customer_name),
            opt(&r.user_principal_name),
            opt(&r.application_id),
            opt(&r.resource_type),
            opt(&r.resource_old_value),
            opt(&r.resource_new_value),
            r.operation_type.clone(),
            r.operation_date.to_string(),
            opt(&r.operation_status),
            r.customized_data_json().unwrap_or_default(),
            opt(&r.session_id),
            opt(&r.original_correlation_id),
        ])
        .unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let script = format!(
        "CREATE TABLE records (id TEXT NOT NULL, partnerId TEXT NOT NULL, customerId TEXT, \
         customerName TEXT, userPrincipalName TEXT, applicationId TEXT, resourceType TEXT, \
         resourceOldValue TEXT, resourceNewValue TEXT, operationType TEXT NOT NULL, \
         operationDate TEXT NOT NULL, operationStatus TEXT, customizedData TEXT, \
         sessionId TEXT, originalCorrelationId TEXT);\n\
         .import --csv {} records\n\
         CREATE INDEX records_date ON records (operationDate, id);\n",
        import.display()
    );
    let start = Instant::now();
    run_sqlite(db, &script, None);
    let time = start.elapsed();
    std::fs::remove_file(import).unwrap();
    time
}

fn sqlite_export(db: &Path, out: &Path) -> u64 {
    let query = "SELECT operationDate, customerName, operationType, userPrincipalName, \
                 customerId, resourceType, operationStatus, applicationId, id, customizedData, \
                 resourceOldValue, resourceNewValue FROM records \
                 ORDER BY operationDate DESC, id DESC";
    run_sqlite(db, query, Some(out));
    std::fs::metadata(out).unwrap().len()
}

fn run_sqlite(db: &Path, sql: &str, out: Option<&Path>) {
    let mut command = Command::new("sqlite3");
    command.arg("-csv").arg(db);
    let stdout = match out {
        Some(path) => Stdio::from(File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(stdout)
        .spawn()
        .expect("the sqlite3 shell is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "sqlite3 failed");
}

/// This process's peak resident memory, from /proc/self/status.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Pre-generated records; each row gets its own id and date.
struct Ring {
    records: Vec<AuditRecord>,
    start: OperationDate,
}

impl Ring {
    fn new() -> Ring {
        let mut rng = Lcg(0x5eed);
        Ring {
            records: (0..RING).map(|i| realistic(i, &mut rng)).collect(),
            start: OperationDate::parse_rfc3339("2025-01-01T00:00:00Z").unwrap(),
        }
    }

    /// Row `i` of `rows`, newest first, one record every 3 seconds.
    fn record(&mut self, i: u64, rows: u64) -> &AuditRecord {
        let record = &mut self.records[(i % RING as u64) as usize];
        let ticks = self.start.ticks() + ((rows - i) as i64) * 30_000_000 + (i as i64 % 9_999_999);
        record.operation_date = OperationDate::from_ticks(ticks);
        record.id.clear();
        write!(record.id, "2f1c{i:012x}-8a3e-4c5d-9b7a-{:012x}", i * 7919).unwrap();
        record
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const CUSTOMERS: &[&str] = &[
    "Società Caffè \"Il Moro\", S.r.l.",
    "Contoso Ltd",
    "Fabrikam, Inc.",
    "Pasticceria Dolce Vita S.a.s.",
    "Northwind Traders",
    "Ristorante Da Mario; Filiale Nord",
    "Tailspin Toys GmbH",
    "Wingtip Toys",
    "Adventure Works Cycles",
    "Studio Legale Bianchi & Associati",
];
const USERS: &[&str] = &[
    "anna.rossi@partner.example",
    "luca.bianchi@partner.example",
    "admin@partner.example",
    "helpdesk@partner.example",
];
const OFFERS: &[&str] = &[
    "Microsoft 365 Business Basic",
    "Microsoft 365 E3",
    "Azure plan",
    "Dynamics 365 Sales Professional",
    "Exchange Online (Plan 1)",
];

fn guid(rng: &mut Lcg) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        rng.next(1 << 30),
        rng.next(1 << 16),
        rng.next(1 << 12),
        rng.next(1 << 12),
        rng.next(1 << 30)
    )
}

fn realistic(i: usize, rng: &mut Lcg) -> AuditRecord {
    let operations = OPERATIONS.entries();
    let operation = operations[1 + rng.next(operations.len() - 1)].code;
    let offer = OFFERS[rng.next(OFFERS.len())];
    let quantity = 1 + rng.next(250);
    let kv = |key: &str, value: String| KeyValue {
        key: key.to_owned(),
        value: Some(value),
    };
    AuditRecord {
        id: String::new(),
        partner_id: "4b2e8f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b".to_owned(),
        customer_id: Some(guid(rng)),
        customer_name: Some(CUSTOMERS[i % CUSTOMERS.len()].to_owned()),
        user_principal_name: Some(USERS[rng.next(USERS.len())].to_owned()),
        application_id: Some(guid(rng)),
        resource_type: Some("order".to_owned()),
        resource_old_value: None,
        resource_new_value: Some(format!(
            r#"{{"id":"{}","lineItems":[{{"offerId":"CFQ7TTC0LH18:0001","friendlyName":"{offer}","quantity":{quantity}}}],"status":"completed"}}"#,
            guid(rng)
        )),
        operation_type: operation.to_owned(),
        operation_date: OperationDate::from_ticks(0),
        operation_status: Some(
            if rng.next(20) == 0 {
                "failed"
            } else {
                "succeeded"
            }
            .to_owned(),
        ),
        customized_data: Some(vec![
            kv("OfferName", offer.to_owned()),
            kv("Quantity", quantity.to_string()),
            kv("BillingCycle", "monthly".to_owned()),
            kv("SubscriptionId", guid(rng)),
        ]),
        session_id: None,
        original_correlation_id: Some(guid(rng)),
        attributes: Default::default(),
        extensions: Default::default(),
    }
}
