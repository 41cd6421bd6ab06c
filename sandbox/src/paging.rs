//! List pagination (protocol.md §1.3): `max`, an opaque `cursor`, and one
//! `Link: <absolute next url>; rel="next"` header that repeats every original filter.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

use crate::errors::{ApiError, ApiResult, json_text};
use crate::state::Call;

/// Page-size rules of one list endpoint.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Page size when `max` is absent.
    pub default: usize,
    /// Largest page served.
    pub limit: usize,
    /// Whether `max` above `limit` is a 400 (rooms: "between 1 and 1000, inclusive") rather
    /// than silently capped (the documented behaviour elsewhere).
    pub strict: bool,
}

/// The page a request asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Page {
    pub max: usize,
    pub offset: usize,
}

/// Reads and validates `max` and `cursor`.
pub(crate) fn page(call: &Call, limits: Limits) -> ApiResult<Page> {
    let max = match call.q("max") {
        None => limits.default,
        Some(raw) => {
            let n: usize = raw.parse().map_err(|_| ApiError::invalid("max", "expected a positive integer"))?;
            if n == 0 || (limits.strict && n > limits.limit) {
                return Err(ApiError::invalid("max", &format!("must be between 1 and {}", limits.limit)));
            }
            n.min(limits.limit)
        }
    };
    let offset = match call.q("cursor") {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| ApiError::invalid("cursor", "unknown cursor"))?,
    };
    Ok(Page { max, offset })
}

// The cursor is an offset into the filtered, sorted listing, wrapped so clients treat it as
// opaque. Offsets can skip/repeat items if the list changes between pages; acceptable here.
fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(c.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("offset:")?.parse().ok()
}

/// Cuts one page out of `items` and answers `{"items": [...]}` (plus `extra` top-level
/// fields), with a `Link` header when more remain.
pub(crate) fn respond(call: &Call, items: Vec<Value>, page: Page, extra: Option<(&str, Value)>) -> Response {
    let total = items.len();
    let window = window(total, page);
    respond_window(call, &items[window], total, page, extra)
}

/// The part of a listing of `total` items that `page` shows.
pub(crate) fn window(total: usize, page: Page) -> std::ops::Range<usize> {
    let start = page.offset.min(total);
    start..page.offset.saturating_add(page.max).min(total)
}

/// Answer with `slice` (already cut to [`window`]) of a listing of `total` items, so a long
/// listing renders only the page it shows; items are written straight into the body.
pub(crate) fn respond_window<T: Serialize>(
    call: &Call,
    slice: &[T],
    total: usize,
    page: Page,
    extra: Option<(&str, Value)>,
) -> Response {
    #[derive(Serialize)]
    struct Body<'a, T> {
        items: &'a [T],
    }
    let end = page.offset.saturating_add(page.max).min(total);
    let body = match extra {
        // Serializing plain data cannot fail.
        None => serde_json::to_string(&Body { items: slice }).unwrap_or_default(),
        Some((k, v)) => {
            let mut body = json!({ "items": slice });
            body[k] = v;
            body.to_string()
        }
    };
    let mut res = json_text(StatusCode::OK, body);
    if end < total {
        let mut params: Vec<(String, String)> = call.query.iter().filter(|(k, _)| k != "cursor").cloned().collect();
        params.push(("cursor".into(), encode_cursor(end)));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
        let link = format!("<{}{}?{qs}>; rel=\"next\"", call.st.base_url, call.path);
        if let Ok(v) = HeaderValue::from_str(&link) {
            res.headers_mut().insert(header::LINK, v);
        }
    }
    res
}
