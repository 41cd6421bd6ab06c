//! The HTTP surface: hydra resources, the U2C catalog and the `/_sandbox/` admin API.

mod attachment_actions;
mod contents;
mod meeting_fields;
mod meetings;
mod memberships;
mod message_post;
mod messages;
mod people;
pub(crate) mod rooms;
mod team_memberships;
mod teams;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;

use crate::errors::{ApiError, default_message};
use crate::state::AppState;

/// Uploads up to the cloud's 100 MB file limit.
const BODY_LIMIT: usize = 100 * 1024 * 1024;

/// The whole application.
pub(crate) fn app(st: AppState) -> Router {
    Router::new()
        .merge(people::routes())
        .merge(rooms::routes())
        .merge(memberships::routes())
        .merge(messages::routes())
        .merge(contents::routes())
        .merge(teams::routes())
        .merge(team_memberships::routes())
        .merge(webhooks::routes())
        .merge(attachment_actions::routes())
        .merge(meetings::routes())
        .merge(crate::locus::routes())
        .merge(crate::catalog::routes())
        .merge(crate::devices::routes())
        .merge(crate::mercury::socket::routes())
        .merge(crate::mercury::routes())
        .merge(crate::admin::routes())
        .merge(crate::oauth::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(st.clone(), crate::middleware::around))
        .with_state(st)
}

async fn not_found() -> Response {
    axum::response::IntoResponse::into_response(ApiError::not_found())
}

async fn method_not_allowed() -> Response {
    axum::response::IntoResponse::into_response(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, default_message(405)))
}
