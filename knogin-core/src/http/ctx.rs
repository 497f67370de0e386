//! What a handler gets besides its principal: the shared core, the HTTP layer's state, the
//! request head, the path parameters, and the body, read on demand through typed extractors.

use std::sync::Arc;

use http::request::Parts;
use sync_wrapper::SyncWrapper;

use super::body::{self, AnyBody, Form};
use super::error::{ApiError, BodyKind};
use super::fields::{FromFields, Parsed};
use super::state::State;
use crate::shared::Core;

/// One request, as a handler sees it.
pub(crate) struct Ctx {
    /// The shared core: every capability.
    pub(crate) core: Core,
    /// The HTTP layer's own state.
    pub(crate) http: Arc<State>,
    pub(crate) parts: Parts,
    params: Vec<(String, String)>,
    body: BodyState,
    body_limit: usize,
}

enum BodyState {
    /// The request has no body.
    Empty,
    /// Not read yet. `SyncWrapper` keeps `Ctx` `Sync` for any body (only `&mut` reaches it).
    Unread(SyncWrapper<AnyBody>),
    /// Read as a form (a client-authenticated route's guard reads it first).
    Form(Form),
    /// Read by an extractor already.
    Taken,
}

/// A path parameter's type. A value that cannot be one is the same 404 as one that does not exist.
pub(crate) trait FromParam: Sized {
    /// The value, or the answer for a parameter that names nothing.
    fn from_param(value: &str) -> Result<Self, ApiError>;
}

impl Ctx {
    pub(crate) fn new(
        core: Core,
        http: Arc<State>,
        parts: Parts,
        params: Vec<(String, String)>,
        body: Option<AnyBody>,
        body_limit: usize,
    ) -> Self {
        let body = match body {
            Some(body) => BodyState::Unread(SyncWrapper::new(body)),
            None => BodyState::Empty,
        };
        Self {
            core,
            http,
            parts,
            params,
            body,
            body_limit,
        }
    }

    /// The path parameter `name` (as named in the route's template), parsed.
    ///
    /// A child resource is always looked up through its parent and the caller's tenant: take
    /// every parameter of the path and pass them all, with the principal's tenant, to the store.
    pub(crate) fn param<T: FromParam>(&self, name: &str) -> Result<T, ApiError> {
        let value = self
            .params
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str());
        T::from_param(value)
    }

    /// The query string's parameters, each at most once.
    pub(crate) fn query(&self) -> Result<Form, ApiError> {
        Form::parse(self.parts.uri.query().unwrap_or("").as_bytes())
    }

    /// Reads the raw body once, after checking its media type (before reading any of it).
    async fn bytes(
        &mut self,
        kind: BodyKind,
        optional: bool,
    ) -> Result<Option<bytes::Bytes>, ApiError> {
        let typed = body::is(&self.parts, kind);
        if !typed && !optional {
            return Err(ApiError::UnsupportedMediaType(kind));
        }
        let bytes = match std::mem::replace(&mut self.body, BodyState::Taken) {
            BodyState::Unread(body) => {
                let declared = body::declared_length(&self.parts);
                body::read(declared, body.into_inner(), self.body_limit).await?
            }
            BodyState::Empty => bytes::Bytes::new(),
            BodyState::Form(_) | BodyState::Taken => return Ok(None),
        };
        if body::is_blank(&bytes) {
            return if optional {
                Ok(None)
            } else {
                Err(ApiError::EmptyBody(kind))
            };
        }
        if !typed {
            return Err(ApiError::UnsupportedMediaType(kind));
        }
        Ok(Some(bytes))
    }

    /// The body as a JSON object of `T`'s fields. Every missing, mistyped, unknown or repeated
    /// field is reported at once, together with what `T`'s policy finds (see [`Parsed`]).
    pub(crate) async fn json<T: FromFields>(&mut self) -> Result<Parsed<T>, ApiError> {
        Parsed::from_json(&self.json_bytes().await?)
    }

    /// The body's bytes, once: it must be JSON (checked by media type, not parsed).
    pub(crate) async fn json_bytes(&mut self) -> Result<bytes::Bytes, ApiError> {
        self.bytes(BodyKind::Json, false)
            .await?
            .ok_or(ApiError::EmptyBody(BodyKind::Json))
    }

    /// Like [`Ctx::json`], for a route whose body is optional: no body (or a blank one) is
    /// `T::default()`.
    pub(crate) async fn optional_json<T: FromFields + Default>(
        &mut self,
    ) -> Result<Parsed<T>, ApiError> {
        match self.bytes(BodyKind::Json, true).await? {
            Some(bytes) => Parsed::from_json(&bytes),
            None => Ok(Parsed::empty()),
        }
    }

    /// The body as form parameters, each at most once. Read once; later calls see the same form.
    pub(crate) async fn form(&mut self) -> Result<Form, ApiError> {
        if let BodyState::Form(form) = &self.body {
            return Ok(form.clone());
        }
        let bytes = self
            .bytes(BodyKind::Form, false)
            .await?
            .ok_or(ApiError::EmptyBody(BodyKind::Form))?;
        let form = Form::parse(&bytes)?;
        self.body = BodyState::Form(form.clone());
        Ok(form)
    }
}
