//! Building a WebRTC peer connection the way meetings need it (webrtc 0.21): Opus, VP8 and
//! H.264, BUNDLE, no mDNS, no STUN, one concrete UDP address, and every connection event turned
//! into a message on a channel. The config decides the rest: NACK with `meetings.enableRtx`,
//! header extensions beyond MID with `meetings.enableExtmap`.

use super::video::VideoCodec;
use crate::error::{Error, ErrorCode, Result};
use crate::meetings::settings::MeetingSettings;
use rtc::interceptor::{Registry, Slot};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind};
use rtc::sdp::extmap::{ABS_SEND_TIME_URI, AUDIO_LEVEL_URI, SDES_MID_URI};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use webex_media_common::keyframe;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState, configure_nack, configure_rtcp_reports, configure_twcc,
};

pub use webex_media_common::codecs::{OPUS_PT, opus as opus_codec};

/// What a connection tells its owner.
pub enum PcEvent {
    /// The connection state changed.
    State(RTCPeerConnectionState),
    /// A remote track arrived.
    Track(Arc<dyn TrackRemote>),
}

struct Handler {
    events: mpsc::UnboundedSender<PcEvent>,
    gathered: watch::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(PcEvent::State(state));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(PcEvent::Track(track));
    }
}

/// A built connection and how to follow it.
pub struct Built {
    /// The connection.
    pub pc: Arc<dyn PeerConnection>,
    /// State changes and remote tracks.
    pub events: mpsc::UnboundedReceiver<PcEvent>,
    /// Becomes true when ICE gathering completes.
    pub gathered: watch::Receiver<bool>,
}

/// Maps a webrtc error into ours.
pub fn media_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Media, format!("{what}: {e}"))
}

/// A connection bound to `bind` (port 0) with the default `meetings.*` config and VP8 first:
/// see [`build_with`].
#[cfg(test)]
pub async fn build(bind: IpAddr) -> Result<Built> {
    build_with(bind, &MeetingSettings::default(), VideoCodec::Vp8).await
}

/// The media engine and interceptors the config asks for. Both video codecs are offered
/// (a participant may send either), `preferred` first.
fn engine(settings: &MeetingSettings, preferred: VideoCodec) -> Result<(MediaEngine, Registry)> {
    let mut me = MediaEngine::default();
    me.register_codec(RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: OPUS_PT }, RtpCodecKind::Audio)
        .map_err(|e| media_error("registering Opus", e))?;
    let other = if preferred == VideoCodec::Vp8 { VideoCodec::H264 } else { VideoCodec::Vp8 };
    for codec in [preferred, other] {
        let params = RTCRtpCodecParameters {
            rtp_codec: codec.rtp_codec(settings.enable_rtx),
            payload_type: codec.payload_type(),
        };
        me.register_codec(params, RtpCodecKind::Video).map_err(|e| media_error("registering a video codec", e))?;
    }
    let extension = |me: &mut MediaEngine, uri: &str, kind: RtpCodecKind| {
        me.register_header_extension(RTCRtpHeaderExtensionCapability { uri: uri.to_owned() }, kind, None)
            .map_err(|e| media_error("registering an RTP header extension", e))
    };
    // MID lets BUNDLE tell the m-lines apart before SSRCs are known; always on.
    extension(&mut me, SDES_MID_URI, RtpCodecKind::Audio)?;
    extension(&mut me, SDES_MID_URI, RtpCodecKind::Video)?;
    // Sender and receiver reports always: they feed packetsLost, jitter and roundTripTime.
    let mut registry = configure_rtcp_reports(Registry::new());
    if settings.enable_rtx {
        // NACK generation and answering (after the codecs: it adds `nack` to their feedback).
        // UNSURE: RTX itself (a separate repair stream, RFC 4588) is not offered yet; NACKed
        // packets are resent on the media SSRC.
        registry = configure_nack(registry, &mut me);
    }
    if settings.enable_extmap {
        extension(&mut me, AUDIO_LEVEL_URI, RtpCodecKind::Audio)?;
        extension(&mut me, ABS_SEND_TIME_URI, RtpCodecKind::Audio)?;
        extension(&mut me, ABS_SEND_TIME_URI, RtpCodecKind::Video)?;
        // Transport-wide congestion control: its extension, feedback and interceptors.
        registry = configure_twcc(registry, &mut me).map_err(|e| media_error("configuring TWCC", e))?;
    }
    let registry = registry.with(Slot::from(keyframe::SLOT), keyframe::KeyframeRequests::default());
    Ok((me, registry))
}

/// A connection bound to `bind` (port 0). A concrete address keeps its host candidate even
/// when it is loopback; mDNS is off and there are no STUN servers, so gathering is immediate.
/// Needs a tokio runtime (the driver is spawned on it).
pub async fn build_with(bind: IpAddr, settings: &MeetingSettings, preferred: VideoCodec) -> Result<Built> {
    let (me, registry) = engine(settings, preferred)?;
    let (se, cfg) = webex_media_common::connection_settings();
    let (tx, events) = mpsc::unbounded_channel();
    let (gathered_tx, gathered) = watch::channel(false);
    let pc = PeerConnectionBuilder::new()
        .with_configuration(cfg)
        .with_media_engine(me)
        .with_setting_engine(se)
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(Handler { events: tx, gathered: gathered_tx }))
        .with_udp_addrs(vec![SocketAddr::new(bind, 0)])
        .build()
        .await
        .map_err(|e| media_error("creating the peer connection", e))?;
    Ok(Built { pc: Arc::new(pc), events, gathered })
}

/// Waits until ICE gathering is complete (ROAP has no trickle: the SDP must carry every
/// candidate), at most `timeout`.
pub async fn wait_gathered(gathered: &mut watch::Receiver<bool>, timeout: Duration) -> Result<()> {
    match tokio::time::timeout(timeout, gathered.wait_for(|g| *g)).await {
        Ok(Ok(_)) => Ok(()),
        _ => Err(Error::new(ErrorCode::Media, "ICE gathering did not complete")),
    }
}
