//! Who manages a subscription: the app whose token created it, or a token of its tenant with
//! `webhooks:admin`.

use crate::id::{AppId, TenantId};
use crate::webhooks::Webhook;

/// The scope that lets a token manage every subscription of its tenant, whichever app made it.
pub const WEBHOOKS_ADMIN_SCOPE: &str = "webhooks:admin";

/// The caller of a subscription operation: a token's tenant and app, and whether it carries
/// [`WEBHOOKS_ADMIN_SCOPE`]. Another app's subscription is, to it, one that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookCaller {
    tenant: TenantId,
    app: AppId,
    admin: bool,
}

impl WebhookCaller {
    /// App `app` of `tenant`: it manages the subscriptions it creates.
    pub fn app(tenant: TenantId, app: AppId) -> Self {
        Self {
            tenant,
            app,
            admin: false,
        }
    }

    /// A token of `tenant` with [`WEBHOOKS_ADMIN_SCOPE`], issued to `app` (which owns what it
    /// creates): it manages every subscription of the tenant.
    pub fn tenant_admin(tenant: TenantId, app: AppId) -> Self {
        Self {
            tenant,
            app,
            admin: true,
        }
    }

    /// The caller's tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Who the caller is, for the audit trail: its app.
    pub(crate) fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::Client(self.app.as_str().to_owned())
    }

    /// The app that owns what this caller creates.
    pub(crate) fn owner(&self) -> &AppId {
        &self.app
    }

    /// Whether the caller manages every subscription of its tenant.
    pub(crate) fn is_admin(&self) -> bool {
        self.admin
    }

    /// Whose subscriptions a listing shows: `None` for all of the tenant's.
    pub(crate) fn listing_owner(&self) -> Option<&AppId> {
        (!self.admin).then_some(&self.app)
    }

    /// Whether the caller may see and change `webhook` (of its tenant).
    pub(crate) fn manages(&self, webhook: &Webhook) -> bool {
        webhook.tenant == self.tenant && (self.admin || webhook.owner.as_ref() == Some(&self.app))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::id::WebhookId;

    fn webhook(tenant: &str, owner: Option<&AppId>) -> Webhook {
        Webhook {
            id: WebhookId::generate(),
            tenant: TenantId::parse(tenant).unwrap(),
            owner: owner.cloned(),
            url: "https://integrator.example/hooks".into(),
            events: vec!["incident.updated".into()],
            description: None,
            disabled: false,
            disabled_reason: None,
            rate_limit: None,
            created_at: Timestamp::from_unix(0),
            updated_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn an_app_manages_its_own_and_an_admin_token_its_tenant_s() {
        let t1 = TenantId::parse("t1").unwrap();
        let (x, y) = (AppId::generate(), AppId::generate());
        let app_x = WebhookCaller::app(t1.clone(), x.clone());
        let admin = WebhookCaller::tenant_admin(t1, y.clone());
        let xs = webhook("t1", Some(&x));
        let ys = webhook("t1", Some(&y));
        let legacy = webhook("t1", None);
        let foreign = webhook("t2", Some(&x));
        assert!(app_x.manages(&xs));
        assert!(!app_x.manages(&ys));
        assert!(!app_x.manages(&legacy));
        assert!(!app_x.manages(&foreign));
        assert!(admin.manages(&xs) && admin.manages(&ys) && admin.manages(&legacy));
        assert!(!admin.manages(&foreign));
        assert_eq!(app_x.listing_owner(), Some(&x));
        assert_eq!(admin.listing_owner(), None);
    }
}
