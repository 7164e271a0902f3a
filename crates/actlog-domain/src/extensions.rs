//! What a record carries that this version of actlog does not model, kept byte for byte.
//!
//! Partner Center adds fields over time, and real responses carry fields no SDK declares. A
//! record is never refused for them and never loses them: the members of a record this version
//! does not know are kept as their exact JSON text, in the order received; an `attributes`
//! object holding more than `objectType`, or a `customizedData` list whose entries hold more
//! than `key` and `value`, is kept whole as received. They are stored beside the record (one
//! JSON text, [`Extensions::to_stored`]) and written back where they came from when the record
//! is returned, so a Partner Center response round-trips unchanged in those fields.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON text kept exactly as received; equal when the texts are equal.
#[derive(Debug, Clone)]
pub struct Raw(Box<RawValue>);

impl Raw {
    /// The JSON text, as received.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// `text` as a kept value; fails unless it is one JSON value.
    pub fn from_text(text: &str) -> Result<Raw, serde_json::Error> {
        RawValue::from_string(text.to_owned()).map(Raw)
    }
}

impl From<Box<RawValue>> for Raw {
    fn from(raw: Box<RawValue>) -> Self {
        Raw(raw)
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Raw {}

impl Serialize for Raw {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Raw)
    }
}

/// An object's members, each name with its value's exact text, in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members(pub Vec<(String, Raw)>);

impl Members {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the first member called `name`.
    pub fn get(&self, name: &str) -> Option<&Raw> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Writes the members as a JSON object, values byte for byte.
    fn write_object(&self, out: &mut String) {
        out.push('{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(name).expect("a string serializes"));
            out.push(':');
            out.push_str(value.get());
        }
        out.push('}');
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Collect;
        impl<'de> Visitor<'de> for Collect {
            type Value = Members;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Raw>()? {
                    members.push((name, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Collect)
    }
}

/// What a record carried beyond what this version models (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// Members of the record this version does not know, in the order received.
    pub members: Members,
    /// The `attributes` value as received, when it is anything but `{"objectType":
    /// "AuditRecord"}`.
    pub attributes: Option<Raw>,
    /// The `customizedData` list as received, when one of its entries holds more than `key`
    /// and `value`.
    pub customized_data: Option<Raw>,
}

/// How [`Extensions`] are stored.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    members: Members,
    attributes: Option<Raw>,
    #[serde(rename = "customizedData")]
    customized_data: Option<Raw>,
}

impl Extensions {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.attributes.is_none() && self.customized_data.is_none()
    }

    /// The stored form: one JSON object (`members`, `attributes`, `customizedData`), every
    /// kept value byte for byte; `None` when there is nothing to keep. Versioned by its shape:
    /// a later version adds members, never changes these.
    pub fn to_stored(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut out = String::from("{\"members\":");
        self.members.write_object(&mut out);
        for (name, value) in [
            ("attributes", &self.attributes),
            ("customizedData", &self.customized_data),
        ] {
            if let Some(value) = value {
                out.push_str(",\"");
                out.push_str(name);
                out.push_str("\":");
                out.push_str(value.get());
            }
        }
        out.push('}');
        Some(out)
    }

    /// Reads the stored form back.
    pub fn from_stored(text: &str) -> Result<Extensions, serde_json::Error> {
        let stored: Stored = serde_json::from_str(text)?;
        Ok(Extensions {
            members: stored.members,
            attributes: stored.attributes,
            customized_data: stored.customized_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_reads_back_byte_for_byte() {
        let members: Members =
            serde_json::from_str(r#"{"z":1.50, "a":{"b" : [1,2]},"é\"":"x\u00e9"}"#).unwrap();
        let ext = Extensions {
            members,
            attributes: Some(
                Raw::from_text(r#"{"objectType":"AuditRecord","etag":"W/1"}"#).unwrap(),
            ),
            customized_data: None,
        };
        let stored = ext.to_stored().unwrap();
        let back = Extensions::from_stored(&stored).unwrap();
        assert_eq!(back, ext);
        let texts: Vec<(&str, &str)> = back
            .members
            .0
            .iter()
            .map(|(n, v)| (n.as_str(), v.get()))
            .collect();
        assert_eq!(
            texts,
            [
                ("z", "1.50"),
                ("a", r#"{"b" : [1,2]}"#),
                ("é\"", r#""x\u00e9""#)
            ]
        );
        assert_eq!(Extensions::default().to_stored(), None);
    }
}
