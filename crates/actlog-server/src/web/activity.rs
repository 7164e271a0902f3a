//! `/activity-log`: the seed's page. A period (From / To, the most recent month by default, in
//! the user's time zone), filters, the table newest first with keyset paging, every row
//! expandable into its details (loaded on expand from [`super::details`]), and Export log
//! through the export endpoint.
//!
//! Everything the view depends on is in the URL, so a view can be bookmarked and shared; a bad
//! period or filter is said on the page, never answered with an error page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use fluent_bundle::FluentValue;
use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::json;

use actlog_domain::AuditRecord;
use actlog_domain::catalog::{Lang, OPERATIONS, STATUSES};
use actlog_domain::filter::Filter;
use actlog_domain::query::{PageRequest, Query, Window};
use actlog_domain::time::day_start;

use crate::auth::{Principal, SignedIn};
use crate::paging::row_number;
use crate::params::Params;
use crate::state::AppState;
use crate::web::format;
use crate::web::i18n::Tr;
use crate::web::page::{self, Frame, render};
use crate::web::url::{encode, with_query};

/// Rows per page.
pub const PAGE_SIZE: usize = 50;
/// The page counts a period's records up to this many, then says "more than"; counting a
/// busy partner's whole month would cost more than showing its first page.
pub const COUNT_LIMIT: u64 = 10_000;
/// The count's limit when the filter reads records' text ([`Filter::reads_text`]): each record
/// counted is read whole, so counting 10,000 matches of a common word would cost many times
/// the page itself.
pub const TEXT_COUNT_LIMIT: u64 = 1_000;

/// The page's parameters, as the URL carries them.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub from: String,
    pub to: String,
    /// Customer name (substring).
    pub customer: String,
    /// Customer id (exact), set by links from a Subscriptions page.
    pub customer_id: String,
    pub operation: String,
    pub user: String,
    pub status: String,
    pub q: String,
}

impl View {
    fn read(params: &Params) -> View {
        let get = |name: &str| params.get(name).unwrap_or("").trim().to_owned();
        View {
            from: get("from"),
            to: get("to"),
            customer: get("customer"),
            customer_id: get("customer_id"),
            operation: get("operation"),
            user: get("user"),
            status: get("status"),
            q: get("q"),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("from", &self.from),
            ("to", &self.to),
            ("customer", &self.customer),
            ("customer_id", &self.customer_id),
            ("operation", &self.operation),
            ("user", &self.user),
            ("status", &self.status),
            ("q", &self.q),
        ]
    }

    /// The link to this view (optionally at a later page).
    pub fn link(&self, page: Option<(&str, u64)>) -> String {
        let mut pairs = self.pairs();
        let first;
        if let Some((token, n)) = page {
            first = n.to_string();
            pairs.push(("page", token));
            pairs.push(("first", &first));
        }
        with_query("/activity-log", &pairs)
    }

