//! The codecs the media server speaks, as the clients offer them (docs/meetings-design.md §2).

use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use webrtc::peer_connection::MediaEngine;

/// Opus, as the clients offer it.
pub(crate) const OPUS_PT: u8 = 111;
/// VP8, as the clients offer it.
pub(crate) const VP8_PT: u8 = 96;
/// H.264 constrained baseline, as the clients offer it.
pub(crate) const H264_PT: u8 = 102;

pub(crate) fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// NACK and the keyframe requests (PLI, FIR): what a receiver may ask of a video sender.
fn video_feedback() -> Vec<RTCPFeedback> {
    [("nack", ""), ("nack", "pli"), ("ccm", "fir")]
        .into_iter()
        .map(|(typ, parameter)| RTCPFeedback { typ: typ.to_owned(), parameter: parameter.to_owned() })
        .collect()
}

pub(crate) fn vp8() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: video_feedback(),
    }
}

pub(crate) fn h264() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".to_owned(),
        rtcp_feedback: video_feedback(),
    }
}

/// A media engine with Opus, VP8 and H.264 at the clients' payload types.
pub(super) fn media_engine() -> Result<MediaEngine, String> {
    let mut me = MediaEngine::default();
    let codecs = [
        (opus(), OPUS_PT, RtpCodecKind::Audio),
        (vp8(), VP8_PT, RtpCodecKind::Video),
        (h264(), H264_PT, RtpCodecKind::Video),
    ];
    for (rtp_codec, payload_type, kind) in codecs {
        me.register_codec(RTCRtpCodecParameters { rtp_codec, payload_type }, kind)
            .map_err(|e| format!("codec: {e}"))?;
    }
    Ok(me)
}

/// The mime type of one of our payload types (for a packet whose track did not name its codec).
pub(super) fn mime_of(pt: u8) -> Option<&'static str> {
    match pt {
        OPUS_PT => Some(MIME_TYPE_OPUS),
        VP8_PT => Some(MIME_TYPE_VP8),
        H264_PT => Some(MIME_TYPE_H264),
        _ => None,
    }
}
