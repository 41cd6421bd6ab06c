//! The `meetings.*` config a meeting follows, read once when the client starts
//! (protocol.md §2.5, §6.5).

use crate::config::Config;
use std::time::Duration;

/// Media reconnection (`meetings.reconnection.*`).
#[derive(Clone, Debug)]
pub struct Reconnection {
    /// Reconnect at all (`enabled`, default false as in the official SDK).
    pub enabled: bool,
    /// Start on our own when the media connection drops (`detection`); else only
    /// `meetings.reconnect` starts it.
    pub detection: bool,
    /// Rejoin when Locus no longer has us in the meeting (`autoRejoin`).
    pub auto_rejoin: bool,
    /// How long one attempt may take to bring media back (`iceReconnectionTimeout`).
    pub timeout: Duration,
    /// Attempts before giving up (`maxRejoinAttempts`).
    pub max_attempts: u32,
}

/// Everything under `meetings.*` the engine uses.
#[derive(Clone, Debug)]
pub struct MeetingSettings {
    /// Media reconnection.
    pub reconnection: Reconnection,
    /// `bandwidth.audio`: the Opus bitrate ceiling and the audio `b=TIAS`, bits/s.
    pub audio_bandwidth: u64,
    /// `bandwidth.video`: the video `b=TIAS`, bits/s.
    pub video_bandwidth: u64,
    /// `resolution.maxWidth` × `maxHeight`: the largest video a client may send.
    pub max_resolution: (u32, u32),
    /// `enableRtx`: NACK (and RTX) for video.
    pub enable_rtx: bool,
    /// `enableExtmap`: RTP header extensions beyond the one BUNDLE needs.
    pub enable_extmap: bool,
}

impl MeetingSettings {
    /// Reads `meetings.*` from `config` (defaults filled by the schema).
    pub fn from_config(config: &Config) -> MeetingSettings {
        let u32_of = |path: &str| u32::try_from(config.u64(path)).unwrap_or(u32::MAX);
        MeetingSettings {
            reconnection: Reconnection {
                enabled: config.bool("meetings.reconnection.enabled"),
                detection: config.bool("meetings.reconnection.detection"),
                auto_rejoin: config.bool("meetings.reconnection.autoRejoin"),
                timeout: config.millis("meetings.reconnection.iceReconnectionTimeout"),
                max_attempts: u32_of("meetings.reconnection.maxRejoinAttempts"),
            },
            audio_bandwidth: config.u64("meetings.bandwidth.audio"),
            video_bandwidth: config.u64("meetings.bandwidth.video"),
            max_resolution: (u32_of("meetings.resolution.maxWidth"), u32_of("meetings.resolution.maxHeight")),
            enable_rtx: config.bool("meetings.enableRtx"),
            enable_extmap: config.bool("meetings.enableExtmap"),
        }
    }
}

impl Default for MeetingSettings {
    fn default() -> Self {
        let config = Config::from_value_with_env(serde_json::json!({}), &|_| None).expect("the empty config is valid");
        MeetingSettings::from_config(&config)
    }
}
