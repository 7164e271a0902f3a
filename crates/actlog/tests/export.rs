//! `actlog export` as people and scripts use it: the records of a period and filter, in each
//! format and language, written whole or not at all, with usage errors told apart.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jiff::{SignedDuration, Timestamp, Unit};
use serde_json::{Value, json};

use actlog_domain::catalog::Lang;
use actlog_domain::time::OperationDate;
use common::{BIN, Backend, TestDb, actlog, all_records, text};

const CUSTOMERS: [&str; 4] = [
    "Società Caffè \"Il Moro\", S.r.l.",
    "Relecloud",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "Contoso; Ltd\r\nsecond line",
];
const OPERATIONS: [(&str, &str); 4] = [
    ("create_order", "order"),
    ("update_subscription", "subscription"),
    ("add_customer", "customer"),
    ("reset_customer_user_password", "customer_user"),
];

/// A database holding partner `p1`'s records, imported through the command line.
struct Fixture {
    /// Where exports are written.
    dir: tempfile::TempDir,
    db: TestDb,
    records: Vec<Value>,
}

impl Fixture {
    /// `count` records, one every 95 minutes from 2026-02-28T00:00Z (to 2026-03-03 for 48).
    fn new(count: usize) -> Fixture {
        let start: Timestamp = "2026-02-28T00:00:00Z".parse().unwrap();
        let records = (0..count)
            .map(|i| {
                let at = start + SignedDuration::from_mins(95 * i as i64);
                sample(i, &at.to_string())
            })
            .collect();
        Self::with(records)
    }

