//! The Activity log page: its period, its table, a row's details, paging, the Subscriptions
//! page each row links to, and customer names that look like HTML.

use std::collections::HashSet;

use fantoccini::key::Key;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::json;

use crate::log_page::{
    Row, filter_by_customer, headers, now, open_from_menu, post_order, rows, shown_time, today,
};
use crate::support::{self, BROWSER_TZ};

#[tokio::test]
async fn the_activity_log_opens_from_the_menu_on_the_most_recent_month() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    let before = today();
    open_from_menu(&browser).await;
    let after = today();

    let period = browser.wait_for("form#period").await;
    let method = period.attr("method").await.unwrap().unwrap_or_default();
    assert!(method.is_empty() || method.eq_ignore_ascii_case("get"));
    for css in [
        "input#from[name=from][type=date]",
        "input#to[name=to][type=date]",
        "input#customer[name=customer]",
        "select#operation[name=operation]",
        "input#user[name=user]",
        "select#status[name=status]",
        "input#q[name=q]",
        "button#apply",
    ] {
        assert!(browser.exists(&format!("form#period {css}")).await, "{css}");
    }
    let from = browser.wait_for("#from").await.prop("value").await.unwrap();
    let to = browser.wait_for("#to").await.prop("value").await.unwrap();
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let expected = |today: Date| {
        (
            today.checked_sub(1.month()).unwrap().to_string(),
            today.to_string(),
        )
    };
    assert!(
        (from.clone(), to.clone()) == expected(before)
            || (from.clone(), to.clone()) == expected(after),
        "From {from}, To {to}: the most recent month in {BROWSER_TZ}, ending {before}"
    );

    assert_eq!(
        headers(&browser).await,
        ["Date-Time", "Affected customer", "Action", "Partner user"]
    );
    let rows = rows(&browser).await;
    assert!(!rows.is_empty(), "the demo has records in the last month");
    check_rows(&rows, &from, &to);
}

/// Every row: an exact UTC instant inside the period, shown in the browser's zone in English,
/// newest first; a readable action; a customer link to its Subscriptions page.
fn check_rows(rows: &[Row], from: &str, to: &str) {
    let tz = TimeZone::get(BROWSER_TZ).unwrap();
    let start = from.parse::<Date>().unwrap().to_zoned(tz.clone()).unwrap();
    let end = to.parse::<Date>().unwrap().tomorrow().unwrap();
    let end = end.to_zoned(tz).unwrap();
    let mut previous: Option<Timestamp> = None;
    for row in rows {
        let datetime = row.datetime.as_deref().expect("td.when has time[datetime]");
        assert!(datetime.ends_with('Z'), "{datetime} is not UTC");
        let at: Timestamp = datetime.parse().unwrap();
        assert!(
            at >= start.timestamp() && at < end.timestamp(),
            "{datetime}"
        );
        assert!(previous.is_none_or(|p| at <= p), "newest first: {datetime}");
        previous = Some(at);
        assert_eq!(row.when, shown_time(datetime, BROWSER_TZ, false), "{row:?}");
        assert!(!row.action.is_empty(), "{row:?}");
        assert!(
            row.id.as_deref().is_some_and(|id| !id.is_empty()),
            "{row:?}"
        );
        if let Some(href) = &row.href {
            let id = href
                .strip_prefix("/customers/")
                .and_then(|rest| rest.strip_suffix("/subscriptions"))
                .unwrap_or_else(|| panic!("customer link {href}"));
            assert!(!id.is_empty() && !id.contains('/'), "{href}");
            assert!(!row.customer.is_empty(), "{row:?}");
        }
    }
    assert!(
        rows.iter().any(|r| r.href.is_some()),
        "no row links a customer"
    );
    assert!(
        rows.iter().any(|r| !r.user.is_empty()),
        "no row names a user"
    );
}

