//! U2C service catalog (protocol.md §3.3), `format=hostmap`, and the metrics sink.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::errors::{ApiResult, json_ok, no_content};
use crate::state::{AppState, Call, Shared};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/u2c/api/v1/limited/catalog", get(limited))
        .route("/u2c/api/v1/catalog", get(full))
        // Metrics are accepted with or without a token and dropped (the SDK only logs failures).
        .route("/metrics/api/v1/clientmetrics", post(metrics))
        .route("/metrics/api/v1/clientmetrics-prelogin", post(metrics))
}

/// The catalog document. Every service lives on the sandbox's own `host:port`; each gets a
/// host entry whose id starts `urn:TEAM:us-east-2_a:` so the JS SDK maps it to cluster `us`
/// (without the `conversation` entry the JS SDK cannot build hydra ids from activities).
pub(crate) fn catalog(st: &Shared) -> Value {
    let base = &st.base_url;
    let mut services = vec![
        ("hydra", st.hydra()),
        ("u2c", format!("{base}/u2c/api/v1")),
        ("wdm", format!("{base}/wdm/api/v1")),
        ("conversation", format!("{base}/conversation/api/v1")),
        ("mercury", format!("{base}/mercury/api/v1")),
        ("locus", format!("{base}{}", crate::locus::LOCUS_PATH)),
        // meetingInfo; the name is the one the JS SDK looks up (UNSURE for the real catalog).
        ("webex-appapi-service", format!("{base}{}", crate::locus::APPAPI_PATH)),
        ("metrics", format!("{base}/metrics/api/v1")),
    ];
    if !st.catalog_wdm.load(Ordering::SeqCst) {
        services.retain(|(name, _)| *name != "wdm");
    }
    let hosts: Vec<Value> = services
        .iter()
        .map(|(name, _)| {
            json!({"host": st.host, "ttl": -1, "priority": 5, "id": format!("urn:TEAM:us-east-2_a:{name}")})
        })
        .collect();
    let links: serde_json::Map<String, Value> =
        services.into_iter().map(|(name, url)| (name.to_string(), Value::String(url))).collect();
    json!({
        "serviceLinks": links,
        "hostCatalog": { st.host_port.clone(): hosts },
        "format": "hostmap",
    })
}

/// Before login (no auth): the same catalog, as the sandbox has one cluster only.
async fn limited(State(st): State<AppState>) -> Response {
    json_ok(catalog(&st))
}

async fn full(call: Call) -> ApiResult<Response> {
    Ok(json_ok(catalog(&call.st)))
}

async fn metrics() -> Response {
    no_content()
}
