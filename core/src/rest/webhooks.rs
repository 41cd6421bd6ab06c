//! TODO(helper): webhooks.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The webhooks API.
#[derive(Clone)]
pub struct Webhooks {
    pub(crate) http: Http,
}

/// The webhooks rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