#[tokio::test]
async fn an_invalid_period_is_explained_on_the_page() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    open_from_menu(&browser).await;
    // To before From, chosen through the form.
    browser
        .script(
            "document.querySelector('#from').value = '2025-02-10';
             document.querySelector('#to').value = '2025-01-10';",
        )
        .await;
    let apply = browser.wait_for("button#apply").await;
    browser.click_and_wait(&apply).await;
    let location = browser.location().await;
    assert!(
        location.contains("from=2025-02-10"),
        "the URL carries the period: {location}"
    );
    assert!(!browser.text("p.error[role=alert]").await.is_empty());
    assert!(
        browser.exists("form#period").await,
        "the page, not an error page"
    );

    browser
        .goto("/activity-log?from=not-a-date&to=2025-01-10")
        .await;
    assert!(!browser.text("p.error[role=alert]").await.is_empty());
    assert!(browser.exists("form#period").await);
}

#[tokio::test]
async fn the_down_arrow_shows_an_orders_details_and_the_raw_json_one_click_further() {
    let Some((browser, demo)) = support::start().await else {
        return;
    };
    let order = post_order(&demo, "details").await;
    open_from_menu(&browser).await;
    filter_by_customer(&browser, &order.customer_name).await;
    let rows = rows(&browser).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].customer, order.customer_name);
    assert!(!browser.exists("a#load-more").await, "one row, one page");

    let button = browser
        .wait_for("tr.record button.expand[aria-expanded='false'][aria-controls]")
        .await;
    let details_id = button.attr("aria-controls").await.unwrap().unwrap();
    let details_css = format!("tr.details#{details_id}");
    let details = browser.wait_for(&details_css).await;
    assert!(details.attr("hidden").await.unwrap().is_some());
    assert!(!details.is_displayed().await.unwrap());

    button.click().await.unwrap();
    browser.wait_attr(&button, "aria-expanded", "true").await;
    browser.wait_shown(&details, true).await;
    // The details are fetched on expand.
    browser
        .wait_for(&format!("#{details_id} table.line-items"))
        .await;
    let mut items = Vec::new();
    for row in browser
        .all(&format!("#{details_id} table.line-items tbody tr"))
        .await
    {
        let mut cells = Vec::new();
        for cell in row.find_all(fantoccini::Locator::Css("td")).await.unwrap() {
            cells.push(cell.text().await.unwrap().trim().to_owned());
        }
        items.push(cells[..3].to_vec());
    }
    assert_eq!(
        items,
        [
            ["Contoso Word Suite", "25", "sub-aaaa-1111"],
            ["Fabrikam Mail", "3", "sub-bbbb-2222"],
        ]
    );
    let customized = browser.text(&format!("#{details_id} dl.customized")).await;
    assert!(customized.contains("OrderId") && customized.contains("order-4242"));

    let pre = browser
        .wait_for(&format!("#{details_id} details.raw pre"))
        .await;
    assert!(
        !pre.is_displayed().await.unwrap(),
        "the raw JSON waits a click"
    );
    browser
        .wait_for(&format!("#{details_id} details.raw > summary"))
        .await
        .click()
        .await
        .unwrap();
    browser.wait_shown(&pre, true).await;
    let raw = pre.text().await.unwrap();
    let raw: serde_json::Value = serde_json::from_str(&raw).expect("the raw JSON parses");
    assert!(raw.to_string().contains(&order.id), "{raw}");

    // The arrow is a real button: the keyboard folds the details away again.
    button
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    browser.wait_attr(&button, "aria-expanded", "false").await;
    browser.wait_shown(&details, false).await;
}

#[tokio::test]
async fn load_more_shows_the_next_older_rows() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    open_from_menu(&browser).await;
    let first = rows(&browser).await;
    let seen: HashSet<String> = first.iter().filter_map(|r| r.id.clone()).collect();
    let oldest: Timestamp = first
        .last()
        .unwrap()
        .datetime
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();

    let more = browser.wait_for("a#load-more").await;
    let href = more.attr("href").await.unwrap().unwrap_or_default();
    assert!(!href.is_empty(), "load more is a link");
    more.click().await.unwrap();
    // A new page or rows appended in place: either way, rows not seen before.
    let deadline = std::time::Instant::now() + support::WAIT;
    let added = loop {
        let now: Vec<Row> = rows(&browser).await;
        let added: Vec<Row> = now
            .into_iter()
            .filter(|r| r.id.as_ref().is_some_and(|id| !seen.contains(id)))
            .collect();
        if !added.is_empty() {
            break added;
        }
        assert!(std::time::Instant::now() < deadline, "no further rows");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let mut previous = oldest;
    for row in &added {
        let at: Timestamp = row.datetime.as_deref().unwrap().parse().unwrap();
        assert!(at <= previous, "older rows, newest first: {row:?}");
        previous = at;
    }
}

