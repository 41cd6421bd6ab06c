//! TODO(helper): meetings.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The meetings API.
#[derive(Clone)]
pub struct ScheduledMeetings {
    pub(crate) http: Http,
}

/// The meetings rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
