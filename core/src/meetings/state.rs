//! The meeting state machine (names as the official SDK's `MEETING_STATE`, trimmed to what a
//! joined client sees).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a meeting stands for this client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
// Its name in the typed surfaces: `MeetingState` is the REST scheduled meeting's own state.
#[schemars(rename = "MeetingJoinState")]
pub enum MeetingState {
    /// Created (destination resolved), not joined.
    Idle,
    /// The join request is on its way.
    Joining,
    /// Admitted to the lobby, waiting for the host.
    Lobby,
    /// In the meeting.
    Joined,
    /// The leave request is on its way.
    Leaving,
    /// This client left (or was removed); it may join again.
    Left,
    /// The meeting ended for everyone; create it again to start a new one.
    Ended,
}

impl MeetingState {
    /// Whether a move to `next` is allowed. `Ended` is final; `Left` may join again.
    pub fn can_become(self, next: MeetingState) -> bool {
        use MeetingState::*;
        match (self, next) {
            (Ended, _) => false,
            (_, Ended) => true,
            (Idle | Left, Joining) => true,
            (Joining, Lobby | Joined | Left | Idle) => true,
            (Lobby, Joined | Leaving | Left) => true,
            (Joined, Lobby | Leaving | Left) => true,
            (Leaving, Left | Joined) => true,
            _ => false,
        }
    }

    /// The state as the cloud's words, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingState::Idle => "IDLE",
            MeetingState::Joining => "JOINING",
            MeetingState::Lobby => "LOBBY",
            MeetingState::Joined => "JOINED",
            MeetingState::Leaving => "LEAVING",
            MeetingState::Left => "LEFT",
            MeetingState::Ended => "ENDED",
        }
    }
}

/// Where a meeting's media connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaState {
    /// No media (not joined, or joined without audio).
    None,
    /// Offer sent, waiting for ICE and DTLS.
    Connecting,
    /// Media flows.
    Connected,
    /// The connection dropped and a reconnection is bringing it back.
    Reconnecting,
    /// The connection failed or timed out, and reconnection (when on) gave up.
    Failed,
    /// Closed by leave or end.
    Disconnected,
}

impl MediaState {
    /// The state as a word, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaState::None => "NONE",
            MediaState::Connecting => "CONNECTING",
            MediaState::Connected => "CONNECTED",
            MediaState::Reconnecting => "RECONNECTING",
            MediaState::Failed => "FAILED",
            MediaState::Disconnected => "DISCONNECTED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MeetingState::*;

    #[test]
    fn ended_is_final_and_left_may_rejoin() {
        for s in [Idle, Joining, Lobby, Joined, Leaving, Left, Ended] {
            assert!(!Ended.can_become(s));
            assert_eq!(s.can_become(Ended), s != Ended);
        }
        assert!(Left.can_become(Joining));
        assert!(Idle.can_become(Joining));
        assert!(!Idle.can_become(Joined), "joining goes through JOINING");
        assert!(!Joined.can_become(Joining));
        assert!(Joining.can_become(Lobby) && Lobby.can_become(Joined));
    }
}
