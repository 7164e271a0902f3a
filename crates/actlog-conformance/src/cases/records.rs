//! Records come back exactly as stored, to their own partner only, newest first.

use std::sync::Arc;

use actlog_domain::filter::Filter;
use actlog_domain::query::Query;
use actlog_domain::{AuditRecord, KeyValue, OperationDate};
use actlog_store::Store;

use crate::data::{DataSet, MINUTE, Rng, base_date};
use crate::support::{
    append_all, assert_records, bare, everything, expected, scan_all, walk, window_of_data,
};

/// Text that breaks naive escaping, encodings or collations.
const ODD: &str = "  \t leading blanks, quote \" apostrophe ' backtick ` backslash \\ \\n \\u0000 literal, \
    newline \n CRLF \r\n tab \t, controls \u{1}\u{7}\u{1b}\u{7f}\u{9f}, BOM \u{feff}, \
    \u{ffff} \u{10ffff} zero-width \u{200b} RTL \u{202e}abc\u{202c}, e\u{301} combining, \
    emoji 👩‍👩‍👧‍👦 🍕, CJK 漢字かなカナ 한국어, SQL '); DROP TABLE records; -- % _ *, trailing \r\n ";

/// Short fields (ids, codes) take no control characters, but may take anything else.
const ODD_SHORT: &str = " spaced 'quoted' \"id\" \\ 漢字 🍕 e\u{301} % _ ";

