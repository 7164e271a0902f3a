//! The columns of a spreadsheet export, their headers in each language, and the text of each
//! column for one record.
//!
//! The four columns of the dashboard's table come first (Date-Time in the export's time zone,
//! Affected customer, Action, Partner user), then what identifies the record exactly: the UTC
//! instant, customer id, operation type, resource type, status, application, record id, and the
//! Details cell. Wire values (operation type, resource type) are written as recorded, so that
//! an unknown value is never turned into something else; the Action column is the readable,
//! localized label of the operation and the Status column that of the status (an unknown
//! status is written as recorded).

use actlog_domain::AuditRecord;
use actlog_domain::catalog::{self, Lang, OPERATIONS, STATUSES};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::{details, time_text};

/// How many columns a spreadsheet export has.
pub const COUNT: usize = 12;

/// Index of the local Date-Time column (a date cell in XLSX).
pub(crate) const LOCAL_TIME: usize = 0;

/// Column widths for XLSX, in Excel's character units (fixed: constant-memory mode cannot
/// autofit, and a 32,767-character Details cell must not widen its column to the maximum).
pub(crate) const WIDTHS: [f64; COUNT] = [
    20.0, 34.0, 40.0, 30.0, 30.0, 38.0, 30.0, 18.0, 14.0, 38.0, 38.0, 80.0,
];

/// The header row. `zone` names the time zone of the first column (e.g. `Europe/Rome`).
pub fn headers(lang: Lang, zone: &str) -> [String; COUNT] {
    let (local, rest): (&str, [&str; COUNT - 1]) = match lang {
        Lang::En => (
            "Date-Time",
            [
                "Affected customer",
                "Action",
                "Partner user",
                "Date-Time (UTC, exact)",
                "Customer ID",
                "Operation type",
                "Resource type",
                "Status",
                "Application ID",
                "Record ID",
                "Details",
            ],
        ),
        Lang::It => (
            "Data-ora",
            [
                "Cliente interessato",
                "Azione",
                "Utente partner",
                "Data-ora (UTC, esatta)",
                "ID cliente",
                "Tipo di operazione",
                "Tipo di risorsa",
                "Stato",
                "ID applicazione",
                "ID record",
                "Dettagli",
            ],
        ),
    };
    let mut headers: [String; COUNT] = Default::default();
    headers[LOCAL_TIME] = format!("{local} ({zone})");
    for (slot, text) in headers[1..].iter_mut().zip(rest) {
        *slot = text.to_owned();
    }
    headers
}

/// The name a header gives a time zone: its IANA name, or its fixed offset (`UTC+02:00`).
pub fn zone_name(tz: &TimeZone) -> String {
    if let Some(name) = tz.iana_name() {
        return name.to_owned();
    }
    match tz.to_fixed_offset() {
        Ok(offset) if offset.seconds() == 0 => "UTC".to_owned(),
        Ok(offset) => format!("UTC{offset}"),
        Err(_) => "local time".to_owned(),
    }
}

/// Buffers reused from row to row, so that a row costs no allocation in the common case.
#[derive(Debug, Default)]
pub(crate) struct RowText {
    local_text: String,
    utc_text: String,
    action: String,
    details: String,
}

impl RowText {
    /// The text of every column for `record`, in column order.
    pub fn fill<'a>(
        &'a mut self,
        record: &'a AuditRecord,
        lang: Lang,
        tz: &TimeZone,
    ) -> Filled<'a> {
        let local = time_text::local(record.operation_date, tz);
        self.local_text.clear();
        time_text::push_local(&mut self.local_text, local);
        self.utc_text.clear();
        time_text::push_utc(&mut self.utc_text, record.operation_date);
        details::render(&mut self.details, record, lang);
        let action = match OPERATIONS.get(&record.operation_type) {
            Some(entry) => entry.label(lang),
            None => {
                self.action = catalog::humanize(&record.operation_type);
                &self.action
            }
        };
        let status = record
            .operation_status
            .as_deref()
            .map(|code| STATUSES.get(code).map_or(code, |entry| entry.label(lang)));
        let text = |value: &'a Option<String>| value.as_deref().unwrap_or("");
        let cells = [
            &self.local_text,
            text(&record.customer_name),
            action,
            text(&record.user_principal_name),
            &self.utc_text,
            text(&record.customer_id),
            &record.operation_type,
            text(&record.resource_type),
            status.unwrap_or(""),
            text(&record.application_id),
            &record.id,
            &self.details,
        ];
        Filled { local, cells }
    }
}

