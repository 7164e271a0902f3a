//! `GET /v1/exports/auditrecords`: the period and filter as a download, in every format, for
//! the callers allowed to read and no one else.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use actlog_domain::roles::Role;
use actlog_domain::time::OperationDate;
use actlog_export::Format;

use crate::support::{Reply, TestApp, enc, record, text};

const CUSTOMERS: [&str; 3] = [
    "Società Caffè \"Il Moro\", S.r.l.",
    "Brillo; S.p.A.\nsede",
    "Relecloud",
];

/// Posts 30 records, one every 13 hours back from 2026-11-24T11:00Z, and one from September.
async fn seed(app: &TestApp, key: &str) -> Vec<Value> {
    let start: jiff::Timestamp = "2026-11-24T11:00:00Z".parse().unwrap();
    let mut records: Vec<Value> = (0..30)
        .map(|i| {
            let at = start - jiff::SignedDuration::from_hours(13 * i);
            let mut r = record(
                &format!("r{i:02}"),
                &at.to_string(),
                CUSTOMERS[i as usize % 3],
            );
            r["resourceType"] = json!(["order", "subscription", "customer_user"][i as usize % 3]);
            r["customerId"] = json!(format!("cust-{}", i % 3));
            r
        })
        .collect();
    records.push(record("old", "2026-09-01T08:00:00Z", "Relecloud"));
    let reply = app
        .post(key, Value::Array(records.clone()).to_string())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    records
}

