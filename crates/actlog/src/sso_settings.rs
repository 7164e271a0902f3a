//! `[sso]`: signing in with Microsoft Entra ID, read from the file and `ACTLOG_SSO_*`.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::Deserialize;

use actlog_app::oidc::{Oidc, OidcSettings};
use actlog_app::pull::signin::{PUBLIC_AUTHORITY, USGOV_AUTHORITY};
use actlog_domain::roles::Role;
use actlog_server::Cloud;
use actlog_server::sso::{Sso, SsoTenant};
use actlog_store::Scopes;

/// `[sso]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSso {
    client_id: Option<String>,
    client_secret: Option<String>,
    public_url: Option<String>,
    authority: Option<String>,
    api_audience: Option<String>,
    local_accounts: Option<bool>,
    #[serde(default)]
    tenants: Vec<FileTenant>,
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    api_roles: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTenant {
    tenant_id: String,
    partner: String,
    #[serde(default)]
    domains: Vec<String>,
}

/// The authority `cloud` signs in at by default.
pub(crate) fn default_authority(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Public => PUBLIC_AUTHORITY,
        Cloud::UsGov => USGOV_AUTHORITY,
    }
}

/// `[sso]`, when present, checked and ready; the secret from `ACTLOG_SSO_CLIENT_SECRET` before
/// the file.
pub(crate) fn load(
    cloud: Cloud,
    file: Option<FileSso>,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<Arc<Sso>>> {
    let Some(mut file) = file else {
        return Ok(None);
    };
    let text = |key: &str, file: &mut Option<String>| {
        if let Some(value) = env(&crate::config::env_name("sso", key)) {
            *file = Some(value);
        }
    };
    text("client_id", &mut file.client_id);
    text("public_url", &mut file.public_url);
    text("authority", &mut file.authority);
    text("api_audience", &mut file.api_audience);
    if let Some(value) = crate::config::env_bool(env, "sso", "local_accounts")? {
        file.local_accounts = Some(value);
    }
    let client_id = file.client_id.context("sso.client_id is required")?;
    let client_secret = env("ACTLOG_SSO_CLIENT_SECRET")
        .or(file.client_secret)
        .context("sso.client_secret (or ACTLOG_SSO_CLIENT_SECRET) is required")?;
    let public_url = file.public_url.context("sso.public_url is required")?;
    let public_url = public_url.trim_end_matches('/');
    if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
        bail!("sso.public_url = `{public_url}`: write the URL people open actlog at");
    }
    if file.tenants.is_empty() {
        bail!("[sso] needs at least one [[sso.tenants]] (tenant_id, partner, domains)");
    }
    let roles = file
        .roles
        .into_iter()
        .map(|(value, names)| {
            let roles = names
                .iter()
                .map(|n| n.parse::<Role>())
                .collect::<Result<_, _>>();
            Ok((
                value.clone(),
                roles.with_context(|| format!("sso.roles.\"{value}\""))?,
            ))
        })
        .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
    let api_roles = file
        .api_roles
        .into_iter()
        .map(|(value, scopes)| Ok((value.clone(), scopes_of(&value, &scopes)?)))
        .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
    let tenants: Vec<SsoTenant> = file
        .tenants
        .into_iter()
        .map(|t| SsoTenant {
            tenant_id: t.tenant_id,
            partner: t.partner,
            domains: t.domains.iter().map(|d| d.trim().to_lowercase()).collect(),
        })
        .collect();
    let authority = file
        .authority
        .unwrap_or_else(|| default_authority(cloud).to_owned());
    let oidc = Oidc::new(OidcSettings {
        authority: authority.trim_end_matches('/').to_owned(),
        client_id,
        client_secret,
        redirect_uri: format!("{public_url}/auth/callback"),
        tenants: tenants.iter().map(|t| t.tenant_id.clone()).collect(),
        api_audience: file.api_audience,
    });
    Ok(Some(Arc::new(Sso {
        oidc,
        tenants,
        roles,
        api_roles,
        local_accounts: file.local_accounts.unwrap_or(true),
    })))
}

