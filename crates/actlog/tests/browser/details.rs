//! A row's details, which the page loads when its down arrow is used: opened and closed from
//! the keyboard, and hostile text in them shown as text, with nothing run.

use fantoccini::key::Key;
use serde_json::json;

use crate::log_page::{filter_by_customer, now, open_from_menu, post_order};
use crate::support::{self, Browser};

/// The down arrow of the only row shown, and the id of its details row.
async fn only_arrow(browser: &Browser) -> (fantoccini::elements::Element, String) {
    assert_eq!(browser.all("tr.record").await.len(), 1);
    let button = browser
        .wait_for("tr.record button.expand[aria-expanded='false'][aria-controls]")
        .await;
    let details_id = button.attr("aria-controls").await.unwrap().unwrap();
    (button, details_id)
}

#[tokio::test]
async fn the_keyboard_opens_a_rows_details_and_closes_them() {
    let Some((browser, demo)) = support::start().await else {
        return;
    };
    let order = post_order(&demo, "keyboard").await;
    open_from_menu(&browser).await;
    filter_by_customer(&browser, &order.customer_name).await;
    let (button, details_id) = only_arrow(&browser).await;
    let details = browser.wait_for(&format!("tr.details#{details_id}")).await;
    assert!(!details.is_displayed().await.unwrap());

    // Space on the focused button, as a keyboard user presses it.
    button.send_keys(" ").await.unwrap();
    browser.wait_attr(&button, "aria-expanded", "true").await;
    browser.wait_shown(&details, true).await;
    let items = browser
        .text(&format!("#{details_id} table.line-items"))
        .await;
    assert!(
        items.contains("Contoso Word Suite") && items.contains("sub-bbbb-2222"),
        "{items}"
    );
    let facts = browser.text(&format!("#{details_id} dl.facts")).await;
    assert!(facts.contains(&order.id), "{facts}");

    button
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    browser.wait_attr(&button, "aria-expanded", "false").await;
    browser.wait_shown(&details, false).await;
    // Open again: the same details, still there.
    button
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    browser.wait_shown(&details, true).await;
    let customized = browser.text(&format!("#{details_id} dl.customized")).await;
    assert!(customized.contains("order-4242"), "{customized}");
}

#[tokio::test]
async fn hostile_text_in_the_details_is_shown_literally_and_runs_nothing() {
    let Some((browser, demo)) = support::start().await else {
        return;
    };
    let hostile = "</script><img src=x onerror=alert(1)> \"quoted\" <script>alert(2)</script>";
    let record = json!({
        // An id the page's script must encode to ask for its details.
        "id": "xss/details?a=1&b=\"<b>\"#frag %2F",
        "customerId": "xss-details-customer",
        "customerName": format!("Hostile {hostile}"),
        "userPrincipalName": "x@y",
        "resourceType": "subscription",
        "operationType": "update_subscription",
        "operationStatus": "succeeded",
        "operationDate": now(),
        "resourceOldValue": json!({ "Name": hostile, "Quantity": 1 }).to_string(),
        "resourceNewValue": json!({ "Name": hostile, "Quantity": 2 }).to_string(),
        "customizedData": [{ "key": "Hostile", "value": hostile }],
    });
    demo.post_records(json!([record])).await;
    open_from_menu(&browser).await;
    filter_by_customer(&browser, "Hostile").await;
    let (button, details_id) = only_arrow(&browser).await;
    button.click().await.unwrap();
    browser.wait_attr(&button, "aria-expanded", "true").await;

    let customized = browser
        .text(&format!("#{details_id} dl.customized dd"))
        .await;
    assert_eq!(customized, hostile);
    let facts = browser.text(&format!("#{details_id} dl.facts")).await;
    assert!(
        facts.contains("xss/details?a=1&b=\"<b>\"#frag %2F"),
        "{facts}"
    );
    let changes = browser.text(&format!("#{details_id} table.changes")).await;
    assert!(changes.contains(hostile), "{changes}");
    assert!(!browser.exists("img").await, "markup from the record");
    assert!(
        !browser.exists(&format!("#{details_id} script")).await,
        "a script element from the record"
    );
    assert!(
        browser.client.get_alert_text().await.is_err(),
        "a script ran"
    );
}