/// The ids of `records` in `[from, to)` accepted by `keep`, newest first.
fn expected(records: &[Value], from: &str, to: &str, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let at =
        |r: &Value| OperationDate::parse_rfc3339(r["operationDate"].as_str().unwrap()).unwrap();
    let window =
        OperationDate::parse_rfc3339(from).unwrap()..OperationDate::parse_rfc3339(to).unwrap();
    let mut chosen: Vec<&Value> = records
        .iter()
        .filter(|r| window.contains(&at(r)) && keep(r))
        .collect();
    chosen.sort_by_key(|r| std::cmp::Reverse(at(r)));
    chosen
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The rows of a CSV download, after checking its byte-order mark (RFC 4180: quoted fields
/// may hold the separator, quotes and line breaks; rows end with CRLF).
fn csv_rows(reply: &Reply, separator: char) -> Vec<Vec<String>> {
    let body = text(reply);
    let body = body.strip_prefix('\u{feff}').expect("a byte-order mark");
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = body.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, c) if c == separator => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("a bare LF ends a row: {body:?}"),
            (_, c) => field.push(c),
        }
    }
    assert!(
        row.is_empty() && field.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

const RECORD_ID: usize = 10;

fn ids(rows: &[Vec<String>]) -> Vec<String> {
    rows[1..].iter().map(|row| row[RECORD_ID].clone()).collect()
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.headers.get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_csv_export_is_the_filtered_window_newest_first_as_an_attachment() {
    let app = TestApp::new().await;
    let writer = app.key("p1", "write").await;
    let records = seed(&app, &writer).await;
    let key = app.key("p1", "read").await;
    let filter = enc(r#"{"Field":"CompanyName","Value":"CAFFÈ","Operator":"substring"}"#);
    let reply = app
        .get(
            &format!(
                "/v1/auditrecords/export?startDate=2026-11-12&endDate=2026-11-20&filter={filter}"
            ),
            &key,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(header(&reply, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header(&reply, "content-disposition"),
        "attachment; filename=\"activity-log_2026-11-12_2026-11-20.csv\""
    );
    let rows = csv_rows(&reply, ',');
    assert_eq!(
        rows[0],
        actlog_export::headers(actlog_domain::catalog::Lang::En, "UTC")
    );
    let want = expected(
        &records,
        "2026-11-12T00:00:00Z",
        "2026-11-21T00:00:00Z",
        |r| r["customerName"] == CUSTOMERS[0],
    );
    assert!(want.len() >= 5, "{want:?}");
    assert_eq!(ids(&rows), want);
    assert!(rows[1..].iter().all(|row| row[1] == CUSTOMERS[0]));
    assert_eq!(header(&reply, "x-actlog-rows"), want.len().to_string());
    assert_eq!(header(&reply, "x-actlog-exceeds-excel"), "false");

    // Unfiltered, the same window holds every customer, names with `;` and line breaks intact.
    let all = app
        .get(
            "/v1/auditrecords/export?startDate=2026-11-12&endDate=2026-11-20&format=csv",
            &key,
        )
        .await;
    let rows = csv_rows(&all, ',');
    assert_eq!(
        ids(&rows),
        expected(
            &records,
            "2026-11-12T00:00:00Z",
            "2026-11-21T00:00:00Z",
            |_| true
        )
    );
    assert!(rows.iter().any(|row| row[1] == CUSTOMERS[1]));
}

#[tokio::test]
async fn without_parameters_the_last_thirty_days_are_exported_as_csv() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let records = seed(&app, &key).await;
    let reply = app.get("/v1/exports/auditrecords", &key).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    // The clock stands at 2026-11-25T12:00Z.
    assert_eq!(
        header(&reply, "content-disposition"),
        "attachment; filename=\"activity-log_2026-10-26_2026-11-25.csv\""
    );
    let want = expected(
        &records,
        "2026-10-26T12:00:00Z",
        "2026-11-25T12:00:00Z",
        |_| true,
    );
    assert_eq!(ids(&csv_rows(&reply, ',')), want);
    assert!(!want.contains(&"old".to_owned()));
}

#[tokio::test]
async fn italian_and_a_time_zone_give_semicolons_italian_headers_and_local_times() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    seed(&app, &key).await;
    let reply = app
        .get(
            "/v1/auditrecords/export?startDate=2026-11-24&lang=it-IT&tz=Europe%2FRome",
            &key,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let rows = csv_rows(&reply, ';');
    assert_eq!(rows[0][0], "Data-ora (Europe/Rome)");
    assert_eq!(rows[0][1], "Cliente interessato");
    let newest = &rows[1];
    assert_eq!(newest[RECORD_ID], "r00");
    assert_eq!(
        newest[0], "2026-11-24 12:00:00",
        "11:00Z is noon in Rome in November"
    );
    assert_eq!(newest[4], "2026-11-24T11:00:00.0000000Z");
    assert_eq!(newest[2], "Ha creato un ordine");

    let tabs = app
        .get(
            "/v1/auditrecords/export?startDate=2026-11-24&lang=it&separator=tab",
            &key,
        )
        .await;
    assert_eq!(csv_rows(&tabs, '\t')[0][1], "Cliente interessato");
}

#[tokio::test]
async fn xlsx_and_ndjson_downloads() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let records = seed(&app, &key).await;
    let window = "startDate=2026-11-10&endDate=2026-11-24";

    let xlsx = app
        .get(
            &format!("/v1/auditrecords/export?{window}&format=xlsx"),
            &key,
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK, "{}", text(&xlsx));
    assert_eq!(
        header(&xlsx, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        header(&xlsx, "content-disposition"),
        "attachment; filename=\"activity-log_2026-11-10_2026-11-24.xlsx\""
    );
    assert!(xlsx.raw.starts_with(b"PK\x03\x04"), "a ZIP container");
    let names = String::from_utf8_lossy(&xlsx.raw);
    assert!(names.contains("xl/worksheets/sheet1.xml"));
    let want = expected(
        &records,
        "2026-11-10T00:00:00Z",
        "2026-11-25T00:00:00Z",
        |_| true,
    );
    assert_eq!(header(&xlsx, "x-actlog-rows"), want.len().to_string());

    let ndjson = app
        .get(
            &format!("/v1/auditrecords/export?{window}&format=NDJSON"),
            &key,
        )
        .await;
    assert_eq!(ndjson.status, StatusCode::OK, "{}", text(&ndjson));
    assert_eq!(header(&ndjson, "content-type"), "application/x-ndjson");
    assert!(header(&ndjson, "content-disposition").ends_with(".ndjson\""));
    let lines: Vec<Value> = text(&ndjson)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let page = app
        .get(&format!("/v1/auditrecords?{window}&size=5000"), &key)
        .await;
    assert_eq!(
        Value::Array(lines),
        page.body["items"],
        "each line is the record as the API gives it"
    );
    assert_eq!(page.body["items"].as_array().unwrap().len(), want.len());
}

#[tokio::test]
async fn bad_parameters_are_problems_with_stable_codes() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read").await;
    let cases = [
        ("format=xls", "invalid_parameter"),
        ("tz=Mars%2FOlympus", "invalid_parameter"),
        ("separator=%7C", "invalid_parameter"),
        ("lang=fr-FR", "invalid_parameter"),
        ("size=10", "invalid_parameter"),
        ("startDate=yesterday", "invalid_date"),
        ("endDate=2%2F30%2F2026", "invalid_date"),
        ("startDate=2026-11-20&endDate=2026-11-10", "invalid_period"),
        ("filter=%7B", "invalid_filter"),
        (
            "filter=%7B%22Field%22%3A%22Colour%22%2C%22Value%22%3A%22x%22%7D",
            "invalid_filter",
        ),
        ("format=csv&format=xlsx", "invalid_parameter"),
    ];
    for (query, code) in cases {
        let reply = app
            .get(&format!("/v1/auditrecords/export?{query}"), &key)
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            text(&reply)
        );
        assert_eq!(
            header(&reply, "content-type"),
            "application/problem+json",
            "{query}"
        );
        assert!(
            header(&reply, "content-disposition").is_empty(),
            "{query}: no download"
        );
        assert!(
            !reply.body["detail"].as_str().unwrap().is_empty(),
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_key_must_be_given_and_hold_the_read_scope() {
    let app = TestApp::new().await;
    let writer = app.key("p1", "write").await;
    seed(&app, &writer).await;
    let anonymous = app
        .request(
            Method::GET,
            "/v1/exports/auditrecords",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let write_only = app
        .get("/v1/auditrecords/export?startDate=2026-11-01", &writer)
        .await;
    assert_eq!(
        (write_only.status, write_only.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert!(!text(&write_only).contains("Relecloud"));
}

#[tokio::test]
async fn a_partner_never_exports_another_partners_records() {
    let app = TestApp::new().await;
    let a = app.key("partner-a", "read,write").await;
    let b = app.key("partner-b", "read,write").await;
    let batch: Vec<Value> = (0..5)
        .map(|i| record(&format!("a{i}"), "2026-11-20T10:00:00Z", "Secret Customer"))
        .collect();
    app.post(&a, Value::Array(batch).to_string()).await;
    app.post(
        &b,
        json!([record("b1", "2026-11-20T10:00:00Z", "B's own")]).to_string(),
    )
    .await;
    for format in ["csv", "xlsx", "ndjson"] {
        let reply = app
            .get(
                &format!("/v1/auditrecords/export?startDate=2026-11-01&format={format}"),
                &b,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{format}");
        assert_eq!(header(&reply, "x-actlog-rows"), "1", "{format}");
        assert!(!reply.raw.windows(6).any(|w| w == b"Secret"), "{format}");
    }
    let filter =
        enc(r#"{"Field":"CustomerId","Value":"cust-Secret Customer","Operator":"equals"}"#);
    let probe = app
        .get(
            &format!("/v1/auditrecords/export?startDate=2026-11-01&filter={filter}"),
            &b,
        )
        .await;
    assert_eq!(csv_rows(&probe, ',').len(), 1, "the header only");
}

#[tokio::test]
async fn signed_in_users_export_when_their_role_allows_it() {
    let app = TestApp::new().await;
    let key = app.key("p1", "write").await;
    let records = seed(&app, &key).await;
    app.user("p1", "agent@p1.example", &[Role::AdminAgent])
        .await;
    app.user("p1", "accounts@p1.example", &[Role::AccountAdmin])
        .await;
    let agent = app.sign_in("agent@p1.example").await;
    let accounts = app.sign_in("accounts@p1.example").await;
    let uri = "/v1/auditrecords/export?startDate=2026-11-20&tz=UTC";

    let allowed = app.browse(Method::GET, uri, &agent, None).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", text(&allowed));
    let want = expected(
        &records,
        "2026-11-20T00:00:00Z",
        "2026-11-25T12:00:00Z",
        |_| true,
    );
    assert_eq!(ids(&csv_rows(&allowed, ',')), want);

    // Without `lang`, the browser's language chooses headers and separator.
    let italian = app
        .request(
            Method::GET,
            uri,
            None,
            &[("cookie", &agent), ("accept-language", "it-IT,it;q=0.9")],
            Body::empty(),
        )
        .await;
    assert_eq!(csv_rows(&italian, ';')[0][1], "Cliente interessato");

    let denied = app.browse(Method::GET, uri, &accounts, None).await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert!(!text(&denied).contains("Relecloud"));
}

#[tokio::test]
async fn the_openapi_document_describes_the_export_as_implemented() {
    let app = TestApp::new().await;
    let doc = app
        .request(Method::GET, "/v1/openapi.json", None, &[], Body::empty())
        .await
        .body;
    let export = &doc["paths"]["/v1/exports/auditrecords"]["get"];
    let documented: Vec<&str> = export["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(documented, actlog_server::export::EXPORT_PARAMS);
    let ok = &export["responses"]["200"];
    for format in [Format::Csv, Format::Xlsx, Format::Ndjson] {
        let media = actlog_export::content_type(format);
        assert!(ok["content"][media].is_object(), "{media} undocumented");
    }
    for name in [
        "Content-Disposition",
        "x-actlog-rows",
        "x-actlog-exceeds-excel",
    ] {
        assert!(ok["headers"][name].is_object(), "{name} undocumented");
    }
    for status in ["400", "401", "403"] {
        assert!(
            export["responses"][status].is_object(),
            "{status} undocumented"
        );
    }
}

#[tokio::test]
async fn bare_days_are_days_in_the_exports_time_zone() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let records = json!([
        // 00:30 on 1 January in Rome, still 2016 in UTC.
        record("new-year-rome", "2016-12-31T23:30:00Z", "Relecloud"),
        // 23:30 on 31 December in UTC, already 2018 in Rome.
        record("new-year-utc", "2017-12-31T23:30:00Z", "Relecloud"),
    ]);
    assert_eq!(
        app.post(&key, records.to_string()).await.status,
        StatusCode::CREATED
    );
    let year = "/v1/auditrecords/export?startDate=2017-01-01&endDate=2017-12-31";
    let utc = app.get(year, &key).await;
    assert_eq!(ids(&csv_rows(&utc, ',')), ["new-year-utc"]);
    let rome = app.get(&format!("{year}&tz=Europe%2FRome"), &key).await;
    assert_eq!(ids(&csv_rows(&rome, ',')), ["new-year-rome"]);
    assert_eq!(
        rome.headers["content-disposition"],
        "attachment; filename=\"activity-log_2017-01-01_2017-12-31.csv\""
    );
}