/// Records exercising every field: absent, empty, odd, huge, unknown.
fn awkward_records(partner: &str) -> Vec<AuditRecord> {
    let base = base_date().ticks();
    let long = "è".repeat(40_000);
    let mut full = bare(partner, "full", base + 1_234_567);
    full.customer_id = Some("c0ffee00-0000-4000-8000-000000000001".into());
    full.customer_name = Some("Società Caffè \"Il Moro\", S.r.l.".into());
    full.user_principal_name = Some("mario.rossi@società.it".into());
    full.application_id = Some("a1b2c3d4-0000-4000-8000-00000000000a".into());
    full.resource_type = Some("order".into());
    full.resource_old_value = Some(r#"{ "a" : 1 ,"b":[ ] , "c":"\u00e8"}"#.into());
    full.resource_new_value = Some(ODD.into());
    full.operation_status = Some("succeeded".into());
    full.customized_data = Some(vec![
        KeyValue {
            key: "Null".into(),
            value: None,
        },
        KeyValue {
            key: "".into(),
            value: Some("".into()),
        },
        KeyValue {
            key: ODD.into(),
            value: Some(ODD.into()),
        },
    ]);
    full.session_id = Some("session-1".into());
    full.original_correlation_id = Some("corr-1".into());

    let mut empty = bare(partner, "empty strings and an empty list", base);
    empty.customer_name = Some(String::new());
    empty.resource_old_value = Some(String::new());
    empty.customized_data = Some(Vec::new());

    let mut huge = bare(partner, "ünï-漢字-id 👩‍👩‍👧‍👦", base + MINUTE);
    huge.customer_name = Some(long.clone());
    huge.resource_old_value = Some(long.clone());
    huge.resource_new_value = Some(format!("{long}{ODD}"));
    huge.customized_data = Some(vec![KeyValue {
        key: "long".into(),
        value: Some(long),
    }]);

    let mut unknown = bare(
        partner,
        "x'); DROP TABLE records; --",
        OperationDate::MAX.ticks(),
    );
    unknown.operation_type = "FutureOperation.V2-ß".into();
    unknown.resource_type = Some("QuantumWidget".into());
    unknown.operation_status = Some("paused".into());
    unknown.resource_new_value = Some("not JSON at all".into());

    let mut odd = bare(partner, ODD_SHORT, base + 2 * MINUTE);
    odd.customer_id = Some(ODD_SHORT.into());
    odd.customer_name = Some(ODD.into());
    odd.user_principal_name = Some(ODD.into());
    odd.application_id = Some(ODD.into());
    odd.resource_type = Some(ODD_SHORT.into());
    odd.operation_type = ODD_SHORT.into();
    odd.operation_status = Some(ODD_SHORT.into());
    odd.resource_old_value = Some(ODD.into());
    odd.session_id = Some(ODD_SHORT.into());
    odd.original_correlation_id = Some(ODD_SHORT.into());

    let earliest = bare(partner, &"i".repeat(512), OperationDate::MIN.ticks());
    let before_epoch = bare(partner, "1601", -116_444_736_000_000_000 + 1);
    vec![
        bare(partner, "bare", base),
        full,
        empty,
        huge,
        unknown,
        odd,
        earliest,
        before_epoch,
    ]
}

/// Every field of every record comes back exactly, through `get`, `page` and `scan`.
pub async fn records_round_trip_every_field(store: Arc<dyn Store>) {
    let partner = "partner-round-trip";
    let records = awkward_records(partner);
    append_all(&*store, partner, &records, 3).await;
    for record in &records {
        let got = store.get(partner, &record.id).await.expect("get");
        assert_eq!(got.as_ref(), Some(record), "get({:?})", record.id);
    }
    let want = expected(&records, &everything());
    assert_records(
        &walk(&*store, partner, &everything(), 2).await,
        &want,
        "walk",
    );
    assert_records(
        &scan_all(&*store, partner, &everything()).await,
        &want,
        "scan",
    );
}

/// `get` finds a record by its exact id, and only for the partner that stored it.
pub async fn get_finds_by_id_within_the_partner_only(store: Arc<dyn Store>) {
    let (a, b) = ("partner-a", "partner-b");
    let mut a_x = bare(a, "x", base_date().ticks());
    a_x.customer_name = Some("A's customer".into());
    let a_y = bare(a, "y", base_date().ticks());
    let mut b_x = bare(b, "x", base_date().ticks() + MINUTE);
    b_x.customer_name = Some("B's customer".into());
    append_all(&*store, a, &[a_x.clone(), a_y], 10).await;
    append_all(&*store, b, std::slice::from_ref(&b_x), 10).await;
    assert_eq!(store.get(a, "x").await.unwrap(), Some(a_x));
    assert_eq!(store.get(b, "x").await.unwrap(), Some(b_x));
    assert_eq!(
        store.get(b, "y").await.unwrap(),
        None,
        "B must not see A's y"
    );
    assert_eq!(store.get(a, "X").await.unwrap(), None, "ids are exact");
    assert_eq!(store.get(a, "nope").await.unwrap(), None);
    assert_eq!(store.get("partner-c", "x").await.unwrap(), None);
    assert_eq!(store.get("Partner-A", "x").await.unwrap(), None);
}

/// Page, count and scan show a partner its own records only, even where ids coincide.
pub async fn partners_never_see_each_others_records(store: Arc<dyn Store>) {
    let sets = [
        ("partner-a", DataSet::new("partner-a", "r", 1).take(150)),
        ("partner-b", DataSet::new("partner-b", "r", 2).take(120)),
        ("Partner-A", DataSet::new("Partner-A", "r", 3).take(30)),
    ];
    for (partner, records) in &sets {
        append_all(&*store, partner, records, 40).await;
    }
    let filtered = Query {
        window: window_of_data(),
        filter: Some(
            Filter::parse(r#"{"Field":"CompanyName","Value":"soc","Operator":"substring"}"#)
                .unwrap(),
        ),
    };
    for (partner, records) in &sets {
        for query in [everything(), filtered.clone()] {
            let want = expected(records, &query);
            let what = format!("{partner} {:?}", query.filter);
            assert_records(&walk(&*store, partner, &query, 50).await, &want, &what);
            assert_records(&scan_all(&*store, partner, &query).await, &want, &what);
            let count = store.count(partner, &query).await.unwrap();
            assert_eq!(count, want.len() as u64, "count {what}");
        }
    }
    let nobody = "partner-unknown";
    assert!(walk(&*store, nobody, &everything(), 10).await.is_empty());
    assert!(scan_all(&*store, nobody, &everything()).await.is_empty());
    assert_eq!(store.count(nobody, &everything()).await.unwrap(), 0);
}

/// Newest first by operationDate; equal dates in reverse order of appending (not by id).
pub async fn pages_are_newest_first_with_ties_in_insertion_order(store: Arc<dyn Store>) {
    let partner = "partner-order";
    let mut rng = Rng::new(11);
    let mut records: Vec<AuditRecord> = (0..60)
        .map(|i| {
            let ticks = base_date().ticks() + (i % 7) * MINUTE + i64::from(i % 3 == 0);
            let id = format!("t-{:016x}", rng.next_u64());
            bare(partner, &id, ticks)
        })
        .collect();
    for i in (1..records.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        records.swap(i, j);
    }
    append_all(&*store, partner, &records, 13).await;
    let want = expected(&records, &everything());
    let ties = want
        .windows(2)
        .filter(|w| w[0].operation_date == w[1].operation_date && w[0].id < w[1].id)
        .count();
    assert!(ties > 5, "the data must have ties whose id order differs");
    for size in [1, 3, 100] {
        let got = walk(&*store, partner, &everything(), size).await;
        assert_records(&got, &want, &format!("walk by {size}"));
    }
}

/// Fields this version does not model — at the top level, inside `attributes`, inside a
/// `customizedData` entry — are stored and come back byte for byte through every read; sent
/// again they are a retry, and other unknown fields under the same id are a conflict.
pub async fn unknown_fields_round_trip_byte_for_byte(store: Arc<dyn Store>) {
    let partner = "partner-unknown";
    let json = r#"{"id":"u1","operationType":"create_order","operationDate":"2024-03-04T05:06:07Z",
        "newField": {"nested" : [1, 2.50, "x\u00e9"]}, "flag":true,
        "customizedData":[{"key":"k","value":"v","valueType":"string"}],
        "attributes":{"objectType":"AuditRecord","etag":"W/\"1\""}, "z":null}"#;
    let record =
        actlog_domain::ingest::parse_record(json, partner, &mut || unreachable!()).unwrap();
    assert!(!record.extensions.is_empty());
    let plain = bare(partner, "plain", base_date().ticks());
    store
        .append(partner, vec![record.clone(), plain.clone()])
        .await
        .unwrap();
    let got = store.get(partner, "u1").await.unwrap().expect("stored");
    assert_eq!(got, record, "get");
    let out = serde_json::to_string(&got).unwrap();
    for kept in [
        r#""newField":{"nested" : [1, 2.50, "x\u00e9"]}"#,
        r#""flag":true"#,
        r#""z":null"#,
        r#""customizedData":[{"key":"k","value":"v","valueType":"string"}]"#,
        r#""attributes":{"objectType":"AuditRecord","etag":"W/\"1\""}"#,
    ] {
        assert!(out.contains(kept), "{kept} missing from {out}");
    }
    let walked = walk(&*store, partner, &everything(), 1).await;
    assert_eq!(walked.len(), 2);
    assert!(walked.contains(&record), "pages");
    assert!(
        scan_all(&*store, partner, &everything())
            .await
            .contains(&record),
        "scans"
    );
    let report = store.append(partner, vec![record.clone()]).await.unwrap();
    assert_eq!(
        report.unchanged, 1,
        "the same unknown fields again are a retry"
    );
    let changed = json.replace("\"flag\":true", "\"flag\":false");
    let changed =
        actlog_domain::ingest::parse_record(&changed, partner, &mut || unreachable!()).unwrap();
    let refused = store.append(partner, vec![changed]).await;
    assert!(
        matches!(refused, Err(actlog_store::AppendError::Conflict(ref ids)) if ids == &["u1".to_owned()]),
        "{refused:?}"
    );
    let found = store.get(partner, "plain").await.unwrap().unwrap();
    assert!(
        found.extensions.is_empty(),
        "nothing kept for a plain record"
    );
}
