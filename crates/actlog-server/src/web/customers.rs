//! `/customers/{id}/subscriptions`: a customer's subscriptions as its records tell them, each
//! with a link to its own activity, read from the projection the store keeps up to date at
//! ingest (`RecordReader::subscriptions`).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use actlog_domain::OperationDate;

use crate::auth::SignedIn;
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
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    uri: Uri,
    path: Result<Path<String>, PathRejection>,
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
    // Read from the projection the store keeps at ingest, never folded per request.
    let found = state
        .query(partner, state.store.subscriptions(partner, &customer_id))
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
    let (name, oldest) = (page.name, page.oldest);
    let tz = user_time_zone(&signed_in.0, &headers);
    let today = today(&state, &tz).to_string();
    let day = |at: OperationDate| tz.to_datetime(at.timestamp()).date().to_string();
    let mut frame = Frame::new(&state, lang, "subs-title", Some(user));
    frame.here = uri.to_string();
    let tr = frame.tr;
    let rows = page
        .subscriptions
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
        customer_id,
        rows,
        frame,
    };
    render(StatusCode::OK, &page)
}
