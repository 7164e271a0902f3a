//! `actlog apikey create|list|revoke`.

use anyhow::{Context, bail};

use actlog_store::Scopes;

use crate::config::DatabaseUrl;
use crate::serve::open_store;

pub async fn create(
    url: &DatabaseUrl,
    partner: &str,
    scopes: &str,
    label: &str,
    expires_in_days: Option<u32>,
) -> anyhow::Result<()> {
    let scopes = actlog_app::keys::parse_scopes(scopes).map_err(anyhow::Error::msg)?;
    if partner.trim().is_empty() {
        bail!("--partner must name a partner");
    }
    if expires_in_days == Some(0) {
        bail!("--expires-in-days must be at least 1");
    }
    let store = open_store(url).await?;
    let (key, secret) = actlog_app::keys::create(store.as_ref(), partner, scopes, label).await?;
    let expires_at =
        expires_in_days.map(|days| jiff::Timestamp::now().as_second() + i64::from(days) * 86_400);
    if expires_at.is_some() {
        store.set_api_key_expiry(&key.id, expires_at).await?;
    }
    let until = expires_at.map_or_else(String::new, |at| format!(", until {}", when(at)));
    println!(
        "Created API key {} for partner {} ({}{until}). It is shown only once:",
        key.id,
        key.partner_id,
        scope_text(key.scopes)
    );
    println!("{secret}");
    Ok(())
}

pub async fn list(url: &DatabaseUrl, partner: &str) -> anyhow::Result<()> {
    let store = open_store(url).await?;
    let keys = store.key_details(partner).await?;
    if keys.is_empty() {
        println!("Partner {partner} has no API keys.");
        return Ok(());
    }
    let rows: Vec<[String; 6]> = keys
        .iter()
        .map(|k| {
            [
                k.key.id.clone(),
                scope_text(k.key.scopes).to_owned(),
                when(k.created_at),
                k.last_used_at.map_or_else(|| "never".into(), when),
                k.expires_at.map_or_else(|| "never".into(), when),
                k.key.label.clone(),
            ]
        })
        .collect();
    let header = ["ID", "SCOPES", "CREATED", "LAST USED", "EXPIRES", "LABEL"];
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 6]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i < 5 {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.push_str(cell);
                out.push_str(&" ".repeat(pad + 2));
            } else {
                out.push_str(cell);
            }
        }
        out.trim_end().to_owned()
    };
    println!("{}", line(header));
    for row in &rows {
        println!("{}", line(row.each_ref().map(String::as_str)));
    }
    Ok(())
}

pub async fn revoke(url: &DatabaseUrl, key_id: &str) -> anyhow::Result<()> {
    let store = open_store(url).await?;
    let partner = store
        .revoke_api_key(key_id.trim())
        .await
        .context("cannot revoke the key")?;
    match partner {
        Some(partner) => {
            println!(
                "Revoked API key {} of partner {partner}: every server refuses it within a second.",
                key_id.trim()
            );
            Ok(())
        }
        None => bail!(
            "there is no API key {:?} (`actlog apikey list --partner P` shows a partner's keys)",
            key_id.trim()
        ),
    }
}

fn scope_text(scopes: Scopes) -> &'static str {
    match (scopes.read, scopes.write) {
        (true, true) => "read,write",
        (true, false) => "read",
        _ => "write",
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
fn when(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| seconds.to_string())
}
