//! The reference server's demo: a small incident schema and the `incident-sync` bundle.
//!
//! Every tenant has the incidents `inc_1` and `inc_2`; an unknown id gives `"incident": null`.

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};

use super::{AsyncGraphQl, Bundle, Bundles};
use crate::token::Bearer;

/// The name of the demo bundle.
pub const INCIDENT_SYNC: &str = "incident-sync";

/// The scope the demo bundle requires.
pub const INCIDENTS_READ: &str = "incidents:read";

/// The demo bundle's one operation.
pub const INCIDENT_BY_ID: &str =
    "query IncidentById($id: ID!) { incident(id: $id) { id title status } }";

/// The demo schema's query root.
#[derive(Debug, Default)]
pub struct Query;

/// One demo incident.
#[derive(Debug, Clone, SimpleObject)]
pub struct Incident {
    /// Its id (`inc_1`, `inc_2`).
    pub id: ID,
    /// Its title, which names the tenant it belongs to.
    pub title: String,
    /// `open` or `closed`.
    pub status: String,
}

#[Object]
impl Query {
    /// The incident `id` of the caller's tenant, or null.
    async fn incident(&self, ctx: &Context<'_>, id: ID) -> Option<Incident> {
        let tenant = &ctx.data_unchecked::<Bearer>().tenant;
        let (title, status) = match id.as_str() {
            "inc_1" => ("Fibre cut on the ring road", "open"),
            "inc_2" => ("Flooded substation", "closed"),
            _ => return None,
        };
        Some(Incident {
            id,
            title: format!("{title} ({tenant})"),
            status: status.to_owned(),
        })
    }
}

/// The demo schema, with introspection disabled.
pub type DemoSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// The executor of the demo schema.
pub fn executor() -> AsyncGraphQl<Query, EmptyMutation, EmptySubscription> {
    AsyncGraphQl::new(
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .disable_introspection()
            .finish(),
    )
}

/// The `incident-sync` bundle (`IncidentById`, requiring `incidents:read`).
pub fn bundles() -> Bundles {
    let bundle = Bundle::new(INCIDENT_SYNC, [INCIDENTS_READ])
        .and_then(|b| b.named_document("IncidentById.graphql", INCIDENT_BY_ID))
        .expect("the demo bundle is valid");
    Bundles::new([bundle]).expect("one bundle has a unique name")
}
