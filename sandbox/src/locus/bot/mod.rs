//! The built-in meeting participant (docs/meetings-design.md §4.5): "Sandbox Media Bot", a
//! Locus participant whose media is a virtual source in the meeting's media room (no peer
//! connection). Audio: a tone, Opus-encoded once and looped every 20 ms. Video: the test
//! pattern asset at 15 fps, packetized with webrtc's VP8/H.264 payloaders; a keyframe
//! request from a receiver makes the next frame sent the asset's next keyframe. It receives
//! nothing. It stops when it leaves ([`Sandbox::remove_media_bot`], a kick) or the meeting
//! ends.

mod tone;
mod video;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp;
use rtc::rtp::codec::h264::H264Payloader;
use rtc::rtp::codec::vp8::Vp8Payloader;
use rtc::rtp::packetizer::{Packetizer, Payloader, new_packetizer};
use rtc::rtp::sequence::new_random_sequencer;
use tokio::time::MissedTickBehavior;

use super::PersonRef;
use super::ops::{Join, Kind};
use super::sfu::{H264_PT, Member, OPUS_PT, Owner, Room, VP8_PT};
use crate::Sandbox;
use crate::state::{Shared, lock};

/// The bot's email (a person of kind `bot` in the store).
pub const MEDIA_BOT_EMAIL: &str = "media-bot@sandbox.example";
/// The bot's display name.
const MEDIA_BOT_NAME: &str = "Sandbox Media Bot";
/// Audio frame period (20 ms of Opus).
const AUDIO_PERIOD: Duration = Duration::from_millis(20);
/// Video frame rate of the assets.
const FPS: u32 = 15;
/// Payload bytes per RTP packet (an MTU of 1200, the usual WebRTC budget).
const MTU: usize = 1200;

/// The video codec of the built-in participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotVideo {
    /// VP8 (`sandbox/assets/test-pattern-320x240.ivf`).
    Vp8,
    /// H.264 constrained baseline (`sandbox/assets/test-pattern-320x240.h264`).
    H264,
}

/// What the built-in participant sends. `MediaBotOptions::default()` is a 440 Hz tone and
/// VP8 video.
#[derive(Clone, Debug)]
pub struct MediaBotOptions {
    /// Frequency of the audio tone in Hz (`None`: 440). Must be above 0 and below 24000.
    pub tone_hz: Option<f64>,
    /// The video it sends, if any (default: `Some(BotVideo::Vp8)`; `None`: audio only).
    /// Receivers whose video slot negotiated another codec get no video from it.
    pub video: Option<BotVideo>,
}

impl Default for MediaBotOptions {
    fn default() -> Self {
        MediaBotOptions { tone_hz: None, video: Some(BotVideo::Vp8) }
    }
}

impl Sandbox {
    /// Adds the built-in participant ("Sandbox Media Bot", [`MEDIA_BOT_EMAIL`]) to the
    /// running meeting with this number: it appears JOINED in everyone's roster with its own
    /// CSIs (event `locus.participant_joined`) and sends a tone and a test pattern to every
    /// participant with a media session, as a participant would. Its counters appear in
    /// [`Sandbox::meeting_media`]. `false` when the meeting is not running, the bot is
    /// already in it, the tone is out of range, or there is no tokio runtime to run it on.
    pub fn add_media_bot(&self, meeting_number: &str, opts: MediaBotOptions) -> bool {
        self.shared.add_media_bot(meeting_number, opts)
    }

    /// The built-in participant leaves the running meeting with this number (state LEFT,
    /// event `locus.participant_left`) and stops sending. `false` when it is not in it.
    pub fn remove_media_bot(&self, meeting_number: &str) -> bool {
        self.shared.remove_media_bot(meeting_number)
    }
}

