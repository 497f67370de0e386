//! The emergency commands: withdraw a leaked signing key, revoke tokens at once.

use clap::{ArgGroup, Args};
use knogin::core::{AppId, KeyId, TenantId};

use crate::{BoxError, Common, Database, open};

#[derive(Debug, Args)]
pub(crate) struct WithdrawKeyArgs {
    /// The kid of the key to withdraw (as in the JWKS).
    kid: String,
    #[command(flatten)]
    db: Database,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["jti", "app", "tenant"])))]
pub(crate) struct RevokeTokenArgs {
    /// Revoke the token with this jti (any token: access, service or admin).
    #[arg(long)]
    jti: Option<String>,
    /// Revoke every token issued so far to this app (its client id).
    #[arg(long)]
    app: Option<String>,
    /// Revoke every token issued so far in this tenant, admin tokens included.
    #[arg(long)]
    tenant: Option<String>,
    #[command(flatten)]
    db: Database,
}

/// The settings an emergency command opens the store with.
fn common(db: Database) -> Common {
    Common {
        db,
        issuer: "http://127.0.0.1".to_owned(),
        skip_migrations: false,
        signing_alg: knogin::core::SigningAlgorithm::default(),
    }
}

pub(crate) async fn withdraw_key(args: WithdrawKeyArgs) -> Result<(), BoxError> {
    let knogin = open(&common(args.db), knogin::core::DEFAULT_KEY_REFRESH).await?;
    let kid = KeyId::new(args.kid.clone());
    match knogin.keys().withdraw(&kid).await? {
        Some(signing) => {
            eprintln!(
                "withdrew {kid}: running servers refuse its tokens within their --key-refresh; {signing} signs now"
            );
            println!("{signing}");
            Ok(())
        }
        None => {
            Err(format!("no signing key {kid} to withdraw (unknown, or withdrawn before)").into())
        }
    }
}

pub(crate) async fn revoke_token(args: RevokeTokenArgs) -> Result<(), BoxError> {
    let knogin = open(&common(args.db), knogin::core::DEFAULT_KEY_REFRESH).await?;
    if let Some(jti) = &args.jti {
        knogin.tokens().revoke_jti(jti).await?;
        eprintln!("revoked the token {jti}");
    } else if let Some(app) = &args.app {
        let app = AppId::parse(app).ok_or_else(|| format!("--app {app:?} is not a client id"))?;
        knogin.tokens().revoke_app(&app).await?;
        eprintln!("revoked every token issued so far to {app}");
    } else if let Some(tenant) = &args.tenant {
        let tenant = TenantId::parse(tenant)
            .ok_or_else(|| format!("--tenant {tenant:?} is not a tenant id"))?;
        knogin.tokens().revoke_tenant(&tenant).await?;
        eprintln!("revoked every token issued so far in the tenant {tenant}");
    }
    eprintln!("running servers refuse them within their --key-refresh interval");
    Ok(())
}
