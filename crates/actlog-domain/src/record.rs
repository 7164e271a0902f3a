//! The audit record: Partner Center's `AuditRecord`, field for field.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::extensions::Extensions;
use crate::time::OperationDate;

/// One action a partner took, as stored and as returned by the API.
///
/// Field names and shapes are Partner Center's (camelCase JSON), so that records exported
/// from Partner Center, or written by tools made for it, load without conversion. Absent
/// optional fields stay absent on the way out, and what this version does not model
/// ([`Extensions`]) goes back out as it came in.
///
/// `Deserialize` reads the known fields only (for tests and tools); records from clients come
/// in through [`crate::ingest`], which keeps the rest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Unique per partner; the idempotency key when the client chose it.
    pub id: String,
    /// The partner tenant the record belongs to (always the caller's).
    pub partner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// The partner user (or application identity) that acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// A wire value such as `order`; unknown values are kept as they came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The resource before the action: JSON serialized in a string, byte for byte as received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_old_value: Option<String>,
    /// The resource after the action, as [`Self::resource_old_value`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_new_value: Option<String>,
    /// A wire value such as `create_order`; unknown values are kept as they came.
    pub operation_type: String,
    pub operation_date: OperationDate,
    /// `succeeded`, `failed`, `progress` or `decline` (others are kept as they came).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customized_data: Option<Vec<KeyValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_correlation_id: Option<String>,
    /// Always `{"objectType": "AuditRecord"}`, as Partner Center writes it (unless the record
    /// came with other attributes: [`Extensions::attributes`]).
    #[serde(default = "Attributes::audit_record", skip_deserializing)]
    pub attributes: Attributes,
    /// What the record carried that this version does not model, returned as it came.
    #[serde(skip)]
    pub extensions: Extensions,
}

impl Serialize for AuditRecord {
    /// Partner Center's shape: the known fields in its order, absent ones left out, then the
    /// members this version does not know; `customizedData` and `attributes` as received when
    /// they held more than actlog models.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("partnerId", &self.partner_id)?;
        let optional = [
            ("customerId", &self.customer_id),
            ("customerName", &self.customer_name),
            ("userPrincipalName", &self.user_principal_name),
            ("applicationId", &self.application_id),
            ("resourceType", &self.resource_type),
            ("resourceOldValue", &self.resource_old_value),
            ("resourceNewValue", &self.resource_new_value),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        map.serialize_entry("operationType", &self.operation_type)?;
        map.serialize_entry("operationDate", &self.operation_date)?;
        if let Some(status) = &self.operation_status {
            map.serialize_entry("operationStatus", status)?;
        }
        match (&self.extensions.customized_data, &self.customized_data) {
            (Some(raw), _) => map.serialize_entry("customizedData", raw)?,
            (None, Some(items)) => map.serialize_entry("customizedData", items)?,
            (None, None) => {}
        }
        for (name, value) in [
            ("sessionId", &self.session_id),
            ("originalCorrelationId", &self.original_correlation_id),
        ] {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        match &self.extensions.attributes {
            Some(raw) => map.serialize_entry("attributes", raw)?,
            None => map.serialize_entry("attributes", &self.attributes)?,
        }
        for (name, value) in &self.extensions.members.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One entry of `customizedData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyValue {
    pub key: String,
    pub value: Option<String>,
}

/// The `attributes` object Partner Center puts on every resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    pub object_type: String,
}

impl Attributes {
    pub fn audit_record() -> Self {
        Attributes {
            object_type: "AuditRecord".to_owned(),
        }
    }
}

impl Default for Attributes {
    fn default() -> Self {
        Self::audit_record()
    }
}

impl AuditRecord {
    /// `customizedData` as stored: compact JSON, or `None` when the record has none.
    pub fn customized_data_json(&self) -> Option<String> {
        let items = self.customized_data.as_ref()?;
        Some(serde_json::to_string(items).expect("key/value lists always serialize"))
    }

    /// The value of a `customizedData` key, if present.
    pub fn customized(&self, key: &str) -> Option<&str> {
        self.customized_data
            .as_deref()?
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_deref())
    }

    /// Equal in every stored field but `partnerId`, which a store takes from the caller's
    /// partner: a record sent again with the same id is a retry exactly when this holds.
    pub fn same_content(&self, other: &AuditRecord) -> bool {
        let AuditRecord {
            id,
            partner_id: _,
            customer_id,
            customer_name,
            user_principal_name,
            application_id,
            resource_type,
            resource_old_value,
            resource_new_value,
            operation_type,
            operation_date,
            operation_status,
            customized_data,
            session_id,
            original_correlation_id,
            attributes: _,
            extensions,
        } = other;
        self.id == *id
            && self.customer_id == *customer_id
            && self.customer_name == *customer_name
            && self.user_principal_name == *user_principal_name
            && self.application_id == *application_id
            && self.resource_type == *resource_type
            && self.resource_old_value == *resource_old_value
            && self.resource_new_value == *resource_new_value
            && self.operation_type == *operation_type
            && self.operation_date == *operation_date
            && self.operation_status == *operation_status
            && self.customized_data == *customized_data
            && self.session_id == *session_id
            && self.original_correlation_id == *original_correlation_id
            && self.extensions == *extensions
    }
}
