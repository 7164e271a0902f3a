//! `actlog verify`, `actlog checkpoint` and `actlog keys`: tampering done directly in the
//! database (past actlog, as anyone with write access to it could) is found and named; a
//! database rolled back behind a checkpoint held outside is caught; a checkpoint signed by
//! another deployment's key is refused; untouched logs verify.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, TestDb, text};

/// Runs `actlog` with the deployment's keyring at `keyring` (never the user's data directory).
fn run(keyring: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("ACTLOG_LOG", "warn")
        .env("ACTLOG_CHECKPOINTS_KEYRING", keyring)
        .output()
        .unwrap()
}

/// A deployment under test: its database and keyring.
struct Deployment {
    db: TestDb,
    keyring: PathBuf,
    _dir: tempfile::TempDir,
}

impl Deployment {
    fn new() -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        Deployment {
            db: TestDb::new(),
            keyring: dir.path().join("signing.keyring"),
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--database", self.db.url()]);
        run(&self.keyring, &all)
    }

    /// Imports records `from..to` of partner p1 (`r<n>`, records 2 and 3 equal but for
    /// their ids).
    fn import(&self, from: usize, to: usize) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("records.ndjson");
        let lines: Vec<String> = (from..to)
            .map(|n| {
                let (customer, minute) = match n {
                    2 | 3 => ("twin".to_owned(), 30),
                    _ => (format!("{n}"), n % 60),
                };
                format!(
                    r#"{{"id":"r{n}","customerId":"c{customer}","customerName":"Customer {customer}","operationType":"create_order","operationDate":"2024-05-01T10:{minute:02}:00Z","operationStatus":"succeeded"}}"#
                )
            })
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        let out = self.run(&["import", file.to_str().unwrap(), "--partner", "p1"]);
        assert!(out.status.success(), "{}", text(&out));
    }

    /// `actlog checkpoint --partner p1`, kept in a file as an auditor would.
    fn held_checkpoint(&self, dir: &Path, name: &str) -> PathBuf {
        let out = self.run(&["checkpoint", "--partner", "p1"]);
        assert!(out.status.success(), "{}", text(&out));
        let path = dir.join(name);
        std::fs::write(&path, &out.stdout).unwrap();
        path
    }

    fn verifier_key(&self) -> String {
        let out = self.run(&["keys", "show"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_owned()
    }
}

#[test]
fn untouched_logs_verify_and_each_tampering_is_named() {
    let deployment = Deployment::new();
    deployment.import(0, 20);
    let held = tempfile::tempdir().unwrap();
    let checkpoint = deployment.held_checkpoint(held.path(), "p1-20.checkpoint");
    assert!(
        std::fs::read_to_string(&checkpoint)
            .unwrap()
            .starts_with("actlog/partner/p1\n20\n"),
        "a checkpoint of 20 records"
    );

    let clean = deployment.run(&["verify", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(
        text(&clean).contains("partner p1: 20 records") && text(&clean).contains("intact"),
        "{}",
        text(&clean)
    );

    let db = &deployment.db;
    db.tamper("UPDATE records SET customer_name = 'Mallory' WHERE id = 'r5'");
    db.tamper("DELETE FROM records WHERE id = 'r7'");
    db.tamper("UPDATE records SET id = 'tmp' WHERE id = 'r2'");
    db.tamper("UPDATE records SET id = 'r2' WHERE id = 'r3'");
    db.tamper("UPDATE records SET id = 'r3' WHERE id = 'tmp'");
    match db.sqlite_path() {
        Some(_) => db.tamper(
            "INSERT INTO records (partner, id, operation_date, operation_type, search_text)
             SELECT partner, 'forged', operation_date, operation_type, '' FROM records WHERE id = 'r9'",
        ),
        None => db.tamper(
            "INSERT INTO records (partner, seq, id, operation_date, operation_type, search_text)
             SELECT partner, (SELECT max(seq) + 1 FROM records), 'forged', operation_date,
                    operation_type, '' FROM records WHERE id = 'r9'",
        ),
    }

    let found = deployment.run(&["verify", "--checkpoint", checkpoint.to_str().unwrap()]);
    let said = text(&found);
    assert!(!found.status.success(), "{said}");
    for expected in [
        "record r5 (log index 5) was altered",
        "the record logged at index 7 was deleted",
        "record forged was inserted",
        "record r3 was moved: it sits at log index 2 with the content logged at index 3",
        "record r2 was moved: it sits at log index 3 with the content logged at index 2",
        "verification failed: 5 problems found",
    ] {
        assert!(
            said.contains(expected),
            "`{expected}` missing from:\n{said}"
        );
    }
    assert!(
        !said.contains("checkpoint of size 20 does not match"),
        "the signed tree itself is intact:\n{said}"
    );
}

#[test]
fn a_rollback_behind_a_held_checkpoint_and_a_foreign_key_are_caught() {
    let deployment = Deployment::new();
    deployment.import(0, 20);
    let held = tempfile::tempdir().unwrap();
    let older = deployment.db.copy();
    deployment.import(20, 30);
    let newer = deployment.held_checkpoint(held.path(), "p1-30.checkpoint");
    let key = deployment.verifier_key();
    assert!(key.starts_with("actlog+"), "{key}");

    // The older copy, put back in place of the database: the held checkpoint catches it.
    let verify_older = |extra: &[&str]| {
        let mut args = vec!["verify", "--database", older.url(), "--key", &key];
        args.extend(extra);
        run(&held.path().join("unused.keyring"), &args)
    };
    let alone = verify_older(&[]);
    assert!(
        alone.status.success(),
        "without a held checkpoint an older copy looks whole:\n{}",
        text(&alone)
    );
    let caught = verify_older(&["--checkpoint", newer.to_str().unwrap()]);
    assert!(!caught.status.success());
    assert!(
        text(&caught).contains(
            "the database was rolled back: a held checkpoint signed 30 records, the log holds 20"
        ),
        "{}",
        text(&caught)
    );

    // A checkpoint of another deployment (its own key, the same name and partner).
    let other = Deployment::new();
    other.import(0, 30);
    let foreign = other.held_checkpoint(held.path(), "foreign.checkpoint");
    let refused = deployment.run(&["verify", "--checkpoint", foreign.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("is refused: the note is not signed by any known key"),
        "{}",
        text(&refused)
    );

    // Rotating keeps old checkpoints verifiable.
    let rotated = deployment.run(&["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    assert_ne!(deployment.verifier_key(), key);
    let after = deployment.run(&["verify", "--checkpoint", newer.to_str().unwrap()]);
    assert!(after.status.success(), "{}", text(&after));
}

#[test]
fn bad_arguments_are_explained() {
    let deployment = Deployment::new();
    deployment.import(0, 3);
    deployment.verifier_key();
    let bad_key = deployment.run(&["verify", "--key", "not-a-key"]);
    assert_eq!(bad_key.status.code(), Some(2), "{}", text(&bad_key));
    assert!(
        text(&bad_key).contains("is not a verifier key"),
        "{}",
        text(&bad_key)
    );
    let missing = deployment.run(&["verify", "--checkpoint", "/nonexistent/cp"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(
        text(&missing).contains("cannot read checkpoint"),
        "{}",
        text(&missing)
    );
    let no_partner = deployment.run(&["checkpoint", "--partner", " "]);
    assert_eq!(no_partner.status.code(), Some(2), "{}", text(&no_partner));
}

#[test]
fn a_database_from_before_the_log_gets_its_log_built_on_opening() {
    let deployment = Deployment::new();
    deployment.import(0, 20);
    let held = tempfile::tempdir().unwrap();
    let checkpoint = deployment.held_checkpoint(held.path(), "p1-20.checkpoint");
    // As the migration leaves a database whose records were stored before the log existed.
    let db = &deployment.db;
    db.tamper("DELETE FROM log_tiles");
    match db.sqlite_path() {
        Some(_) => db.tamper(
            "UPDATE records SET log_index = NULL; UPDATE partner_logs SET size = 0, frontier = NULL",
        ),
        None => db.tamper("UPDATE partner_logs SET frontier = NULL"),
    }
    let rebuilt = deployment.run(&["verify", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    assert!(
        text(&rebuilt).contains("partner p1: 20 records, log of 20"),
        "{}",
        text(&rebuilt)
    );
    deployment.import(20, 25);
    let grown = deployment.run(&["verify", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(grown.status.success(), "{}", text(&grown));
    assert!(text(&grown).contains("log of 25"), "{}", text(&grown));
}

/// Posts `records` (JSON objects) to `server` as one batch, which must be stored.
async fn post_records(
    client: &reqwest::Client,
    server: &common::Server,
    key: &str,
    records: &[String],
) {
    let stored = client
        .post(format!("{}/v1/auditrecords", server.url))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(format!("[{}]", records.join(",")))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 201);
}

/// `actlog serve` signs the logs that grew every `[checkpoints] interval_seconds`, without
/// anyone asking, and serves the checkpoint `actlog verify` then finds stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_server_signs_grown_logs_on_its_own() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("actlog.toml");
    std::fs::write(&config, "[checkpoints]\ninterval_seconds = 1\n").unwrap();
    let server = common::Server::start(db.url(), Some(&config));
    let keyring = common::keyring_for(db.url());
    let writer = common::create_key(db.url(), "p1");
    let batch: Vec<String> = (0..3)
        .map(|n| {
            format!(
                r#"{{"id":"s{n}","operationType":"create_order","operationDate":"2024-05-01T10:00:0{n}Z"}}"#
            )
        })
        .collect();
    let client = reqwest::Client::new();
    post_records(&client, &server, &writer, &batch).await;

    // Nobody asks for a checkpoint: the server's own signing must store one of 3 records.
    let signed = (0..40).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let out = run(&keyring, &["verify", "--database", db.url()]);
        text(&out)
            .contains("partner p1: 3 records, log of 3")
            .then_some(())
            .filter(|_| text(&out).contains("1 checkpoint checked"))
            .map(|_| out)
    });
    let out = signed.expect("a checkpoint signed by the server within 10 s");
    assert!(out.status.success(), "{}", text(&out));

    let reader = {
        let out = common::actlog(&[
            "apikey",
            "create",
            "--partner",
            "p1",
            "--scopes",
            "read",
            "--database",
            db.url(),
        ]);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_owned()
    };
    let checkpoint = client
        .get(format!("{}/v1/checkpoint", server.url))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(checkpoint.status(), 200);
    assert!(
        checkpoint
            .text()
            .await
            .unwrap()
            .starts_with("actlog/partner/p1\n3\n")
    );
}

/// A checkpoint and an inclusion proof from a running server, checked by an implementation
/// of the specifications written independently in Python (hashlib, and the Ed25519 of the
/// `cryptography` library): the formats are the standard ones, not only self-consistent.
#[tokio::test(flavor = "multi_thread")]
async fn an_independent_implementation_verifies_a_checkpoint_and_a_proof() {
    let db = TestDb::new();
    let server = common::Server::start(db.url(), None);
    let keyring = common::keyring_for(db.url());
    let writer = common::create_key(db.url(), "p1");
    let batch: Vec<String> = (0..11)
        .map(|n| {
            format!(
                r#"{{"id":"x{n}","customerId":"c{n}","customerName":"Città {n}","operationType":"update_subscription","operationDate":"2024-05-0{}T10:00:00.12345{n}Z","operationStatus":"succeeded","customizedData":[{{"key":"SubscriptionId","value":"s{n}"}},{{"key":"Note","value":null}}]}}"#,
                1 + n % 9
            )
        })
        .collect();
    let client = reqwest::Client::new();
    post_records(&client, &server, &writer, &batch).await;
    let get = |path: String| {
        let (client, url, key) = (client.clone(), server.url.clone(), writer.clone());
        async move {
            let reply = client
                .get(format!("{url}{path}"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200, "{path}");
            reply.text().await.unwrap()
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let key = String::from_utf8(run(&keyring, &["keys", "show", "--database", db.url()]).stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    for id in ["x0", "x6", "x10"] {
        let proof = get(format!("/v1/auditrecords/{id}/proof")).await;
        let record = get(format!("/v1/auditrecords/{id}")).await;
        let proof_json: serde_json::Value = serde_json::from_str(&proof).unwrap();
        let files = ["checkpoint", "record.json", "proof.json"].map(|f| dir.path().join(f));
        std::fs::write(&files[0], proof_json["checkpoint"].as_str().unwrap()).unwrap();
        std::fs::write(&files[1], record).unwrap();
        std::fs::write(&files[2], proof).unwrap();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/independent/check_proof.py"
        );
        let out = Command::new("python3")
            .arg(script)
            .arg(&key)
            .args(&files)
            .arg("p1")
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{id}: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "verified");
    }
}

/// `actlog export --proof` and `actlog verify-export`: the untouched export verifies (also
/// with an independent Python implementation of the bundle format); an edited or truncated
/// one, another deployment's key, and a bundle of another export do not; a record tampered
/// with in the database stops a proved export rather than giving a bundle that lies.
#[test]
fn exports_with_proof_verify_offline_and_edits_do_not() {
    let deployment = Deployment::new();
    deployment.import(0, 40);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let export = |file: &str, proof: &str, extra: &[&str]| {
        let mut args = vec![
            "export",
            "--partner",
            "p1",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-01",
            "-o",
        ];
        let (file, proof) = (path(file), path(proof));
        args.extend([file.as_str(), "--proof", proof.as_str()]);
        args.extend(extra);
        deployment.run(&args)
    };
    let key = deployment.verifier_key();
    let verify_export = |file: &str, proof: &str, key: &str| {
        run(
            &deployment.keyring,
            &[
                "verify-export",
                &path(file),
                "--proof",
                &path(proof),
                "--key",
                key,
            ],
        )
    };

    for (file, proof, extra) in [
        ("log.csv", "log.csv.proof.json", vec![]),
        ("log.xlsx", "log.xlsx.proof.json", vec!["--format", "xlsx"]),
        (
            "contoso.ndjson",
            "contoso.proof.json",
            vec![
                "--format",
                "ndjson",
                "--filter",
                r#"{"Field":"CompanyName","Value":"Customer 1","Operator":"substring"}"#,
            ],
        ),
    ] {
        let out = export(file, proof, &extra);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("Proof written to"), "{}", text(&out));
        let checked = verify_export(file, proof, &key);
        assert!(checked.status.success(), "{file}: {}", text(&checked));
        assert!(text(&checked).contains("verified"), "{}", text(&checked));

        // The same, checked without actlog's code.
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/independent/check_export.py"
        );
        let independent = Command::new("python3")
            .args([script, &key, &path(file), &path(proof)])
            .output()
            .expect("python3 runs");
        assert!(
            independent.status.success(),
            "{file}: {}",
            text(&independent)
        );
    }
    let rows = |proof: &str| -> u64 {
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path(proof)).unwrap()).unwrap();
        bundle["records"].as_array().unwrap().len() as u64
    };
    assert_eq!(rows("log.csv.proof.json"), 40);
    assert_eq!(rows("contoso.proof.json"), 11, "Customer 1 and 10 to 19");

    // Edited, truncated, another export's bundle, another key: each refused, and said why.
    let csv = std::fs::read(path("log.csv")).unwrap();
    let edited = String::from_utf8(csv.clone())
        .unwrap()
        .replace("Customer 17", "Customer 71");
    std::fs::write(path("edited.csv"), edited).unwrap();
    std::fs::write(path("cut.csv"), &csv[..csv.len() - 50]).unwrap();
    let other = Deployment::new();
    let foreign_key = other.verifier_key();
    for (file, proof, key, expected) in [
        (
            "edited.csv",
            "log.csv.proof.json",
            key.as_str(),
            "the file is not the one the manifest names",
        ),
        (
            "cut.csv",
            "log.csv.proof.json",
            key.as_str(),
            "the file is not the one the manifest names",
        ),
        (
            "log.csv",
            "contoso.proof.json",
            key.as_str(),
            "the file is not the one the manifest names",
        ),
        (
            "log.csv",
            "log.csv.proof.json",
            foreign_key.as_str(),
            "the bundle's checkpoint is refused",
        ),
    ] {
        let out = verify_export(file, proof, key);
        assert!(!out.status.success(), "{file} with {proof} passed");
        assert!(text(&out).contains(expected), "{file}: {}", text(&out));
        assert!(text(&out).contains("does not verify"), "{}", text(&out));
    }
    let bad = verify_export("log.csv", "log.csv.proof.json", "not-a-key");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("neither a verifier key"),
        "{}",
        text(&bad)
    );

    // After a rotation, with no record since: the bundle is signed by the new key throughout.
    let rotated = deployment.run(&["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    let new_key = deployment.verifier_key();
    assert_ne!(new_key, key);
    let out = export("again.csv", "again.proof.json", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let checked = verify_export("again.csv", "again.proof.json", &new_key);
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        verify_export("log.csv", "log.csv.proof.json", &key)
            .status
            .success()
    );

    // A record changed in the database: the export with proof refuses, and leaves no file.
    deployment
        .db
        .tamper("UPDATE records SET customer_name = 'Mallory' WHERE id = 'r5'");
    let out = export("after.csv", "after.proof.json", &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("record r5 is not in the partner's log as stored"),
        "{}",
        text(&out)
    );
    assert!(!Path::new(&path("after.csv")).exists());
    assert!(!Path::new(&path("after.proof.json")).exists());
}
