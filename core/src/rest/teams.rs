//! TODO(helper): teams.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The teams API.
#[derive(Clone)]
pub struct Teams {
    pub(crate) http: Http,
}

/// The teams rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
