//! Partner Center's clients as they really call the API (`reference/partner-center/clients.md`):
//! each walks a window of a few thousand records over a few months and must get every record
//! of it exactly once. Then the errors and headers those clients rely on.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use actlog_domain::time::OperationDate;

use crate::support::{PASSWORD, Reply, TestApp, record};

/// The customers the records are spread over: one with every character a query escapes, and
/// two that a `+` read the wrong way confuses.
const CUSTOMERS: [&str; 6] = [
    "Società Caffè \"Il Moro\", S.r.l.",
    "Brillo S.p.A.",
    "Relecloud",
    "A+B Consulting",
    "A B Partners",
    "Contoso Ltd.",
];

/// How many records, and how far apart: 3,000 records over the 100 days before the test's now
/// (2026-11-25T12:00:00Z), every eighth one at the same instant as the one before it.
const RECORDS: i64 = 3_000;
const SPACING_SECONDS: i64 = 3_300;

/// The records of a test: their dates and customers by id.
struct Log {
    records: BTreeMap<String, (OperationDate, &'static str)>,
}

impl Log {
    /// The ids of the records dated in `[start, end)` whose customer `keep` accepts, sorted.
    fn expected(&self, start: &str, end: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let (start, end) = (at(start), at(end));
        self.records
            .iter()
            .filter(|(_, (date, customer))| *date >= start && *date < end && keep(customer))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn date(&self, id: &str) -> OperationDate {
        self.records[id].0
    }
}

fn at(text: &str) -> OperationDate {
    OperationDate::parse_rfc3339(text).unwrap()
}

/// Stores the records of [`Log`] for `key`'s partner, in batches of 1,000.
async fn ingest(app: &TestApp, key: &str) -> Log {
    let now = jiff::Timestamp::from_second(1_795_608_000).unwrap(); // 2026-11-25T12:00:00Z
    let mut records = BTreeMap::new();
    let mut batch = Vec::new();
    for i in 0..RECORDS {
        let step = i - i / 8; // every eighth record shares the previous one's instant
        let fraction = jiff::SignedDuration::from_nanos((step % 7) * 123_456_700);
        let date = now - jiff::SignedDuration::from_secs(1 + step * SPACING_SECONDS) + fraction;
        let customer = CUSTOMERS[i as usize % CUSTOMERS.len()];
        let id = format!("pc-{i:05}");
        let mut r = record(&id, &date.to_string(), customer);
        r["resourceType"] = json!(["order", "subscription", "customer_user"][i as usize % 3]);
        batch.push(r);
        let stored = OperationDate::from_timestamp(date).unwrap();
        records.insert(id, (stored, customer));
        if batch.len() == 1_000 {
            let body = Value::Array(std::mem::take(&mut batch)).to_string();
            let reply = app.post(key, body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
    }
    Log { records }
}

/// Headers the official .NET SDK sends with every request.
const SDK_HEADERS: [(&str, &str); 5] = [
    ("accept", "application/json"),
    ("x-locale", "en-US"),
    ("ms-partnercenter-client", "Partner Center .NET SDK"),
    ("ms-sdkversion", "3.4.0"),
    ("ms-correlationid", "de9c2ccc-40dd-4186-9660-65b9b64c3d14"),
];

/// The request a client makes for the next page: a path and extra headers.
type NextRequest = (String, Vec<(String, String)>);

/// The official .NET SDK: `links.next.uri` with `/v1` prepended when it lacks it, and every
/// `links.next.headers` entry copied onto the request.
fn official_sdk(page: &Value) -> Option<NextRequest> {
    let next = page["links"].get("next")?;
    let uri = next["uri"].as_str().unwrap();
    let uri = if uri.starts_with("/v1") {
        uri.to_owned()
    } else {
        format!("/v1{uri}")
    };
    Some((uri, link_headers(next)))
}

/// The community .NET SDK behind PowerShell 3.x: `"/v1/" + links.next.uri`, headers copied.
fn community_sdk(page: &Value) -> Option<NextRequest> {
    let next = page["links"].get("next")?;
    let uri = format!("/v1/{}", next["uri"].as_str().unwrap());
    Some((uri, link_headers(next)))
}

fn link_headers(link: &Value) -> Vec<(String, String)> {
    link["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let key = h["key"].as_str().unwrap().to_owned();
            (key, h["value"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Walks from `first` the way `follow` pages; returns every id, in the order received, and
/// checks that each page is newest first and no later than the one before.
async fn walk(
    app: &TestApp,
    key: &str,
    first: &str,
    follow: fn(&Value) -> Option<NextRequest>,
    log: &Log,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut request: NextRequest = (first.to_owned(), Vec::new());
    for page in 0.. {
        assert!(page < 100, "a walk from {first} that does not end");
        let (uri, extra) = &request;
        let mut headers: Vec<(&str, &str)> = SDK_HEADERS.to_vec();
        headers.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let reply = app
            .request(Method::GET, uri, Some(key), &headers, Body::empty())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "page {page}, {uri}: {}",
            reply.body
        );
        for item in reply.body["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap().to_owned();
            if let Some(previous) = ids.last() {
                assert!(
                    log.date(previous) >= log.date(&id),
                    "{previous} before {id}"
                );
            }
            ids.push(id);
        }
        match follow(&reply.body) {
            Some(next) => request = next,
            None => break,
        }
    }
    ids
}

/// Every record of the window exactly once: nothing missing, nothing twice.
fn assert_each_once(mut got: Vec<String>, expected: &[String], what: &str) {
    let received = got.len();
    got.sort();
    got.dedup();
    assert_eq!(
        received,
        got.len(),
        "{what}: some records came more than once"
    );
    assert_eq!(got.len(), expected.len(), "{what}: wrong number of records");
    assert!(got == expected, "{what}: not the window's records");
}

/// Escapes `text` as `System.Uri` leaves a query value: spaces, quotes, braces, backslashes
/// and non-ASCII escaped; `:`, `,`, `/`, `+` and the rest raw.
fn system_uri(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' | b'"' | b'{' | b'}' | b'\\' | b'|' | b'^' | b'`' | b'<' | b'>' => {
                format!("%{b:02X}")
            }
            0x21..=0x7E => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// .NET's `WebUtility.UrlEncode`: everything but letters, digits and `-_.!*()` escaped, a
/// space as `+`.
fn web_utility_url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'*' => {
                (b as char).to_string()
            }
            b'(' | b')' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_official_sdk_following_links_next_gets_each_record_once() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let log = ingest(&app, &key).await;
    // `DateTime.ToString(InvariantCulture)`, as the SDK writes it, over more than 30 days.
    let query = system_uri("startDate=08/20/2026 00:00:00&endDate=11/25/2026 12:00:00&size=300");
    let first = app.get(&format!("/v1/auditrecords?{query}"), &key).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let token = first.body["continuationToken"].as_str().unwrap();
    assert_eq!(
        first.body["links"],
        json!({
            "self": { "uri": format!("/auditrecords?{query}"), "method": "GET", "headers": [] },
            "next": {
                "uri": format!("/auditrecords?{query}&seekOperation=Next"),
                "method": "GET",
                "headers": [{ "key": "MS-ContinuationToken", "value": token }],
            },
        }),
        "links in Partner Center's form"
    );
    let got = walk(
        &app,
        &key,
        &format!("/v1/auditrecords?{query}"),
        official_sdk,
        &log,
    )
    .await;
    let expected = log.expected("2026-08-20T00:00:00Z", "2026-11-25T12:00:00Z", |_| true);
    assert!(expected.len() > 2_500, "{}", expected.len());
    assert_each_once(got, &expected, "official SDK");
}

/// The community SDK joined `"/v1/"` and a uri that starts with `/`, and got 404 on its
/// second page.
#[tokio::test]
async fn the_community_sdks_doubled_slash_reaches_every_page() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let log = ingest(&app, &key).await;
    // Its filter goes through `WebUtility.UrlEncode` (a space as `+`), its dates raw.
    let filter = r#"{"Field":"CompanyName","Value":"caffè \"il moro\"","Operator":"substring"}"#;
    let query = format!(
        "{}&size=100&filter={}",
        system_uri("startDate=09/01/2026 00:00:00&endDate=11/01/2026 00:00:00"),
        web_utility_url_encode(filter)
    );
    let got = walk(
        &app,
        &key,
        &format!("/v1/auditrecords?{query}"),
        community_sdk,
        &log,
    )
    .await;
    let expected = log.expected("2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z", |c| {
        c.contains("Il Moro")
    });
    assert!(expected.len() > 250, "{}", expected.len());
    assert_each_once(got, &expected, "community SDK");
}

/// `Get-PartnerAuditRecord` splits its period into 30-day chunks and sends only `startDate`
/// for each: with no end to a window, it received the most recent records up to three times.
#[tokio::test]
async fn thirty_day_chunks_sending_only_start_date_get_each_record_once() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let log = ingest(&app, &key).await;
    // StartDate 89 days back, EndDate = now; `ChunkDate(StartDate, endDate, 30)`.
    let chunks = [
        "08/28/2026 09:41:17",
        "09/27/2026 09:41:17",
        "10/27/2026 09:41:17",
    ];
    let mut got = Vec::new();
    for start in chunks {
        let first = format!("/v1/auditrecords?startDate={}", system_uri(start));
        got.extend(walk(&app, &key, &first, community_sdk, &log).await);
    }
    let expected = log.expected("2026-08-28T09:41:17Z", "2026-11-25T12:00:00Z", |_| true);
    assert!(expected.len() > 2_500, "{}", expected.len());
    assert_each_once(got, &expected, "Get-PartnerAuditRecord");
}

/// The official SDK writes `MM/dd/yyyy HH:mm:ss`, 24-hour: 13:05 is not 1:05.
#[tokio::test]
async fn invariant_culture_dates_select_their_window() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let log = ingest(&app, &key).await;
    let query = system_uri("startDate=09/01/2026 13:05:00&endDate=10/15/2026 18:30:00&size=500");
    let got = walk(
        &app,
        &key,
        &format!("/v1/auditrecords?{query}"),
        official_sdk,
        &log,
    )
    .await;
    let expected = log.expected("2026-09-01T13:05:00Z", "2026-10-15T18:30:00Z", |_| true);
    assert_each_once(got, &expected, "invariant dates");

    // `DateTime.MaxValue` as the end, in both .NET forms: no end at all.
    for end in ["12/31/9999 23:59:59", "12/31/9999 11:59:59 PM"] {
        let query = system_uri(&format!("startDate=11/01/2026 00:00:00&endDate={end}"));
        let got = walk(
            &app,
            &key,
            &format!("/v1/auditrecords?{query}&size=200"),
            official_sdk,
            &log,
        )
        .await;
        let expected = log.expected("2026-11-01T00:00:00Z", "2026-11-25T12:00:00Z", |_| true);
        assert_each_once(got, &expected, end);
    }
}

/// The official SDK leaves the filter as System.Uri leaves it: `:` and `,` raw, and a `+` in
/// a value raw too, meaning a plus.
#[tokio::test]
async fn partly_escaped_filters_select_their_records() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let log = ingest(&app, &key).await;
    let window = system_uri("startDate=08/20/2026 00:00:00&endDate=11/25/2026 12:00:00");
    type Keep = fn(&str) -> bool;
    let cases: [(&str, Keep); 2] = [
        (
            r#"{"Field":"CompanyName","Value":"Caffè \"Il Moro\", S.r.l.","Operator":"substring"}"#,
            |c| c.starts_with("Società"),
        ),
        (
            r#"{"Field":"CompanyName","Value":"A+B","Operator":"starts_with"}"#,
            |c| c == "A+B Consulting",
        ),
    ];
    for (filter, keep) in cases {
        let escaped = system_uri(filter);
        assert!(
            escaped.contains(":%22") && escaped.contains(','),
            "{escaped}"
        );
        let first = format!("/v1/auditrecords?{window}&size=200&filter={escaped}");
        let got = walk(&app, &key, &first, official_sdk, &log).await;
        let expected = log.expected("2026-08-20T00:00:00Z", "2026-11-25T12:00:00Z", keep);
        assert!(expected.len() > 400, "{filter}: {}", expected.len());
        assert_each_once(got, &expected, filter);
    }
}

#[tokio::test]
async fn repeated_parameters_must_say_what_the_token_says() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    ingest(&app, &key).await;
    let filter = system_uri(r#"{"Field":"ResourceType","Value":"order","Operator":"equals"}"#);
    let query = format!("startDate=2026-11-01&size=5&filter={filter}");
    let first = app.get(&format!("/v1/auditrecords?{query}"), &key).await;
    let token = first.body["continuationToken"].as_str().unwrap().to_owned();
    let next = |query: String, token: Option<&str>| {
        let app = &app;
        let key = &key;
        let token = token.map(str::to_owned);
        async move {
            let headers: Vec<(&str, &str)> = match &token {
                Some(t) => vec![("MS-ContinuationToken", t.as_str())],
                None => vec![],
            };
            let uri = format!("/v1/auditrecords?{query}");
            app.request(Method::GET, &uri, Some(key), &headers, Body::empty())
                .await
        }
    };

    // The same parameters, in other words and any case: accepted.
    let same = [
        format!("{query}&seekOperation=Next"),
        format!("startDate=11/01/2026 00:00:00&SEEKOPERATION=next&filter={filter}"),
        "seekOperation=Next".to_owned(),
        format!("startDate=2026-11-01T00:00:00Z&seek={token}"),
    ];
    for query in same {
        let reply = next(system_uri(&query), Some(&token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        assert_eq!(reply.body["items"].as_array().unwrap().len(), 5, "{query}");
        assert_ne!(reply.body["items"][0], first.body["items"][0], "{query}");
    }

    // Different ones: refused, saying which.
    let other =
        system_uri(r#"{"Field":"ResourceType","Value":"subscription","Operator":"equals"}"#);
    let differing = [
        (
            "startDate=2026-11-02&seekOperation=Next".to_owned(),
            "startDate",
        ),
        (
            "endDate=2026-11-20&seekOperation=Next".to_owned(),
            "endDate",
        ),
        (format!("filter={other}&seekOperation=Next"), "filter"),
    ];
    for (query, name) in differing {
        let reply = next(query.clone(), Some(&token)).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{query}: {}",
            reply.body
        );
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(name) && detail.contains("continuation token"),
            "{detail}"
        );
    }

    // A continuation without its token, an operation we do not have, two different tokens.
    let refused = [
        (
            "seekOperation=Next".to_owned(),
            None,
            "invalid_continuation_token",
        ),
        (
            "seekOperation=Previous".to_owned(),
            Some(token.as_str()),
            "invalid_parameter",
        ),
        (
            format!("seek={token}x"),
            Some(token.as_str()),
            "invalid_continuation_token",
        ),
    ];
    for (query, token, code) in refused {
        let reply = next(query.clone(), token).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, code),
            "{query}: {}",
            reply.body
        );
    }
}

/// A 400 had no `description`, the member Partner Center SDKs show their users.
#[tokio::test]
async fn every_error_body_carries_description_and_data() {
    let limits = actlog_server::Limits {
        max_batch_records: 3,
        ..Default::default()
    };
    let app = TestApp::with(limits, "2026-11-25T12:00:00Z").await;
    let key = app.key("p1", "read,write").await;
    let reader = app.key("p1", "read").await;
    let writer = app.key("p1", "write").await;
    let one = json!([record("a", "2026-11-20T10:00:00Z", "Alpha")]).to_string();
    assert_eq!(app.post(&key, one).await.status, StatusCode::CREATED);
    let changed = json!([record("a", "2026-11-20T10:00:00Z", "Beta")]).to_string();
    let four: Vec<Value> = (0..4)
        .map(|i| record(&format!("r{i}"), "2026-11-20T10:00:00Z", "A"))
        .collect();
    let (key, reader, writer) = (
        Some(key.as_str()),
        Some(reader.as_str()),
        Some(writer.as_str()),
    );
    let cases = [
        (Method::GET, "/v1/auditrecords", None, String::new(), 401),
        (Method::GET, "/v1/auditrecords", writer, String::new(), 403),
        (
            Method::POST,
            "/v1/auditrecords",
            reader,
            "[]".to_owned(),
            403,
        ),
        (Method::GET, "/v1/nothing", key, String::new(), 404),
        (
            Method::GET,
            "/v1/auditrecords/missing",
            key,
            String::new(),
            404,
        ),
        (
            Method::GET,
            "/auditactivity/v1/auditrecords/missing",
            key,
            String::new(),
            404,
        ),
        (
            Method::GET,
            "/v1/auditrecords/%C3%28",
            key,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/v1/auditrecords?startDate=yesterday",
            key,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/v1/auditrecords?filter=%7Bnot",
            key,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/v1/auditrecords?seek=garbage",
            key,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/v1/auditrecords?colour=red",
            key,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/v1/auditrecords?q=%C3%28",
            key,
            String::new(),
            400,
        ),
        (
            Method::GET,
            "/v1/auditrecords/export?format=xls",
            key,
            String::new(),
            400,
        ),
        (
            Method::POST,
            "/v1/auditrecords",
            key,
            "[{\"operationType\": ".to_owned(),
            400,
        ),
        (Method::POST, "/v1/auditrecords", key, "[1]".to_owned(), 400),
        (Method::POST, "/v1/auditrecords", key, changed, 409),
        (
            Method::POST,
            "/v1/auditrecords",
            key,
            Value::Array(four).to_string(),
            413,
        ),
        (Method::DELETE, "/v1/auditrecords", key, String::new(), 405),
    ];
    for (method, uri, key, body, status) in cases {
        let reply = app.request(method.clone(), uri, key, &[], body).await;
        assert_problem(&reply, status, &format!("{method} {uri}"));
    }
    let xml = [("content-type", "application/xml")];
    let media = app
        .request(Method::POST, "/v1/auditrecords", key, &xml, "<a/>")
        .await;
    assert_problem(&media, 415, "XML");
}

fn assert_problem(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.body);
    assert_eq!(
        reply.headers["content-type"], "application/problem+json",
        "{what}"
    );
    let detail = reply.body["detail"].as_str().unwrap_or("");
    assert!(!detail.is_empty(), "{what}: {}", reply.body);
    assert_eq!(reply.body["description"], detail, "{what}: {}", reply.body);
    assert_eq!(reply.body["data"], json!([]), "{what}: {}", reply.body);
    assert!(!reply.code().is_empty(), "{what}");
}

