//! TODO(helper): messages.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The messages API.
#[derive(Clone)]
pub struct Messages {
    pub(crate) http: Http,
}

/// The messages rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
