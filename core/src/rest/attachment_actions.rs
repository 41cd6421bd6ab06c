//! TODO(helper): attachment_actions.

use crate::boundary::operation::Operation;
use crate::http::Http;

/// The attachment_actions API.
#[derive(Clone)]
pub struct AttachmentActions {
    pub(crate) http: Http,
}

/// The attachment_actions rows of the operation table.
pub(crate) fn operations() -> Vec<Operation> {
    vec![]
}
