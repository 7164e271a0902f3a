//! Reading a batch of records sent for ingest: a JSON array, NDJSON, or a whole Partner Center
//! audit-records response, validated into [`AuditRecord`]s before anything is stored.
//!
//! Every record of a batch is checked, and every problem is reported with the record's position,
//! so that a client can fix a batch in one round trip. A batch with any problem is refused whole.

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::extensions::{Extensions, Members, Raw};
use crate::record::{Attributes, AuditRecord, KeyValue};
use crate::time::OperationDate;

// Field sizes. Partner Center documents none (its OpenAPI description gives no lengths); its
// ids are GUIDs and its codes short names, so these leave ample room for real records while
// keeping one record, and the page that shows it, a reasonable size.

/// Longest accepted identifier or code (`id`, `customerId`, `resourceType`, `operationType`,
/// `operationStatus`, `sessionId`, `originalCorrelationId`), in characters.
pub const MAX_SHORT_FIELD: usize = 512;
/// Longest accepted name (`customerName`, `userPrincipalName`, `applicationId`, and each
/// `customizedData` key), in characters (as the OpenAPI document's `maxLength` counts).
pub const MAX_NAME_CHARS: usize = 4 * 1024;
/// Longest accepted `resourceOldValue` and `resourceNewValue`, each, in characters as stored.
pub const MAX_RESOURCE_VALUE_CHARS: usize = 1024 * 1024;
/// Largest accepted `customizedData`, the whole list as sent, in bytes.
pub const MAX_CUSTOMIZED_DATA_BYTES: usize = 1024 * 1024;
/// Largest accepted `attributes`, and each member this version does not know, as sent, in
/// bytes.
pub const MAX_EXTENSION_BYTES: usize = 64 * 1024;
/// Largest accepted record, as sent, in bytes: the bound on many members that are each small
/// enough.
pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of arrays and objects accepted in a body.
pub const MAX_DEPTH: usize = 64;
/// How many per-record problems one error report lists at most.
const MAX_REPORTED: usize = 20;

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the body holds no records")]
    Empty,
    #[error("the body holds more than {max} records; split it into smaller batches")]
    TooMany { max: usize },
    #[error("the body is not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("the body nests arrays or objects deeper than {max} levels (line {line})")]
    TooDeep { max: usize, line: usize },
    #[error("{} record(s) are invalid; nothing was stored", .0.len())]
    Invalid(Vec<RecordProblem>),
}

/// One problem with one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {index} (line {line}): {message}")]
pub struct RecordProblem {
    /// Position of the record in the batch, from 0.
    pub index: usize,
    /// Line of the body where the record starts, from 1.
    pub line: usize,
    pub message: String,
}

/// A record as a client sends it; checked by [`validate`] before it becomes an [`AuditRecord`].
/// Members this version does not know are kept as received ([`Extensions`]), never refused.
#[derive(Debug, Default)]
struct RecordInput {
    id: Option<String>,
    partner_id: Option<String>,
    customer_id: Option<String>,
    customer_name: Option<String>,
    user_principal_name: Option<String>,
    application_id: Option<String>,
    resource_type: Option<String>,
    resource_old_value: Option<Box<RawValue>>,
    resource_new_value: Option<Box<RawValue>>,
    operation_type: Option<String>,
    operation_date: Option<String>,
    operation_status: Option<String>,
    customized_data: Option<Raw>,
    session_id: Option<String>,
    original_correlation_id: Option<String>,
    attributes: Option<Raw>,
    unknown: Members,
}

impl<'de> Deserialize<'de> for RecordInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