    fn with(records: Vec<Value>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("records.ndjson");
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        let db = TestDb::new();
        let out = actlog(&[
            "import",
            file.to_str().unwrap(),
            "--partner",
            "p1",
            "--database",
            db.url(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        Fixture { dir, db, records }
    }

    /// `actlog export --database … ARGS`.
    fn export(&self, args: &[&str]) -> Output {
        let mut all = vec!["export", "--database", self.db.url()];
        all.extend_from_slice(args);
        actlog(&all)
    }

    /// The ids of the records in `[from, to)` accepted by `keep`, newest first.
    fn expected(&self, from: &str, to: &str, keep: impl Fn(&Value) -> bool) -> Vec<String> {
        let (from, to) = (instant(from), instant(to));
        let mut chosen: Vec<&Value> = self
            .records
            .iter()
            .filter(|r| (from..to).contains(&instant(r["operationDate"].as_str().unwrap())))
            .filter(|r| keep(r))
            .collect();
        chosen.sort_by_key(|r| std::cmp::Reverse(instant(r["operationDate"].as_str().unwrap())));
        chosen
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn api_records(&self) -> Vec<Value> {
        all_records(&self.db, "p1").await
    }
}

fn sample(i: usize, date: &str) -> Value {
    let (operation, resource) = OPERATIONS[i % OPERATIONS.len()];
    json!({
        "id": format!("r{i:03}"),
        "customerId": format!("cust-{}", i % CUSTOMERS.len()),
        "customerName": CUSTOMERS[i % CUSTOMERS.len()],
        "userPrincipalName": "agent@partner.example",
        "resourceType": resource,
        "operationType": operation,
        "operationStatus": "succeeded",
        "operationDate": date,
        "resourceNewValue": format!("{{\"Quantity\":{i},\"Note\":\"{}\"}}", "x".repeat(400)),
        "customizedData": [{"key": "Index", "value": i.to_string()}],
    })
}

fn instant(text: &str) -> OperationDate {
    OperationDate::parse_rfc3339(text).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The rows of a CSV export: checks the byte-order mark and CRLF line ends on the way.
fn csv_rows(bytes: &[u8], separator: u8) -> Vec<Vec<String>> {
    let body = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a byte-order mark");
    let header_end = body.windows(2).position(|w| w == b"\r\n").expect("CRLF");
    assert!(
        !body[..header_end].contains(&b'\n'),
        "the header ends with CRLF"
    );
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(separator)
        .from_reader(body)
        .records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column(rows: &[Vec<String>], index: usize) -> Vec<String> {
    rows[1..].iter().map(|row| row[index].clone()).collect()
}

const RECORD_ID: usize = 10;

#[test]
fn a_csv_export_holds_the_period_newest_first_with_every_column_excel_safe() {
    let fx = Fixture::new(48);
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-01",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rows = csv_rows(&out.stdout, b',');
    assert_eq!(rows[0], actlog_export::headers(Lang::En, "UTC"));
    let ids = fx.expected("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", |_| true);
    assert_eq!(ids.len(), 15, "the bare --to day is included whole");
    assert_eq!(column(&rows, RECORD_ID), ids);
    for row in &rows[1..] {
        let record = &fx.records[row[RECORD_ID][1..].parse::<usize>().unwrap()];
        let date = instant(record["operationDate"].as_str().unwrap());
        assert_eq!(row[4], date.to_string(), "the exact UTC instant");
        assert_eq!(
            row[0],
            date.to_string()[..19].replace('T', " "),
            "local = UTC"
        );
        assert_eq!(row[5], record["customerId"].as_str().unwrap());
        assert_eq!(row[6], record["operationType"].as_str().unwrap());
        let name = record["customerName"].as_str().unwrap();
        if name.starts_with('=') {
            assert_eq!(row[1], format!("'{name}"), "a formula is neutralized");
        } else {
            assert_eq!(row[1], name);
        }
    }
    assert!(
        stderr(&out).contains("Exported 15 records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "no progress when piped");
}

#[test]
fn the_filter_and_exact_instants_are_honoured() {
    let fx = Fixture::new(48);
    let filter = r#"{"Field":"CompanyName","Value":"CAFFÈ","Operator":"substring"}"#;
    let (from, to) = ("2026-02-28T06:00:00Z", "2026-03-02T18:30:00Z");
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        from,
        "--to",
        to,
        "--filter",
        filter,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let ids = fx.expected(from, to, |r| r["customerName"] == CUSTOMERS[0]);
    assert!(ids.len() >= 5, "{ids:?}");
    assert_eq!(column(&csv_rows(&out.stdout, b','), RECORD_ID), ids);

    // The .NET form Partner Center clients send reads as the same instant.
    let dotnet = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "3/1/2026 12:00:00 AM",
        "--to",
        "3/1/2026 6:00:00 AM",
    ]);
    let ids = fx.expected("2026-03-01T00:00:00Z", "2026-03-01T06:00:00Z", |_| true);
    assert_eq!(column(&csv_rows(&dotnet.stdout, b','), RECORD_ID), ids);
}

#[test]
fn without_dates_the_most_recent_month_is_exported() {
    let now = Timestamp::now().round(Unit::Second).unwrap();
    let day = SignedDuration::from_hours(24);
    let fx = Fixture::with(vec![
        sample(0, &(now - day).to_string()),
        sample(1, &(now - day * 29).to_string()),
        sample(2, &(now - day * 31).to_string()),
    ]);
    let out = fx.export(&["--partner", "p1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        column(&csv_rows(&out.stdout, b','), RECORD_ID),
        ["r000", "r001"]
    );
}

#[test]
fn italian_gives_semicolons_italian_headers_labels_and_local_days_and_times() {
    let fx = Fixture::new(20);
    let dir = fx.path("exports");
    std::fs::create_dir(&dir).unwrap();
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-02-28",
        "--to",
        "2026-02-28",
        "--lang",
        "it-IT",
        "--tz",
        "Europe/Rome",
        "--output",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let file = dir.join("activity-log_2026-02-28_2026-02-28.csv");
    let rows = csv_rows(&std::fs::read(&file).unwrap(), b';');
    assert_eq!(rows[0], actlog_export::headers(Lang::It, "Europe/Rome"));
    assert_eq!(rows[0][0], "Data-ora (Europe/Rome)");
    // The bare days are days in Rome, UTC+1 in winter.
    let ids = fx.expected("2026-02-27T23:00:00Z", "2026-02-28T23:00:00Z", |_| true);
    assert_eq!(column(&rows, RECORD_ID), ids);
    let first = rows.iter().find(|r| r[RECORD_ID] == "r000").unwrap();
    assert_eq!(first[0], "2026-02-28 01:00:00");
    assert_eq!(first[4], "2026-02-28T00:00:00.0000000Z");
    assert_eq!(first[2], "Ha creato un ordine");

    let tabs = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-02-28",
        "--lang",
        "it",
        "--separator",
        "tab",
    ]);
    assert_eq!(
        csv_rows(&tabs.stdout, b'\t')[0],
        actlog_export::headers(Lang::It, "UTC")
    );
}

#[tokio::test]
async fn ndjson_is_the_records_as_the_api_returns_them() {
    let fx = Fixture::new(48);
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-03-01",
        "--format",
        "ndjson",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let from = instant("2026-03-01T00:00:00Z");
    let api: Vec<Value> = fx
        .api_records()
        .await
        .into_iter()
        .filter(|r| instant(r["operationDate"].as_str().unwrap()) >= from)
        .collect();
    assert_eq!(api.len(), 48 - 16);
    assert_eq!(lines, api);
}

#[test]
fn xlsx_goes_to_a_named_file_with_one_row_per_record() {
    let fx = Fixture::new(48);
    let file = fx.path("log.xlsx");
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-02",
        "--format",
        "xlsx",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout.is_empty());
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&file).unwrap()).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    // Column K holds the record id, as an inline string.
    let ids: Vec<&str> = sheet
        .split("<c r=\"K")
        .skip(2)
        .map(|cell| {
            cell.split("<t>")
                .nth(1)
                .unwrap()
                .split("</t>")
                .next()
                .unwrap()
        })
        .collect();
    let expected = fx.expected("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z", |_| true);
    assert_eq!(ids, expected);
    assert_eq!(sheet.matches("<row ").count(), 1 + expected.len());
    assert!(
        leftovers(fx.dir.path()).is_empty(),
        "{:?}",
        leftovers(fx.dir.path())
    );
}

#[test]
fn a_directory_as_output_gets_the_exports_own_name() {
    let fx = Fixture::new(48);
    let dir = fx.path("exports");
    std::fs::create_dir(&dir).unwrap();
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-02-28",
        "--to",
        "2026-03-01",
        "--output",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let file = dir.join("activity-log_2026-02-28_2026-03-01.csv");
    let rows = csv_rows(&std::fs::read(&file).unwrap(), b',');
    assert_eq!(rows.len(), 1 + 31);
    assert!(
        stderr(&out).contains(file.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file is left"
    );
}

/// Hidden temporary files (`.NAME.XXXXXX.partial`) left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect()
}

/// `actlog ARGS` with files limited to `blocks` of the shell's `ulimit -f`: writing past that
/// fails with EFBIG (SIGXFSZ is ignored, as it is inherited through `exec`).
fn actlog_with_file_limit(blocks: u32, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\""
        ))
        .arg(BIN)
        .args(args)
        .env("ACTLOG_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_failure_midway_leaves_no_file_and_an_existing_file_untouched() {
    let fx = Fixture::new(400);
    let all = [
        "--partner",
        "p1",
        "--from",
        "2026-01-01",
        "--database",
        fx.db.url(),
    ];
    let fresh = fx.path("fresh.csv");
    let existing = fx.path("existing.csv");
    std::fs::write(&existing, "the previous export\r\n").unwrap();
    for target in [&fresh, &existing] {
        let mut args = vec!["export", "--output", target.to_str().unwrap()];
        args.extend_from_slice(&all);
        // 100 blocks of 512 bytes (dash) or 1 KiB (bash): far less than 400 records.
        let out = actlog_with_file_limit(100, &args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let message = stderr(&out);
        assert!(
            message.contains("File too large"),
            "failed while writing: {message}"
        );
        assert!(message.contains("nothing was written to"), "{message}");
    }
    assert!(!fresh.exists(), "no partial file");
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "the previous export\r\n"
    );
    assert!(
        leftovers(fx.dir.path()).is_empty(),
        "{:?}",
        leftovers(fx.dir.path())
    );

    // The same export without the limit replaces the file, whole.
    let mut args = vec!["export", "--output", existing.to_str().unwrap()];
    args.extend_from_slice(&all);
    let out = actlog(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        csv_rows(&std::fs::read(&existing).unwrap(), b',').len(),
        1 + 400
    );
}

#[test]
fn bad_input_is_a_usage_error_that_creates_nothing() {
    let fx = Fixture::new(4);
    let existing = fx.path("existing.csv");
    std::fs::write(&existing, "kept").unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["--from", "yesterday"], "is not a date"),
        (
            &["--from", "2026-03-02", "--to", "2026-03-01"],
            "--to 2026-03-01 is not after --from 2026-03-02",
        ),
        (&["--to", "2/30/2026"], "is not a date"),
        (&["--filter", "{\"Field\":"], "not valid JSON"),
        (
            &[
                "--filter",
                r#"{"Field":"Colour","Value":"red","Operator":"equals"}"#,
            ],
            "Colour",
        ),
        (&["--tz", "Mars/Olympus_Mons"], "is not an IANA time zone"),
        (&["--separator", "|"], "is not a CSV separator"),
        (&["--format", "xls"], "is not an export format"),
        (&["--lang", "fr-FR"], "use en-US or it-IT"),
    ];
    for (bad, message) in cases {
        for output in [fx.path("new.csv"), existing.clone()] {
            let mut args = vec!["--partner", "p1", "--output", output.to_str().unwrap()];
            args.extend_from_slice(bad);
            let out = fx.export(&args);
            assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
            assert!(stderr(&out).contains(message), "{bad:?}: {}", stderr(&out));
        }
    }
    assert!(!fx.path("new.csv").exists());
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "kept");

    for (output, message) in [
        ("/no/such/dir/x.csv", "/no/such/dir does not exist"),
        (
            "/tmp/no-such-dir-for-actlog/",
            "/tmp/no-such-dir-for-actlog/ does not exist",
        ),
    ] {
        let out = fx.export(&["--partner", "p1", "--output", output]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }

    // Only SQLite would create a database by opening it; PostgreSQL never creates one, so
    // there is nothing to check for it.
    if Backend::from_env() == Backend::Sqlite {
        let missing = fx.path("missing.db");
        let db = format!("sqlite://{}", missing.display());
        let out = actlog(&["export", "--partner", "p1", "--database", &db]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            stderr(&out).contains("there is no database"),
            "{}",
            stderr(&out)
        );
        assert!(!missing.exists(), "no database is created by an export");
    }
}

