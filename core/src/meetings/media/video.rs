//! Video (docs/meetings-design.md §5.4): the app pushes encoded VP8 or H.264 frames and gets
//! the others' encoded frames, one participant at a time per receive slot; the engine never
//! encodes or decodes video. Sending packetizes with webrtc's `TrackLocalStaticSample` on an
//! engine task fed by a bounded queue (the caller never blocks); receiving reassembles frames
//! with `SampleBuilder` and names the sender by the RTP CSRC (the participant's video CSI,
//! `status.csis[1]`). Keyframe requests flow both ways: a PLI/FIR from the media server
//! becomes `meeting:keyframeRequested`, and `request_keyframe` sends a PLI for a slot.

use super::MediaShared;
use super::h264;
use crate::error::{Error, ErrorCode, Result};
use crate::events::Event;
use bytes::Bytes;
use rtc::media::Sample;
use rtc::media::io::sample_builder::SampleBuilder;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_VP8};
use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp_transceiver::rtp_sender::RTCRtpCodec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use webex_media_common::codecs::{self, VIDEO_CLOCK};
pub use webex_media_common::codecs::{H264_PT, VP8_PT};
use webex_media_common::keyframe;
/// Encoded frames waiting for the engine task; beyond this the newest are dropped (counted).
const SEND_QUEUE: usize = 30;
/// Packets `SampleBuilder` waits for a missing one before giving up on its frame.
const MAX_LATE: u16 = 256;
/// How long a frame with a missing packet may hold up the ones after it.
const MAX_DELAY: Duration = Duration::from_millis(500);

/// A video codec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum VideoCodec {
    /// VP8 (RFC 7741), the default.
    #[default]
    #[serde(rename = "VP8")]
    Vp8,
    /// H.264 constrained baseline, packetization mode 1 (RFC 6184).
    #[serde(rename = "H264")]
    H264,
}

impl VideoCodec {
    /// `VP8` or `H264`.
    pub fn as_str(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "VP8",
            VideoCodec::H264 => "H264",
        }
    }

    /// The payload type we offer for it.
    pub(crate) fn payload_type(self) -> u8 {
        match self {
            VideoCodec::Vp8 => VP8_PT,
            VideoCodec::H264 => H264_PT,
        }
    }

    /// The codec whose payload type we offered as `pt`. Answers use the offer's payload types
    /// (RFC 3264 §6.1 asks the answerer to), so ours identify the codec of a packet.
    pub(crate) fn from_payload_type(pt: u8) -> Option<VideoCodec> {
        match pt {
            VP8_PT => Some(VideoCodec::Vp8),
            H264_PT => Some(VideoCodec::H264),
            _ => None,
        }
    }

    fn mime_type(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => MIME_TYPE_VP8,
            VideoCodec::H264 => MIME_TYPE_H264,
        }
    }

    /// Whether a negotiated codec's MIME type is this one.
    pub(crate) fn is(self, mime_type: &str) -> bool {
        mime_type.eq_ignore_ascii_case(self.mime_type())
    }

    /// The codec as offered: keyframe requests by PLI and FIR always, NACK when `nack`
    /// (`meetings.enableRtx`).
    pub(crate) fn rtp_codec(self, nack: bool) -> RTCRtpCodec {
        match self {
            VideoCodec::Vp8 => codecs::vp8(nack),
            VideoCodec::H264 => codecs::h264(nack),
        }
    }
}

/// The largest video a client may send: `meetings.resolution.max*` and `meetings.bandwidth.video` (a meeting's `sendVideo` once joined sending video).
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendVideoLimits {
    /// `meetings.resolution.maxWidth`.
    pub max_width: u32,
    /// `meetings.resolution.maxHeight`.
    pub max_height: u32,
    /// `meetings.bandwidth.video`, bits/s: the encoder's ceiling.
    pub max_bitrate: u64,
}

/// What the app says about a frame it sends.
#[derive(Clone, Copy, Debug)]
pub struct VideoFrameInfo {
    /// The frame is a keyframe (VP8: checked against the bitstream).
    pub keyframe: bool,
    /// How long the frame is shown (1/frame rate): the RTP timestamp of the next frame
    /// advances by it. Must not be zero.
    pub duration: Duration,
}

