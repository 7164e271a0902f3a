//! `actlog apikey create`.

use crate::config::DatabaseUrl;
use crate::serve::open_store;

pub async fn create(
    url: &DatabaseUrl,
    partner: &str,
    scopes: &str,
    label: &str,
) -> anyhow::Result<()> {
    let scopes = actlog_app::keys::parse_scopes(scopes).map_err(anyhow::Error::msg)?;
    if partner.trim().is_empty() {
        anyhow::bail!("--partner must name a partner");
    }
    let store = open_store(url).await?;
    let (key, secret) = actlog_app::keys::create(store.as_ref(), partner, scopes, label).await?;
    let scope_text = match (scopes.read, scopes.write) {
        (true, true) => "read,write",
        (true, false) => "read",
        _ => "write",
    };
    println!(
        "Created API key {} for partner {} ({scope_text}). It is shown only once:",
        key.id, key.partner_id
    );
    println!("{secret}");
    Ok(())
}
