//! `/customers/{id}/subscriptions`: a customer's subscriptions as its records tell them, each
//! with a link to its own activity, read from the projection the store keeps up to date at
//! ingest (`RecordReader::subscriptions`), [`PAGE_SIZE`] at a time: a customer may have
//! hundreds of thousands. A page's link to the next carries where it ended (`after`) and the
//! next page's first row number (`first`).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use actlog_domain::OperationDate;
use actlog_domain::subscriptions::SubscriptionsAfter;
use actlog_domain::subscriptions::state::CustomerSubscriptions;
use fluent_bundle::FluentValue;

use crate::auth::SignedIn;
use crate::paging::row_number;
use crate::params::Params;
use crate::state::AppState;
use crate::web::activity::{forbidden, today, user_time_zone, zone_name};
use crate::web::format;
use crate::web::page::{self, Frame, render};
use crate::web::url::with_query;

/// One subscription, ready to show.
#[derive(Debug)]
pub struct SubscriptionRow {
    pub id: String,
    pub product: Option<String>,
    pub offer_id: Option<String>,
    pub quantity: Option<String>,
    pub status: Option<String>,
    pub status_class: String,
    pub last_change: String,
    pub last_change_utc: String,
    pub activity: String,
}

#[derive(Template)]
#[template(path = "subscriptions.html")]
struct Subscriptions {
    frame: Frame,
    heading: String,
    customer_id: String,
    rows: Vec<SubscriptionRow>,
    customer_activity: String,
    tz: String,
    errors: Vec<String>,
    summary: String,
    showing: Option<String>,
    next: Option<String>,
    first_page: Option<String>,
}

/// Subscriptions on one page.
pub const PAGE_SIZE: usize = 100;

/// The `after` of a link to the page that follows `at`: its two parts as a JSON array,
/// base64url (opaque, and nothing in it a query string could read two ways).
fn after_token(at: &SubscriptionsAfter) -> String {
    let json = serde_json::to_vec(&(&at.product, &at.subscription)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn read_after(token: &str) -> Option<SubscriptionsAfter> {
    let json = URL_SAFE_NO_PAD.decode(token).ok()?;
    let (product, subscription) = serde_json::from_slice::<(String, String)>(&json).ok()?;
    Some(SubscriptionsAfter {
        product,
        subscription,
    })
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
    params: Params,
) -> Response {
    let user = signed_in.user().clone();
    let lang = page::language(Some(&user), &headers);
    // A customer id that is not UTF-8 names no customer.
    let Ok(Path(customer_id)) = path else {
        return page::message(
            &state,
            lang,
            Some(user),
            StatusCode::NOT_FOUND,
            "not-found-title",
            "not-found-text",
        );
    };
    if !user.can_view_log {
        return forbidden(&state, lang, &signed_in);
    }
    let partner = &signed_in.0.partner_id;
    let tr = crate::web::i18n::Tr::new(lang);
    // Where the page begins: after the subscription a previous page ended with. A link that
    // cannot be read (edited, cut short) shows the first page, says so, and is a 400.
    let mut errors = Vec::new();
    let mut status = StatusCode::OK;
    let mut after = None;
    let mut first_row = 1;
    if let Some(token) = params.get("after").filter(|t| !t.is_empty()) {
        match (read_after(token), params.get("first").map(row_number)) {
            (Some(at), Some(Ok(first))) => {
                after = Some(at);
                first_row = first;
            }
            _ => {
                errors.push(tr.t("subs-bad-page"));
                status = StatusCode::BAD_REQUEST;
            }
        }
    }
    // Read from the projection the store keeps at ingest, never folded per request.
    let found = state
        .query(
            partner,
            state
                .store
                .subscriptions(partner, &customer_id, after.as_ref(), PAGE_SIZE),
        )
        .await;
    let page = match found {
        Ok(Some(page)) => page,
        // Unknown here, whether it is another partner's customer or nobody's.
        Ok(None) => {
            return page::message(
                &state,
                lang,
                Some(user),
                StatusCode::NOT_FOUND,
                "not-found-title",
                "subs-unknown-customer",
            );
        }
        Err(err) => {
            tracing::warn!(code = err.code.as_str(), detail = %err.detail, "a customer's subscriptions could not be read");
            return page::message(
                &state,
                lang,
                Some(user),
                err.code.status(),
                "error-title",
                "error-text",
            );
        }
    };
    let next = page.next();
    let CustomerSubscriptions {
        name,
        oldest,
        total,
        subscriptions,
        ..
    } = page;
    let tz = user_time_zone(&signed_in.0, &headers);
    let today = today(&state, &tz).to_string();
    let day = |at: OperationDate| tz.to_datetime(at.timestamp()).date().to_string();
    let mut frame = Frame::new(&state, lang, "subs-title", Some(user));
    frame.here = uri.to_string();
    let shown = subscriptions.len() as u64;
    let rows = subscriptions
        .into_iter()
        .map(|s| {
            let status_class = s.status.as_deref().unwrap_or("").to_ascii_lowercase();
            let status = s.status.as_deref().map(|code| {
                let id = format!("sub-status-{}", code.to_ascii_lowercase());
                let label = tr.t(&id);
                if label == id { code.to_owned() } else { label }
            });
            SubscriptionRow {
                activity: with_query(
                    "/activity-log",
                    &[
                        ("from", &day(s.first_seen)),
                        ("to", &today),
                        ("customer_id", &customer_id),
                        ("q", &s.id),
                    ],
                ),
                last_change: format::date_time(s.last_change, &tz, lang),
                last_change_utc: s.last_change.to_string(),
                id: s.id,
                product: s.product,
                offer_id: s.offer_id,
                quantity: s.quantity.map(|q| format::quantity(&q, lang)),
                status,
                status_class,
            }
        })
        .collect();
    let customer = name.unwrap_or_else(|| customer_id.clone());
    let here = |after: Option<(&SubscriptionsAfter, u64)>| match after {
        Some((at, first)) => with_query(
            &super::activity::subscriptions_href(&customer_id),
            &[("after", &after_token(at)), ("first", &first.to_string())],
        ),
        None => super::activity::subscriptions_href(&customer_id),
    };
    let summary = tr.args(
        "subs-summary",
        &[
            ("count", FluentValue::from(total)),
            ("shown", format::count(total, lang).into()),
        ],
    );
    let showing = (shown > 0 && (shown < total || first_row > 1)).then(|| {
        tr.args(
            "log-showing",
            &[
                ("first", format::count(first_row, lang).into()),
                ("last", format::count(first_row + shown - 1, lang).into()),
            ],
        )
    });
    let page = Subscriptions {
        heading: tr.t1("subs-heading", "customer", customer),
        customer_activity: with_query(
            "/activity-log",
            &[
                ("from", &day(oldest)),
                ("to", &today),
                ("customer_id", &customer_id),
            ],
        ),
        tz: zone_name(&tz),
        next: next.as_ref().map(|at| here(Some((at, first_row + shown)))),
        first_page: after.is_some().then(|| here(None)),
        errors,
        summary,
        showing,
        customer_id,
        rows,
        frame,
    };
    render(status, &page)
}
