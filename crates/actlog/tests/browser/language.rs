//! Italian, from the browser's language and from the user's own preference.

use crate::log_page::{headers, open_from_menu, rows, shown_time};
use crate::support::{self, BROWSER_TZ, GLOBAL_ADMIN, PASSWORD};

#[tokio::test]
async fn an_italian_browser_is_greeted_in_italian() {
    let Some((browser, _demo)) = support::start_in("it-IT").await else {
        return;
    };
    browser.goto("/").await;
    browser.wait_for("#email").await;
    let lang = browser.wait_for("html").await.attr("lang").await.unwrap();
    assert!(lang.is_some_and(|l| l.starts_with("it")));
    assert_eq!(browser.text("h1").await, "Accedi");
    browser
        .sign_in_by_labels(GLOBAL_ADMIN, PASSWORD, "Accedi")
        .await;

    assert_eq!(
        browser.text("details.menu > summary").await,
        "Impostazioni account"
    );
    browser.open_menu().await;
    let link = browser
        .wait_for("details.menu a[href='/activity-log']")
        .await;
    assert_eq!(link.text().await.unwrap().trim(), "Log attività");
}

#[tokio::test]
async fn choosing_italian_translates_the_activity_log_and_its_dates() {
    let Some((browser, _demo)) = support::start().await else {
        return;
    };
    open_from_menu(&browser).await;
    assert_eq!(
        headers(&browser).await,
        ["Date-Time", "Affected customer", "Action", "Partner user"]
    );

    browser.open_menu().await;
    let lang = browser
        .wait_for("form#preferences select#pref-lang[name=lang]")
        .await;
    let mut offered = Vec::new();
    for option in lang
        .find_all(fantoccini::Locator::Css("option"))
        .await
        .unwrap()
    {
        offered.push(option.attr("value").await.unwrap().unwrap_or_default());
    }
    assert_eq!(offered, ["", "en-US", "it-IT"]);
    lang.select_by_value("it-IT").await.unwrap();
    let tz = browser.wait_for("form#preferences #pref-tz[name=tz]").await;
    let tz = tz.prop("value").await.unwrap().unwrap_or_default();
    let tz = if tz.is_empty() {
        BROWSER_TZ.to_owned()
    } else {
        tz
    };
    let save = browser
        .wait_for("form#preferences button#save-preferences")
        .await;
    browser.click_and_wait(&save).await;

    if browser.path().await != "/activity-log" {
        browser.goto("/activity-log").await;
    }
    browser.wait_for("table#activity").await;
    assert_eq!(
        headers(&browser).await,
        [
            "Data-ora",
            "Cliente interessato",
            "Azione",
            "Utente partner"
        ]
    );
    assert_eq!(
        browser.text("details.menu > summary").await,
        "Impostazioni account"
    );
    assert_eq!(browser.text("button#export-button").await, "Esporta log");
    assert_eq!(browser.text("label[for=from]").await, "Da");
    assert_eq!(browser.text("label[for=to]").await, "a");
    let rows = rows(&browser).await;
    assert!(!rows.is_empty());
    for row in &rows {
        let datetime = row.datetime.as_deref().unwrap();
        assert_eq!(row.when, shown_time(datetime, &tz, true), "{row:?}");
    }
}
