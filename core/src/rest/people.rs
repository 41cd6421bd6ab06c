//! TODO(helper): people.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The people API.
#[derive(Clone)]
pub struct People {
    pub(crate) http: Http,
}

/// The people rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
