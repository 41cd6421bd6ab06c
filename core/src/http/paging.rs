//! RFC 5988 `Link` pagination (protocol.md §1.3), as a lazy sequence of pages.

use super::{Http, HttpRequest};
use crate::error::{Error, Result};
use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::VecDeque;
use std::marker::PhantomData;

/// The `rel="next"` URL among `Link` header values, if any. Each value may hold several
/// comma-separated links; each link is `<url>; rel="next"` with optional other params.
pub fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    for value in values {
        for link in split_links(value) {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let Some(url) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else { continue };
            let is_next = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("rel=")
                    .map(|r| r.trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case("next")))
                    .unwrap_or(false)
            });
            if is_next {
                return Some(url.to_owned());
            }
        }
    }
    None
}

/// Split a header value into links at commas outside `<...>` (URLs may contain commas).
fn split_links(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in value.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

/// One page as text: its `items` array as the cloud sent it (checked: well-formed JSON, every
/// item an object) and the URL of the next page.
#[derive(Clone, Debug)]
pub struct TextPage {
    /// The page's `items`, a JSON array.
    pub items: String,
    /// The next page's URL, when the cloud says there is one.
    pub next: Option<String>,
}

impl Http {
    /// Fetch one page as text (see [`TextPage`]): no JSON tree is built, which is most of
    /// the cost of a page of a thousand items when the result only crosses the boundary.
    pub async fn page_text(&self, request: HttpRequest) -> Result<TextPage> {
        #[derive(serde::Deserialize)]
        struct Items<'a> {
            #[serde(borrow)]
            items: Vec<&'a serde_json::value::RawValue>,
        }
        let what = request.describe();
        let response = self.send(request).await?;
        let next = next_link(response.header_values("link"));
        let bad = || Error::protocol(format!("{what}: expected a list body {{\"items\": [...]}}"));
        let page: Items<'_> = serde_json::from_slice(&response.body).map_err(|_| bad())?;
        let mut items = String::with_capacity(response.body.len());
        items.push('[');
        for (i, item) in page.items.iter().enumerate() {
            let text = item.get();
            if !text.starts_with('{') {
                return Err(Error::protocol(format!("{what}: a list item is not an object: {text}")));
            }
            if i > 0 {
                items.push(',');
            }
            items.push_str(text);
        }
        items.push(']');
        Ok(TextPage { items, next })
    }
}

/// A lazy sequence of pages of `T`: nothing is fetched until asked for. From the second page
/// on, pages come through [`Http::next_page_text`], so each fetches the one after it.
pub struct Pages<T> {
    http: Http,
    pending: Option<HttpRequest>,
    /// Whether the first page has been fetched.
    started: bool,
    buffer: VecDeque<T>,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<T> {
    /// Pages starting with `first`.
    pub fn new(http: Http, first: HttpRequest) -> Pages<T> {
        Pages { http, pending: Some(first), started: false, buffer: VecDeque::new(), _item: PhantomData }
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        let Some(what) = self.pending.as_ref().map(HttpRequest::describe) else { return Ok(None) };
        let Some(text) = self.next_text_page().await? else { return Ok(None) };
        let items: Vec<Value> = serde_json::from_str(&text).map_err(|e| Error::protocol(format!("{what}: {e}")))?;
        let items = items
            .into_iter()
            .map(|v| {
                // Fast path first; only a failure pays for the decoder that names the path.
                T::deserialize(&v).or_else(|_| {
                    serde_path_to_error::deserialize(v).map_err(|e| {
                        Error::protocol(format!("{what}: unexpected item shape at {}: {}", e.path(), e.inner()))
                    })
                })
            })
            .collect::<Result<Vec<T>>>()?;
        Ok(Some(items))
    }

    /// The next page's items as the cloud sent them (a JSON array, each item an object),
    /// without decoding into `T`: the boundary hands JSON text on, so building each item
    /// only to write it out again is waste.
    pub async fn next_text_page(&mut self) -> Result<Option<String>> {
        let Some(request) = self.pending.take() else { return Ok(None) };
        let fetched = if self.started && request.query.is_empty() {
            self.http.next_page_text(request.url.clone()).await
        } else {
            self.http.page_text(request.clone()).await
        };
        let page = match fetched {
            Ok(page) => page,
            Err(e) => {
                // Asking again retries this page rather than ending the walk early.
                self.pending = Some(request);
                return Err(e);
            }
        };
        self.started = true;
        self.pending = page.next.map(HttpRequest::get);
        Ok(Some(page.items))
    }

    /// The URL of the next page once a page has been fetched (`None` after the last one).
    pub fn next_url(&self) -> Option<String> {
        self.pending.as_ref().filter(|r| r.query.is_empty()).map(|r| r.url.clone())
    }

    /// The next item across pages, or `None` at the end.
    pub async fn next_item(&mut self) -> Result<Option<T>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Ok(Some(item));
            }
            match self.next_page().await? {
                Some(items) => self.buffer.extend(items),
                None => return Ok(None),
            }
        }
    }

    /// Every remaining item, fetching every remaining page.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut all: Vec<T> = self.buffer.drain(..).collect();
        while let Some(items) = self.next_page().await? {
            all.extend(items);
        }
        Ok(all)
    }

    /// The items as a stream, fetching pages as it is polled.
    pub fn into_stream(self) -> impl Stream<Item = Result<T>> {
        futures_util::stream::unfold(Some(self), |state| async move {
            let mut pages = state?;
            match pages.next_item().await {
                Ok(Some(item)) => Some((Ok(item), Some(pages))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_links() {
        assert_eq!(
            next_link(["<https://x.test/v1/rooms?max=1&cursor=a,b>; rel=\"next\""]).unwrap(),
            "https://x.test/v1/rooms?max=1&cursor=a,b"
        );
        assert_eq!(
            next_link(["<https://x.test/first>; rel=\"first\", <https://x.test/n>; rel=\"next\""]).unwrap(),
            "https://x.test/n"
        );
        assert_eq!(
            next_link(["<https://x.test/p>; rel=\"prev\"", "<https://x.test/n>;rel=next"]).unwrap(),
            "https://x.test/n"
        );
        assert_eq!(next_link(["<https://x.test/p>; rel=\"prev\""]), None);
        assert_eq!(next_link(["garbage", ""]), None);
    }
}