    fn has_filters(&self) -> bool {
        [
            &self.customer,
            &self.customer_id,
            &self.operation,
            &self.user,
            &self.status,
            &self.q,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    /// The filter JSON for the view's filters (Partner Center's syntax, and-ed).
    fn filter(&self) -> Result<Option<Filter>, String> {
        let mut conditions = Vec::new();
        let mut add = |field: &str, operator: &str, value: &str| {
            if !value.is_empty() {
                conditions.push(json!({ "Field": field, "Operator": operator, "Value": value }));
            }
        };
        add("CompanyName", "substring", &self.customer);
        add("CustomerId", "equals", &self.customer_id);
        add("OperationType", "equals", &self.operation);
        add("UserPrincipalName", "substring", &self.user);
        add("OperationStatus", "equals", &self.status);
        add("Text", "substring", &self.q);
        if conditions.is_empty() {
            return Ok(None);
        }
        let json = json!({ "Operator": "and", "Filters": conditions }).to_string();
        Filter::parse(&json).map(Some).map_err(|e| e.0)
    }
}

/// A choice in a select.
#[derive(Debug)]
pub struct Choice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

/// One table row (its details are loaded on expand: [`super::details`]).
#[derive(Debug)]
pub struct Row {
    /// The id of the details row (`aria-controls`).
    pub dom_id: String,
    pub id: String,
    pub when: String,
    pub when_utc: String,
    pub customer: Option<String>,
    pub customer_href: Option<String>,
    pub action: String,
    /// The status label when the action did not simply succeed.
    pub status_note: Option<String>,
    pub status_class: &'static str,
    pub user: Option<String>,
}

/// The export form's hidden fields.
#[derive(Debug)]
pub struct ExportLink {
    pub start: String,
    pub end: String,
    pub filter: String,
    pub tz: String,
    pub lang: String,
    /// Whether the deployment signs its logs, so that a proof bundle can be offered.
    pub proof: bool,
}

#[derive(Template)]
#[template(path = "activity_log.html")]
struct ActivityLog {
    frame: Frame,
    view: View,
    errors: Vec<String>,
    operations: Vec<Choice>,
    statuses: Vec<Choice>,
    rows: Vec<Row>,
    summary: Option<String>,
    showing: Option<String>,
    next: Option<String>,
    newest: Option<String>,
    export: Option<ExportLink>,
    reset: String,
}

/// The time zone of a signed-in user's pages: the user's choice, else the browser's, else UTC.
pub fn user_time_zone(principal: &Principal, headers: &HeaderMap) -> TimeZone {
    crate::export::time_zone(None, principal, headers).unwrap_or(TimeZone::UTC)
}

/// The name a time zone is shown (and exported) by.
pub fn zone_name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("UTC").to_owned()
}

/// Today in `tz`.
pub fn today(state: &AppState, tz: &TimeZone) -> Date {
    tz.to_datetime(state.clock.now().timestamp()).date()
}

/// The 403 page for users whose roles do not include the activity log.
pub fn forbidden(state: &AppState, lang: Lang, signed_in: &SignedIn) -> Response {
    page::message(
        state,
        lang,
        Some(signed_in.user().clone()),
        StatusCode::FORBIDDEN,
        "forbidden-title",
        "forbidden-text",
    )
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    uri: Uri,
    params: Params,
) -> Response {
    let user = signed_in.user().clone();
    let lang = page::language(Some(&user), &headers);
    if !user.can_view_log {
        return forbidden(&state, lang, &signed_in);
    }
    let tr = Tr::new(lang);
    let tz = user_time_zone(&signed_in.0, &headers);
    let today = today(&state, &tz);
    let mut view = View::read(&params);
    if view.to.is_empty() {
        view.to = today.to_string();
    }
    if view.from.is_empty() {
        let to = view.to.parse::<Date>().unwrap_or(today);
        view.from = to.checked_sub(1.month()).unwrap_or(to).to_string();
    }

    let mut errors = Vec::new();
    let parse_day = |text: &str, errors: &mut Vec<String>| match text.parse::<Date>() {
        Ok(day) if day.year() >= 1 => Some(day),
        _ => {
            errors.push(tr.t1("log-bad-date", "value", text.to_owned()));
            None
        }
    };
    let from = parse_day(&view.from, &mut errors);
    let to = parse_day(&view.to, &mut errors);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        errors.push(tr.args(
            "log-reversed",
            &[
                ("from", format::day(from, lang).into()),
                ("to", format::day(to, lang).into()),
            ],
        ));
    }
    let filter = view.filter().unwrap_or_else(|reason| {
        errors.push(tr.t1("log-bad-filter", "reason", reason));
        None
    });

    let mut frame = Frame::new(&state, lang, "log-title", Some(user));
    frame.here = uri.to_string();
    let mut page = ActivityLog {
        frame,
        operations: choices(&OPERATIONS, &view.operation, lang),
        statuses: choices(&STATUSES, &view.status, lang),
        reset: with_query("/activity-log", &[("from", &view.from), ("to", &view.to)]),
        view,
        errors,
        rows: Vec::new(),
        summary: None,
        showing: None,
        next: None,
        newest: None,
        export: None,
    };
    let (Some(from), Some(to)) = (from, to) else {
        return render(StatusCode::OK, &page);
    };
    if !page.errors.is_empty() {
        return render(StatusCode::OK, &page);
    }
    let end = to
        .tomorrow()
        .map_or(actlog_domain::OperationDate::MAX, |d| day_start(d, &tz));
    let query = Query {
        window: Window {
            start: day_start(from, &tz),
            end: Some(end),
        },
        filter,
    };
    let partner = signed_in.0.partner_id.clone();
    let mut first_row: u64 = 1;
    let mut status = StatusCode::OK;
    let mut request = PageRequest {
        query: query.clone(),
        size: PAGE_SIZE,
        after: None,
        snapshot: None,
    };
    if let Some(token) = params.get("page").filter(|t| !t.is_empty()) {
        match state.cursor_key.open(&partner, token) {
            Ok(later) if later.query == query => match params.get("first").map(row_number) {
                // A row number the page cannot show (`first=18446744073709551615` wrapped
                // around): the newest rows, the error said, and a 400.
                Some(Err(_)) => {
                    page.errors.push(tr.t("log-bad-page"));
                    status = StatusCode::BAD_REQUEST;
                }
                first => {
                    request = later;
                    first_row = first.and_then(Result::ok).unwrap_or(1);
                }
            },
            _ => page.errors.push(tr.t("log-bad-page")),
        }
    }