#[test]
fn an_unknown_partner_gets_the_header_and_zero_records() {
    let fx = Fixture::new(4);
    let out = fx.export(&["--partner", "nobody", "--from", "2026-01-01"]);
    assert!(out.status.success(), "{}", text(&out));
    let rows = csv_rows(&out.stdout, b',');
    assert_eq!(rows, [actlog_export::headers(Lang::En, "UTC").to_vec()]);
    assert!(
        stderr(&out).contains("Exported 0 records"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn cells_cut_for_excel_are_counted_in_the_summary() {
    let mut record = sample(0, "2026-03-01T10:00:00Z");
    record["resourceNewValue"] = json!(format!("{{\"Note\":\"{}\"}}", "y".repeat(40_000)));
    let fx = Fixture::with(vec![record]);
    let out = fx.export(&["--partner", "p1", "--from", "2026-03-01"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains("1 cell(s) were longer than Excel's 32,767"),
        "{}",
        stderr(&out)
    );
    let whole = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-03-01",
        "--format",
        "ndjson",
    ]);
    assert!(!stderr(&whole).contains("cut"), "{}", stderr(&whole));
}

#[test]
fn ctrl_c_during_an_export_leaves_no_file() {
    let fx = Fixture::new(50_000);
    let target = fx.path("big.csv");
    let child = Command::new(BIN)
        .args(["export", "--partner", "p1", "--from", "2026-01-01"])
        .args([
            "--database",
            fx.db.url(),
            "--output",
            target.to_str().unwrap(),
        ])
        .env("ACTLOG_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the temporary file holds data, the export is running and listening for Ctrl-C.
    let started = std::time::Instant::now();
    while !std::fs::read_dir(fx.dir.path()).unwrap().any(|e| {
        let e = e.unwrap();
        e.file_name().to_string_lossy().ends_with(".partial") && e.metadata().unwrap().len() > 0
    }) {
        assert!(started.elapsed().as_secs() < 30, "the export never started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    let kill = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert!(!target.exists());
    assert!(
        leftovers(fx.dir.path()).is_empty(),
        "{:?}",
        leftovers(fx.dir.path())
    );
}

#[test]
fn a_device_is_written_into_and_a_link_keeps_pointing_at_its_file() {
    use std::os::unix::fs::FileTypeExt;
    let fx = Fixture::new(8);
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-02-28",
        "--output",
        "/dev/null",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(
        null.file_type().is_char_device(),
        "/dev/null was not replaced"
    );

    let real = fx.path("real.csv");
    std::fs::write(&real, "old").unwrap();
    let link = fx.path("link.csv");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = fx.export(&[
        "--partner",
        "p1",
        "--from",
        "2026-02-28",
        "--output",
        link.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(csv_rows(&std::fs::read(&real).unwrap(), b',').len(), 1 + 8);
}
