//! `webex-media-common`: what both ends of a meeting's media connection agree on, written once
//! — the engine (`webex-core`, the client) and the sandbox's media server (`webex-sandbox`,
//! which never depends on the engine) each build their peer connections from it.
//!
//! - [`codecs`]: Opus, VP8 and H.264 as offered (payload types, fmtp, RTCP feedback).
//! - [`keyframe`]: the interceptor that lets PLI/FIR reach the application.
//! - [`connection_settings`]: BUNDLE, rtcp-mux, no mDNS, the ICE timeouts.

pub mod codecs;
pub mod keyframe;

use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use webrtc::peer_connection::{
    RTCBundlePolicy, RTCConfiguration, RTCConfigurationBuilder, RTCRtcpMuxPolicy, SettingEngine, SettingEngineBuilder,
};

/// How long ICE waits without traffic before a connection counts as disconnected; the media
/// state follows it (and reconnection, when on, starts).
pub const ICE_DISCONNECTED_AFTER: Duration = Duration::from_secs(2);
/// … and as failed.
pub const ICE_FAILED_AFTER: Duration = Duration::from_secs(6);
/// How often ICE checks a quiet connection.
pub const ICE_KEEPALIVE: Duration = Duration::from_secs(1);

/// The settings of every meeting connection: one BUNDLE transport with RTCP multiplexed
/// (what Webex media servers expect), no mDNS (candidates are plain addresses; ROAP has no
/// trickle, so gathering must finish at once), host candidates taken without waiting.
pub fn connection_settings() -> (SettingEngine, RTCConfiguration) {
    let engine = SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_ice_timeouts(Some(ICE_DISCONNECTED_AFTER), Some(ICE_FAILED_AFTER), Some(ICE_KEEPALIVE))
        .with_host_acceptance_min_wait(Some(Duration::ZERO))
        .build();
    let configuration = RTCConfigurationBuilder::new()
        .with_bundle_policy(RTCBundlePolicy::MaxBundle)
        .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require)
        .build();
    (engine, configuration)
}
