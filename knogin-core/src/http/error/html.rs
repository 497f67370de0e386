//! An HTML error page, for routes a person's browser opens.

use http::Response;
use maud::html;

use super::{ApiError, title};
use crate::http::ResponseBody;
use crate::http::html::{layout, response};

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let status = error.status();
    let page = layout(
        title(status),
        html! {
            p { (error.detail()) }
            @if let Some(id) = &correlation_id {
                p { "Quote this reference when you report it: " code { (id) } }
            }
        },
    );
    response(status, page)
}