    let count_limit = if query.filter.as_ref().is_some_and(Filter::reads_text) {
        TEXT_COUNT_LIMIT
    } else {
        COUNT_LIMIT
    };
    let (records, total) = match tokio::try_join!(
        state.query(&partner, state.store.page(&partner, &request)),
        state.query(
            &partner,
            state.store.count_at_most(&partner, &query, count_limit + 1)
        )
    ) {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(code = err.code.as_str(), detail = %err.detail, "the activity log could not be read");
            return page::message(
                &state,
                lang,
                Some(signed_in.user().clone()),
                err.code.status(),
                "error-title",
                "error-text",
            );
        }
    };
    let shown = records.records.len() as u64;
    if let Some(at) = records.next {
        let token = state
            .cursor_key
            .issue(&partner, &request, at, records.snapshot);
        page.next = Some(page.view.link(Some((&token, first_row + shown))));
    }
    if request.after.is_some() {
        page.newest = Some(page.view.link(None));
    }
    let (summary, counted) = if total > count_limit {
        ("log-summary-many", count_limit)
    } else {
        ("log-summary", total)
    };
    page.summary = Some(tr.args(
        summary,
        &[
            ("count", FluentValue::from(counted)),
            ("shown", format::count(counted, lang).into()),
            ("from", format::day(from, lang).into()),
            ("to", format::day(to, lang).into()),
            ("tz", zone_name(&tz).into()),
        ],
    ));
    if shown > 0 && (shown < total || first_row > 1) {
        page.showing = Some(tr.args(
            "log-showing",
            &[
                ("first", format::count(first_row, lang).into()),
                ("last", format::count(first_row + shown - 1, lang).into()),
            ],
        ));
    }
    page.export = Some(ExportLink {
        start: query.window.start.to_string(),
        end: end.to_string(),
        filter: query
            .filter
            .as_ref()
            .map(Filter::to_json)
            .unwrap_or_default(),
        tz: zone_name(&tz),
        lang: lang.tag().to_owned(),
        proof: state.config.checkpoints.is_some(),
    });
    page.rows = records
        .records
        .iter()
        .enumerate()
        .map(|(i, record)| row(record, i, &tz, &tr))
        .collect();
    render(status, &page)
}

fn choices(catalog: &actlog_domain::catalog::Catalog, selected: &str, lang: Lang) -> Vec<Choice> {
    let mut list: Vec<Choice> = catalog
        .entries()
        .iter()
        .map(|e| Choice {
            code: e.code.to_owned(),
            label: e.label(lang).to_owned(),
            selected: e.code.eq_ignore_ascii_case(selected),
        })
        .collect();
    if !selected.is_empty() && !list.iter().any(|c| c.selected) {
        // A code the catalog does not know yet (a shared link, a new operation type).
        list.push(Choice {
            code: selected.to_owned(),
            label: actlog_domain::catalog::humanize(selected),
            selected: true,
        });
    }
    list.sort_by_cached_key(|c| c.label.to_lowercase());
    list
}

/// The path of a customer's Subscriptions page.
pub fn subscriptions_href(customer_id: &str) -> String {
    format!("/customers/{}/subscriptions", encode(customer_id))
}

fn row(record: &AuditRecord, index: usize, tz: &TimeZone, tr: &Tr) -> Row {
    let lang = tr.lang;
    let (status_note, status_class) = match record.operation_status.as_deref() {
        None => (None, ""),
        Some(s) if s.eq_ignore_ascii_case("succeeded") => (None, "ok"),
        Some(s) => (
            Some(STATUSES.label(s, lang).into_owned()),
            if s.eq_ignore_ascii_case("failed") || s.eq_ignore_ascii_case("decline") {
                "bad"
            } else {
                "pending"
            },
        ),
    };
    Row {
        dom_id: format!("details-{index}"),
        id: record.id.clone(),
        when: format::date_time(record.operation_date, tz, lang),
        when_utc: record.operation_date.to_string(),
        customer: record.customer_name.clone().filter(|n| !n.is_empty()),
        customer_href: record.customer_id.as_deref().map(subscriptions_href),
        action: OPERATIONS.label(&record.operation_type, lang).into_owned(),
        status_note,
        status_class,
        user: record.user_principal_name.clone(),
    }
}