/// An SDK reads `Retry-After` on a 429 as seconds, and fails with a null reference without it.
fn retry_after_seconds(reply: &Reply) -> u64 {
    let value = reply
        .headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("{} without Retry-After", reply.status));
    value.to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_overloaded_ingest_answers_503_with_retry_after() {
    let limits = actlog_server::Limits {
        max_concurrent_ingest: 0,
        ..Default::default()
    };
    let app = TestApp::with(limits, "2026-11-25T12:00:00Z").await;
    let key = app.key("p1", "read,write").await;
    let body = json!([record("a", "2026-11-20T10:00:00Z", "Alpha")]).to_string();
    let reply = app.post(&key, body).await;
    assert_problem(&reply, 503, "overloaded ingest");
    assert_eq!(reply.code(), "overloaded");
    assert!((1..=60).contains(&retry_after_seconds(&reply)));
    // Nothing was stored.
    let page = app.get("/v1/auditrecords", &key).await;
    assert_eq!(page.body["items"], json!([]));
}

#[tokio::test]
async fn a_throttled_sign_in_answers_429_with_retry_after() {
    let app = TestApp::new().await;
    let email = "agent@partner.example";
    app.user("p1", email, &[actlog_domain::roles::Role::AdminAgent])
        .await;
    for _ in 0..5 {
        let reply = app.sign_in_reply(email, "not the password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = app.sign_in_reply(email, PASSWORD).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    // Past the free failures the wait backs off from one second, doubling per failure.
    assert_eq!(retry_after_seconds(&throttled), 1);
    app.advance(jiff::SignedDuration::from_secs(1));
    let sixth = app.sign_in_reply(email, "still not it").await;
    assert_eq!(sixth.status, StatusCode::UNAUTHORIZED);
    let later = app.sign_in_reply(email, PASSWORD).await;
    assert_eq!(later.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after_seconds(&later), 2);
}

#[tokio::test]
async fn ms_request_and_correlation_ids_are_echoed_or_generated() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read").await;
    let sent = [
        ("MS-RequestId", "127facaa-e389-41f8-8bb7-1d1af99db893"),
        ("MS-CorrelationId", "de9c2ccc-40dd-4186-9660-65b9b64c3d14"),
    ];
    for key in [Some(key.as_str()), None] {
        let reply = app
            .request(Method::GET, "/v1/auditrecords", key, &sent, Body::empty())
            .await;
        for (name, value) in sent {
            assert_eq!(reply.headers[name], value, "{name} on a {}", reply.status);
        }
    }
    let ids = |reply: &Reply| -> Vec<uuid::Uuid> {
        ["MS-RequestId", "MS-CorrelationId"]
            .iter()
            .map(|name| {
                let value = reply.headers[*name].to_str().unwrap();
                uuid::Uuid::parse_str(value).unwrap_or_else(|_| panic!("{name}: {value}"))
            })
            .collect()
    };
    let one = app.get("/v1/auditrecords", &key).await;
    let two = app.get("/v1/auditrecords", &key).await;
    let (one, two) = (ids(&one), ids(&two));
    assert_ne!(
        one[0], one[1],
        "a request id and a correlation id of their own"
    );
    assert_ne!(one, two, "new ids for every request");
    // Our own request id header still works, and names the request.
    let ours = [("x-request-id", "trace-42")];
    let reply = app
        .request(
            Method::GET,
            "/v1/auditrecords",
            Some(&key),
            &ours,
            Body::empty(),
        )
        .await;
    assert_eq!(reply.headers["x-request-id"], "trace-42");
    assert_eq!(reply.headers["MS-RequestId"], "trace-42");
}

#[tokio::test]
async fn the_documented_auditactivity_path_answers_by_id() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let writer = app.key("p1", "write").await;
    let other = app.key("p2", "read").await;
    let body = json!([record("rec-1", "2026-11-20T10:00:00Z", "Alpha")]).to_string();
    assert_eq!(app.post(&key, body).await.status, StatusCode::CREATED);
    let v1 = app.get("/v1/auditrecords/rec-1", &key).await;
    let documented = app.get("/auditactivity/v1/auditrecords/rec-1", &key).await;
    assert_eq!(documented.status, StatusCode::OK, "{}", documented.body);
    assert_eq!(documented.body, v1.body);
    assert_eq!(documented.body["customerName"], "Alpha");
    let uri = "/auditactivity/v1/auditrecords/rec-1";
    let denied = app
        .request(Method::GET, uri, None, &[], Body::empty())
        .await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(uri, &writer).await.status, StatusCode::FORBIDDEN);
    let foreign = app.get(uri, &other).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.raw.windows(5).any(|w| w == b"Alpha"));
}

#[tokio::test]
async fn the_openapi_document_describes_paging_and_errors_as_implemented() {
    let app = TestApp::new().await;
    let doc = app
        .request(Method::GET, "/v1/openapi.json", None, &[], Body::empty())
        .await
        .body;
    let list = &doc["paths"]["/v1/auditrecords"]["get"];
    let query: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(query, actlog_server::params::QUERY_PARAMS);
    assert!(doc["paths"]["/auditactivity/v1/auditrecords/{id}"]["get"].is_object());
    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| schemas[schema]["required"].as_array().unwrap().clone();
    for member in ["code", "detail", "description", "data"] {
        assert!(required("Problem").contains(&json!(member)), "{member}");
    }
    for member in ["uri", "method", "headers"] {
        assert!(required("Link").contains(&json!(member)), "{member}");
    }
    let ingest = &doc["paths"]["/v1/auditrecords"]["post"]["responses"]["503"];
    assert!(ingest["headers"]["Retry-After"].is_object());
}