/// One record's columns.
#[derive(Debug)]
pub(crate) struct Filled<'a> {
    /// The local Date-Time as a date (CSV writes its text, XLSX a date cell).
    pub local: DateTime,
    pub cells: [&'a str; COUNT],
}

#[cfg(test)]
mod tests {
    use actlog_domain::{KeyValue, OperationDate};

    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            id: "rec-1".into(),
            partner_id: "p1".into(),
            customer_id: Some("cust-1".into()),
            customer_name: Some("Società Caffè \"Il Moro\", S.r.l.".into()),
            user_principal_name: Some("anna@partner.example".into()),
            application_id: Some("app-1".into()),
            resource_type: Some("order".into()),
            resource_old_value: None,
            resource_new_value: Some("{}".into()),
            operation_type: "create_order".into(),
            operation_date: OperationDate::parse_rfc3339("2017-06-15T22:56:05.0589308Z").unwrap(),
            operation_status: Some("succeeded".into()),
            customized_data: Some(vec![KeyValue {
                key: "k".into(),
                value: Some("v".into()),
            }]),
            session_id: None,
            original_correlation_id: None,
            attributes: Default::default(),
            extensions: Default::default(),
        }
    }

    #[test]
    fn headers_name_the_zone_in_the_export_language() {
        let en = headers(Lang::En, "Europe/Rome");
        assert_eq!(en[0], "Date-Time (Europe/Rome)");
        assert_eq!(en[1..4], ["Affected customer", "Action", "Partner user"]);
        let it = headers(Lang::It, "Europe/Rome");
        assert_eq!(it[0], "Data-ora (Europe/Rome)");
        assert_eq!(
            it[1..4],
            ["Cliente interessato", "Azione", "Utente partner"]
        );
        assert_eq!(it[COUNT - 1], "Dettagli");
    }

    #[test]
    fn zones_without_a_name_are_named_by_offset() {
        assert_eq!(
            zone_name(&TimeZone::get("Europe/Rome").unwrap()),
            "Europe/Rome"
        );
        assert_eq!(zone_name(&TimeZone::UTC), "UTC");
        let fixed = TimeZone::fixed(jiff::tz::offset(2));
        assert_eq!(zone_name(&fixed), "UTC+02");
    }

    #[test]
    fn a_known_record_reads_in_both_languages() {
        let rec = record();
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let mut row = RowText::default();
        let en = row.fill(&rec, Lang::En, &rome).cells;
        assert_eq!(
            en,
            [
                "2017-06-16 00:56:05",
                "Società Caffè \"Il Moro\", S.r.l.",
                "Created an order",
                "anna@partner.example",
                "2017-06-15T22:56:05.0589308Z",
                "cust-1",
                "create_order",
                "order",
                "Succeeded",
                "app-1",
                "rec-1",
                "k: v\nAfter: {}",
            ]
        );
        let it = row.fill(&rec, Lang::It, &rome).cells;
        assert_eq!(it[2], "Ha creato un ordine");
        assert_eq!(it[8], "Riuscita");
        assert_eq!(it[11], "k: v\nDopo: {}");
    }

    #[test]
    fn unknown_and_absent_values_are_kept_not_invented() {
        let mut rec = record();
        rec.operation_type = "launch_rocket_v2".into();
        rec.operation_status = Some("paused_by_admin".into());
        rec.customer_name = None;
        rec.resource_type = None;
        let mut row = RowText::default();
        let cells = row.fill(&rec, Lang::It, &TimeZone::UTC).cells;
        assert_eq!(cells[2], "Launch rocket v2");
        assert_eq!(cells[6], "launch_rocket_v2");
        assert_eq!(cells[8], "paused_by_admin");
        assert_eq!(cells[1], "");
        assert_eq!(cells[7], "");
    }
}
