//! Media reconnection (protocol.md §6.5, `meetings.reconnection.*`): when a joined meeting's
//! media connection drops, or Locus removes us, the meeting renegotiates media (and rejoins
//! first when Locus no longer has us), up to `maxRejoinAttempts` attempts of at most
//! `iceReconnectionTimeout` each.
//!
//! Events, as the official SDK names them: `meeting:reconnectionStarting {meetingId, attempt}`,
//! `meeting:reconnectionSuccess {meetingId, attempt}`, `meeting:reconnectionFailure
//! {meetingId, attempts, error}`.
//!
//! UNSURE: the official SDK first waits for ICE to recover on the same connection and then
//! restarts ICE with a new OFFER on it; the sandbox's media server (like a media server that
//! lost the client) answers a new OFFER with a new DTLS session, so an attempt here builds a
//! new peer connection and offers it, which recovers from both kinds of loss.

use super::meeting::Meeting;
use super::state::MediaState;
use std::sync::{Arc, Weak};

/// Watches a meeting's media state and removals for as long as the meeting lives, and
/// reconnects when the config asks for it. Needs a tokio runtime.
pub(crate) fn supervise(meeting: &Arc<Meeting>) {
    let r = meeting.settings().reconnection.clone();
    if !r.enabled {
        return;
    }
    let weak: Weak<Meeting> = Arc::downgrade(meeting);
    let mut media = meeting.media_state_watch();
    let removed = meeting.removal_signal();
    tokio::spawn(async move {
        // Armed by a connection that came up: a join whose media never connected failed
        // for the app already (it got the error), and after a reconnection gave up its own
        // FAILED must not start another one.
        let mut armed = false;
        loop {
            let start = tokio::select! {
                changed = media.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let state = *media.borrow_and_update();
                    if state == MediaState::Connected {
                        armed = true;
                    }
                    armed && r.detection && state == MediaState::Failed
                }
                // A removal a reconnection already undid (it rejoined) leaves a stale signal.
                _ = removed.notified() => r.auto_rejoin && weak.upgrade().is_some_and(|m| m.is_removed()),
            };
            if !start {
                continue;
            }
            let Some(meeting) = weak.upgrade() else { return };
            if meeting.is_closed() {
                return;
            }
            if meeting.reconnect().await.is_err() {
                armed = false;
            }
            // What the attempts did to the state is theirs, not a new trigger.
            media.borrow_and_update();
        }
    });
}