/// One encoded frame of a remote participant's video, borrowed for the sink call only.
#[derive(Debug)]
pub struct VideoFrame<'a> {
    /// The meeting it belongs to.
    pub meeting_id: &'a str,
    /// The Locus participant id of the sender (`members[].id`), when the roster names it.
    pub participant_id: Option<&'a str>,
    /// Its codec.
    pub codec: VideoCodec,
    /// The frame: a VP8 frame, or an H.264 access unit in Annex-B form (start codes).
    pub data: &'a [u8],
    /// A keyframe (VP8: key frame bit; H.264: an IDR slice or an SPS).
    pub keyframe: bool,
    /// Width in pixels of a keyframe (VP8 frame header, H.264 SPS); else 0.
    pub width: u32,
    /// Height in pixels of a keyframe (VP8 frame header, H.264 SPS); else 0.
    pub height: u32,
    /// The RTP timestamp of the frame (90 kHz clock).
    pub rtp_timestamp: u32,
}

/// Where received video goes. Called on an engine task, one receive slot's frames in order;
/// it must not block.
pub type VideoSink = Arc<dyn Fn(&VideoFrame<'_>) + Send + Sync>;

/// What a VP8 frame's header says (RFC 6386 §9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vp8Header {
    /// A key frame of this width × height.
    Key(u32, u32),
    /// An inter frame.
    Inter,
}

/// Reads the VP8 frame header: bit 0 of the 3-byte frame tag is 0 for a key frame, which
/// continues with the start code `9d 01 2a` and two little-endian 16-bit fields whose low 14
/// bits are the width and height (the top 2 bits are the scaling).
pub(crate) fn vp8_header(frame: &[u8]) -> std::result::Result<Vp8Header, &'static str> {
    let Some(&tag) = frame.first() else { return Err("the frame is empty") };
    if tag & 1 == 1 {
        return Ok(Vp8Header::Inter);
    }
    if frame.len() < 10 {
        return Err("a VP8 key frame needs at least 10 bytes of header");
    }
    if frame[3..6] != [0x9d, 0x01, 0x2a] {
        return Err("the VP8 key frame lacks its start code 9d 01 2a");
    }
    let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Ok(Vp8Header::Key(u32::from(w), u32::from(h)))
}

/// An H.264 access unit is a keyframe when it carries an IDR slice (5) or an SPS (7).
pub(crate) fn h264_is_keyframe(data: &[u8]) -> bool {
    h264::nal_units(data).any(|u| matches!(h264::nal_type(u), Some(5 | 7)))
}

/// Checks a frame the app sends: not empty, a non-zero duration, a keyframe flag that matches
/// the frame, and a keyframe no larger than `max` (`meetings.resolution.maxWidth` ×
/// `maxHeight`; VP8 from its frame header, H.264 from the SPS the access unit carries).
pub(crate) fn check_frame(codec: VideoCodec, frame: &[u8], info: &VideoFrameInfo, max: (u32, u32)) -> Result<()> {
    if frame.is_empty() {
        return Err(Error::new(ErrorCode::InvalidArgument, "a video frame must not be empty"));
    }
    if info.duration.is_zero() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a video frame's duration must not be zero (1/frame rate, e.g. 66 ms at 15 fps)",
        ));
    }
    let too_large = |w: u32, h: u32| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "the {} keyframe is {w}x{h}, larger than {}x{} (meetings.resolution.maxWidth / maxHeight)",
                codec.as_str(),
                max.0,
                max.1
            ),
        )
    };
    if codec == VideoCodec::H264 {
        if info.keyframe && !h264_is_keyframe(frame) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the frame is marked as a keyframe but carries neither an IDR slice nor an SPS",
            ));
        }
        return match h264::dimensions(frame) {
            Some((w, h)) if w > max.0 || h > max.1 => Err(too_large(w, h)),
            _ => Ok(()),
        };
    }
    match vp8_header(frame) {
        Err(why) => Err(Error::new(ErrorCode::InvalidArgument, format!("not a VP8 frame: {why}"))),
        Ok(Vp8Header::Inter) if info.keyframe => Err(Error::new(
            ErrorCode::InvalidArgument,
            "the frame is marked as a keyframe but its VP8 header says inter frame",
        )),
        Ok(Vp8Header::Key(w, h)) if w > max.0 || h > max.1 => Err(too_large(w, h)),
        Ok(_) => Ok(()),
    }
}

