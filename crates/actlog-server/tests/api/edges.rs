//! Edges found by trying the server as a hostile user would (issue 12, items 8 and 10): each
//! test is named after what broke.

use std::io::Write;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use actlog_domain::roles::Role;
use actlog_server::Limits;

use crate::support::{PASSWORD, Reply, TestApp, enc, record, set_cookie, text};

/// Posts the sign-in form with `next` as the raw (already form-encoded) value.
async fn sign_in_to(app: &TestApp, raw_next: &str) -> Reply {
    let form = app
        .request(Method::GET, "/sign-in", None, &[], Body::empty())
        .await;
    let csrf = set_cookie(&form, "actlog_csrf").unwrap();
    let body = format!(
        "email=agent%40partner.example&password={}&csrf={csrf}&next={raw_next}",
        enc(PASSWORD)
    );
    app.browse(
        Method::POST,
        "/sign-in",
        &format!("actlog_csrf={csrf}"),
        Some(&body),
    )
    .await
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.headers.get(name).map(|v| v.to_str().unwrap())
}

fn is_problem(reply: &Reply) -> bool {
    header(reply, "content-type") == Some("application/problem+json")
        && reply.body["status"] == reply.status.as_u16()
        && reply.body["code"].is_string()
        && reply.body["description"].is_string()
}

