//! Filters and windows mean what the reference evaluator says they mean.

use std::collections::BTreeSet;
use std::sync::Arc;

use actlog_domain::AuditRecord;
use actlog_domain::OperationDate;
use actlog_domain::filter::{Condition, Field, Filter, Operator, field_text};
use actlog_domain::query::{Query, Window};
use actlog_store::Store;

use crate::data::{DataSet, MINUTE, base_date};
use crate::support::{append_all, assert_records, expected, scan_all, walk, window_of_data};

/// Values that catch wrong folding: Unicode case for names, ASCII-only case for codes.
const TRICKY: [&str; 14] = [
    "",
    "zzz-nothing",
    "SOCIETÀ",
    "società",
    "àbc-001",
    "ÀBC-001",
    "CUST-ALPHA",
    "i\u{307}stanbul",
    "ΟΔΟΣ",
    "οδος",
    "CREATE_ORDER",
    "SUCCEEDED",
    "app-one",
    "Ü",
];

/// Free-text searches reaching ids, customizedData and resource values.
const TEXT: [&str; 18] = [
    "needle-xyz",
    "alphasocietà",
    "ñandú",
    "CAFFÈ",
    "\"reason\"",
    "sub-1",
    "\"o-1",
    "f-12",
    "società",
    "漢字",
    "quote \"inside",
    "microsoft 365",
    "",
    "zzz-nothing",
    // The JSON syntax of the stored customizedData must never match: only keys and values.
    "null",
    "\"key\"",
    "\":\"",
    "σας",
];

/// Values worth testing for a field: each value present, its case variants and prefixes.
fn values_for(field: Field, records: &[AuditRecord]) -> Vec<String> {
    if field == Field::Text {
        return TEXT.iter().map(|v| v.to_string()).collect();
    }
    let present: BTreeSet<String> = records
        .iter()
        .filter_map(|r| field_text(r, field))
        .collect();
    let mut values: BTreeSet<String> = TRICKY.iter().map(|v| v.to_string()).collect();
    for value in &present {
        values.insert(value.clone());
        values.insert(value.to_uppercase());
        values.insert(value.chars().take(3).collect());
        values.insert(value.chars().skip(2).take(4).collect());
    }
    values.into_iter().collect()
}

/// Every field × every operator × many values, on a varied data set, against `Filter::matches`.
pub async fn every_field_and_operator_matches_the_reference(store: Arc<dyn Store>) {
    let partner = "partner-filters";
    let records = DataSet::new(partner, "f", 5).take(400);
    append_all(&*store, partner, &records, 100).await;
    let mut selective = 0;
    for field in Field::ALL {
        let operators: &[Operator] = if field == Field::Text {
            &[Operator::Substring]
        } else {
            &Operator::ALL
        };
        for value in values_for(field, &records) {
            for &operator in operators {
                let condition = Condition {
                    field,
                    operator,
                    value: value.clone(),
                };
                let query = Query {
                    window: window_of_data(),
                    filter: Some(Filter::Condition(condition)),
                };
                let want = expected(&records, &query);
                selective += usize::from(!want.is_empty() && want.len() < records.len());
                let got = walk(&*store, partner, &query, 500).await;
                let what = format!("{} {} {value:?}", field.name(), operator.name());
                assert_records(&got, &want, &what);
            }
        }
    }
    assert!(
        selective > 300,
        "the data set must make filters selective ({selective})"
    );
}