/// Reads a record's members in one pass: known ones into their fields, others kept raw.
struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = RecordInput;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RecordInput, A::Error> {
        let mut r = RecordInput::default();
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            fn set<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
                map: &mut A,
                slot: &mut Option<T>,
                name: &'static str,
            ) -> Result<(), A::Error> {
                if slot.is_some() {
                    return Err(serde::de::Error::duplicate_field(name));
                }
                *slot = map.next_value::<Option<T>>()?;
                Ok(())
            }
            match name.as_ref() {
                "id" => set(&mut map, &mut r.id, "id")?,
                "partnerId" => set(&mut map, &mut r.partner_id, "partnerId")?,
                "customerId" => set(&mut map, &mut r.customer_id, "customerId")?,
                "customerName" => set(&mut map, &mut r.customer_name, "customerName")?,
                "userPrincipalName" => {
                    set(&mut map, &mut r.user_principal_name, "userPrincipalName")?;
                }
                "applicationId" => set(&mut map, &mut r.application_id, "applicationId")?,
                "resourceType" => set(&mut map, &mut r.resource_type, "resourceType")?,
                "resourceOldValue" => {
                    set(&mut map, &mut r.resource_old_value, "resourceOldValue")?;
                }
                "resourceNewValue" => {
                    set(&mut map, &mut r.resource_new_value, "resourceNewValue")?;
                }
                "operationType" => set(&mut map, &mut r.operation_type, "operationType")?,
                "operationDate" => set(&mut map, &mut r.operation_date, "operationDate")?,
                "operationStatus" => set(&mut map, &mut r.operation_status, "operationStatus")?,
                "customizedData" => set(&mut map, &mut r.customized_data, "customizedData")?,
                "sessionId" => set(&mut map, &mut r.session_id, "sessionId")?,
                "originalCorrelationId" => set(
                    &mut map,
                    &mut r.original_correlation_id,
                    "originalCorrelationId",
                )?,
                "attributes" => set(&mut map, &mut r.attributes, "attributes")?,
                _ => {
                    let value: Raw = map.next_value()?;
                    r.unknown.0.push((name.into_owned(), value));
                }
            }
        }
        Ok(r)
    }
}

/// One `customizedData` entry as a client sends it: `key` and `value`, and maybe more.
#[derive(Debug, Deserialize)]
struct EntryInput {
    key: String,
    value: Option<String>,
    /// Members beyond key and value (kept by keeping the whole list as received).
    #[serde(flatten)]
    more: std::collections::BTreeMap<String, IgnoredAny>,
}

/// A whole Partner Center `GET /auditrecords` response: only its items matter here.
///
/// A record may carry a member called `items` too (kept as sent, like any member this version
/// does not know), so an object naming a record's required fields is a record, not a response.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
    #[serde(rename = "operationType")]
    operation_type: Option<IgnoredAny>,
    #[serde(rename = "operationDate")]
    operation_date: Option<IgnoredAny>,
}

impl Envelope<'_> {
    fn is_record(&self) -> bool {
        self.operation_type.is_some() || self.operation_date.is_some()
    }
}