/// The built-in participant on the shared state: what [`Sandbox`] and the admin routes call.
impl Shared {
    /// [`Sandbox::add_media_bot`].
    pub(crate) fn add_media_bot(&self, meeting_number: &str, opts: MediaBotOptions) -> bool {
        let hz = opts.tone_hz.unwrap_or(440.0);
        if !(hz.is_finite() && hz > 0.0 && hz < 24_000.0) {
            return false;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return false };
        let Some(audio) = tone::encode(hz) else { return false };
        let video = opts.video.map(|v| match v {
            BotVideo::Vp8 => (v, video::vp8()),
            BotVideo::H264 => (v, video::h264()),
        });
        let person = {
            let mut store = self.store();
            let uuid = store.add_person(MEDIA_BOT_EMAIL, MEDIA_BOT_NAME, "bot");
            match store.person(uuid) {
                Some(p) => PersonRef::from(p),
                None => return false,
            }
        };
        let mut ls = lock(&self.locus);
        let Some(i) = ls.active_for(meeting_number) else { return false };
        if ls.loci[i].participant_of(person.uuid).is_some_and(|p| p.joined) {
            return false;
        }
        let join = Join {
            // UNSURE: how Locus shows a server-side participant's device; a SIP-like device
            // URL under the sandbox keeps every participant with one device.
            device_url: format!("{}/sandbox/media-bot/device", ls.base_url),
            device_type: "SIP".into(),
            correlation_id: None,
            media: None,
            moderator: false,
            pin: None,
        };
        if ls.join(&mut lock(&self.mercury), i, &person, &join).is_err() {
            return false;
        }
        let Some(p) = ls.loci[i].participant_of(person.uuid) else { return false };
        let owner = Owner { locus: ls.loci[i].id, participant: p.id, email: person.email.clone(), csis: p.csis };
        let (room, member, keyframe) = ls.sfu.add_virtual(owner);
        drop(ls);
        rt.spawn(send_audio(room.clone(), member.clone(), audio));
        if let Some((codec, frames)) = video {
            rt.spawn(send_video(room, member, keyframe, codec, frames));
        }
        true
    }

    /// [`Sandbox::remove_media_bot`].
    pub(crate) fn remove_media_bot(&self, meeting_number: &str) -> bool {
        let Some(bot) = self.store().person_by_email(MEDIA_BOT_EMAIL).map(|p| p.uuid) else { return false };
        let mut ls = lock(&self.locus);
        let Some(i) = ls.active_for(meeting_number) else { return false };
        let Some(pi) = ls.loci[i].participants.iter().position(|p| p.person.uuid == bot && p.joined) else {
            return false;
        };
        ls.leave(&mut lock(&self.mercury), i, pi, false);
        true
    }
}

/// Loops the tone's packets every 20 ms until the bot leaves the room.
async fn send_audio(room: Arc<Room>, member: Arc<Member>, frames: Vec<Vec<u8>>) {
    let mut tick = tokio::time::interval(AUDIO_PERIOD);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ssrc = rand::random::<u32>();
    let mut seq = rand::random::<u16>();
    let mut ts = rand::random::<u32>();
    for payload in frames.iter().cycle() {
        tick.tick().await;
        let mut pkt = rtp::Packet { payload: payload.clone().into(), ..Default::default() };
        let h = &mut pkt.header;
        (h.version, h.payload_type, h.sequence_number, h.timestamp, h.ssrc) = (2, OPUS_PT, seq, ts, ssrc);
        if !room.forward(&member, Kind::Audio, MIME_TYPE_OPUS, &pkt) {
            return;
        }
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(tone::FRAME_SAMPLES as u32);
    }
}

/// Loops the asset's frames at 15 fps until the bot leaves the room; after a keyframe
/// request the next frame sent is the asset's next keyframe.
async fn send_video(
    room: Arc<Room>,
    member: Arc<Member>,
    keyframe: Arc<AtomicBool>,
    codec: BotVideo,
    frames: Vec<video::Frame>,
) {
    if frames.is_empty() {
        return;
    }
    let (pt, mime, payloader): (u8, &str, Box<dyn Payloader>) = match codec {
        BotVideo::Vp8 => (VP8_PT, MIME_TYPE_VP8, Box::new(Vp8Payloader::default())),
        BotVideo::H264 => (H264_PT, MIME_TYPE_H264, Box::new(H264Payloader::default())),
    };
    let ssrc = rand::random::<u32>();
    let mut packetizer =
        new_packetizer(Instant::now(), MTU, pt, ssrc, payloader, Box::new(new_random_sequencer()), 90_000);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / FPS);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut next = 0;
    loop {
        tick.tick().await;
        if keyframe.swap(false, Ordering::Relaxed) {
            // The next keyframe at or after this frame (there is one: frame 0 of the loop).
            next = (next..frames.len()).chain(0..next).find(|&k| frames[k].key).unwrap_or(next);
        }
        let frame = &frames[next];
        next = (next + 1) % frames.len();
        // The packetizer sets the marker bit on the frame's last packet.
        let Ok(packets) = packetizer.packetize(Instant::now(), &frame.data, 90_000 / FPS) else { continue };
        for pkt in &packets {
            if !room.forward(&member, Kind::Video, mime, pkt) {
                return;
            }
        }
    }
}
