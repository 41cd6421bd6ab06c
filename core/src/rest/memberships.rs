//! TODO(helper): memberships.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The memberships API.
#[derive(Clone)]
pub struct Memberships {
    pub(crate) http: Http,
}

/// The memberships rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