/// Reads a batch body into validated records for `partner_id`.
///
/// `new_id` supplies an id for each record that has none. `max_records` bounds the batch.
pub fn parse_batch(
    body: &[u8],
    partner_id: &str,
    max_records: usize,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<AuditRecord>, BatchError> {
    let text = std::str::from_utf8(body).map_err(|e| BatchError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(offset) = too_deep_at(text, MAX_DEPTH) {
        return Err(BatchError::TooDeep {
            max: MAX_DEPTH,
            line: line_of(text, offset),
        });
    }
    let raws = split_values(text, max_records)?;
    if raws.is_empty() {
        return Err(BatchError::Empty);
    }
    let mut records = Vec::with_capacity(raws.len());
    let mut problems = Vec::new();
    for (index, (offset, raw)) in raws.into_iter().enumerate() {
        match parse_record(raw, partner_id, new_id) {
            Ok(record) => records.push(record),
            Err(message) => {
                let line = line_of(text, offset);
                problems.push(RecordProblem {
                    index,
                    line,
                    message,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        problems.truncate(MAX_REPORTED);
        Err(BatchError::Invalid(problems))
    }
}

/// Splits a body into its records' JSON texts, each with its byte offset.
fn split_values(text: &str, max_records: usize) -> Result<Vec<(usize, &str)>, BatchError> {
    let start = text.len() - text.trim_start().len();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    let mut values = Vec::new();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(raw)) => values.push((offset + leading_space(&text[offset..]), raw)),
            Some(Err(e)) => {
                let line = e.line().max(1);
                let message = format!("not valid JSON: {e}");
                let index = values.len();
                return Err(BatchError::Invalid(vec![RecordProblem {
                    index,
                    line,
                    message,
                }]));
            }
        }
        if values.len() > max_records {
            return Err(BatchError::TooMany { max: max_records });
        }
    }
    if let [(offset, only)] = values[..] {
        let inner = only.get();
        if inner.starts_with('[') {
            return array_items(text, offset, inner, max_records);
        }
        if inner.starts_with('{')
            && let Ok(envelope) = serde_json::from_str::<Envelope>(inner)
            && !envelope.is_record()
        {
            return envelope_items(text, envelope, max_records);
        }
    }
    debug_assert!(values.first().is_none_or(|(o, _)| *o >= start));
    Ok(values.into_iter().map(|(o, raw)| (o, raw.get())).collect())
}

fn array_items<'a>(
    text: &'a str,
    offset: usize,
    inner: &'a str,
    max_records: usize,
) -> Result<Vec<(usize, &'a str)>, BatchError> {
    let items: Vec<&RawValue> = serde_json::from_str(inner).map_err(|e| {
        let message = format!("not valid JSON: {e}");
        BatchError::Invalid(vec![RecordProblem {
            index: 0,
            line: line_of(text, offset),
            message,
        }])
    })?;
    if items.len() > max_records {
        return Err(BatchError::TooMany { max: max_records });
    }
    Ok(items
        .into_iter()
        .map(|raw| (offset_in(text, raw.get()), raw.get()))
        .collect())
}

fn envelope_items<'a>(
    text: &'a str,
    envelope: Envelope<'a>,
    max_records: usize,
) -> Result<Vec<(usize, &'a str)>, BatchError> {
    if envelope.items.len() > max_records {
        return Err(BatchError::TooMany { max: max_records });
    }
    Ok(envelope
        .items
        .into_iter()
        .map(|raw| (offset_in(text, raw.get()), raw.get()))
        .collect())
}

/// The byte offset of `part`, a slice borrowed from `text`.
fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len())
}

