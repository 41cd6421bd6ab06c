//! The codecs the media server speaks: as the clients offer them (`webex-media-common`).

use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use webex_media_common::codecs::{self, H264_PT, OPUS_PT, VP8_PT};
use webrtc::peer_connection::MediaEngine;

pub(crate) use webex_media_common::codecs::{mime_of, opus};

/// A media engine with Opus, VP8 and H.264 at the clients' payload types; video with NACK in
/// its feedback, so a client that asks for retransmissions may (the server resends nothing
/// on loopback, where nothing is lost).
pub(super) fn media_engine() -> Result<MediaEngine, String> {
    let mut me = MediaEngine::default();
    let all = [
        (codecs::opus(), OPUS_PT, RtpCodecKind::Audio),
        (codecs::vp8(true), VP8_PT, RtpCodecKind::Video),
        (codecs::h264(true), H264_PT, RtpCodecKind::Video),
    ];
    for (rtp_codec, payload_type, kind) in all {
        me.register_codec(RTCRtpCodecParameters { rtp_codec, payload_type }, kind)
            .map_err(|e| format!("codec: {e}"))?;
    }
    Ok(me)
}
