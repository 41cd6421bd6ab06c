//! Pages fetched ahead (`http.prefetchPages`): each page `pages.next` answers starts the fetch
//! of the one after it, so the server's and the wire's time for it passes while the app reads
//! this one. An app that asked for a second page is walking the list; the first page never
//! prefetches, because many lists are read one page deep.
//!
//! `pages.next` is stateless (a cursor is a URL), so fetched pages wait in a few per-client
//! slots keyed by URL, and a slot is only trusted while it surely belongs to the walk asking:
//! - a newer fetch of the same URL replaces an older one (a new walk over the same filters
//!   re-fetches each page before it asks for the next, so it never meets an old walk's page);
//! - a page waits at most [`FRESH_FOR`] (a walk that paused longer gets the list as it is now);
//! - a page fetched with another token than the current one is not served;
//! - a failed fetch is made again when its page is asked for: its error belongs to the moment
//!   the app asks, not to when the fetch ran.
//!
//! Fetches in flight are never cut off to make room: with every slot busy, no fetch starts.
//! Closing the client aborts them all and starts no more.

use super::{Http, HttpRequest, TextPage};
use crate::error::Result;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How many walks can have their next page fetched ahead at once.
const SLOTS: usize = 4;

/// How long a fetched page waits for its walk.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(10);

/// A page being fetched (or fetched) before `pages.next` asks for it; dropping it aborts the
/// fetch.
pub(crate) struct Ahead {
    url: String,
    token: Option<String>,
    started: Instant,
    task: Option<JoinHandle<Result<TextPage>>>,
}

impl Ahead {
    fn fresh(&self) -> bool {
        self.started.elapsed() < FRESH_FOR
    }

    fn finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The fetched page, or `None` when the fetch failed, was aborted or panicked. Dropping
    /// this future (the call was cancelled) aborts the fetch.
    async fn page(mut self) -> Option<TextPage> {
        let task = self.task.as_mut()?;
        let outcome = task.await;
        self.task = None;
        outcome.ok()?.ok()
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Http {
    /// `pages.next`: the page at `url` (a `next` cursor this client answered), from a fetch
    /// started ahead when there is one that may be trusted (see the module docs).
    pub async fn next_page_text(&self, url: String) -> Result<TextPage> {
        let prefetched = match self.take_ahead(&url) {
            Some(ahead) => ahead.page().await,
            None => None,
        };
        let page = match prefetched {
            Some(page) => page,
            None => self.page_text(HttpRequest::get(url)).await?,
        };
        if self.inner.prefetch_pages
            && let Some(next) = &page.next
        {
            self.fetch_ahead(next);
        }
        Ok(page)
    }

    /// Stops fetching ahead: aborts the fetches in flight and starts no more (client close).
    pub fn stop_fetching_ahead(&self) {
        let dropped = self.slots().take();
        drop(dropped);
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Option<VecDeque<Ahead>>> {
        self.inner.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_ahead(&self, url: &str) -> Option<Ahead> {
        let ahead = {
            let mut slots = self.slots();
            let slots = slots.as_mut()?;
            let at = slots.iter().position(|a| a.url == url)?;
            slots.remove(at)?
        };
        let same_token = ahead.token == self.inner.credentials.access_token();
        (ahead.fresh() && same_token).then_some(ahead)
    }

    fn fetch_ahead(&self, url: &str) {
        let mut slots = self.slots();
        let Some(slots) = slots.as_mut() else { return };
        slots.retain(|a| a.url != url && a.fresh());
        if slots.len() >= SLOTS {
            let Some(done) = slots.iter().position(Ahead::finished) else { return };
            slots.remove(done);
        }
        let http = self.clone();
        let request = HttpRequest::get(url.to_owned());
        let task = tokio::spawn(async move { http.page_text(request).await });
        let token = self.inner.credentials.access_token();
        slots.push_back(Ahead { url: url.to_owned(), token, started: Instant::now(), task: Some(task) });
    }
}
