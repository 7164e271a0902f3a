//! `/v1/checkpoint`, `/v1/auditrecords/{id}/proof` and `/v1/consistency`: signed checkpoints and
//! proofs an outside party checks with the standard algorithms, partner-bound, read scope.

use actlog_app::evidence::Signer;
use actlog_server::ServerConfig;
use actlog_server::state::CheckpointSigning;
use actlog_tlog::checkpoint::{self, Checkpoint};
use actlog_tlog::keyfile::Keyring;
use actlog_tlog::merkle::{self, Hash};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::support::{TestApp, record, text};

const DEPLOYMENT: &str = "actlog.test";

/// A server signing with a keyring of its own; the keyring's verifier keys.
async fn signing_app() -> (TestApp, Vec<actlog_tlog::note::VerifierKey>) {
    let dir = tempfile::tempdir().unwrap();
    let keyring = Keyring::load_or_create(&dir.path().join("k"), DEPLOYMENT).unwrap();
    let verifiers = keyring.verifiers();
    let config = ServerConfig {
        checkpoints: Some(CheckpointSigning {
            signer: Signer::new(keyring),
            interval: std::time::Duration::from_secs(3600),
        }),
        ..ServerConfig::default()
    };
    (
        TestApp::configured(config, "2026-11-25T12:00:00Z").await,
        verifiers,
    )
}

fn hash(value: &Value) -> Hash {
    STANDARD
        .decode(value.as_str().expect("base64 text"))
        .unwrap()
        .try_into()
        .expect("32 bytes")
}

fn hashes(value: &Value) -> Vec<Hash> {
    value.as_array().expect("a list").iter().map(hash).collect()
}

async fn ingest(app: &TestApp, key: &str, ids: &[&str]) {
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| record(id, "2026-11-20T10:00:00Z", "Contoso"))
        .collect();
    let stored = app.post(key, serde_json::to_string(&batch).unwrap()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", text(&stored));
}

#[tokio::test]
async fn checkpoints_and_proofs_verify_with_the_standard_algorithms() {
    let (app, keys) = signing_app().await;
    let (writer, reader) = (app.key("p1", "write").await, app.key("p1", "read").await);
    ingest(&app, &writer, &["a", "b", "c"]).await;

    let reply = app.get("/v1/checkpoint", &reader).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(
        reply.headers[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let note = String::from_utf8(reply.raw.clone()).unwrap();
    let origin = checkpoint::origin(DEPLOYMENT, "p1").unwrap();
    let first = Checkpoint::open(&note, &keys, &origin).expect("signed by the deployment");
    assert_eq!(first.size(), 3);

    let proof = app.get("/v1/auditrecords/b/proof", &reader).await;
    assert_eq!(proof.status, StatusCode::OK, "{}", text(&proof));
    assert_eq!(proof.body["logIndex"], 1);
    assert_eq!(proof.body["treeSize"], 3);
    let stored = app.get("/v1/auditrecords/b", &reader).await;
    let record: actlog_domain::AuditRecord = serde_json::from_value(stored.body).unwrap();
    let leaf = merkle::leaf_hash(&actlog_tlog::canonical::encode("p1", &record));
    assert_eq!(
        hash(&proof.body["leafHash"]),
        leaf,
        "the leaf of the record as read"
    );
    merkle::verify_inclusion(
        &leaf,
        1,
        3,
        &hashes(&proof.body["inclusionProof"]),
        first.root(),
    )
    .expect("the record is in the signed tree");

    ingest(&app, &writer, &["d", "e"]).await;
    let consistency = app.get("/v1/consistency?from=3", &reader).await;
    assert_eq!(consistency.status, StatusCode::OK, "{}", text(&consistency));
    let later = Checkpoint::open(
        consistency.body["toCheckpoint"].as_str().unwrap(),
        &keys,
        &origin,
    )
    .unwrap();
    assert_eq!(later.size(), 5);
    merkle::verify_consistency(
        3,
        5,
        &hashes(&consistency.body["consistencyProof"]),
        first.root(),
        later.root(),
    )
    .expect("the log only grew");

    let older = app
        .get("/v1/auditrecords/a/proof?treeSize=3", &reader)
        .await;
    assert_eq!(older.status, StatusCode::OK, "{}", text(&older));
    assert_eq!(older.body["checkpoint"].as_str().unwrap(), note);
}

#[tokio::test]
async fn proofs_are_partner_bound_read_scoped_and_explain_bad_parameters() {
    let (app, _) = signing_app().await;
    let writer = app.key("p1", "write").await;
    ingest(&app, &writer, &["a", "b"]).await;
    let reader = app.key("p1", "read").await;
    let other = app.key("p2", "read").await;

    let foreign = app.get("/v1/auditrecords/a/proof", &other).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", text(&foreign));
    let theirs = app.get("/v1/checkpoint", &other).await;
    assert!(
        String::from_utf8(theirs.raw)
            .unwrap()
            .contains("/partner/p2\n0\n"),
        "another partner's log is its own, empty one"
    );
    let write_only = app.get("/v1/checkpoint", &writer).await;
    assert_eq!(write_only.status, StatusCode::FORBIDDEN);

    for (uri, status) in [
        (
            "/v1/auditrecords/a/proof?treeSize=abc",
            StatusCode::BAD_REQUEST,
        ),
        ("/v1/auditrecords/a/proof?treeSize=7", StatusCode::NOT_FOUND),
        ("/v1/auditrecords/a/proof?size=2", StatusCode::BAD_REQUEST),
        ("/v1/auditrecords/nope/proof", StatusCode::NOT_FOUND),
        ("/v1/consistency", StatusCode::BAD_REQUEST),
        ("/v1/consistency?from=-1", StatusCode::BAD_REQUEST),
        ("/v1/consistency?from=9", StatusCode::NOT_FOUND),
    ] {
        let reply = app.get(uri, &reader).await;
        assert_eq!(reply.status, status, "{uri}: {}", text(&reply));
        assert!(!reply.code().is_empty(), "{uri}: a problem document");
    }
}

#[tokio::test]
async fn a_server_without_its_keyring_says_so() {
    let app = TestApp::new().await;
    let reader = app.key("p1", "read").await;
    let reply = app.get("/v1/checkpoint", &reader).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(text(&reply).contains("keyring"), "{}", text(&reply));
}
