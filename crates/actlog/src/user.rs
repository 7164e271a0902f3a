//! `actlog user …`: partner users and their roles.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};

use actlog_app::password;
use actlog_domain::roles::Role;
use actlog_store::{AddUserError, NewUser};

use crate::config::DatabaseUrl;
use crate::serve::open_store;

/// Reads roles given as names (`"Admin agent"`) or codes (`admin_agent`).
pub fn parse_roles(names: &[String]) -> anyhow::Result<Vec<Role>> {
    let mut roles = Vec::new();
    for name in names
        .iter()
        .flat_map(|n| n.split(','))
        .filter(|n| !n.trim().is_empty())
    {
        let role: Role = name.parse()?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// A new password: asked twice on a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat the password: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn add(
    url: &DatabaseUrl,
    partner: &str,
    email: &str,
    roles: &[String],
) -> anyhow::Result<()> {
    let roles = parse_roles(roles)?;
    if partner.trim().is_empty() {
        bail!("--partner must name a partner");
    }
    if !email.contains('@') || email.trim().len() < 3 {
        bail!("`{email}` is not an email address");
    }
    let secret = read_password()?;
    password::check_new(&secret)?;
    let store = open_store(url).await?;
    let hash = password::hash(secret).await;
    let user = NewUser {
        partner_id: partner.to_owned(),
        email: email.to_owned(),
        password_hash: hash,
        roles,
    };
    match store.add_user(user).await {
        Ok(user) => {
            println!(
                "Added {} to partner {} with roles: {}",
                user.email,
                user.partner_id,
                role_list(&user.roles)
            );
            Ok(())
        }
        Err(AddUserError::EmailTaken(email)) => {
            bail!("a user with the email {email} already exists")
        }
        Err(AddUserError::Store(e)) => Err(e.into()),
    }
}

pub async fn list(url: &DatabaseUrl, partner: Option<&str>) -> anyhow::Result<()> {
    let store = open_store(url).await?;
    let users = store.users(partner).await?;
    if users.is_empty() {
        println!("No users.");
    }
    for user in users {
        let state = if user.disabled { "disabled" } else { "active" };
        println!(
            "{}\t{}\t{}\t{}",
            user.partner_id,
            user.email,
            state,
            role_list(&user.roles)
        );
    }
    Ok(())
}

pub async fn set_roles(url: &DatabaseUrl, email: &str, roles: &[String]) -> anyhow::Result<()> {
    let roles = parse_roles(roles)?;
    let store = open_store(url).await?;
    if !store.set_roles(email, &roles).await? {
        bail!("there is no user with the email {email}");
    }
    println!("{email} now has the roles: {}", role_list(&roles));
    Ok(())
}

/// An admin's reset: the user's password replaced and every session of theirs ended.
pub async fn reset_password(url: &DatabaseUrl, email: &str) -> anyhow::Result<()> {
    let store = open_store(url).await?;
    let Some(user) = store.user_by_email(email).await? else {
        bail!("there is no user with the email {email}");
    };
    let secret = read_password()?;
    password::check_new(&secret)?;
    let hash = password::hash(secret).await;
    if !store.set_password(user.id, &hash, None).await? {
        bail!("there is no user with the email {email}");
    }
    println!(
        "{} has a new password; their sessions have ended.",
        user.email
    );
    Ok(())
}

pub async fn disable(url: &DatabaseUrl, email: &str, enable: bool) -> anyhow::Result<()> {
    let store = open_store(url).await?;
    if !store.set_disabled(email, !enable).await? {
        bail!("there is no user with the email {email}");
    }
    if enable {
        println!("{email} can sign in again.");
    } else {
        println!("{email} is disabled; their sessions have ended.");
    }
    Ok(())
}

fn role_list(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "(none)".to_owned();
    }
    roles
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}