/// The offset where nesting first exceeds `max`, by a scan that skips string contents.
/// serde_json skips nested values without a depth limit, so the limit is checked here.
fn too_deep_at(text: &str, max: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn leading_space(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Reads and validates one record's JSON text.
pub fn parse_record(
    json: &str,
    partner_id: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<AuditRecord, String> {
    let input: RecordInput = serde_json::from_str(json).map_err(|e| no_position(&e))?;
    let record = validate(input, partner_id, new_id)?;
    // After the fields, so that the message names the field that is too large.
    if json.len() > MAX_RECORD_BYTES {
        return Err(format!(
            "the record is larger than {MAX_RECORD_BYTES} bytes ({} sent)",
            json.len()
        ));
    }
    Ok(record)
}

fn validate(
    input: RecordInput,
    partner_id: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<AuditRecord, String> {
    if let Some(named) = &input.partner_id
        && named != partner_id
    {
        return Err(format!(
            "partnerId is `{named}`, but these credentials write for partner `{partner_id}`"
        ));
    }
    let id = match input.id {
        Some(id) => short("id", id)?,
        None => new_id(),
    };
    let operation_type = input
        .operation_type
        .ok_or("missing field `operationType`")?;
    let operation_date = input
        .operation_date
        .ok_or("missing field `operationDate`")?;
    let operation_date =
        OperationDate::parse_rfc3339(&operation_date).map_err(|e| format!("operationDate: {e}"))?;
    Ok(AuditRecord {
        id,
        partner_id: partner_id.to_owned(),
        customer_id: optional_short("customerId", input.customer_id)?,
        customer_name: optional_name("customerName", input.customer_name)?,
        user_principal_name: optional_name("userPrincipalName", input.user_principal_name)?,
        application_id: optional_name("applicationId", input.application_id)?,
        resource_type: optional_short("resourceType", input.resource_type)?,
        resource_old_value: resource_value("resourceOldValue", input.resource_old_value)?,
        resource_new_value: resource_value("resourceNewValue", input.resource_new_value)?,
        operation_type: short("operationType", operation_type)?,
        operation_date,
        operation_status: optional_short("operationStatus", input.operation_status)?,
        customized_data: customized_data(input.customized_data.as_ref())?,
        session_id: optional_short("sessionId", input.session_id)?,
        original_correlation_id: optional_short(
            "originalCorrelationId",
            input.original_correlation_id,
        )?,
        attributes: Attributes::audit_record(),
        extensions: Extensions {
            members: bounded_members(input.unknown)?,
            attributes: match input.attributes {
                // What actlog and Partner Center write, byte for byte: nothing to keep.
                Some(raw) if raw.get() == r#"{"objectType":"AuditRecord"}"# => None,
                other => readable_attributes(bounded_raw("attributes", other)?)?
                    .filter(|raw| !plain_attributes(raw)),
            },
            customized_data: input.customized_data.filter(has_more_members),
        },
    })
}

/// `attributes` as Partner Center's clients can read them back: an object, whose
/// `objectType`, when it has one, is `AuditRecord` (their models read it as a string and the
/// record as an `AuditRecord`); other members are kept as written.
fn readable_attributes(raw: Option<Raw>) -> Result<Option<Raw>, String> {
    type Members<'a> = std::collections::HashMap<std::borrow::Cow<'a, str>, &'a RawValue>;
    let Some(raw) = raw else { return Ok(None) };
    if !raw.get().trim_start().starts_with('{') {
        return Err(format!(
            "attributes must be a JSON object, not `{}`",
            raw.get()
        ));
    }
    let members: Members =
        serde_json::from_str(raw.get()).map_err(|e| format!("attributes: {}", no_position(&e)))?;
    match members.get("objectType").map(|value| value.get()) {
        None | Some(r#""AuditRecord""#) => Ok(Some(raw)),
        Some(other) => Err(format!(
            "attributes.objectType must be \"AuditRecord\", not `{other}`"
        )),
    }
}

/// Whether `attributes` says nothing but `objectType: AuditRecord` (what actlog writes back).
fn plain_attributes(raw: &Raw) -> bool {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Plain {
        object_type: String,
    }
    // Only an object: serde would also read a struct from an array (`["AuditRecord"]`), and
    // that is not the plain form, so it must be kept as sent.
    raw.get().trim_start().starts_with('{')
        && serde_json::from_str::<Plain>(raw.get()).is_ok_and(|p| p.object_type == "AuditRecord")
}

/// Whether a `customizedData` list has an entry with members beyond `key` and `value`.
fn has_more_members(raw: &Raw) -> bool {
    serde_json::from_str::<Vec<EntryInput>>(raw.get())
        .is_ok_and(|entries| entries.iter().any(|e| !e.more.is_empty()))
}

/// An identifier or code: not empty, bounded, no control characters.
fn short(field: &str, value: String) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if value.chars().count() > MAX_SHORT_FIELD {
        return Err(format!(
            "{field} is longer than {MAX_SHORT_FIELD} characters"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} contains a control character"));
    }
    Ok(value)
}

fn optional_short(field: &str, value: Option<String>) -> Result<Option<String>, String> {
    value.map(|v| short(field, v)).transpose()
}

/// Free text: anything but NUL, which no backend can store faithfully.
fn text(field: &str, value: String) -> Result<String, String> {
    if value.contains('\0') {
        return Err(format!("{field} contains a NUL character (\\u0000)"));
    }
    Ok(value)
}

/// Free text of at most `max` characters.
fn bounded_text(field: &str, value: String, max: usize) -> Result<String, String> {
    // Bytes bound characters from above: most texts need no count.
    if value.len() > max {
        let chars = value.chars().count();
        if chars > max {
            return Err(format!(
                "{field} is longer than {max} characters ({chars} sent)"
            ));
        }
    }
    text(field, value)
}

fn too_long(field: &str, max: usize, sent: usize) -> String {
    format!("{field} is longer than {max} bytes ({sent} sent)")
}

fn optional_name(field: &str, value: Option<String>) -> Result<Option<String>, String> {
    value
        .map(|v| bounded_text(field, v, MAX_NAME_CHARS))
        .transpose()
}

/// A kept JSON text of at most [`MAX_EXTENSION_BYTES`].
fn bounded_raw(field: &str, raw: Option<Raw>) -> Result<Option<Raw>, String> {
    match raw {
        Some(raw) if raw.get().len() > MAX_EXTENSION_BYTES => {
            Err(too_long(field, MAX_EXTENSION_BYTES, raw.get().len()))
        }
        raw => Ok(raw),
    }
}

/// Members this version does not know, each at most [`MAX_EXTENSION_BYTES`].
fn bounded_members(members: Members) -> Result<Members, String> {
    for (name, raw) in &members.0 {
        if raw.get().len() > MAX_EXTENSION_BYTES {
            return Err(too_long(name, MAX_EXTENSION_BYTES, raw.get().len()));
        }
    }
    Ok(members)
}

/// `resourceOldValue` / `resourceNewValue`: a string is kept as its exact text; a JSON object or
/// array is accepted too and kept exactly as it was written.
fn resource_value(field: &str, raw: Option<Box<RawValue>>) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let json = raw.get();
    let value = match json.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(json).map_err(|e| format!("{field}: {e}"))?,
        Some(b'{' | b'[') => json.to_owned(),
        _ => {
            return Err(format!(
                "{field} must be a string or a JSON object, not `{json}`"
            ));
        }
    };
    bounded_text(field, value, MAX_RESOURCE_VALUE_CHARS).map(Some)
}

/// `customizedData`: a list of `{key, value}` entries (an entry may hold more members, which
/// are kept by keeping the list as received).
fn customized_data(raw: Option<&Raw>) -> Result<Option<Vec<KeyValue>>, String> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.get().len() > MAX_CUSTOMIZED_DATA_BYTES {
        let sent = raw.get().len();
        return Err(too_long("customizedData", MAX_CUSTOMIZED_DATA_BYTES, sent));
    }
    let entries: Vec<EntryInput> = serde_json::from_str(raw.get())
        .map_err(|e| format!("customizedData: {}", no_position(&e)))?;
    let mut items = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let field = format!("customizedData[{i}]");
        let key = bounded_text(&format!("{field}.key"), entry.key, MAX_NAME_CHARS)?;
        let value = entry.value.map(|v| text(&field, v)).transpose()?;
        items.push(KeyValue { key, value });
    }
    Ok(Some(items))
}

/// serde_json's message without its " at line L column C" (relative to a part of the
/// record; the caller names the record's line).
fn no_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("generated-{n}")
        }
    }

    fn parse(body: &str) -> Result<Vec<AuditRecord>, BatchError> {
        parse_batch(body.as_bytes(), "p1", 100, &mut ids())
    }

    const MINIMAL: &str =
        r#"{"operationType":"create_order","operationDate":"2024-01-02T03:04:05Z"}"#;

    #[test]
    fn arrays_ndjson_and_envelopes_give_the_same_records() {
        let array = parse(&format!("[{MINIMAL},{MINIMAL}]")).unwrap();
        let ndjson = parse(&format!("{MINIMAL}\n\n{MINIMAL}\n")).unwrap();
        let envelope = parse(&format!(
            r#"{{"totalCount":2,"items":[{MINIMAL},{MINIMAL}]}}"#
        ));
        assert_eq!(array.len(), 2);
        assert_eq!(array, ndjson);
        assert_eq!(array, envelope.unwrap());
        assert_eq!(array[1].id, "generated-2");
    }

    #[test]
    fn a_single_ndjson_record_is_a_batch_of_one() {
        let records = parse(MINIMAL).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].operation_type, "create_order");
    }

    #[test]
    fn every_bad_record_is_reported_with_its_line() {
        let body = format!(
            "{MINIMAL}\n{{\"operationDate\":\"2024-01-02T03:04:05Z\"}}\n{MINIMAL}\n{{\"operationType\":\"x\",\"operationDate\":\"nope\"}}"
        );
        let Err(BatchError::Invalid(problems)) = parse(&body) else {
            panic!("accepted")
        };
        assert_eq!(problems.len(), 2);
        assert_eq!((problems[0].index, problems[0].line), (1, 2));
        assert!(
            problems[0].message.contains("operationType"),
            "{}",
            problems[0].message
        );
        assert_eq!((problems[1].index, problems[1].line), (3, 4));
        assert!(problems[1].message.contains("nope"));
    }

    #[test]
    fn wrong_types_and_broken_json_are_refused() {
        for body in [
            r#"{"operationType":5,"operationDate":"2024-01-02T03:04:05Z"}"#,
            r#"{"operationType":"x","operationType":"y","operationDate":"2024-01-02T03:04:05Z"}"#,
            r#"["x","2024-01-02T03:04:05Z"]"#,
            r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","resourceNewValue":7}"#,
            r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","customizedData":[{"key":"a","value":1}]}"#,
            r#"{"operationType":"x","#,
            r#"[{"operationType":"x"},"#,
            r#"{"operationType":"","operationDate":"2024-01-02T03:04:05Z"}"#,
            r#"{"operationType":"a\u0000b","operationDate":"2024-01-02T03:04:05Z"}"#,
            r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","customerName":"a\u0000"}"#,
            "42",
        ] {
            assert!(
                matches!(parse(body), Err(BatchError::Invalid(_))),
                "{body} accepted"
            );
        }
    }

    /// A real Partner Center record carried a field the documented sample lacks, and the whole
    /// batch was refused as "unknown field": unknown members are now kept, byte for byte, at
    /// the top level, in `attributes` and in `customizedData` entries.
    #[test]
    fn a_record_with_fields_this_version_does_not_know_is_kept_whole() {
        let body = r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z",
            "colour" : "red", "n":1.10,
            "customizedData":[{"key":"a","value":"b","extra":[1]}],
            "attributes":{"objectType":"AuditRecord","etag":"e1"}}"#;
        let record = parse(body).unwrap().remove(0);
        let names: Vec<(&str, &str)> = record
            .extensions
            .members
            .0
            .iter()
            .map(|(n, v)| (n.as_str(), v.get()))
            .collect();
        assert_eq!(names, [("colour", "\"red\""), ("n", "1.10")]);
        assert_eq!(
            record.extensions.customized_data.as_ref().map(|r| r.get()),
            Some(r#"[{"key":"a","value":"b","extra":[1]}]"#)
        );
        assert_eq!(
            record.customized_data,
            Some(vec![KeyValue {
                key: "a".into(),
                value: Some("b".into())
            }])
        );
        assert_eq!(
            record.extensions.attributes.as_ref().map(|r| r.get()),
            Some(r#"{"objectType":"AuditRecord","etag":"e1"}"#)
        );
        let plain = parse(
            r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z",
                "customizedData":[{"key":"a","value":null}],"attributes":{"objectType":"AuditRecord"}}"#,
        )
        .unwrap();
        assert!(plain[0].extensions.is_empty(), "{:?}", plain[0].extensions);
        let out = serde_json::to_string(&record).unwrap();
        assert!(
            out.ends_with(
                r#","attributes":{"objectType":"AuditRecord","etag":"e1"},"colour":"red","n":1.10}"#
            ),
            "{out}"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!(
            r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","resourceNewValue":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(
            parse(&deep).unwrap_err(),
            BatchError::TooDeep {
                max: MAX_DEPTH,
                line: 1
            }
        );
        // Brackets inside strings are text, not nesting.
        let quoted = format!(
            r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","customerName":"{}\"{}"}}"#,
            "[".repeat(1000),
            "{".repeat(1000)
        );
        assert_eq!(parse(&quoted).unwrap().len(), 1);
    }

    #[test]
    fn invalid_utf8_and_empty_bodies_are_refused() {
        let err = parse_batch(b"[{\"a\":\"\xff\"}]", "p1", 10, &mut ids()).unwrap_err();
        assert_eq!(err, BatchError::NotUtf8 { offset: 7 });
        assert_eq!(parse("  \n").unwrap_err(), BatchError::Empty);
        assert_eq!(parse("[]").unwrap_err(), BatchError::Empty);
    }

    #[test]
    fn batches_over_the_limit_are_refused() {
        let body = format!("[{}]", vec![MINIMAL; 101].join(","));
        assert_eq!(parse(&body).unwrap_err(), BatchError::TooMany { max: 100 });
        let ndjson = vec![MINIMAL; 101].join("\n");
        assert_eq!(
            parse(&ndjson).unwrap_err(),
            BatchError::TooMany { max: 100 }
        );
    }

    #[test]
    fn another_partners_id_is_refused() {
        let body =
            r#"{"partnerId":"p2","operationType":"x","operationDate":"2024-01-02T03:04:05Z"}"#;
        let Err(BatchError::Invalid(problems)) = parse(body) else {
            panic!("accepted")
        };
        assert!(problems[0].message.contains("p2"));
    }

    #[test]
    fn resource_values_keep_their_exact_text() {
        let body = r#"{"operationType":"x","operationDate":"2024-01-02T03:04:05Z",
            "resourceOldValue":"{\"Quantity\": 5,  \"Name\":\"Caff\u00e8\"}",
            "resourceNewValue":{"Quantity" :  6}}"#;
        let record = &parse(body).unwrap()[0];
        assert_eq!(
            record.resource_old_value.as_deref(),
            Some("{\"Quantity\": 5,  \"Name\":\"Caffè\"}")
        );
        assert_eq!(
            record.resource_new_value.as_deref(),
            Some(r#"{"Quantity" :  6}"#)
        );
    }

    /// A record with a 31 MiB `customerName` was accepted, and the day's activity log page
    /// became 102 MB of HTML: every field now has a maximum, and the refusal names the field.
    #[test]
    fn a_field_past_its_maximum_is_refused_naming_the_field() {
        let with = |member: &str, value: String| {
            format!(
                r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","{member}":{value}}}"#
            )
        };
        let string = |n: usize| format!("\"{}\"", "a".repeat(n));
        let entries = |n: usize| format!(r#"[{{"key":"k","value":"{}"}}]"#, "v".repeat(n));
        let cases = [
            (
                "customerName",
                string(MAX_NAME_CHARS),
                string(MAX_NAME_CHARS + 1),
            ),
            (
                "userPrincipalName",
                string(MAX_NAME_CHARS),
                string(MAX_NAME_CHARS + 1),
            ),
            (
                "applicationId",
                string(MAX_NAME_CHARS),
                string(MAX_NAME_CHARS + 1),
            ),
            (
                "customerId",
                string(MAX_SHORT_FIELD),
                string(MAX_SHORT_FIELD + 1),
            ),
            (
                "resourceNewValue",
                string(MAX_RESOURCE_VALUE_CHARS),
                string(MAX_RESOURCE_VALUE_CHARS + 1),
            ),
            (
                "resourceOldValue",
                format!("[0{}]", " ".repeat(MAX_RESOURCE_VALUE_CHARS - 3)),
                format!("[0{}]", " ".repeat(MAX_RESOURCE_VALUE_CHARS - 2)),
            ),
            (
                "customizedData",
                entries(MAX_CUSTOMIZED_DATA_BYTES - 30),
                entries(MAX_CUSTOMIZED_DATA_BYTES),
            ),
            (
                "colour",
                string(MAX_EXTENSION_BYTES - 2),
                string(MAX_EXTENSION_BYTES),
            ),
        ];
        for (member, fits, too_long) in cases {
            assert!(
                parse(&with(member, fits)).is_ok(),
                "{member} at its maximum"
            );
            let Err(BatchError::Invalid(problems)) = parse(&with(member, too_long)) else {
                panic!("{member} past its maximum was accepted")
            };
            assert_eq!(problems[0].index, 0);
            assert!(
                problems[0]
                    .message
                    .starts_with(&format!("{member} is longer than")),
                "{}",
                problems[0].message
            );
        }
        // Characters are counted, not bytes, as the OpenAPI document's maxLength counts them.
        let wide = format!("\"{}\"", "é".repeat(MAX_NAME_CHARS));
        assert!(parse(&with("customerName", wide)).is_ok());
        let key = format!(r#"[{{"key":{},"value":"v"}}]"#, string(MAX_NAME_CHARS + 1));
        let Err(BatchError::Invalid(problems)) = parse(&with("customizedData", key)) else {
            panic!("a long customizedData key was accepted")
        };
        assert!(problems[0].message.starts_with("customizedData[0].key"));
    }

    /// schemathesis stored `"attributes":{"objectType":{}}` and the record came back in a form
    /// Partner Center's clients cannot read (and the OpenAPI document forbids).
    #[test]
    fn attributes_that_partner_centers_clients_cannot_read_are_refused() {
        let with = |attributes: &str| {
            format!(
                r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","attributes":{attributes}}}"#
            )
        };
        for bad in [
            r#"{"objectType":{}}"#,
            r#"{"objectType":"Customer"}"#,
            r#"{"objectType":null}"#,
            "5",
            r#"["AuditRecord"]"#,
            r#""AuditRecord""#,
        ] {
            let Err(BatchError::Invalid(problems)) = parse(&with(bad)) else {
                panic!("attributes {bad} were accepted")
            };
            assert!(
                problems[0].message.starts_with("attributes"),
                "{bad}: {}",
                problems[0].message
            );
        }
        for good in [
            r#"{"objectType":"AuditRecord"}"#,
            r#"{"objectType":"AuditRecord","etag":"e1"}"#,
            r#"{"etag":"e1"}"#,
            "{}",
            "null",
        ] {
            assert!(parse(&with(good)).is_ok(), "attributes {good}");
        }
    }

    #[test]
    fn a_record_of_many_members_each_small_enough_is_still_bounded() {
        let member = format!("\"{}\"", "a".repeat(MAX_EXTENSION_BYTES - 2));
        let members: Vec<String> = (0..MAX_RECORD_BYTES / MAX_EXTENSION_BYTES + 1)
            .map(|i| format!(r#""m{i}":{member}"#))
            .collect();
        let body = format!(
            r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z",{}}}"#,
            members.join(",")
        );
        let Err(BatchError::Invalid(problems)) = parse(&body) else {
            panic!("accepted")
        };
        assert!(problems[0].message.starts_with("the record is larger than"));
    }

    /// Fuzzing found a record with a member called `items` (a member this version does not
    /// know, so kept and written back) read as a Partner Center response when sent alone: the
    /// records inside its `items` were stored instead of it. An object with a record's fields
    /// is now a record.
    #[test]
    fn a_record_with_an_items_member_is_a_record_not_a_response() {
        let body = format!(
            r#"{{"operationType":"x","operationDate":"2024-01-02T03:04:05Z","items":[{MINIMAL}]}}"#
        );
        let records = parse(&body).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].operation_type, "x");
        let kept: Vec<&str> = records[0]
            .extensions
            .members
            .0
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(kept, ["items"]);
        let again = serde_json::to_string(&records[0]).unwrap();
        assert_eq!(parse(&again).unwrap(), records);
        // A response is still a response, and a record missing one field is still reported.
        let response = format!(r#"{{"totalCount":1,"items":[{MINIMAL}],"links":{{}}}}"#);
        assert_eq!(parse(&response).unwrap()[0].operation_type, "create_order");
        let half = format!(r#"{{"operationType":"x","items":[{MINIMAL}]}}"#);
        let Err(BatchError::Invalid(problems)) = parse(&half) else {
            panic!("accepted")
        };
        assert!(
            problems[0].message.contains("operationDate"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(parse(&format!("\u{feff}{MINIMAL}")).unwrap().len(), 1);
    }
}
