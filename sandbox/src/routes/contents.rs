//! `GET /v1/contents/{id}`: the bytes of an uploaded file, for members of its room only.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::errors::{ApiError, ApiResult};
use crate::ids::{self, IdType};
use crate::state::{AppState, Call};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/contents/{id}", get(content))
}

async fn content(call: Call, Path(id): Path<String>) -> ApiResult<Response> {
    let key = ids::payload_of(&id, IdType::Content).ok_or_else(ApiError::not_found)?;
    let store = call.st.store();
    let c = store
        .contents
        .iter()
        .find(|c| c.key == key && store.is_member(call.me.uuid, c.room))
        .ok_or_else(ApiError::not_found)?;
    let mut res = (StatusCode::OK, c.bytes.clone()).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&c.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Quotes and control characters would break the header; drop them from the name.
    let name: String = c.filename.chars().filter(|ch| *ch != '"' && *ch != '\\' && !ch.is_control()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