#[tokio::test]
async fn each_row_links_to_its_customers_subscriptions() {
    let Some((browser, demo)) = support::start().await else {
        return;
    };
    let order = post_order(&demo, "subscriptions").await;
    open_from_menu(&browser).await;

    // A demo customer, names with quotes and accents included.
    let row = rows(&browser)
        .await
        .into_iter()
        .find(|r| r.href.is_some())
        .unwrap();
    browser.goto(row.href.as_deref().unwrap()).await;
    assert!(browser.text("h1").await.contains(&row.customer), "{row:?}");
    browser.wait_for("table#subscriptions").await;

    // Our order's customer: two subscriptions, from the order's line items.
    browser.goto("/activity-log").await;
    filter_by_customer(&browser, &order.customer_name).await;
    let link = browser.wait_for("tr.record td.customer a").await;
    assert_eq!(
        link.attr("href").await.unwrap().unwrap(),
        format!("/customers/{}/subscriptions", order.customer_id)
    );
    browser.click_and_wait(&link).await;
    assert!(browser.text("h1").await.contains(&order.customer_name));
    let subscriptions = browser.all("table#subscriptions tr.subscription").await;
    assert_eq!(subscriptions.len(), 2);
    let mut products = Vec::new();
    for subscription in &subscriptions {
        let cells = subscription
            .find_all(fantoccini::Locator::Css("td"))
            .await
            .unwrap();
        let product = cells[0].text().await.unwrap();
        let quantity = cells[1].text().await.unwrap();
        // The product's name first; ids may follow on lines of their own.
        let product = product.lines().next().unwrap_or_default().trim().to_owned();
        products.push((product, quantity.trim().to_owned()));
        let activity = subscription
            .find(fantoccini::Locator::Css("a.activity"))
            .await
            .unwrap();
        let href = activity.attr("href").await.unwrap().unwrap();
        assert!(href.starts_with("/activity-log"), "{href}");
    }
    products.sort();
    assert_eq!(
        products,
        [
            ("Contoso Word Suite".to_owned(), "25".to_owned()),
            ("Fabrikam Mail".to_owned(), "3".to_owned()),
        ]
    );

    // Back to the log from a subscription: the order is there.
    let activity = browser.wait_for("tr.subscription a.activity").await;
    browser.click_and_wait(&activity).await;
    assert_eq!(browser.path().await, "/activity-log");
    browser.wait_for("table#activity").await;
    let rows = rows(&browser).await;
    assert!(
        rows.iter().any(|r| r.customer == order.customer_name),
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_customer_name_that_looks_like_html_is_shown_as_text() {
    let Some((browser, demo)) = support::start().await else {
        return;
    };
    let name = "<img src=x onerror=alert(1)>";
    let record = json!({
        "id": "xss-1",
        "customerId": "xss-customer",
        "customerName": name,
        "userPrincipalName": "x@y",
        "resourceType": "customer",
        "operationType": "add_customer",
        "operationStatus": "succeeded",
        "operationDate": now(),
        "customizedData": [],
    });
    demo.post_records(json!([record])).await;
    open_from_menu(&browser).await;
    filter_by_customer(&browser, "onerror=alert").await;

    let rows = rows(&browser).await;
    assert!(rows.iter().any(|r| r.customer == name), "{rows:?}");
    assert!(!browser.exists("td.customer img").await);
    assert!(!browser.exists("img[src='x']").await);
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "a script ran"
    );

    browser.goto("/customers/xss-customer/subscriptions").await;
    assert!(browser.text("h1").await.contains(name));
    assert!(!browser.exists("img[src='x']").await);
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "a script ran"
    );
}
