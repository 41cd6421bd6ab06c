//! The codecs of meeting media as offered: the browsers' payload types and parameters.
//! UNSURE: the H.264 profile is the browsers' constrained baseline 3.1; what the Webex media
//! servers prefer is not known here (protocol.md §6.3 leaves the SDP dialect open).

use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, RTCRtpCodec};

/// Opus's payload type.
pub const OPUS_PT: u8 = 111;
/// VP8's payload type.
pub const VP8_PT: u8 = 96;
/// H.264's payload type.
pub const H264_PT: u8 = 102;
/// The RTP clock of video.
pub const VIDEO_CLOCK: u32 = 90_000;

/// Opus: 48 kHz, 2 channels in SDP (RFC 7587), in-band FEC on.
pub fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// What a video receiver may ask of a sender: keyframes (PLI, FIR) always, retransmissions
/// (NACK) when `nack`.
pub fn video_feedback(nack: bool) -> Vec<RTCPFeedback> {
    let fb = |typ: &str, parameter: &str| RTCPFeedback { typ: typ.to_owned(), parameter: parameter.to_owned() };
    let mut feedback = vec![fb("ccm", "fir"), fb("nack", "pli")];
    if nack {
        feedback.push(fb("nack", ""));
    }
    feedback
}

/// VP8 with [`video_feedback`].
pub fn vp8(nack: bool) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: VIDEO_CLOCK,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: video_feedback(nack),
    }
}

/// H.264 constrained baseline, packetization mode 1, with [`video_feedback`].
pub fn h264(nack: bool) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: VIDEO_CLOCK,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".to_owned(),
        rtcp_feedback: video_feedback(nack),
    }
}

/// The mime type of one of these payload types.
pub fn mime_of(pt: u8) -> Option<&'static str> {
    match pt {
        OPUS_PT => Some(MIME_TYPE_OPUS),
        VP8_PT => Some(MIME_TYPE_VP8),
        H264_PT => Some(MIME_TYPE_H264),
        _ => None,
    }
}
