//! End-to-end tests over real loopback sockets: every case runs through the axum adapter and the
//! hyper adapter, on SQLite and on PostgreSQL (when `KNOGIN_TEST_POSTGRES_URL` is set).
#![allow(
    unreachable_pub,
    reason = "helpers shared between the test modules of one binary"
)]

mod apps;
mod auth;
mod authorize;
mod bodies;
mod browser;
mod code_flow;
mod deliveries;
mod docs;
mod dpop;
mod fapi2;
mod governance;
mod graphql;
mod instances;
mod jwks;
mod oauth;
mod operations;
mod par;
mod private_key_jwt;
mod readme;
mod routing;
mod support;
mod token_exchange;
mod user_agent;
mod verifier;
mod webhooks;