fn scopes_of(value: &str, names: &[String]) -> anyhow::Result<Scopes> {
    let mut scopes = Scopes {
        read: false,
        write: false,
    };
    for name in names {
        match name.as_str() {
            "read" => scopes.read = true,
            "write" => scopes.write = true,
            other => bail!("sso.api_roles.\"{value}\": `{other}` is not a scope (read, write)"),
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileSso {
        toml::from_str(text).unwrap()
    }

    const MINIMAL: &str = r#"
client_id = "app"
client_secret = "from-the-file"
public_url = "https://actlog.example/"
[[tenants]]
tenant_id = "t1"
partner = "p1"
domains = ["Contoso.Example"]
[roles]
"ActivityLog.Reader" = ["Admin agent"]
[api_roles]
"ActivityLog.Read" = ["read"]
"#;

    #[test]
    fn the_secret_never_reaches_debug_output_and_the_environment_wins() {
        let env = |name: &str| (name == "ACTLOG_SSO_CLIENT_SECRET").then(|| "from-env".to_owned());
        let sso = load(Cloud::Public, Some(file(MINIMAL)), &env)
            .unwrap()
            .unwrap();
        assert_eq!(sso.oidc.settings.client_secret, "from-env");
        let shown = format!("{sso:?}");
        assert!(
            !shown.contains("from-env") && !shown.contains("from-the-file"),
            "{shown}"
        );
        assert_eq!(
            sso.oidc.settings.redirect_uri,
            "https://actlog.example/auth/callback"
        );
        assert_eq!(sso.tenants[0].domains, ["contoso.example"]);
    }

    #[test]
    fn the_scalars_of_sso_come_from_the_environment_too() {
        let env = |name: &str| {
            let value = match name {
                "ACTLOG_SSO_CLIENT_ID" => "env-app",
                "ACTLOG_SSO_PUBLIC_URL" => "https://logs.example",
                "ACTLOG_SSO_LOCAL_ACCOUNTS" => "false",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let sso = load(Cloud::Public, Some(file(MINIMAL)), &env)
            .unwrap()
            .unwrap();
        assert_eq!(sso.oidc.settings.client_id, "env-app");
        assert_eq!(
            sso.oidc.settings.redirect_uri,
            "https://logs.example/auth/callback"
        );
        assert!(!sso.local_accounts);
        let bad = |name: &str| (name == "ACTLOG_SSO_LOCAL_ACCOUNTS").then(|| "perhaps".to_owned());
        let err = load(Cloud::Public, Some(file(MINIMAL)), &bad).unwrap_err();
        assert!(
            err.to_string().contains("ACTLOG_SSO_LOCAL_ACCOUNTS"),
            "{err}"
        );
    }

    #[test]
    fn the_authority_follows_the_cloud_unless_given() {
        let none = |_: &str| None;
        let public = load(Cloud::Public, Some(file(MINIMAL)), &none)
            .unwrap()
            .unwrap();
        assert_eq!(
            public.oidc.settings.authority,
            "https://login.microsoftonline.com"
        );
        let usgov = load(Cloud::UsGov, Some(file(MINIMAL)), &none)
            .unwrap()
            .unwrap();
        assert_eq!(
            usgov.oidc.settings.authority,
            "https://login.microsoftonline.us"
        );
        let given = format!("authority = \"https://idp.example/\"\n{MINIMAL}");
        let other = load(Cloud::UsGov, Some(file(&given)), &none)
            .unwrap()
            .unwrap();
        assert_eq!(other.oidc.settings.authority, "https://idp.example");
        assert!(load(Cloud::Public, None, &none).unwrap().is_none());
    }

    #[test]
    fn unknown_roles_and_scopes_are_refused() {
        let none = |_: &str| None;
        let bad_role = MINIMAL.replace("Admin agent", "Chief agent");
        let err = load(Cloud::Public, Some(file(&bad_role)), &none).unwrap_err();
        assert!(format!("{err:#}").contains("sso.roles"), "{err:#}");
        let bad_scope = MINIMAL.replace("[\"read\"]", "[\"delete\"]");
        let err = load(Cloud::Public, Some(file(&bad_scope)), &none).unwrap_err();
        assert!(format!("{err:#}").contains("delete"), "{err:#}");
    }
}
