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
        // Beyond what the document's maximum allows.
        (
            "/v1/consistency?from=18446744073709551616",
            StatusCode::BAD_REQUEST,
        ),
        // No such proof: a tree the record is not in, a size the log has not reached, a tree
        // that would have shrunk.
        ("/v1/consistency?from=2&to=1", StatusCode::NOT_FOUND),
        ("/v1/auditrecords/b/proof?treeSize=1", StatusCode::NOT_FOUND),
        ("/v1/consistency?from=3", StatusCode::NOT_FOUND),
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

/// The two entries of a proved export's ZIP archive: the file and its bundle, by name.
fn unzip(raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(raw)).expect("a ZIP archive");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

#[tokio::test]
async fn an_export_with_proof_is_a_zip_of_the_file_and_a_bundle_that_verifies() {
    let (app, keys) = signing_app().await;
    let (writer, reader) = (app.key("p1", "write").await, app.key("p1", "read").await);
    ingest(&app, &writer, &["a", "b", "c", "d", "e"]).await;
    let other = app.key("p2", "write").await;
    ingest(&app, &other, &["x"]).await;

    let query = "startDate=2026-11-01T00:00:00Z&endDate=2026-11-30T00:00:00Z&filter=";
    for format in ["csv", "xlsx", "ndjson"] {
        let uri = format!("/v1/exports/auditrecords?{query}&format={format}&proof=true");
        let reply = app.get(&uri, &reader).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
        assert_eq!(reply.headers["content-type"], "application/zip");
        let disposition = reply.headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.ends_with(&format!(".{format}.zip\"")),
            "{disposition}"
        );
        let entries = unzip(&reply.raw);
        assert_eq!(entries.len(), 2, "the file and its proof");
        let (name, file) = &entries[0];
        let (proof_name, bundle) = &entries[1];
        assert!(name.ends_with(&format!(".{format}")), "{name}");
        assert_eq!(proof_name, &format!("{name}.proof.json"));

        let verified = actlog_tlog::bundle::verify(&file[..], &bundle[..], &keys[0])
            .unwrap_or_else(|p| panic!("{format}: {p}"));
        assert_eq!(verified.manifest.rows, 5);
        assert_eq!(verified.manifest.partner, "p1");
        assert_eq!(verified.manifest.file_format, format);
        assert_eq!(
            verified.manifest.tree_size, 5,
            "p2's record is not in p1's log"
        );

        // The same export without its proof is the same file, byte for byte.
        let plain = app
            .get(
                &format!("/v1/exports/auditrecords?{query}&format={format}"),
                &reader,
            )
            .await;
        if format != "xlsx" {
            assert_eq!(&plain.raw, file, "{format}");
        }

        // An edited or cut file does not verify.
        let mut edited = file.clone();
        let at = edited.len() / 2;
        edited[at] ^= 0x20;
        assert!(actlog_tlog::bundle::verify(&edited[..], &bundle[..], &keys[0]).is_err());
        let cut = &file[..file.len() - 1];
        assert!(actlog_tlog::bundle::verify(cut, &bundle[..], &keys[0]).is_err());
    }
}

/// A client that accepts gzip (schemathesis, through Python's requests) had its proved export
/// cut off: the archive was gzipped again, and the compressor read the export's stream past
/// its end, which panicked. A ZIP archive is compressed already: it is sent as it is.
#[tokio::test]
async fn an_export_with_proof_to_a_client_that_accepts_gzip_arrives_whole() {
    use axum::body::Body;
    use axum::http::Method;

    let (app, keys) = signing_app().await;
    let (writer, reader) = (app.key("p1", "write").await, app.key("p1", "read").await);
    ingest(&app, &writer, &["a", "b", "c"]).await;
    let uri = "/v1/exports/auditrecords?startDate=2026-11-01T00:00:00Z&endDate=2026-11-30T00:00:00Z&format=csv&proof=true";
    let reply = app
        .request(
            Method::GET,
            uri,
            Some(&reader),
            &[("accept-encoding", "gzip, deflate")],
            Body::empty(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert!(reply.headers.get("content-encoding").is_none());
    let entries = unzip(&reply.raw);
    let verified = actlog_tlog::bundle::verify(&entries[0].1[..], &entries[1].1[..], &keys[0])
        .unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(verified.manifest.rows, 3);
}

#[tokio::test]
async fn an_export_with_proof_needs_a_signing_server_and_a_true_or_false() {
    let (app, _) = signing_app().await;
    let reader = app.key("p1", "read").await;
    let reply = app
        .get("/v1/exports/auditrecords?format=csv&proof=yes", &reader)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", text(&reply));
    assert!(text(&reply).contains("proof `yes` is not true or false"));

    let unsigned = TestApp::new().await;
    let reader = unsigned.key("p1", "read").await;
    let reply = unsigned
        .get("/v1/exports/auditrecords?format=csv&proof=true", &reader)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", text(&reply));
    assert!(text(&reply).contains("signs no checkpoints"));
    let plain = unsigned
        .get("/v1/exports/auditrecords?format=csv&proof=false", &reader)
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", text(&plain));
}

#[tokio::test]
async fn the_pages_export_offers_the_proof_when_the_deployment_signs() {
    use actlog_domain::roles::Role;
    use axum::http::Method;

    let (app, keys) = signing_app().await;
    let writer = app.key("p1", "write").await;
    ingest(&app, &writer, &["a", "b"]).await;
    app.user("p1", "admin@p1.example", &[Role::AdminAgent])
        .await;
    let session = app.sign_in("admin@p1.example").await;
    let page = app
        .browse(Method::GET, "/activity-log", &session, None)
        .await;
    let html = String::from_utf8(page.raw.clone()).unwrap();
    assert!(
        html.contains(r#"<input id="export-proof" type="checkbox" name="proof" value="true">"#),
        "the export form offers the proof"
    );
    // What the form sends when it is ticked, with the session: the archive, verifying.
    let action =
        "/v1/exports/auditrecords?startDate=2026-11-01T00%3A00%3A00Z&format=csv&proof=true";
    let download = app.browse(Method::GET, action, &session, None).await;
    assert_eq!(download.status, StatusCode::OK, "{}", text(&download));
    let entries = unzip(&download.raw);
    let verified = actlog_tlog::bundle::verify(&entries[0].1[..], &entries[1].1[..], &keys[0])
        .unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(verified.manifest.rows, 2);

    let unsigned = TestApp::new().await;
    unsigned
        .user("p1", "admin@p1.example", &[Role::AdminAgent])
        .await;
    let session = unsigned.sign_in("admin@p1.example").await;
    let page = unsigned
        .browse(Method::GET, "/activity-log", &session, None)
        .await;
    let html = String::from_utf8(page.raw.clone()).unwrap();
    assert!(html.contains("export-button"), "an export form");
    assert!(
        !html.contains("name=\"proof\""),
        "no proof offered without a signer"
    );
}
