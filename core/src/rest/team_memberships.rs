//! TODO(helper): team_memberships.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The team_memberships API.
#[derive(Clone)]
pub struct TeamMemberships {
    pub(crate) http: Http,
}

/// The team_memberships rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
