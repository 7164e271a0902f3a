//! Reading the Activity log page (its DOM contract), and records made for it through the API.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::json;

use crate::support::{BROWSER_TZ, Browser, Demo, GLOBAL_ADMIN, PASSWORD};

/// One `tr.record` of `table#activity`, as the page shows it.
#[derive(Debug, Deserialize)]
pub struct Row {
    pub id: Option<String>,
    /// `time[datetime]` of the Date-Time cell.
    pub datetime: Option<String>,
    pub when: String,
    pub customer: String,
    /// The customer cell's link, when the record names a customer.
    pub href: Option<String>,
    pub action: String,
    pub user: String,
}

/// Reads every row in one script: no element can go stale halfway.
pub async fn rows(browser: &Browser) -> Vec<Row> {
    let value = browser
        .script(
            "return Array.from(document.querySelectorAll('table#activity > tbody > tr.record'))
              .map(function (row) {
                var text = function (css) {
                  var cell = row.querySelector(css);
                  return cell ? cell.innerText.trim() : '';
                };
                var time = row.querySelector('td.when time[datetime]');
                var link = row.querySelector('td.customer a');
                return {
                  id: row.getAttribute('data-id'),
                  datetime: time ? time.getAttribute('datetime') : null,
                  when: text('td.when'),
                  customer: text('td.customer'),
                  href: link ? link.getAttribute('href') : null,
                  action: text('td.action'),
                  user: text('td.user'),
                };
              });",
        )
        .await;
    serde_json::from_value(value).unwrap()
}

/// Signs in as a global admin and opens the page from the Account settings menu.
pub async fn open_from_menu(browser: &Browser) {
    browser.sign_in(GLOBAL_ADMIN, PASSWORD).await;
    browser.open_menu().await;
    let link = browser
        .wait_for("details.menu a[href='/activity-log']")
        .await;
    browser.click_and_wait(&link).await;
    assert_eq!(browser.path().await, "/activity-log");
    browser.wait_for("table#activity").await;
}

/// Types into the customer filter and applies the filters.
pub async fn filter_by_customer(browser: &Browser, text: &str) {
    let field = browser.wait_for("form#period input#customer").await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
    let apply = browser.wait_for("form#period button#apply").await;
    browser.click_and_wait(&apply).await;
    browser.wait_for("table#activity").await;
}

/// Today in the browser's time zone.
pub fn today() -> Date {
    let tz = TimeZone::get(BROWSER_TZ).unwrap();
    Timestamp::now().to_zoned(tz).date()
}

/// How the Date-Time cell shows `datetime` (RFC 3339) in `tz`: `MM/DD/YYYY h:MM:SS AM` in
/// English, `DD/MM/YYYY HH:MM:SS` in Italian; seconds truncated, never rounded up.
pub fn shown_time(datetime: &str, tz: &str, italian: bool) -> String {
    let at: Timestamp = datetime
        .parse()
        .unwrap_or_else(|e| panic!("datetime {datetime:?}: {e}"));
    let t = at.to_zoned(TimeZone::get(tz).unwrap()).datetime();
    let (year, month, day) = (t.year(), t.month(), t.day());
    let (minute, second) = (t.minute(), t.second());
    if italian {
        let hour = t.hour();
        return format!("{day:02}/{month:02}/{year:04} {hour:02}:{minute:02}:{second:02}");
    }
    let hour = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let half = if t.hour() < 12 { "AM" } else { "PM" };
    format!("{month:02}/{day:02}/{year:04} {hour}:{minute:02}:{second:02} {half}")
}

/// The texts of the table's header cells, without the expand column's (which may be empty or
/// only for screen readers).
pub async fn headers(browser: &Browser) -> Vec<String> {
    let mut texts = Vec::new();
    for th in browser.all("table#activity > thead > tr > th").await {
        texts.push(th.text().await.unwrap().trim().to_owned());
    }
    if texts.len() == 5 {
        texts.remove(0);
    }
    texts
}

/// Now, to the second (the API keeps 100 ns, and `Timestamp::now` has more digits).
pub fn now() -> String {
    Timestamp::from_second(Timestamp::now().as_second())
        .unwrap()
        .to_string()
}

/// An order for a customer of its own, with two line items, recorded now through the API.
#[derive(Debug)]
pub struct Order {
    pub id: String,
    pub customer_id: String,
    pub customer_name: String,
}

pub async fn post_order(demo: &Demo, tag: &str) -> Order {
    let order = Order {
        id: format!("browser-order-{tag}"),
        customer_id: format!("browser-customer-{tag}"),
        customer_name: format!("Browser Test Customer {tag}"),
    };
    let new_value = json!({
        "Id": "order-4242",
        "ReferenceCustomerId": order.customer_id,
        "BillingCycle": "monthly",
        "LineItems": [
            {"LineItemNumber": 0, "OfferId": "OFFER-A", "SubscriptionId": "sub-aaaa-1111",
             "FriendlyName": "Contoso Word Suite", "Quantity": 25},
            {"LineItemNumber": 1, "OfferId": "OFFER-B", "SubscriptionId": "sub-bbbb-2222",
             "FriendlyName": "Fabrikam Mail", "Quantity": 3},
        ],
    });
    let record = json!({
        "id": order.id,
        "customerId": order.customer_id,
        "customerName": order.customer_name,
        "userPrincipalName": "buyer@demo-partner.example",
        "resourceType": "order",
        "resourceNewValue": new_value.to_string(),
        "operationType": "create_order",
        "operationStatus": "succeeded",
        "operationDate": now(),
        "customizedData": [
            {"key": "OrderId", "value": "order-4242"},
            {"key": "BillingCycle", "value": "Monthly"},
        ],
    });
    demo.post_records(json!([record])).await;
    order
}
