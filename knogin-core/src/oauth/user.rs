//! The person an authorization request acts for, as the embedder's sign-in names them.

use crate::id::TenantId;

/// Who is signed in, as the embedder's session says, and the tenants they are a member of. A
/// user acts only within those tenants: for an app of any other tenant the authorization
/// endpoint answers `access_denied` to the client, whatever was consented before.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedInUser {
    /// A stable identifier of the user within their tenants, used as the `sub` of tokens
    /// issued for them (it means someone only together with the token's `tenant`).
    pub subject: String,
    /// The tenants the user is a member of.
    pub tenants: Vec<TenantId>,
}

impl SignedInUser {
    /// `subject`, a member of `tenants`.
    pub fn new(subject: impl Into<String>, tenants: impl IntoIterator<Item = TenantId>) -> Self {
        Self {
            subject: subject.into(),
            tenants: tenants.into_iter().collect(),
        }
    }

    /// Whether the user is a member of `tenant`.
    pub fn is_member_of(&self, tenant: &TenantId) -> bool {
        self.tenants.contains(tenant)
    }
}
