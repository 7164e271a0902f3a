//! The dashboard's pages as HTML: the activity log (period, filters, paging, details), the
//! Subscriptions page, and preferences. The browser tests drive the same pages in Chromium.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use actlog_domain::roles::Role;

use crate::support::{TestApp, enc, record, text};

const ADMIN: &str = "admin@p1.example";

/// An app with one allowed user of partner p1, signed in; returns the app, the session and
/// a write key for p1.
async fn signed_in() -> (TestApp, String, String) {
    let app = TestApp::new().await;
    let key = app.key("p1", "write").await;
    app.user("p1", ADMIN, &[Role::AdminAgent]).await;
    let session = app.sign_in(ADMIN).await;
    (app, session, key)
}

async fn post(app: &TestApp, key: &str, records: Value) {
    let reply = app.post(key, records.to_string()).await;
    assert!(reply.status.is_success(), "{}", text(&reply));
}

async fn page(app: &TestApp, session: &str, uri: &str) -> String {
    let reply = app.browse(Method::GET, uri, session, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", text(&reply));
    text(&reply)
}

/// The record ids of the table's rows, in order.
fn row_ids(html: &str) -> Vec<String> {
    html.split("<tr class=\"record\" data-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The value of the attribute `attr` on the element with `id`.
fn attr(html: &str, id: &str, attr: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let key = format!("{attr}=\"");
    let from = tag.find(&key)? + key.len();
    let value = &tag[from..];
    Some(
        value[..value.find('"')?]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

fn alerts(html: &str) -> Vec<String> {
    html.split("role=\"alert\">")
        .skip(1)
        .map(|rest| rest[..rest.find('<').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn the_default_view_is_the_most_recent_month_newest_first() {
    let (app, session, key) = signed_in().await;
    post(
        &app,
        &key,
        json!([
            record("too-old", "2026-10-24T23:59:59Z", "Relecloud"),
            record("first-day", "2026-10-25T00:00:00Z", "Contoso"),
            record("middle", "2026-11-20T10:00:00Z", "Fabrikam"),
            record("today", "2026-11-25T11:00:00Z", "Relecloud"),
        ]),
    )
    .await;
    let html = page(&app, &session, "/activity-log").await;
    assert_eq!(attr(&html, "from", "value").as_deref(), Some("2026-10-25"));
    assert_eq!(attr(&html, "to", "value").as_deref(), Some("2026-11-25"));
    assert_eq!(row_ids(&html), ["today", "middle", "first-day"]);
    for label in ["Date-Time", "Affected customer", "Action", "Partner user"] {
        assert!(
            html.contains(&format!("<th scope=\"col\">{label}</th>")),
            "{label}"
        );
    }
    assert!(html.contains("3 records from 10/25/2026 to 11/25/2026"));
    assert!(
        html.contains(
            "<time datetime=\"2026-11-25T11:00:00.0000000Z\">11/25/2026 11:00:00 AM</time>"
        )
    );
    assert!(html.contains("href=\"/customers/cust-Relecloud/subscriptions\">Relecloud</a>"));
    assert!(html.contains("Created an order"));
    assert!(!html.contains("id=\"load-more\""));
}

#[tokio::test]
async fn a_bad_period_is_said_on_the_page() {
    let (app, session, _) = signed_in().await;
    let html = page(
        &app,
        &session,
        "/activity-log?from=2026-11-20&to=2026-11-01",
    )
    .await;
    let alerts = alerts(&html);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("before"), "{}", alerts[0]);
    assert!(!html.contains("id=\"activity\""));
    assert_eq!(attr(&html, "from", "value").as_deref(), Some("2026-11-20"));

    let html = page(&app, &session, "/activity-log?from=yesterday&to=2026-13-01").await;
    let alerts = crate::pages::alerts(&html);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(alerts[0].contains("yesterday"));
    assert!(alerts[1].contains("2026-13-01"));

    let long = "x".repeat(600);
    let html = page(&app, &session, &format!("/activity-log?q={long}")).await;
    assert!(crate::pages::alerts(&html)[0].contains("filters"));
}

#[tokio::test]
async fn a_period_is_read_in_the_users_time_zone() {
    let (app, session, key) = signed_in().await;
    // 23:30 in New York on the 19th is the 20th in UTC.
    post(
        &app,
        &key,
        json!([record("late", "2026-11-20T04:30:00Z", "Contoso")]),
    )
    .await;
    let day = "/activity-log?from=2026-11-20&to=2026-11-20";
    assert_eq!(row_ids(&page(&app, &session, day).await), ["late"]);
    let zoned = format!("{session}; actlog_tz=America%2FNew_York");
    let html = page(&app, &zoned, day).await;
    assert!(row_ids(&html).is_empty());
    assert!(html.contains("times in America/New_York"));
    let html = page(&app, &zoned, "/activity-log?from=2026-11-19&to=2026-11-19").await;
    assert_eq!(row_ids(&html), ["late"]);
    assert!(html.contains("11/19/2026 11:30:00 PM"));
}

#[tokio::test]
async fn filters_narrow_the_table_and_stay_in_every_link() {
    let (app, session, key) = signed_in().await;
    let mut failed = record("failed", "2026-11-21T10:00:00Z", "Relecloud");
    failed["operationStatus"] = json!("failed");
    let mut reset = record("reset", "2026-11-22T10:00:00Z", "Relecloud Italia");
    reset["operationType"] = json!("reset_customer_user_password");
    reset["userPrincipalName"] = json!("helpdesk@partner.example");
    post(
        &app,
        &key,
        json!([
            record("other", "2026-11-20T10:00:00Z", "Contoso"),
            failed,
            reset,
        ]),
    )
    .await;
    let ids = |q: &'static str| {
        let app = &app;
        let session = &session;
        async move { row_ids(&page(app, session, &format!("/activity-log?{q}")).await) }
    };
    assert_eq!(ids("customer=relecloud").await, ["reset", "failed"]);
    assert_eq!(
        ids("operation=reset_customer_user_password").await,
        ["reset"]
    );
    assert_eq!(ids("user=HELPDESK").await, ["reset"]);
    assert_eq!(ids("status=failed").await, ["failed"]);
    assert_eq!(ids("q=contoso").await, ["other"]);
    assert_eq!(ids("customer_id=cust-Relecloud").await, ["failed"]);
    assert!(
        ids("customer=relecloud&status=succeeded&operation=create_order")
            .await
            .is_empty()
    );

    let html = page(
        &app,
        &session,
        "/activity-log?customer=relecloud&status=failed",
    )
    .await;
    assert!(html.contains("<option value=\"failed\" selected>"));
    assert!(
        html.contains("Failed</span>"),
        "the status shows beside the action"
    );
    // Export carries the same period and filter.
    let filter = attr(&html, "export", "action");
    assert_eq!(filter.as_deref(), Some("/v1/exports/auditrecords"));
    assert!(html.contains("name=\"filter\" value=\""));
    assert!(html.contains("CompanyName"));
}

#[tokio::test]
async fn load_more_walks_every_row_once_by_keyset() {
    let (app, session, key) = signed_in().await;
    let records: Vec<Value> = (0..120)
        .map(|i| {
            record(
                &format!("r{i:03}"),
                &format!("2026-11-{:02}T{:02}:00:00Z", 1 + i / 24, i % 24),
                "Contoso",
            )
        })
        .collect();
    post(&app, &key, Value::Array(records)).await;
    let mut seen = Vec::new();
    let mut uri = "/activity-log?customer=contoso".to_owned();
    let mut pages = 0;
    loop {
        let html = page(&app, &session, &uri).await;
        pages += 1;
        seen.extend(row_ids(&html));
        if pages == 1 {
            assert!(html.contains("120 records"));
        }
        match attr(&html, "load-more", "href") {
            Some(next) => {
                assert!(next.contains("customer=contoso"), "{next}");
                assert!(!next.contains("offset"));
                uri = next;
            }
            None => break,
        }
        // New records arriving meanwhile do not shift the pages.
        post(
            &app,
            &key,
            json!([record(
                &format!("new{pages}"),
                "2026-11-24T00:00:00Z",
                "Contoso"
            )]),
        )
        .await;
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = (0..120).map(|i| format!("r{i:03}")).collect();
    expected.reverse();
    assert_eq!(seen, expected);
    assert!(page(&app, &session, &uri).await.contains("Showing 101–120"));
}

#[tokio::test]
async fn a_forged_page_token_falls_back_to_the_newest_rows() {
    let (app, session, key) = signed_in().await;
    post(
        &app,
        &key,
        json!([record("r1", "2026-11-20T10:00:00Z", "Contoso")]),
    )
    .await;
    let html = page(&app, &session, "/activity-log?page=bogus.token").await;
    assert_eq!(row_ids(&html), ["r1"]);
    assert!(alerts(&html)[0].contains("no longer valid"));
}

#[tokio::test]
async fn stored_text_is_escaped_everywhere() {
    let (app, session, key) = signed_in().await;
    let hostile = "<img src=x onerror=alert(1)>";
    let mut r = record("x1", "2026-11-20T10:00:00Z", hostile);
    r["customerId"] = json!("\"><script>alert(2)</script>");
    r["customizedData"] = json!([{ "key": "<b>k</b>", "value": "<i>v</i>" }]);
    post(&app, &key, json!([r])).await;
    let html = page(&app, &session, "/activity-log").await;
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;")
            || html.contains("&lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(!html.contains(hostile));
    assert!(!html.contains("<script>alert(2)"));
    assert!(!html.contains("<b>k</b>") && !html.contains("<i>v</i>"));
    let csp = app
        .browse(Method::GET, "/activity-log", &session, None)
        .await
        .headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let subs = app
        .browse(
            Method::GET,
            &format!(
                "/customers/{}/subscriptions",
                enc("\"><script>alert(2)</script>")
            ),
            &session,
            None,
        )
        .await;
    assert_eq!(subs.status, StatusCode::OK);
    assert!(!text(&subs).contains("<script>alert(2)") && !text(&subs).contains(hostile));
}

fn order(id: &str, date: &str, lines: &[(&str, &str, u32)]) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(n, (sub, name, qty))| {
            json!({ "LineItemNumber": n, "OfferId": format!("OFFER-{n}"), "SubscriptionId": sub,
                    "FriendlyName": name, "Quantity": qty })
        })
        .collect();
    let mut r = record(id, date, "Relecloud");
    r["resourceNewValue"] =
        json!(json!({ "Id": format!("order-{id}"), "LineItems": items }).to_string());
    r
}

#[tokio::test]
async fn a_row_expands_into_readable_details() {
    let (app, session, key) = signed_in().await;
    let mut update = record("upd", "2026-11-21T10:00:00Z", "Relecloud");
    update["operationType"] = json!("update_subscription");
    update["resourceType"] = json!("subscription");
    update["resourceOldValue"] =
        json!(r#"{"Id":"SUB-1","FriendlyName":"Office 365 E3","Quantity":25,"Status":"active"}"#);
    update["resourceNewValue"] =
        json!(r#"{"Id":"SUB-1","FriendlyName":"Office 365 E3","Quantity":30,"Status":"active"}"#);
    post(
        &app,
        &key,
        json!([
            order(
                "ord",
                "2026-11-20T10:00:00Z",
                &[
                    ("SUB-1", "Office 365 E3", 25),
                    ("SUB-2", "Teams Essentials", 5)
                ]
            ),
            update,
        ]),
    )
    .await;
    let html = page(&app, &session, "/activity-log").await;
    let order_row = &html[html.find("data-id=\"ord\"").unwrap()..];
    let controls = &order_row[order_row.find("aria-controls=\"").unwrap() + 15..];
    let details_id = &controls[..controls.find('"').unwrap()];
    assert!(order_row.contains("aria-expanded=\"false\""));
    assert!(
        html.contains(&format!("id=\"{details_id}\" hidden")),
        "a hidden details row"
    );
    // The details are loaded into it on expand.
    let details = page(&app, &session, "/activity-log/details?id=ord").await;
    let line_items =
        &details[details.find("class=\"line-items\"").unwrap()..details.find("</table>").unwrap()];
    for text in ["Office 365 E3", "Teams Essentials", ">25<", ">5<", "SUB-2"] {
        assert!(line_items.contains(text), "{text} in {line_items}");
    }
    assert!(details.contains("<summary>Raw record (JSON)</summary>"));

    let update = page(&app, &session, "/activity-log/details?id=upd").await;
    let changes = &update[update.find("class=\"changes\"").unwrap()..];
    let changes = &changes[..changes.find("</table>").unwrap()];
    assert!(changes.contains("<tr class=\"changed\"><th scope=\"row\" class=\"mono\">Quantity</th><td>25</td><td>30</td></tr>"), "{changes}");
}

#[tokio::test]
async fn the_subscriptions_page_tells_what_the_records_say() {
    let (app, session, key) = signed_in().await;
    let mut update = record("upd", "2026-11-21T10:00:00Z", "Relecloud");
    update["operationType"] = json!("update_subscription");
    update["resourceType"] = json!("subscription");
    update["resourceNewValue"] = json!(
        r#"{"Id":"sub-2","FriendlyName":"Teams Essentials","Quantity":7,"Status":"suspended"}"#
    );
    post(
        &app,
        &key,
        json!([
            order(
                "ord",
                "2026-09-20T10:00:00Z",
                &[
                    ("SUB-1", "Office 365 E3", 25),
                    ("SUB-2", "Teams Essentials", 5)
                ]
            ),
            update,
            record("other", "2026-11-22T10:00:00Z", "Contoso"),
        ]),
    )
    .await;
    let html = page(&app, &session, "/customers/cust-Relecloud/subscriptions").await;
    assert!(html.contains("<h1>Subscriptions of Relecloud</h1>"));
    let rows: Vec<&str> = html.split("<tr class=\"subscription\"").skip(1).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].contains("Office 365 E3") && rows[0].contains(">25<") && rows[0].contains("Active")
    );
    assert!(
        rows[1].contains("Teams Essentials")
            && rows[1].contains(">7<")
            && rows[1].contains("Suspended")
    );
    // Each links to its own activity, from its first record on.
    let link = rows[1][rows[1].find("class=\"activity\" href=\"").unwrap() + 23..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(link.contains("from=2026-09-20"), "{link}");
    let ids = row_ids(&page(&app, &session, &link).await);
    assert_eq!(ids, ["upd", "ord"]);
}

#[tokio::test]
async fn the_subscriptions_page_is_the_same_when_older_records_arrive_later() {
    let (app, session, key) = signed_in().await;
    let mut update = record("upd", "2026-11-21T10:00:00Z", "Relecloud");
    update["customerName"] = json!("Relecloud Renamed");
    update["operationType"] = json!("update_subscription");
    update["resourceType"] = json!("subscription");
    update["resourceNewValue"] = json!(
        r#"{"Id":"sub-2","FriendlyName":"Teams Essentials","Quantity":7,"Status":"suspended"}"#
    );
    // The newest first, then an import of older history (as `actlog pull` or `import` do).
    post(&app, &key, json!([update])).await;
    post(
        &app,
        &key,
        json!([order(
            "ord",
            "2026-09-20T10:00:00Z",
            &[
                ("SUB-1", "Office 365 E3", 25),
                ("SUB-2", "Teams Essentials", 5)
            ]
        )]),
    )
    .await;
    let html = page(&app, &session, "/customers/cust-Relecloud/subscriptions").await;
    assert!(
        html.contains("<h1>Subscriptions of Relecloud Renamed</h1>"),
        "the newest name, though stored first"
    );
    let rows: Vec<&str> = html.split("<tr class=\"subscription\"").skip(1).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].contains("Office 365 E3") && rows[0].contains(">25<"));
    assert!(
        rows[1].contains(">7<") && rows[1].contains("Suspended") && !rows[1].contains(">5<"),
        "the older order does not undo the newer update: {}",
        rows[1]
    );
    assert!(rows[1].contains("from=2026-09-20"), "{}", rows[1]);
    assert!(
        html.contains("from=2026-09-20&#38;"),
        "the customer's activity starts at the older record"
    );
}

/// The subscriptions' product names in the order the page shows them.
fn products(html: &str) -> Vec<String> {
    html.split("<td class=\"product\">")
        .skip(1)
        .map(|rest| rest[..rest.find("<br>").unwrap()].to_owned())
        .collect()
}

fn href(html: &str, id: &str) -> Option<String> {
    attr(html, id, "href").map(|h| h.replace("&#38;", "&"))
}

#[tokio::test]
async fn a_customer_with_many_subscriptions_gets_them_a_page_at_a_time() {
    let (app, session, key) = signed_in().await;
    // 250 subscriptions over 25 orders, with names out of order and in several cases.
    let names: Vec<(String, String)> = (0..250)
        .map(|n| {
            let name = match n % 3 {
                0 => format!("Plan {:03}", 249 - n),
                1 => format!("plan {:03}", 249 - n),
                _ => format!("Éclair {:03}", n),
            };
            (format!("SUB-{n:03}"), name)
        })
        .collect();
    let orders: Vec<Value> = names
        .chunks(10)
        .enumerate()
        .map(|(i, chunk)| {
            let lines: Vec<(&str, &str, u32)> = chunk
                .iter()
                .map(|(id, name)| (id.as_str(), name.as_str(), 1))
                .collect();
            order(&format!("o{i}"), "2026-11-20T10:00:00Z", &lines)
        })
        .collect();
    post(&app, &key, Value::Array(orders)).await;
    let mut expected: Vec<String> = names.iter().map(|(_, name)| name.clone()).collect();
    expected.sort_by_key(|name| name.to_lowercase());

    let mut shown = Vec::new();
    let mut uri = "/customers/cust-Relecloud/subscriptions".to_owned();
    let mut pages = Vec::new();
    loop {
        let html = page(&app, &session, &uri).await;
        assert!(html.contains("250 subscriptions"), "{uri}");
        let rows = products(&html);
        assert!(rows.len() <= 100, "{uri}: {} rows", rows.len());
        let first = shown.len() + 1;
        assert!(
            html.contains(&format!("Showing {first}–{}.", shown.len() + rows.len())),
            "{uri}"
        );
        assert_eq!(href(&html, "first-page").is_some(), first > 1, "{uri}");
        shown.extend(rows);
        pages.push(uri.clone());
        match href(&html, "load-more") {
            Some(next) => uri = next,
            None => break,
        }
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(shown, expected, "every subscription once, by product name");

    // A link to further subscriptions that was edited: the first page, said so, a 400.
    let bad = app
        .browse(
            Method::GET,
            "/customers/cust-Relecloud/subscriptions?after=not-a-place&first=101",
            &session,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let html = text(&bad);
    assert!(html.contains("The link to further subscriptions is not valid"));
    assert_eq!(products(&html), expected[..100]);
    let wrapped = pages[1].replace("first=101", "first=18446744073709551615");
    let reply = app.browse(Method::GET, &wrapped, &session, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_partners_customer_shows_nothing() {
    let (app, _, key) = signed_in().await;
    post(
        &app,
        &key,
        json!([order(
            "ord",
            "2026-11-20T10:00:00Z",
            &[("SUB-1", "Secret Product", 9)]
        )]),
    )
    .await;
    app.user("p2", "admin@p2.example", &[Role::GlobalAdmin])
        .await;
    let other = app.sign_in("admin@p2.example").await;
    let reply = app
        .browse(
            Method::GET,
            "/customers/cust-Relecloud/subscriptions",
            &other,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let body = text(&reply);
    assert!(!body.contains("Relecloud") && !body.contains("Secret Product"));
    let html = page(&app, &other, "/activity-log?customer_id=cust-Relecloud").await;
    assert!(row_ids(&html).is_empty());
    assert!(!html.contains("Secret Product"));
}

fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn preferences_switch_language_and_zone_and_need_their_token() {
    let (app, session, key) = signed_in().await;
    post(
        &app,
        &key,
        json!([record("r1", "2026-11-20T22:30:00Z", "Contoso")]),
    )
    .await;
    let html = page(&app, &session, "/activity-log").await;
    let token = csrf(&html);

    let forged = app
        .browse(
            Method::POST,
            "/preferences",
            &session,
            Some("lang=it-IT&tz=&next=%2F"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let bad = app
        .browse(
            Method::POST,
            "/preferences",
            &session,
            Some(&format!("csrf={token}&lang=it-IT&tz=Mars%2FOlympus")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(text(&bad).contains("IANA"));
    assert!(
        page(&app, &session, "/activity-log")
            .await
            .contains("Date-Time"),
        "nothing was saved"
    );

    let saved = app
        .browse(
            Method::POST,
            "/preferences",
            &session,
            Some(&format!(
                "csrf={token}&lang=it-IT&tz=Europe%2FRome&next={}",
                enc("/activity-log?from=2026-11-01")
            )),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.headers["location"], "/activity-log?from=2026-11-01");
    let html = page(&app, &session, "/activity-log").await;
    for label in [
        "Log attività",
        "Data-ora",
        "Cliente interessato",
        "Azione",
        "Utente partner",
        "Esporta log",
        "Impostazioni account",
        ">Da<",
        ">a<",
    ] {
        assert!(html.contains(label), "{label}");
    }
    assert!(html.contains("<html lang=\"it-IT\">"));
    // 22:30 UTC is 23:30 in Rome, written the Italian way.
    assert!(html.contains(">20/11/2026 23:30:00</time>"), "Italian date");
    assert!(html.contains("orari in Europe/Rome"));
    assert!(html.contains("Ha creato un ordine") && !html.contains("Created an order"));

    let away = app
        .browse(
            Method::POST,
            "/preferences",
            &session,
            Some(&format!(
                "csrf={token}&lang=&tz=&next=https%3A%2F%2Fevil.example%2F"
            )),
        )
        .await;
    assert_eq!(
        away.headers["location"], "/",
        "never redirected off the site"
    );
}

#[tokio::test]
async fn a_very_busy_period_is_counted_only_so_far() {
    let (app, session, key) = signed_in().await;
    let limit = actlog_server::web::activity::COUNT_LIMIT as usize;
    for chunk in 0..(limit / 5_000 + 1) {
        let records: Vec<Value> = (0..5_000)
            .map(|i| {
                let n = chunk * 5_000 + i;
                record(
                    &format!("busy{n}"),
                    &format!(
                        "2026-11-{:02}T{:02}:{:02}:{:02}Z",
                        1 + n % 20,
                        n % 24,
                        n % 60,
                        (n / 60) % 60
                    ),
                    "Contoso",
                )
            })
            .collect();
        post(&app, &key, Value::Array(records)).await;
    }
    let html = page(&app, &session, "/activity-log").await;
    assert!(
        html.contains("More than 10,000 records"),
        "{}",
        &html[html.find("summary").unwrap()..][..200]
    );
    assert_eq!(row_ids(&html).len(), 50);
    let exact = page(
        &app,
        &session,
        "/activity-log?from=2026-11-01&to=2026-11-01",
    )
    .await;
    let day = (0..(limit / 5_000 + 1) * 5_000)
        .filter(|n| n % 20 == 0)
        .count();
    assert!(exact.contains(&format!(
        "{} records",
        actlog_server::web::format::count(day as u64, actlog_domain::catalog::Lang::En)
    )));
    // A free-text search reads every record it counts: it counts less far.
    let text_limit = actlog_server::web::activity::TEXT_COUNT_LIMIT;
    assert!(text_limit < day as u64 * 20 && (day as u64) < text_limit);
    let searched = page(&app, &session, "/activity-log?q=contoso").await;
    assert!(
        searched.contains("More than 1,000 records"),
        "{}",
        &searched[searched.find("summary").unwrap()..][..200]
    );
    assert_eq!(row_ids(&searched).len(), 50);
    let searched_day = page(
        &app,
        &session,
        "/activity-log?from=2026-11-01&to=2026-11-01&q=contoso",
    )
    .await;
    assert!(searched_day.contains(&format!(
        "{} records",
        actlog_server::web::format::count(day as u64, actlog_domain::catalog::Lang::En)
    )));
}

#[tokio::test]
async fn pages_are_gzipped_for_browsers_that_accept_it_and_exports_are_not() {
    let (app, session, key) = signed_in().await;
    post(
        &app,
        &key,
        json!([record("r1", "2026-11-20T10:00:00Z", "Contoso")]),
    )
    .await;
    let headers = [("cookie", session.as_str()), ("accept-encoding", "gzip")];
    let page = app
        .request(
            Method::GET,
            "/activity-log",
            None,
            &headers,
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-encoding"], "gzip");
    assert_eq!(&page.raw[..2], [0x1f, 0x8b], "a gzip stream");
    let plain = app
        .browse(Method::GET, "/activity-log", &session, None)
        .await;
    assert!(plain.headers.get("content-encoding").is_none());
    assert!(
        page.raw.len() * 2 < plain.raw.len(),
        "{} vs {}",
        page.raw.len(),
        plain.raw.len()
    );

    for format in ["csv", "ndjson", "xlsx"] {
        let export = app
            .request(
                Method::GET,
                &format!("/v1/auditrecords/export?format={format}&startDate=2026-11-01"),
                None,
                &headers,
                axum::body::Body::empty(),
            )
            .await;
        assert_eq!(export.status, StatusCode::OK, "{format}");
        assert!(
            export.headers.get("content-encoding").is_none(),
            "{format} is sent as is"
        );
    }
}