fn parse(json: &str) -> Filter {
    Filter::parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// and/or trees, nested, mixing indexed and unindexed fields and free text.
pub async fn compound_filters_and_free_text_match_the_reference(store: Arc<dyn Store>) {
    let partner = "partner-compound";
    let records = DataSet::new(partner, "c", 9).take(400);
    append_all(&*store, partner, &records, 400).await;
    let trees = [
        r#"{"Operator":"and","Filters":[{"Field":"CustomerId","Value":"CUST-ALPHA","Operator":"equals"},
            {"Field":"OperationType","Value":"CREATE_ORDER","Operator":"equals"}]}"#,
        r#"{"Operator":"or","LeftFilter":{"Field":"CompanyName","Value":"SOCIETÀ","Operator":"substring"},
            "RightFilter":{"Field":"OperationStatus","Value":"succeeded","Operator":"not_equals"}}"#,
        r#"{"Operator":"and","Filters":[{"Operator":"or","Filters":[
            {"Field":"ResourceType","Value":"order","Operator":"equals"},
            {"Field":"ResourceType","Value":"cust","Operator":"not_starts_with"}]},
            {"Field":"Text","Value":"Needle-xyz","Operator":"substring"}]}"#,
        r#"{"Operator":"or","Filters":[{"Operator":"and","Filters":[
            {"Field":"UserPrincipalName","Value":"AGENT","Operator":"starts_with"},
            {"Field":"ApplicationId","Value":"app-one","Operator":"not_equals"}]},
            {"Field":"CompanyName","Value":"m","Operator":"greater_than"}]}"#,
        r#"{"Operator":"and","Filters":[{"Field":"CustomerId","Value":"àbc-001","Operator":"equals"}]}"#,
        r#"{"Operator":"and","Filters":[{"Operator":"or","Filters":[{"Operator":"and","Filters":[
            {"Field":"Text","Value":"caffè","Operator":"substring"},
            {"Field":"CompanyName","Value":"","Operator":"not_equals"}]},
            {"Field":"OperationType","Value":"future","Operator":"starts_with"}]},
            {"Field":"CustomerId","Value":"fabrikam-01","Operator":"less_than_or_equals"}]}"#,
    ];
    let inside = Window {
        start: OperationDate::from_ticks(base_date().ticks() + 5 * 24 * 60 * MINUTE),
        end: Some(OperationDate::from_ticks(
            base_date().ticks() + 20 * 24 * 60 * MINUTE,
        )),
    };
    for json in trees {
        for window in [window_of_data(), inside] {
            let query = Query {
                window,
                filter: Some(parse(json)),
            };
            let want = expected(&records, &query);
            assert!(!want.is_empty(), "{json} must select something");
            for size in [7, 500] {
                assert_records(&walk(&*store, partner, &query, size).await, &want, json);
            }
            let count = store.count(partner, &query).await.unwrap();
            assert_eq!(count, want.len() as u64, "count {json}");
            for limit in [0, 1, count.saturating_sub(1), count, count + 1] {
                let bounded = store.count_at_most(partner, &query, limit).await.unwrap();
                assert_eq!(bounded, count.min(limit), "count_at_most({limit}) {json}");
            }
        }
    }
}

/// `[start, end)`: a record dated exactly at the start is in, exactly at the end is out.
pub async fn windows_include_the_start_and_exclude_the_end(store: Arc<dyn Store>) {
    let partner = "partner-windows";
    let records = DataSet::new(partner, "w", 13).take(300);
    append_all(&*store, partner, &records, 300).await;
    let mut dates: Vec<OperationDate> = records.iter().map(|r| r.operation_date).collect();
    dates.sort();
    let (a, b, c) = (dates[40], dates[150], dates[260]);
    let later = |d: OperationDate| OperationDate::from_ticks(d.ticks() + 1);
    let windows = [
        (a, None),
        (a, Some(b)),
        (later(a), Some(later(b))),
        (b, Some(b)),
        (b, Some(later(b))),
        (OperationDate::MIN, Some(a)),
        (later(dates[299]), None),
        (c, Some(OperationDate::MAX)),
    ];
    let filter = parse(r#"{"Field":"OperationType","Value":"create_order","Operator":"equals"}"#);
    for (start, end) in windows {
        for filter in [None, Some(filter.clone())] {
            let query = Query {
                window: Window { start, end },
                filter,
            };
            let want = expected(&records, &query);
            let what = format!("{start}..{end:?} {:?}", query.filter);
            assert_records(&walk(&*store, partner, &query, 9).await, &want, &what);
            assert_records(&scan_all(&*store, partner, &query).await, &want, &what);
            let count = store.count(partner, &query).await.unwrap();
            assert_eq!(count, want.len() as u64, "count {what}");
        }
    }
    let at_b = records.iter().filter(|r| r.operation_date == b).count();
    let single = Query {
        window: Window {
            start: b,
            end: Some(later(b)),
        },
        filter: None,
    };
    assert_eq!(store.count(partner, &single).await.unwrap(), at_b as u64);
}
