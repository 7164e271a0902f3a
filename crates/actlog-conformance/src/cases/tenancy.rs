//! Partners, API keys and deployment secrets.

use std::sync::Arc;

use actlog_store::{ApiKey, Scopes, Store, StoredApiKey};

/// A partner is created once; keys are found by their secret's hash, with their partner and
/// scopes; a deployment secret keeps its first value for ever.
pub async fn partners_api_keys_and_secrets(store: Arc<dyn Store>) {
    assert!(
        store.ensure_partner("partner-t").await.unwrap(),
        "new partner"
    );
    assert!(
        !store.ensure_partner("partner-t").await.unwrap(),
        "existing partner"
    );
    assert!(
        store.ensure_partner("Partner-T").await.unwrap(),
        "ids are exact"
    );
    assert!(store.ensure_partner("partner-u").await.unwrap());

    let reader = ApiKey {
        id: "key-read".into(),
        partner_id: "partner-t".into(),
        scopes: Scopes {
            read: true,
            write: false,
        },
        label: "Dashboard export — «Società»".into(),
    };
    let writer = ApiKey {
        id: "key-write".into(),
        partner_id: "partner-u".into(),
        scopes: Scopes {
            read: false,
            write: true,
        },
        label: String::new(),
    };
    let (read_hash, write_hash) = ([7u8; 32], [0u8; 32]);
    store.add_api_key(&writer, &write_hash).await.unwrap();
    store.add_api_key(&reader, &read_hash).await.unwrap();
    let listed = store.api_keys().await.unwrap();
    let stored = |key: &ApiKey, hash: [u8; 32]| StoredApiKey {
        key: key.clone(),
        secret_hash: hash,
        expires_at: None,
    };
    assert_eq!(
        listed,
        [stored(&reader, read_hash), stored(&writer, write_hash)],
        "keys listed by partner, with their hashes"
    );
    assert_eq!(
        store.partners().await.unwrap(),
        ["Partner-T", "partner-t", "partner-u"],
        "partners in byte order"
    );
    assert_eq!(store.api_key(&read_hash).await.unwrap(), Some(reader));
    assert_eq!(store.api_key(&write_hash).await.unwrap(), Some(writer));
    let mut unknown = read_hash;
    unknown[31] ^= 1;
    assert_eq!(store.api_key(&unknown).await.unwrap(), None);

    let first = store.secret("cursor", b"first".to_vec()).await.unwrap();
    assert_eq!(first, b"first");
    let again = store.secret("cursor", b"second".to_vec()).await.unwrap();
    assert_eq!(again, b"first", "a secret keeps its first value");
    let other = store.secret("other", vec![0, 255, 1]).await.unwrap();
    assert_eq!(other, [0, 255, 1], "secrets are bytes, named separately");
}

/// An administrator sees a partner's keys (never their secrets) with when each was created,
/// last used and expires; an expired key stops working; a revoked one is gone, and revoking
/// it again says so.
pub async fn api_keys_have_a_lifecycle(store: Arc<dyn Store>) {
    store.ensure_partner("partner-k").await.unwrap();
    store.ensure_partner("partner-l").await.unwrap();
    let key = |id: &str, partner: &str| ApiKey {
        id: id.into(),
        partner_id: partner.into(),
        scopes: Scopes {
            read: true,
            write: false,
        },
        label: format!("label of {id}"),
    };
    let (one, two, other) = (
        key("key-one", "partner-k"),
        key("key-two", "partner-k"),
        key("key-other", "partner-l"),
    );
    store.add_api_key(&one, &[1; 32]).await.unwrap();
    store.add_api_key(&two, &[2; 32]).await.unwrap();
    store.add_api_key(&other, &[3; 32]).await.unwrap();

    let listed = store.key_details("partner-k").await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|k| k.key.id.as_str()).collect();
    assert_eq!(ids, ["key-one", "key-two"], "only the partner's keys");
    assert_eq!(listed[0].key, one);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((listed[0].created_at - now).abs() < 300, "created now");
    assert_eq!((listed[0].last_used_at, listed[0].expires_at), (None, None));

    store.touch_api_key("key-one", now).await.unwrap();
    store.touch_api_key("key-one", now + 30).await.unwrap();
    let used = |store: &Arc<dyn Store>| {
        let store = store.clone();
        async move { store.key_details("partner-k").await.unwrap()[0].last_used_at }
    };
    assert_eq!(used(&store).await, Some(now), "noted at most once a minute");
    store.touch_api_key("key-one", now + 61).await.unwrap();
    assert_eq!(used(&store).await, Some(now + 61));

    assert!(
        store
            .set_api_key_expiry("key-two", Some(now - 1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_api_key_expiry("key-none", Some(now))
            .await
            .unwrap()
    );
    assert_eq!(store.api_key(&[2; 32]).await.unwrap(), None, "expired");
    assert_eq!(
        store.key_details("partner-k").await.unwrap()[1].expires_at,
        Some(now - 1)
    );
    assert!(
        store
            .set_api_key_expiry("key-two", Some(now + 3600))
            .await
            .unwrap()
    );
    assert_eq!(store.api_key(&[2; 32]).await.unwrap(), Some(two.clone()));
    let copied = store.api_keys().await.unwrap();
    let two_stored = copied.iter().find(|k| k.key.id == "key-two").unwrap();
    assert_eq!(
        two_stored.expires_at,
        Some(now + 3600),
        "copied with its expiry"
    );

    assert_eq!(
        store.revoke_api_key("key-one").await.unwrap().as_deref(),
        Some("partner-k")
    );
    assert_eq!(store.api_key(&[1; 32]).await.unwrap(), None, "revoked");
    assert_eq!(store.revoke_api_key("key-one").await.unwrap(), None);
    let ids: Vec<String> = store
        .key_details("partner-k")
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key.id)
        .collect();
    assert_eq!(ids, ["key-two"]);
    assert_eq!(store.api_key(&[3; 32]).await.unwrap(), Some(other));
}

/// A mirror's progress is kept per partner and source, moves where it is set, and is absent
/// for a partner or source never pulled.
pub async fn pull_state_is_kept_per_partner_and_source(store: Arc<dyn Store>) {
    let (pc, other) = (
        "https://api.partnercenter.microsoft.com/v1/auditrecords",
        "http://x/v1",
    );
    let at = actlog_domain::OperationDate::from_ticks;
    assert_eq!(store.pull_state("partner-m", pc).await.unwrap(), None);
    store.ensure_partner("partner-m").await.unwrap();
    store.ensure_partner("partner-n").await.unwrap();
    store
        .set_pull_state("partner-m", pc, at(100))
        .await
        .unwrap();
    store
        .set_pull_state("partner-m", other, at(7))
        .await
        .unwrap();
    store.set_pull_state("partner-n", pc, at(50)).await.unwrap();
    store
        .set_pull_state("partner-m", pc, at(200))
        .await
        .unwrap();
    assert_eq!(
        store.pull_state("partner-m", pc).await.unwrap(),
        Some(at(200))
    );
    assert_eq!(
        store.pull_state("partner-m", other).await.unwrap(),
        Some(at(7))
    );
    assert_eq!(
        store.pull_state("partner-n", pc).await.unwrap(),
        Some(at(50))
    );
    assert_eq!(store.pull_state("partner-o", pc).await.unwrap(), None);
    assert!(
        store.set_pull_state("partner-o", pc, at(1)).await.is_err(),
        "a partner that does not exist has no mirror"
    );
}