/// The sending half: frames queued for the engine task that packetizes them.
pub(crate) struct VideoSend {
    pub codec: VideoCodec,
    queue: mpsc::Sender<(Bytes, Duration)>,
    dropped: AtomicU64,
}

impl VideoSend {
    /// Starts the engine task writing queued frames to `track` (SSRC `ssrc`, payload type
    /// `pt`, which the answer may change), and the one turning keyframe requests on `track`
    /// into `meeting:keyframeRequested`.
    pub fn start(
        codec: VideoCodec,
        track: Arc<TrackLocalStaticSample>,
        ssrc: u32,
        pt: Arc<AtomicU8>,
        shared: Arc<MediaShared>,
        tasks: &mut Vec<tokio::task::JoinHandle<()>>,
    ) -> VideoSend {
        let (tx, mut rx) = mpsc::channel::<(Bytes, Duration)>(SEND_QUEUE);
        let writer = track.clone();
        tasks.push(tokio::spawn(async move {
            while let Some((data, duration)) = rx.recv().await {
                let sample = Sample { data, duration, ..Sample::new(Instant::now()) };
                // Before the connection is up the track is not bound: the frame is lost, as
                // it would be from a live camera (the app answers the keyframe request after).
                let _ = writer.write_sample(ssrc, pt.load(Ordering::Relaxed), &sample, &[]).await;
            }
        }));
        tasks.push(tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                let TrackLocalEvent::OnRtcpPacket(packets) = event else { continue };
                if packets.iter().any(|p| keyframe::is_keyframe_request(p.as_ref())) {
                    tracing::debug!(target: "webex::meetings", "meeting {}: keyframe requested", shared.meeting_id);
                    shared.hub.emit(Event::new("meeting:keyframeRequested", json!({"meetingId": shared.meeting_id})));
                }
            }
        }));
        VideoSend { codec, queue: tx, dropped: AtomicU64::new(0) }
    }

    /// Queues a checked frame; a full queue drops it (counted).
    pub fn send(&self, frame: &[u8], duration: Duration) {
        if self.queue.try_send((Bytes::copy_from_slice(frame), duration)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What a receive slot carried last: the sender's CSRC and the slot's SSRC (where a PLI for
/// it goes).
#[derive(Default)]
pub(crate) struct SlotSeen {
    last: Mutex<Option<(u32, u32)>>,
}

impl SlotSeen {
    pub fn last(&self) -> Option<(u32, u32)> {
        self.last.lock().ok().and_then(|l| *l)
    }
}

/// A video receive slot: its track (to send PLIs on) and what it carries.
pub(crate) struct VideoSlot {
    pub track: Arc<dyn TrackRemote>,
    pub seen: Arc<SlotSeen>,
}

/// Sends a PLI for what `slot` carries now (its SSRC). `false` when it carried nothing yet.
pub(crate) async fn request_keyframe(slot: &VideoSlot) -> Result<bool> {
    let Some((_, ssrc)) = slot.seen.last() else { return Ok(false) };
    slot.track
        .write_rtcp(vec![keyframe::pli(ssrc)])
        .await
        .map_err(|e| Error::new(ErrorCode::Media, format!("sending a keyframe request: {e}")))?;
    Ok(true)
}

/// Frames being put together on one slot, for one sender in one codec.
enum Assembler {
    Vp8(SampleBuilder<Vp8Packet>),
    H264(SampleBuilder<H264Packet>),
}

impl Assembler {
    fn new(codec: VideoCodec) -> Assembler {
        match codec {
            VideoCodec::Vp8 => Assembler::Vp8(
                SampleBuilder::new(MAX_LATE, Vp8Packet::default(), VIDEO_CLOCK).with_max_time_delay(MAX_DELAY),
            ),
            VideoCodec::H264 => Assembler::H264(
                SampleBuilder::new(MAX_LATE, H264Packet::default(), VIDEO_CLOCK).with_max_time_delay(MAX_DELAY),
            ),
        }
    }

    fn push(&mut self, packet: rtc::rtp::Packet) {
        let now = Instant::now();
        match self {
            Assembler::Vp8(b) => b.push(now, packet),
            Assembler::H264(b) => b.push(now, packet),
        }
    }

    fn pop(&mut self) -> Option<Sample> {
        let now = Instant::now();
        match self {
            Assembler::Vp8(b) => b.pop(now),
            Assembler::H264(b) => b.pop(now),
        }
    }
}

/// Frames of a sender dropped while waiting for its first keyframe before the request is
/// repeated (one second at 15 fps).
const KEYFRAME_RETRY: u32 = 15;

/// One sender on a slot: its codec, the frames being put together, and whether its first
/// keyframe came yet.
struct Source {
    id: u32,
    codec: VideoCodec,
    assembler: Assembler,
    /// Inter frames dropped while waiting for the first keyframe.
    waiting: Option<u32>,
}

/// One video receive slot: reassemble frames per sender (the CSRC; the server switches a
/// slot between senders, and a switch starts a new assembler) and hand them to the sink.
/// A sender's frames start at a keyframe (the inter frames before it cannot be decoded): until
/// one comes they are dropped and a keyframe is requested (PLI). Without a sink nothing is
/// assembled, but the slot still remembers whom it carries (for keyframe requests).
pub(crate) async fn receive(track: Arc<dyn TrackRemote>, seen: Arc<SlotSeen>, shared: Arc<MediaShared>) {
    // Created on the first packet: a SampleBuilder holds a buffer for the whole
    // sequence-number space.
    let mut current: Option<Source> = None;
    let mut announced: HashSet<u32> = HashSet::new();
    while let Some(e) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(p) = e else { continue };
        // A server that does not name senders by CSRC has one sender per SSRC.
        let id = p.header.csrc.first().copied().unwrap_or(p.header.ssrc);
        if !announced.contains(&id) && shared.announce("video", id, shared.video_participant(id).as_deref()) {
            announced.insert(id);
        }
        if let Ok(mut last) = seen.last.lock() {
            *last = Some((id, p.header.ssrc));
        }
        let Some(sink) = shared.video_sink() else {
            current = None;
            continue;
        };
        let Some(codec) = VideoCodec::from_payload_type(p.header.payload_type) else { continue };
        let ssrc = p.header.ssrc;
        if !current.as_ref().is_some_and(|s| s.id == id && s.codec == codec) {
            current = Some(Source { id, codec, assembler: Assembler::new(codec), waiting: Some(0) });
        }
        let Some(source) = current.as_mut() else { continue };
        source.assembler.push(p);
        let participant = shared.video_participant(id);
        while let Some(sample) = source.assembler.pop() {
            let (keyframe, width, height) = match codec {
                VideoCodec::Vp8 => match vp8_header(&sample.data) {
                    Ok(Vp8Header::Key(w, h)) => (true, w, h),
                    _ => (false, 0, 0),
                },
                VideoCodec::H264 if h264_is_keyframe(&sample.data) => {
                    let (w, h) = h264::dimensions(&sample.data).unwrap_or((0, 0));
                    (true, w, h)
                }
                VideoCodec::H264 => (false, 0, 0),
            };
            if let Some(dropped) = source.waiting.as_mut() {
                if !keyframe {
                    if *dropped % KEYFRAME_RETRY == 0 {
                        let _ = track.write_rtcp(vec![keyframe::pli(ssrc)]).await;
                    }
                    *dropped += 1;
                    continue;
                }
                source.waiting = None;
            }
            sink(&VideoFrame {
                meeting_id: &shared.meeting_id,
                participant_id: participant.as_deref(),
                codec,
                data: &sample.data,
                keyframe,
                width,
                height,
                rtp_timestamp: sample.packet_timestamp,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vp8_key(w: u16, h: u16) -> Vec<u8> {
        let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
        f.extend(w.to_le_bytes());
        f.extend(h.to_le_bytes());
        f.extend([0; 8]);
        f
    }

    #[test]
    fn vp8_headers() {
        assert_eq!(vp8_header(&vp8_key(320, 240)), Ok(Vp8Header::Key(320, 240)));
        // The top two bits are the scaling, not the size.
        assert_eq!(vp8_header(&vp8_key(320 | 0x4000, 240 | 0x8000)), Ok(Vp8Header::Key(320, 240)));
        assert_eq!(vp8_header(&[0x31, 0, 0, 1, 2]), Ok(Vp8Header::Inter));
        assert!(vp8_header(&[]).is_err());
        assert!(vp8_header(&[0x10, 0, 0, 0x9d, 0x01]).is_err());
        assert!(vp8_header(&[0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7]).is_err());
    }

    #[test]
    fn frames_are_checked_against_the_resolution() {
        let key = VideoFrameInfo { keyframe: true, duration: Duration::from_millis(66) };
        let inter = VideoFrameInfo { keyframe: false, ..key };
        let max = (1280, 720);
        assert!(check_frame(VideoCodec::Vp8, &vp8_key(1280, 720), &key, max).is_ok());
        let e = check_frame(VideoCodec::Vp8, &vp8_key(4000, 720), &key, max).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("4000x720") && e.message.contains("meetings.resolution.maxWidth"), "{}", e.message);
        // Marked as inter, still a key frame in the bitstream: still checked.
        assert!(check_frame(VideoCodec::Vp8, &vp8_key(4000, 720), &inter, max).is_err());
        assert!(check_frame(VideoCodec::Vp8, &[0x31, 0, 0], &inter, max).is_ok());
        assert!(check_frame(VideoCodec::Vp8, &[0x31, 0, 0], &key, max).is_err());
        assert!(check_frame(VideoCodec::H264, &[], &key, max).is_err());
        let zero = VideoFrameInfo { duration: Duration::ZERO, ..key };
        assert!(check_frame(VideoCodec::H264, &[0, 0, 0, 1, 0x65], &zero, max).is_err());
        assert!(check_frame(VideoCodec::H264, &[0, 0, 0, 1, 0x65], &key, max).is_ok());
        // An inter access unit marked as a keyframe; the test pattern's SPS against a small max.
        assert!(check_frame(VideoCodec::H264, &[0, 0, 0, 1, 0x41, 7], &key, max).is_err());
        let pattern = include_bytes!("../../../../sandbox/assets/test-pattern-320x240.h264");
        let e = check_frame(VideoCodec::H264, pattern, &key, (160, 120)).unwrap_err();
        assert!(e.message.contains("H264 keyframe is 320x240") && e.message.contains("160x120"), "{}", e.message);
        assert!(check_frame(VideoCodec::H264, pattern, &key, (320, 240)).is_ok());
    }

    #[test]
    fn h264_keyframes_carry_idr_or_sps() {
        assert!(h264_is_keyframe(&[0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 4]));
        assert!(h264_is_keyframe(&[0, 0, 1, 0x65, 4, 5]));
        assert!(!h264_is_keyframe(&[0, 0, 0, 1, 0x41, 9, 9]));
        assert!(!h264_is_keyframe(&[]));
    }

    #[test]
    fn codecs_by_name_and_payload_type() {
        assert_eq!(serde_json::to_value(VideoCodec::H264).unwrap(), "H264");
        assert_eq!(serde_json::from_value::<VideoCodec>(json!("VP8")).unwrap(), VideoCodec::Vp8);
        assert!(serde_json::from_value::<VideoCodec>(json!("vp9")).is_err());
        assert_eq!(VideoCodec::from_payload_type(VideoCodec::H264.payload_type()), Some(VideoCodec::H264));
        assert!(VideoCodec::Vp8.is("video/vp8"));
        let h264 = VideoCodec::H264.rtp_codec(false);
        assert!(h264.sdp_fmtp_line.contains("packetization-mode=1"));
        assert!(!h264.rtcp_feedback.iter().any(|f| f.typ == "nack" && f.parameter.is_empty()));
        assert!(
            VideoCodec::Vp8.rtp_codec(true).rtcp_feedback.iter().any(|f| f.typ == "nack" && f.parameter.is_empty())
        );
    }
}
