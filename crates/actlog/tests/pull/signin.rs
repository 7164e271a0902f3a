//! Signing in as an app at a token endpoint of the tests' own (standing in for Entra ID),
//! with a client secret or a certificate, in front of a source that only takes the token it
//! issued; neither the secret nor the token is ever shown.

use std::path::Path;
use std::sync::Arc;

use crate::common::TestDb;
use crate::fake::{self, Fake, Reply, Script, Seen};
use crate::{AUDIENCE_REFUSED, LIMIT, Source, assert_mirrored, pull_command, run};

const SECRET: &str = "Zq8~Q.s3cr3t+Va/Lu=E";
const TOKEN_PATH: &str = "/tenant-1/oauth2/v2.0/token";
const ISSUED: &str = "issued-abc";
/// The test certificate's SHA-256 thumbprint, base64url.
const THUMBPRINT: &str = "eacQgUYtkh7SaPO0rQ7LV53IE3x_OmwIg1BQa1mi22o";

/// The fixture certificate and key (one PEM file), made for these tests only.
fn app_pem() -> String {
    format!(
        "{}/../actlog-app/src/pull/fixtures/app.pem",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A token endpoint that issues [`ISSUED`] to a grant `accepts` takes, and a source that
/// forwards requests bearing it to the real source with its read key.
fn entra_and_source(source: &Source, accepts: fn(&Seen, &str) -> bool) -> Fake {
    let read_key = source.read_key.clone();
    let own_url = Arc::new(std::sync::OnceLock::<String>::new());
    let url = own_url.clone();
    let script: Script = Arc::new(move |seen, _| {
        if seen.target == TOKEN_PATH {
            let audience = format!("{}{TOKEN_PATH}", url.get().unwrap());
            let ok = seen.method == "POST"
                && seen.header("authorization").is_none()
                && accepts(seen, &audience);
            return if ok {
                Reply::json(
                    200,
                    &format!(
                        r#"{{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"{ISSUED}"}}"#
                    ),
                )
            } else {
                Reply::json(
                    401,
                    r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
                )
            };
        }
        match seen.header("authorization") {
            Some(bearer) if bearer == format!("Bearer {ISSUED}") => {
                Reply::Forward(Some(read_key.clone()))
            }
            _ => Reply::json(401, AUDIENCE_REFUSED),
        }
    });
    let fake = Fake::start(Some(&source.server.url), script);
    own_url.set(fake.url.clone()).unwrap();
    fake
}

/// The form of a token request has each of `expected`, and no `client_secret` unless expected.
fn has(seen: &Seen, expected: &[(&str, &str)]) -> bool {
    let form = fake::form(&seen.body);
    let secret_expected = expected.iter().any(|(k, _)| *k == "client_secret");
    let secret_sent = form.iter().any(|(k, _)| k == "client_secret");
    secret_sent == secret_expected
        && expected
            .iter()
            .all(|(k, v)| form.iter().any(|(fk, fv)| fk == k && fv == v))
}

const COMMON: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("client_id", "app-1"),
    ("scope", "https://api.partnercenter.microsoft.com/.default"),
];

/// `[pull]` settings naming the fake authority and source, and `extra`.
fn config(dir: &Path, fake: &Fake, extra: &str) -> std::path::PathBuf {
    let path = dir.join("actlog.toml");
    std::fs::write(
        &path,
        format!(
            "[pull]\nsource = \"{0}/v1/auditrecords\"\nauthority = \"{0}\"\ntenant_id = \"tenant-1\"\nclient_id = \"app-1\"\npage_size = 400\n{extra}",
            fake.url
        ),
    )
    .unwrap();
    path
}

/// The pull went through the fake source with one token, and showed none of `hidden`.
async fn assert_signed_in_once(source: &Source, target: &TestDb, fake: &Fake, text: &str) {
    assert_mirrored(&source.db, target).await;
    let seen = fake.seen();
    let sign_ins = seen.iter().filter(|s| s.target == TOKEN_PATH).count();
    assert_eq!(sign_ins, 1, "one token serves every page");
    assert!(seen.len() > 8, "the pull went through the fake source");
    for hidden in [SECRET, "s3cr3t", ISSUED, "PRIVATE KEY"] {
        assert!(!text.contains(hidden), "`{hidden}` was shown:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_secret_signs_in_at_the_authority_and_is_never_shown() {
    let source = Source::start().await;
    let target = TestDb::new();
    let fake = entra_and_source(&source, |seen, _| {
        has(
            seen,
            &[COMMON[0], COMMON[1], COMMON[2], ("client_secret", SECRET)],
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &fake, "");
    let mut command = pull_command(&target, &["--since", &source.since], &[]);
    command
        .args(["--config", config.to_str().unwrap()])
        .env("ACTLOG_PULL_CLIENT_SECRET", SECRET)
        .env("ACTLOG_LOG", "debug");
    let ran = run(command, LIMIT);
    assert!(ran.status.success(), "{}", ran.text);
    assert_signed_in_once(&source, &target, &fake, &ran.text).await;

    // A wrong secret fails at the token endpoint with Entra's error, not shown either.
    let mut command = pull_command(&target, &[], &[]);
    command
        .args(["--config", config.to_str().unwrap()])
        .env("ACTLOG_PULL_CLIENT_SECRET", "wrong-s3cret");
    let ran = run(command, LIMIT);
    assert_eq!(ran.status.code(), Some(1), "{}", ran.text);
    assert!(ran.text.contains("signing in at"), "{}", ran.text);
    assert!(ran.text.contains("AADSTS7000215"), "{}", ran.text);
    assert!(!ran.text.contains("wrong-s3cret"), "{}", ran.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_signs_in_with_a_ps256_assertion_for_the_token_endpoint() {
    let source = Source::start().await;
    let target = TestDb::new();
    let fake = entra_and_source(&source, |seen, audience| {
        let assertion_type = (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        );
        if !has(seen, &[COMMON[0], COMMON[1], COMMON[2], assertion_type]) {
            return false;
        }
        let form = fake::form(&seen.body);
        let Some((_, jwt)) = form.iter().find(|(k, _)| k == "client_assertion") else {
            return false;
        };
        let parts: Vec<&str> = jwt.split('.').collect();
        let json = |part: &str| -> serde_json::Value {
            serde_json::from_slice(&base64url(part)).unwrap_or_default()
        };
        let (header, claims) = (json(parts[0]), json(parts[1]));
        let now = jiff::Timestamp::now().as_second();
        parts.len() == 3
            && header["alg"] == "PS256"
            && header["x5t#S256"] == THUMBPRINT
            && claims["aud"] == audience
            && claims["iss"] == "app-1"
            && claims["sub"] == "app-1"
            && claims["exp"]
                .as_i64()
                .is_some_and(|exp| exp > now && exp <= now + 600)
            && base64url(parts[2]).len() == 256
    });
    let dir = tempfile::tempdir().unwrap();
    let pem = app_pem();
    let config = config(
        dir.path(),
        &fake,
        &format!("client_certificate = \"{pem}\"\n"),
    );
    let mut command = pull_command(&target, &["--since", &source.since], &[]);
    command
        .args(["--config", config.to_str().unwrap()])
        .env("ACTLOG_LOG", "debug");
    let ran = run(command, LIMIT);
    assert!(ran.status.success(), "{}", ran.text);
    assert_signed_in_once(&source, &target, &fake, &ran.text).await;
}

/// Base64url without padding, decoded (what a JWT's parts are).
fn base64url(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    };
    let (mut out, mut bits, mut count) = (Vec::new(), 0u32, 0);
    for c in text.bytes() {
        let Some(v) = value(c) else { return Vec::new() };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}
