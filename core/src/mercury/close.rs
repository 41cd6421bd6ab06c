//! What a socket close means (protocol.md §5.7), as pure functions the connection loop obeys.

/// What to do when the socket closed before it was authorised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeforeOpen {
    /// 4400 (bad request) or 4403 (not entitled): retrying cannot help.
    Fatal,
    /// 4401: the token was refused: renew it, then retry.
    RefreshToken,
    /// 1005: re-register the device, then retry.
    RefreshDevice,
    /// Anything else: retry with backoff.
    Retry,
}

/// What to do when an authorised socket closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterOpen {
    /// Reconnect (`offline.transient`).
    Transient,
    /// Stop (`offline.permanent`).
    Permanent,
    /// Another connection of this device took over (`offline.replaced`); stop.
    Replaced,
}

/// Reasons that make a normal close a reconnect (protocol.md §5.7).
const NORMAL_RECONNECT_REASONS: &[&str] = &["idle", "done (forced)", "pong not received", "pong mismatch"];

/// Classify a close during the handshake.
pub fn before_open(code: u16) -> BeforeOpen {
    match code {
        4400 | 4403 => BeforeOpen::Fatal,
        4401 => BeforeOpen::RefreshToken,
        1005 => BeforeOpen::RefreshDevice,
        _ => BeforeOpen::Retry,
    }
}

/// Classify a close of an authorised socket. `code` 1006 stands for a connection that broke
/// without a close frame.
pub fn after_open(code: u16, reason: &str) -> AfterOpen {
    // Browsers report some server closes as 1005 with a reason; the official client maps them.
    let code = match (code, reason.to_lowercase().as_str()) {
        (1005, "replaced") => 4000,
        (1005, r) if r.starts_with("authentication") => 1008,
        _ => code,
    };
    match code {
        1000 | 1050 | 3050 if NORMAL_RECONNECT_REASONS.contains(&reason.to_lowercase().as_str()) => {
            AfterOpen::Transient
        }
        1001 | 1005 | 1006 | 1011 => AfterOpen::Transient,
        4000 => AfterOpen::Replaced,
        _ => AfterOpen::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        assert_eq!(before_open(4400), BeforeOpen::Fatal);
        assert_eq!(before_open(4403), BeforeOpen::Fatal);
        assert_eq!(before_open(4401), BeforeOpen::RefreshToken);
        assert_eq!(before_open(1005), BeforeOpen::RefreshDevice);
        assert_eq!(before_open(1006), BeforeOpen::Retry);
        assert_eq!(after_open(1000, "Idle"), AfterOpen::Transient);
        assert_eq!(after_open(1000, "Pong not received"), AfterOpen::Transient);
        assert_eq!(after_open(3050, "done (forced)"), AfterOpen::Transient);
        assert_eq!(after_open(1000, "Done"), AfterOpen::Permanent);
        assert_eq!(after_open(1001, ""), AfterOpen::Transient);
        assert_eq!(after_open(1006, ""), AfterOpen::Transient);
        assert_eq!(after_open(1011, ""), AfterOpen::Transient);
        assert_eq!(after_open(1003, ""), AfterOpen::Permanent);
        assert_eq!(after_open(4000, ""), AfterOpen::Replaced);
        assert_eq!(after_open(1005, "replaced"), AfterOpen::Replaced);
        assert_eq!(after_open(4001, ""), AfterOpen::Permanent);
        assert_eq!(after_open(4401, ""), AfterOpen::Permanent);
        assert_eq!(after_open(1008, ""), AfterOpen::Permanent);
    }
}
