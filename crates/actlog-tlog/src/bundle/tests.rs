use std::collections::HashMap;

use actlog_domain::record::AuditRecord;
use actlog_domain::time::OperationDate;

use super::*;
use crate::canonical;
use crate::merkle::{Frontier, NodeId, NodeSource};
use crate::note::SigningKey;

const PARTNER: &str = "partner-a";
const FILE: &[u8] = b"Date-Time,Customer\r\n2026-11-02,Contoso\r\n2026-11-03,Fabrikam\r\n";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed("actlog.example", [seed; 32]).unwrap()
}

fn record(id: &str) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        partner_id: PARTNER.into(),
        customer_id: None,
        customer_name: Some(format!("customer of {id}")),
        user_principal_name: None,
        application_id: None,
        resource_type: None,
        resource_old_value: None,
        resource_new_value: None,
        operation_type: "create_order".into(),
        operation_date: OperationDate::from_ticks(638_000_000_000_000_000),
        operation_status: None,
        customized_data: None,
        session_id: None,
        original_correlation_id: None,
        attributes: Default::default(),
        extensions: Default::default(),
    }
}

/// Every node of a tree, for proofs.
struct Nodes(HashMap<NodeId, Hash>);

impl NodeSource for Nodes {
    type Error = ();
    fn node(&self, level: u8, index: u64) -> Result<Hash, ()> {
        self.0.get(&NodeId::new(level, index)).copied().ok_or(())
    }
}

/// A log of ten records, and a bundle of records 2 and 7 signed by `signer`, for `file`.
fn bundle_of(signer: &SigningKey, file: &[u8], edit: impl FnOnce(&mut Manifest)) -> String {
    let canonicals: Vec<Vec<u8>> = (0..10)
        .map(|i| canonical::encode(PARTNER, &record(&format!("r{i}"))))
        .collect();
    let mut frontier = Frontier::new();
    let mut nodes = HashMap::new();
    for (i, c) in canonicals.iter().enumerate() {
        let leaf = merkle::leaf_hash(c);
        nodes.insert(NodeId::new(0, i as u64), leaf);
        for node in frontier.push(leaf) {
            nodes.insert(NodeId::new(node.level, node.index), node.hash);
        }
    }
    let nodes = Nodes(nodes);
    let origin = checkpoint::origin(signer.name(), PARTNER).unwrap();
    let cp = Checkpoint::new(&origin, frontier.size(), frontier.root()).unwrap();
    let mut leaves = LeavesDigest::default();
    let mut entries = Vec::new();
    for index in [2u64, 7] {
        let c = &canonicals[index as usize];
        leaves.push(&merkle::leaf_hash(c));
        let proof = merkle::inclusion_proof(&nodes, index, frontier.size()).unwrap();
        entries.push(serde_json::to_string(&Entry::new(index, c, &proof)).unwrap());
    }
    let (sha256, bytes) = digest(file).unwrap();
    let mut manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        log: origin,
        partner: PARTNER.into(),
        tree_size: frontier.size(),
        root_hash: STANDARD.encode(frontier.root()),
        exported_at: "2026-12-01T10:00:00Z".into(),
        period_from: "2026-11-01T00:00:00Z".into(),
        period_to: Some("2026-12-01T00:00:00Z".into()),
        filter: None,
        time_zone: "UTC".into(),
        language: "en-US".into(),
        file_format: "csv".into(),
        separator: Some(",".into()),
        file_name: "activity-log_2026-11-01_2026-11-30.csv".into(),
        rows: 2,
        bytes,
        sha256,
        leaves_sha256: leaves.hex(),
    };
    edit(&mut manifest);
    let manifest = note::sign(&manifest.to_text(), signer).unwrap();
    format!(
        "{}{}{CLOSING}",
        opening(&cp.sign(signer), &manifest),
        entries.join(",")
    )
}

fn check(file: &[u8], bundle: &str, key: &SigningKey) -> Result<Verified, Problems> {
    verify(file, bundle.as_bytes(), key.verifier())
}

#[test]
fn an_untouched_export_verifies_against_its_bundle() {
    let bundle = bundle_of(&key(1), FILE, |_| {});
    let verified = check(FILE, &bundle, &key(1)).unwrap();
    assert_eq!(verified.manifest.rows, 2);
    assert_eq!(verified.manifest.partner, PARTNER);
}

#[test]
fn an_edited_or_truncated_file_is_refused() {
    let bundle = bundle_of(&key(1), FILE, |_| {});
    let mut edited = FILE.to_vec();
    edited[25] = b'X';
    let problems = check(&edited, &bundle, &key(1)).unwrap_err();
    assert!(
        problems.0[0].starts_with("the file is not the one the manifest names"),
        "{problems}"
    );
    let problems = check(&FILE[..FILE.len() - 10], &bundle, &key(1)).unwrap_err();
    assert!(
        problems.to_string().contains("bytes with SHA-256"),
        "{problems}"
    );
}

#[test]
fn a_bundle_signed_by_another_key_is_refused() {
    let bundle = bundle_of(&key(2), FILE, |_| {});
    let problems = check(FILE, &bundle, &key(1)).unwrap_err();
    let text = problems.to_string();
    assert!(
        text.contains("the bundle's checkpoint is refused"),
        "{text}"
    );
    assert!(text.contains("the bundle's manifest is refused"), "{text}");
}

#[test]
fn a_record_changed_in_the_bundle_is_not_in_the_log() {
    let bundle = bundle_of(&key(1), FILE, |_| {});
    let original = STANDARD.encode(canonical::encode(PARTNER, &record("r7")));
    let forged = STANDARD.encode(canonical::encode(PARTNER, &record("r8")));
    let problems = check(FILE, &bundle.replace(&original, &forged), &key(1)).unwrap_err();
    let text = problems.to_string();
    assert!(
        text.contains("record 1 of the bundle (log index 7) is not in the log at size 10"),
        "{text}"
    );
    assert!(text.contains("not the ones the manifest names"), "{text}");
}

#[test]
fn a_manifest_of_another_tree_or_count_is_refused() {
    let bundle = bundle_of(&key(1), FILE, |m| {
        m.tree_size = 9;
        m.rows = 3;
    });
    let text = check(FILE, &bundle, &key(1)).unwrap_err().to_string();
    assert!(
        text.contains("the manifest names the tree of size 9"),
        "{text}"
    );
    assert!(text.contains("the manifest counts 3 rows"), "{text}");
}

#[test]
fn a_record_left_out_of_the_bundle_is_noticed() {
    let bundle = bundle_of(&key(1), FILE, |_| {});
    let second = bundle.rfind(",{\"index\":7").unwrap();
    let cut = format!("{}{CLOSING}", &bundle[..second]);
    let text = check(FILE, &cut, &key(1)).unwrap_err().to_string();
    assert!(
        text.contains("the manifest counts 2 rows, the bundle holds 1"),
        "{text}"
    );
}

#[test]
fn what_is_not_a_bundle_is_refused_clearly() {
    let text = check(FILE, "{\"format\": 3", &key(1))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("the proof is not a readable bundle"),
        "{text}"
    );
    let text = check(FILE, "{}", &key(1)).unwrap_err().to_string();
    assert!(text.contains("the bundle has no `checkpoint`"), "{text}");
}
