//! What the media server reads from an offer: its audio and video m-lines, in order.

use crate::locus::ops::Kind;

/// One offered audio or video m-line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Line {
    pub kind: Kind,
    /// Whether the offerer can receive on it (`sendrecv` or `recvonly`): a receive slot.
    pub receives: bool,
}

/// The audio and video m-lines of an SDP, in m-line order (other kinds are skipped).
pub(super) fn media_lines(sdp: &str) -> Vec<Line> {
    sdp.split("\nm=")
        .skip(1)
        .filter_map(|section| {
            let kind = if section.starts_with("audio") {
                Kind::Audio
            } else if section.starts_with("video") {
                Kind::Video
            } else {
                return None;
            };
            let dir = section
                .lines()
                .map(str::trim)
                .find(|l| matches!(*l, "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"))
                .unwrap_or("a=sendrecv");
            Some(Line { kind, receives: matches!(dir, "a=sendrecv" | "a=recvonly") })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Kind, Line, media_lines};

    #[test]
    fn media_lines_read_kinds_and_directions_in_order() {
        let sdp = "v=0\r\nm=audio 9 UDP 111\r\na=sendonly\r\nm=audio 9 UDP 111\r\na=recvonly\r\nm=video 9 UDP 96\r\na=sendrecv\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nm=video 9 UDP 96\r\na=recvonly\r\nm=audio 9 UDP 111\r\na=mid:2\r\n";
        let line = |kind, receives| Line { kind, receives };
        assert_eq!(
            media_lines(sdp),
            [
                line(Kind::Audio, false),
                line(Kind::Audio, true),
                line(Kind::Video, true),
                line(Kind::Video, true),
                line(Kind::Audio, true)
            ]
        );
    }
}