#[tokio::test]
async fn a_tab_or_a_newline_in_next_cannot_redirect_off_site() {
    let app = TestApp::new().await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let cases = [
        ("%2F%09%2Fexample.com", "/"),
        ("/%0a/x", "/"),
        ("%2F%0D%2Fexample.com", "/"),
        ("/%20/example.com", "/"),
        ("%2F%5Cexample.com", "/"),
        ("//example.com", "/"),
        ("https://example.com/", "/"),
        (
            "%2Factivity-log%3Ffrom%3D2026-11-01",
            "/activity-log?from=2026-11-01",
        ),
    ];
    for (next, want) in cases {
        let reply = sign_in_to(&app, next).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(header(&reply, "location"), Some(want), "{next}");
    }
    // The form does not carry a bad `next` on either.
    let page = app
        .request(
            Method::GET,
            "/sign-in?next=%2F%09%2Fexample.com",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert!(
        text(&page).contains("name=\"next\" value=\"/\""),
        "{}",
        text(&page)
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_compressed_ingest_body_is_decoded_or_refused_not_misread() {
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        ..Limits::default()
    };
    let app = TestApp::with(limits, "2026-11-25T12:00:00Z").await;
    let key = app.key("p1", "read,write").await;
    let post = |encoding: &'static str, body: Vec<u8>| {
        let key = key.clone();
        let app = &app;
        async move {
            let headers = [
                ("content-type", "application/json"),
                ("content-encoding", encoding),
            ];
            app.request(Method::POST, "/v1/auditrecords", Some(&key), &headers, body)
                .await
        }
    };
    let batch = |id: &str| json!([record(id, "2026-11-20T10:00:00Z", "Caffè")]).to_string();

    let reply = post("gzip", gzip(batch("gz").as_bytes())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    let reply = post("deflate", deflate(batch("zl").as_bytes())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    let reply = post("identity", batch("plain").into_bytes()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    for id in ["gz", "zl", "plain"] {
        let got = app.get(&format!("/v1/auditrecords/{id}"), &key).await;
        assert_eq!(got.body["customerName"], "Caffè", "{id}");
    }

    // Encodings the server does not decode are refused, never read as plain.
    for encoding in ["br", "zstd", "gzip, br", "compress"] {
        let reply = post(encoding, batch("no").into_bytes()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{encoding}"
        );
        assert!(is_problem(&reply), "{encoding}: {}", text(&reply));
        assert_eq!(reply.code(), "unsupported_media_type");
    }
    // A body that is not what it says it is.
    let reply = post("gzip", batch("liar").into_bytes()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", text(&reply));
    assert!(is_problem(&reply));

    // A zip bomb: small on the wire, past the limit once decoded.
    let bomb = gzip(&vec![b' '; 4 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let reply = post("gzip", bomb).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        text(&reply)
    );
    assert_eq!(reply.code(), "body_too_large");
    assert!(app.get("/v1/auditrecords/no", &key).await.status == StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_record_whose_id_is_export_can_be_fetched() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let batch = json!([record("export", "2026-11-20T10:00:00Z", "Relecloud")]).to_string();
    assert_eq!(app.post(&key, batch).await.status, StatusCode::CREATED);

    let one = app.get("/v1/auditrecords/export", &key).await;
    assert_eq!(one.status, StatusCode::OK, "{}", text(&one));
    assert_eq!(one.body["id"], "export");
    assert_eq!(one.body["customerName"], "Relecloud");

    // The export has a path no id can take, and the old one still exports when asked to.
    for path in [
        "/v1/exports/auditrecords",
        "/v1/exports/auditrecords?format=ndjson",
        "/v1/auditrecords/export?format=ndjson",
    ] {
        let export = app.get(path, &key).await;
        assert_eq!(export.status, StatusCode::OK, "{path}");
        assert!(
            header(&export, "content-disposition").is_some_and(|d| d.starts_with("attachment")),
            "{path}"
        );
        assert!(text(&export).contains("Relecloud"), "{path}");
    }
}

#[tokio::test]
async fn framework_rejections_are_problem_documents_not_plain_text() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let api = [
        (Method::GET, "/v1/auditrecords/%FF", StatusCode::BAD_REQUEST),
        (
            Method::GET,
            "/v1/auditrecords/%FF%FE",
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/auditactivity/v1/auditrecords/%C3%28",
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, "/v1/nothing-here", StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            "/v1/auditrecords",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::PUT,
            "/v1/auditrecords/x",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            "/v1/exports/auditrecords",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::GET,
            "/v1/auditrecords?size=%FF",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, uri, status) in api {
        let reply = app
            .request(method.clone(), uri, Some(&key), &[], Body::empty())
            .await;
        assert_eq!(reply.status, status, "{method} {uri}: {}", text(&reply));
        assert!(is_problem(&reply), "{method} {uri}: {}", text(&reply));
    }

    // Pages answer in HTML, as their other errors do.
    let json_sign_in = app
        .request(
            Method::POST,
            "/sign-in",
            None,
            &[("content-type", "application/json")],
            r#"{"email":"a@b.c","password":"x"}"#,
        )
        .await;
    assert!(
        json_sign_in.status.is_client_error(),
        "{}",
        json_sign_in.status
    );
    assert!(
        header(&json_sign_in, "content-type").is_some_and(|c| c.starts_with("text/html")),
        "{}",
        text(&json_sign_in)
    );
    let twice = app
        .request(
            Method::GET,
            "/sign-in?signed_out=1&signed_out=2",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert!(
        header(&twice, "content-type").is_some_and(|c| c.starts_with("text/html")),
        "{}: {}",
        twice.status,
        text(&twice)
    );
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let session = app.sign_in("agent@partner.example").await;
    for (method, uri, form) in [
        (Method::GET, "/customers/%FF/subscriptions", None),
        (Method::POST, "/preferences", Some("lang=1&lang=2")),
        (Method::POST, "/sign-out", Some("csrf=1&csrf=2")),
    ] {
        let reply = app.browse(method.clone(), uri, &session, form).await;
        assert!(
            reply.status.is_client_error(),
            "{method} {uri}: {}",
            reply.status
        );
        assert!(
            header(&reply, "content-type").is_some_and(|c| c.starts_with("text/html")),
            "{method} {uri}: {}",
            text(&reply)
        );
    }
}

/// Whether `value` is allowed by a (simple) JSON schema: type, minLength, pattern-free checks.
fn schema_allows_empty(schema: &Value) -> bool {
    schema["minLength"].as_u64().unwrap_or(0) == 0
        && schema["pattern"].is_null()
        && schema["enum"].is_null()
        && schema["type"] != "integer"
}

#[tokio::test]
async fn the_openapi_document_does_not_allow_empty_values_the_server_refuses() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let doc = app
        .request(Method::GET, "/v1/openapi.json", None, &[], Body::empty())
        .await
        .body;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let Some(parameters) = get["parameters"].as_array() else {
            continue;
        };
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap();
            let uri = match parameter["in"].as_str().unwrap() {
                "query" => format!("{path}?{name}="),
                "path" => path.replace(&format!("{{{name}}}"), ""),
                _ => continue,
            };
            let reply = app.get(&uri, &key).await;
            if reply.status.is_client_error() {
                checked += 1;
                assert!(
                    !schema_allows_empty(&parameter["schema"]),
                    "{uri} is refused ({}) but the document allows `{name}` empty",
                    reply.status
                );
            }
        }
    }
    assert!(
        checked >= 5,
        "only {checked} parameters refuse an empty value"
    );
    // The records' own ids and partner ids are never empty either.
    let record = &doc["components"]["schemas"]["AuditRecord"]["properties"];
    for field in ["id", "partnerId"] {
        assert!(
            record[field]["minLength"].as_u64() >= Some(1),
            "{field}: {}",
            record[field]
        );
    }
}

#[tokio::test]
async fn the_dotnet_max_date_is_accepted_as_the_end() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    let batch = json!([record("late", "2026-11-20T10:00:00Z", "Relecloud")]).to_string();
    assert_eq!(app.post(&key, batch).await.status, StatusCode::CREATED);
    for end in [
        "12/31/9999%2011:59:59%20PM",
        "12/31/9999+11:59:59+PM",
        "12%2F31%2F9999%2011%3A59%3A59%20PM",
        "9999-12-31T23:59:59.9999999Z",
    ] {
        let reply = app
            .get(
                &format!("/v1/auditrecords?startDate=2026-11-01&endDate={end}"),
                &key,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{end}: {}", text(&reply));
        assert_eq!(reply.body["items"][0]["id"], "late", "{end}");
        let export = app
            .get(
                &format!("/v1/auditrecords/export?startDate=2026-11-01&endDate={end}"),
                &key,
            )
            .await;
        assert_eq!(
            export.status,
            StatusCode::OK,
            "export {end}: {}",
            text(&export)
        );
    }
}

/// Stores `n` records, one a minute back from 2026-11-20T10:00Z.
async fn minutely(app: &TestApp, key: &str, n: i64) {
    let start = jiff::Timestamp::from_second(1_795_168_800).unwrap(); // 2026-11-20T10:00:00Z
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let at = start - jiff::SignedDuration::from_mins(i);
            record(&format!("m{i:03}"), &at.to_string(), "Relecloud")
        })
        .collect();
    let reply = app.post(key, Value::Array(records).to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
}

/// The `href` of the element with id `id`, unescaped.
fn href(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag = &html[html[..at].rfind('<')?..at + html[at..].find('>')?];
    let from = tag.find("href=\"")? + 6;
    let value = &tag[from..];
    Some(
        value[..value.find('"')?]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn a_row_number_that_wraps_around_is_refused_not_shown() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    minutely(&app, &key, 51).await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let session = app.sign_in("agent@partner.example").await;
    let first = app
        .browse(
            Method::GET,
            "/activity-log?from=2026-11-01&to=2026-11-25",
            &session,
            None,
        )
        .await;
    let more = href(&text(&first), "load-more").expect("a link to the next rows");
    assert!(more.contains("first=51"), "{more}");
    let second = app.browse(Method::GET, &more, &session, None).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(text(&second).contains("m050"));

    for bad in ["18446744073709551615", "0", "-1", "1e3", "x", ""] {
        let uri = more.replace("first=51", &format!("first={bad}"));
        let reply = app.browse(Method::GET, &uri, &session, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "first={bad}");
        let html = text(&reply);
        assert!(html.contains("no longer valid"), "first={bad}");
        assert!(!html.contains("18,446,744"), "first={bad}");
    }
    // The API's own paging numbers are bounded too.
    for bad in ["size=18446744073709551616", "size=0", "size=-1", "size="] {
        let reply = app.get(&format!("/v1/auditrecords?{bad}"), &key).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.code(), "invalid_parameter", "{bad}");
    }
}

#[tokio::test]
async fn signed_in_pages_the_sign_in_page_and_exports_are_not_cached() {
    let app = TestApp::new().await;
    let key = app.key("p1", "read,write").await;
    minutely(&app, &key, 2).await;
    app.user("p1", "agent@partner.example", &[Role::AdminAgent])
        .await;
    let sign_in = app
        .request(Method::GET, "/sign-in", None, &[], Body::empty())
        .await;
    assert_eq!(header(&sign_in, "cache-control"), Some("no-store"));
    let session = app.sign_in("agent@partner.example").await;
    for uri in [
        "/",
        "/activity-log",
        "/activity-log?from=bad",
        "/customers/cust-Relecloud/subscriptions",
        "/v1/exports/auditrecords?format=csv",
        "/v1/exports/auditrecords?format=xlsx",
    ] {
        let reply = app.browse(Method::GET, uri, &session, None).await;
        assert!(reply.status.is_success(), "{uri}: {}", reply.status);
        assert_eq!(header(&reply, "cache-control"), Some("no-store"), "{uri}");
    }
    let export = app
        .get("/v1/exports/auditrecords?format=ndjson", &key)
        .await;
    assert_eq!(header(&export, "cache-control"), Some("no-store"));
    // Static assets stay cacheable.
    let css = app
        .request(Method::GET, "/static/actlog.css", None, &[], Body::empty())
        .await;
    assert_ne!(header(&css, "cache-control"), Some("no-store"));
}
