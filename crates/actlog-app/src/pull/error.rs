//! Why a pull stopped, and what a source said when it refused a request.

use std::fmt;

use actlog_store::StoreError;

/// A setting that cannot work: the caller's to correct (the binary exits 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("`{url}` is not a URL: {reason}")]
    Url { url: String, reason: String },
    #[error(
        "`{url}` is plain HTTP to a host other than this machine; credentials only go over \
         https:// (plain http:// is for 127.0.0.1 and localhost)"
    )]
    PlainHttp { url: String },
    #[error("the app's certificate credentials: {0}")]
    Certificate(String),
    #[error("the HTTP client could not be set up: {0}")]
    Client(String),
}

/// What a source put in an error body: Partner Center's `code` and `description`, an actlog
/// problem document's `code` and `detail`, or Entra's `error` and `error_description`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    pub code: Option<String>,
    pub description: Option<String>,
}

impl Fault {
    /// Reads an error body; a body that is not JSON gives its first line as the description.
    pub fn parse(body: &[u8]) -> Fault {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
            let text = String::from_utf8_lossy(body);
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let description = (!first.is_empty()).then(|| shorten(first.trim()));
            return Fault {
                code: None,
                description,
            };
        };
        let text = |names: &[&str]| {
            names.iter().find_map(|name| match map.get(*name) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(shorten(s)),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        Fault {
            code: text(&["code", "error"]),
            description: text(&["description", "detail", "error_description", "message"]),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.description) {
            (Some(code), Some(text)) => write!(f, ": code {code}: {text}"),
            (Some(code), None) => write!(f, ": code {code}"),
            (None, Some(text)) => write!(f, ": {text}"),
            (None, None) => Ok(()),
        }
    }
}

/// At most 500 characters of a message from elsewhere.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Why a pull stopped.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// 401 or 403: the credentials are wrong or lack a permission; retrying cannot help.
    #[error("{url} refused the credentials (HTTP {status}){fault}")]
    Refused {
        url: String,
        status: u16,
        fault: Fault,
    },
    /// Another 4xx (or a redirect): the request itself is wrong for this source.
    #[error("{url} refused the request (HTTP {status}){fault}")]
    Rejected {
        url: String,
        status: u16,
        fault: Fault,
    },
    /// The token endpoint refused the client's credentials.
    #[error("signing in at {url} failed (HTTP {status}){fault}")]
    SignIn {
        url: String,
        status: u16,
        fault: Fault,
    },
    /// Throttling, server or network failures outlasted the retries.
    #[error("{url} still failed after {attempts} attempts; the last: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    /// A 200 whose body is not what an audit-records API (or a token endpoint) answers.
    #[error("{url} answered something that is not {expected}: {reason}")]
    Malformed {
        url: String,
        expected: &'static str,
        reason: String,
    },
    /// A record the source sent that actlog cannot store as it is.
    #[error("a record from {url} cannot be stored (nothing of its page was): {reason}")]
    Record { url: String, reason: String },
    /// Records the source sent again with other content than the copy already stored.
    #[error(
        "{} record id(s) from the source are already stored with other content (first: {}); \
         the source changed records it had sent",
        .0.len(),
        .0.first().map(String::as_str).unwrap_or("")
    )]
    Changed(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Setup(#[from] SetupError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_partner_center_actlog_and_entra_bodies() {
        let pc = br#"{"code":900420,"description":"The audience 'https://graph.windows.net' in the token is invalid and is no longer supported in Partner Center API.","data":[],"source":"PartnerFD"}"#;
        let fault = Fault::parse(pc);
        assert_eq!(fault.code.as_deref(), Some("900420"));
        assert!(fault.to_string().starts_with(": code 900420: The audience"));
        let actlog = br#"{"type":"urn:actlog:problem:unauthenticated","code":"unauthenticated","detail":"send an API key"}"#;
        assert_eq!(
            Fault::parse(actlog).to_string(),
            ": code unauthenticated: send an API key"
        );
        let entra = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#;
        assert_eq!(
            Fault::parse(entra).to_string(),
            ": code invalid_client: AADSTS7000215: Invalid client secret provided."
        );
        assert_eq!(
            Fault::parse(b"\n<html>Bad gateway</html>").to_string(),
            ": <html>Bad gateway</html>"
        );
        assert_eq!(Fault::parse(b"").to_string(), "");
    }
}
