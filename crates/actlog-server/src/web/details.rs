//! `/activity-log/details?id=…`: one record's details, the HTML fragment the activity log's
//! down arrow loads into its row.
//!
//! The log page itself carries no details: one order of many products is kilobytes, and 50 of
//! them inline made the page over 300 KB (issue 11). The page's script asks for a row's
//! fragment when the pointer or the keyboard focus reaches its arrow, so it is usually there
//! before the click. The look-up is the signed-in user's partner's (another partner's id is a
//! 404 like an unknown one), under the same role check as the page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use actlog_domain::AuditRecord;
use actlog_domain::catalog::{RESOURCES, STATUSES};
use actlog_domain::details::{Change, Details, LineItem};

use crate::auth::SignedIn;
use crate::params::Params;
use crate::state::AppState;
use crate::web::activity::forbidden;
use crate::web::format;
use crate::web::i18n::Tr;
use crate::web::page::{self, render};

/// A record's details, readable: line items, values before and after, the customizedData
/// list, identifying facts, and the raw record one click further.
#[derive(Debug, Template)]
#[template(path = "activity_details.html")]
pub struct RecordDetails {
    pub tr: Tr,
    pub line_items: Vec<LineItem>,
    pub changes: Vec<Change>,
    pub changes_cut: bool,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
    pub customized: Vec<(String, String)>,
    /// Identifying facts: label and value.
    pub facts: Vec<(String, String)>,
    /// The record as the API returns it, pretty-printed.
    pub raw: String,
}

impl RecordDetails {
    /// Whether the resource only has a new value (a creation).
    pub fn only_new(&self) -> bool {
        self.old_text.is_none() && self.changes.iter().all(|c| c.old.is_none())
    }

    /// Whether the resource only has an old value (a removal).
    pub fn only_old(&self) -> bool {
        self.new_text.is_none() && self.changes.iter().all(|c| c.new.is_none())
    }

    /// Whether one column of values says it all.
    pub fn one_sided(&self) -> bool {
        self.only_new() || self.only_old()
    }

    /// The details of `record`, in `tr`'s language.
    pub fn of(record: &AuditRecord, tr: Tr) -> RecordDetails {
        let lang = tr.lang;
        let details = Details::of(record);
        RecordDetails {
            line_items: details
                .line_items
                .into_iter()
                .map(|mut item| {
                    item.quantity = item.quantity.map(|q| format::quantity(&q, lang));
                    item
                })
                .collect(),
            changes: details.changes,
            changes_cut: details.changes_cut,
            old_text: details.old_text,
            new_text: details.new_text,
            customized: record
                .customized_data
                .iter()
                .flatten()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect(),
            facts: facts(record, &tr),
            raw: serde_json::to_string_pretty(record).unwrap_or_default(),
            tr,
        }
    }
}

fn facts(record: &AuditRecord, tr: &Tr) -> Vec<(String, String)> {
    let lang = tr.lang;
    let mut facts = vec![
        (tr.t("details-id"), record.id.clone()),
        (tr.t("details-date-utc"), record.operation_date.to_string()),
        (
            tr.t("details-operation-code"),
            record.operation_type.clone(),
        ),
    ];
    let mut fact = |label: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            facts.push((tr.t(label), value));
        }
    };
    fact("details-customer-id", record.customer_id.clone());
    fact(
        "details-resource",
        record
            .resource_type
            .as_deref()
            .map(|r| format!("{} ({r})", RESOURCES.label(r, lang))),
    );
    fact(
        "details-status",
        record
            .operation_status
            .as_deref()
            .map(|s| format!("{} ({s})", STATUSES.label(s, lang))),
    );
    fact("details-application", record.application_id.clone());
    fact("details-session", record.session_id.clone());
    fact(
        "details-correlation",
        record.original_correlation_id.clone(),
    );
    facts
}

/// `GET /activity-log/details?id=…`: the fragment, or a 404 (also for another partner's id).
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let user = signed_in.user().clone();
    let lang = page::language(Some(&user), &headers);
    if !user.can_view_log {
        return forbidden(&state, lang, &signed_in);
    }
    let tr = Tr::new(lang);
    let id = params.get("id").unwrap_or("");
    let partner = &signed_in.0.partner_id;
    match state.query(partner, state.store.get(partner, id)).await {
        Ok(Some(record)) => render(StatusCode::OK, &RecordDetails::of(&record, tr)),
        Ok(None) => (StatusCode::NOT_FOUND, tr.t("details-failed")).into_response(),
        Err(err) => {
            tracing::warn!(code = err.code.as_str(), detail = %err.detail, "a record's details could not be read");
            (err.code.status(), tr.t("details-failed")).into_response()
        }
    }
}
