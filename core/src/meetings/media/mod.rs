//! Meeting media over WebRTC (docs/meetings-design.md §2, §5). A `MediaSession` is one peer
//! connection toward the media server. M-lines: all audio first, then all video; per kind, one
//! m-line that sends (when sending), then receive slots the server fills with the other
//! participants' media, each packet naming its sender by CSRC (the participant's
//! `status.csis[0]` for audio, `status.csis[1]` for video). Every webrtc call of the engine
//! lives under this module.
//!
//! Threads: `MediaSession::send_audio` encodes on the caller's thread and hands the packet
//! to an engine task through a bounded queue, so it never blocks and needs no runtime; video
//! frames (already encoded by the app) take the same path. Received audio is decoded, and
//! received video reassembled, on an engine task per receive slot and given to the sink there.

pub(crate) mod h264;
pub mod opus;
pub(crate) mod pc;
#[cfg(test)]
mod spike;
pub mod video;

use super::settings::MeetingSettings;
use super::state::MediaState;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{Event, EventHub};
use bytes::Bytes;
use opus::{Decoder, Encoder};
use pc::{OPUS_PT, PcEvent, media_error, opus_codec};
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
pub use video::{SendVideoLimits, VideoCodec, VideoFrame, VideoFrameInfo, VideoSink};
use video::{SlotSeen, VideoSend, VideoSlot};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, RTCPeerConnectionState, RTCSessionDescription, RTCStatsReportEntry, StatsSelector,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

/// Samples per channel a sent frame may have: 10 or 20 ms at 48 kHz.
pub const FRAME_SIZES: [usize; 2] = [480, 960];
/// Encoded frames waiting for the engine task; beyond this the newest are dropped (counted).
const SEND_QUEUE: usize = 50;
/// Opus bitrate bounds (bits/s): what libopus accepts.
const OPUS_BITRATES: std::ops::RangeInclusive<i32> = 6_000..=510_000;

/// One decoded frame of a remote participant's audio, borrowed for the sink call only.
#[derive(Debug)]
pub struct AudioFrame<'a> {
    /// The meeting it belongs to.
    pub meeting_id: &'a str,
    /// The Locus participant id of the speaker (`members[].id`), when the roster names it.
    pub participant_id: Option<&'a str>,
    /// Interleaved PCM, `frames × channels` samples.
    pub samples: &'a [i16],
    /// Samples per channel.
    pub frames: usize,
    /// 1 or 2.
    pub channels: u32,
    /// Always 48000.
    pub sample_rate: u32,
    /// The RTP timestamp of the packet (48 kHz clock).
    pub rtp_timestamp: u32,
}

/// Where received audio goes. Called on an engine task, one speaker's frames in order; it
/// must not block.
pub type AudioSink = Arc<dyn Fn(&AudioFrame<'_>) + Send + Sync>;

/// The media a join asks for.
#[derive(Clone, Debug)]
pub struct MediaOptions {
    /// Send this client's audio.
    pub send_audio: bool,
    /// Receive the others' audio.
    pub receive_audio: bool,
    /// Channels of the PCM given to the sink (1 or 2).
    pub receive_channels: u32,
    /// Receive slots: how many other participants can be heard at once.
    pub audio_streams: usize,
    /// Opus bitrate (bits/s); `None` takes `meetings.bandwidth.audio`.
    pub audio_bitrate: Option<i32>,
    /// Send this client's video (frames the app encodes).
    pub send_video: bool,
    /// Receive the others' video.
    pub receive_video: bool,
    /// The codec this client sends in (both are received).
    pub video_codec: VideoCodec,
    /// Video receive slots: how many other participants can be seen at once.
    pub video_streams: usize,
}

impl Default for MediaOptions {
    fn default() -> Self {
        MediaOptions {
            send_audio: false,
            receive_audio: false,
            receive_channels: 1,
            audio_streams: 3,
            audio_bitrate: None,
            send_video: false,
            receive_video: false,
            video_codec: VideoCodec::Vp8,
            video_streams: 4,
        }
    }
}

impl MediaOptions {
    /// Whether any audio flows.
    pub fn wants_audio(&self) -> bool {
        self.send_audio || self.receive_audio
    }

    /// Whether any video flows.
    pub fn wants_video(&self) -> bool {
        self.send_video || (self.receive_video && self.video_streams > 0)
    }

    /// Whether any media flows (a media session is needed).
    pub fn wants_media(&self) -> bool {
        self.wants_audio() || self.wants_video()
    }
}

/// One row of `meetings.getStats`: a sent or received RTP stream.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackStats {
    /// `audio` (or `video`).
    pub kind: String,
    /// `send` or `receive`.
    pub direction: String,
    /// The RTP stream's SSRC.
    pub ssrc: u32,
    /// Packets sent or received.
    pub packets: u64,
    /// Payload bytes sent or received.
    pub bytes: u64,
    /// Packets lost (received streams; for sent streams, as the far end reported it).
    pub packets_lost: Option<i64>,
    /// Interarrival jitter in seconds.
    pub jitter: Option<f64>,
    /// Round-trip time in seconds (sent streams, once the far end sent a report).
    pub round_trip_time: Option<f64>,
}

/// What a meeting shares with its media sessions: state, sink, and who is who.
pub(crate) struct MediaShared {
    meeting_id: String,
    hub: Arc<EventHub>,
    state: watch::Sender<MediaState>,
    /// Where decoded audio goes.
    pub sink: Mutex<Option<AudioSink>>,
    /// Audio CSI → Locus participant id, from the roster.
    pub csis: Mutex<HashMap<u32, String>>,
    /// Where received video goes.
    pub video_sink: Mutex<Option<VideoSink>>,
    /// Video CSI → Locus participant id, from the roster.
    pub video_csis: Mutex<HashMap<u32, String>>,
    /// The sources announced with `media:remoteStream` on the current media session.
    announced: Mutex<HashSet<(&'static str, u32)>>,
}

impl MediaShared {
    pub fn new(meeting_id: &str, hub: Arc<EventHub>) -> MediaShared {
        MediaShared {
            meeting_id: meeting_id.to_owned(),
            hub,
            state: watch::channel(MediaState::None).0,
            sink: Mutex::new(None),
            csis: Mutex::new(HashMap::new()),
            video_sink: Mutex::new(None),
            video_csis: Mutex::new(HashMap::new()),
            announced: Mutex::new(HashSet::new()),
        }
    }

    /// `media:remoteStream {meetingId, kind, participantId}`: the first packet of a source
    /// whose sender the roster names, once per source and media session (a reconnection's new
    /// session announces its sources again). Returns whether the source is announced, now or
    /// before; a source the roster does not name yet (RTP can race ahead of the Locus event)
    /// waits for a later packet.
    fn announce(&self, kind: &'static str, csi: u32, participant: Option<&str>) -> bool {
        let Some(participant) = participant else { return false };
        if self.announced.lock().is_ok_and(|mut a| a.insert((kind, csi))) {
            self.hub.emit(Event::new(
                "media:remoteStream",
                json!({"meetingId": self.meeting_id, "kind": kind, "participantId": participant}),
            ));
        }
        true
    }

    pub fn state(&self) -> MediaState {
        *self.state.borrow()
    }

    /// Follows the media state.
    pub fn subscribe(&self) -> watch::Receiver<MediaState> {
        self.state.subscribe()
    }

    /// Moves to `next`, emitting `media:stateChange` when it is a change.
    pub fn set_state(&self, next: MediaState) {
        let previous = self.state.send_replace(next);
        if previous != next {
            tracing::info!(target: "webex::meetings", "meeting {} media: {} -> {}", self.meeting_id, previous.as_str(), next.as_str());
            self.hub.emit(Event::new(
                "media:stateChange",
                json!({"meetingId": self.meeting_id, "previousState": previous, "currentState": next}),
            ));
        }
    }

    fn sink(&self) -> Option<AudioSink> {
        self.sink.lock().ok().and_then(|s| s.clone())
    }

    fn participant(&self, csi: u32) -> Option<String> {
        self.csis.lock().ok().and_then(|c| c.get(&csi).cloned())
    }

    fn video_sink(&self) -> Option<VideoSink> {
        self.video_sink.lock().ok().and_then(|s| s.clone())
    }

    fn video_participant(&self, csi: u32) -> Option<String> {
        self.video_csis.lock().ok().and_then(|c| c.get(&csi).cloned())
    }

    /// The video CSIs the roster gives `participant_id`.
    pub fn video_csis_of(&self, participant_id: &str) -> Vec<u32> {
        let csis = self.video_csis.lock().map(|c| c.clone()).unwrap_or_default();
        csis.into_iter().filter(|(_, p)| p == participant_id).map(|(c, _)| c).collect()
    }
}

struct SendSide {
    encoder: Mutex<Option<Encoder>>,
    bitrate: i32,
    queue: mpsc::Sender<(Bytes, Duration)>,
    dropped: AtomicU64,
}

/// One peer connection toward the media server.
pub(crate) struct MediaSession {
    pc: Arc<dyn PeerConnection>,
    send: Option<SendSide>,
    shared: Arc<MediaShared>,
    pt: Arc<AtomicU8>,
    sender: Option<Arc<dyn webrtc::rtp_transceiver::RtpSender>>,
    video: Option<VideoSend>,
    video_pt: Arc<AtomicU8>,
    video_sender: Option<Arc<dyn webrtc::rtp_transceiver::RtpSender>>,
    /// The video receive slots, as their tracks arrive.
    video_slots: Arc<Mutex<Vec<VideoSlot>>>,
    last_pc_state: Arc<Mutex<RTCPeerConnectionState>>,
    tasks: Arc<Tasks>,
}

/// A session's tasks: senders, the connection follower and the receivers it starts (which
/// run the app's frame sinks). Closing aborts them all and waits until each has ended, so no
/// sink runs once `leave()` (or a close) has returned.
struct Tasks {
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Set by [`MediaSession::stop_into`]: a receiver started after it is aborted at once.
    stopped: AtomicBool,
    /// Held while ending, so a second closer (leave racing a Locus event that closes the
    /// session) waits for the first instead of finding the list empty and returning early.
    ending: tokio::sync::Mutex<()>,
}

impl Tasks {
    fn new(handles: Vec<JoinHandle<()>>) -> Arc<Tasks> {
        Arc::new(Tasks {
            handles: Mutex::new(handles),
            stopped: AtomicBool::new(false),
            ending: tokio::sync::Mutex::new(()),
        })
    }

    /// Keeps `task` for closing to wait on (aborted already when the session is stopped).
    fn keep(&self, task: JoinHandle<()>) {
        if let Ok(mut handles) = self.handles.lock() {
            // Under the lock `stop_into` aborts with: either it sees this task or this sees
            // `stopped`.
            if self.stopped.load(Ordering::SeqCst) {
                task.abort();
            }
            handles.push(task);
        }
    }

    /// Aborts every task and waits until each has ended. A task started meanwhile (the
    /// follower meets a new track as it is aborted) is taken in the next round.
    async fn end(&self, meeting_id: &str) {
        let _ending = match self.ending.try_lock() {
            Ok(ending) => ending,
            Err(_) => {
                tracing::debug!(target: "webex::meetings", "meeting {meeting_id}: waiting for another close to end the media tasks");
                self.ending.lock().await
            }
        };
        loop {
            let batch = self.handles.lock().map(|mut h| std::mem::take(&mut *h)).unwrap_or_default();
            if batch.is_empty() {
                return;
            }
            // Said before waiting: a close that hangs here is an app's frame sink that does
            // not return.
            tracing::debug!(target: "webex::meetings", "meeting {meeting_id}: waiting for {} media tasks to end", batch.len());
            batch.iter().for_each(JoinHandle::abort);
            for task in batch {
                let _ = task.await;
            }
        }
    }
}

impl Drop for Tasks {
    /// A session dropped without closing (it never got that far) leaves no task behind.
    fn drop(&mut self) {
        if let Ok(handles) = self.handles.get_mut() {
            handles.iter().for_each(JoinHandle::abort);
        }
    }
}

impl MediaSession {
    /// Builds the connection and its m-lines, and returns the offer SDP once ICE gathering is
    /// complete. Layout, audio then video: with sending, the kind's first m-line sends
    /// (`sendrecv` when also receiving, so it is a receive slot too, else `sendonly`); then
    /// `recvonly` m-lines up to `audio_streams` (`video_streams`) receive slots. The SDP
    /// carries the bandwidth of `meetings.bandwidth.*` (`b=TIAS`, and `b=AS` for video).
    pub async fn offer(
        opts: &MediaOptions,
        settings: &MeetingSettings,
        shared: Arc<MediaShared>,
        bind: IpAddr,
    ) -> Result<(Arc<MediaSession>, String)> {
        if let Ok(mut announced) = shared.announced.lock() {
            announced.clear();
        }
        let built = pc::build_with(bind, settings, opts.video_codec).await?;
        let mut unclaimed = Unclaimed(Some(built.pc.clone()));
        let prepared = Self::prepare(opts, settings, shared, built).await;
        if prepared.is_ok() {
            unclaimed.0 = None;
        }
        prepared
    }

    async fn prepare(
        opts: &MediaOptions,
        settings: &MeetingSettings,
        shared: Arc<MediaShared>,
        built: pc::Built,
    ) -> Result<(Arc<MediaSession>, String)> {
        let pc::Built { pc, events, mut gathered } = built;
        let pt = Arc::new(AtomicU8::new(OPUS_PT));
        let mut tasks = Vec::new();
        let mut send = None;
        let mut sender = None;
        let mut slots = if opts.receive_audio { opts.audio_streams.max(1) } else { 0 };
        if opts.send_audio {
            let sending =
                SendingLine::add(&pc, &shared.meeting_id, RtpCodecKind::Audio, opus_codec(), &mut slots).await?;
            let (track, ssrc) = (sending.track, sending.ssrc);
            sender = sending.sender;
            let (tx, mut rx) = mpsc::channel::<(Bytes, Duration)>(SEND_QUEUE);
            let pt = pt.clone();
            tasks.push(tokio::spawn(async move {
                while let Some((data, duration)) = rx.recv().await {
                    let sample = Sample { data, duration, ..Sample::new(Instant::now()) };
                    // Before the connection is up the track is not bound: the frame is lost,
                    // as it would be from a live microphone.
                    let _ = track.write_sample(ssrc, pt.load(Ordering::Relaxed), &sample, &[]).await;
                }
            }));
            send = Some(SendSide {
                encoder: Mutex::new(None),
                bitrate: opts
                    .audio_bitrate
                    .unwrap_or(settings.audio_bandwidth.try_into().unwrap_or(i32::MAX))
                    .clamp(*OPUS_BITRATES.start(), *OPUS_BITRATES.end()),
                queue: tx,
                dropped: AtomicU64::new(0),
            });
        }
        for _ in 0..slots {
            let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
            pc.add_transceiver_from_kind(RtpCodecKind::Audio, Some(init))
                .await
                .map_err(|e| media_error("adding a receive slot", e))?;
        }
        let video_pt = Arc::new(AtomicU8::new(opts.video_codec.payload_type()));
        let (video, video_sender) = add_video(&pc, opts, settings, &shared, &video_pt, &mut tasks).await?;
        let offer = pc.create_offer(None).await.map_err(|e| media_error("creating the offer", e))?;
        pc.set_local_description(offer).await.map_err(|e| media_error("applying the offer", e))?;
        pc::wait_gathered(&mut gathered, Duration::from_secs(5)).await?;
        let sdp = pc.local_description().await.ok_or_else(|| Error::internal("no local description"))?.sdp;
        let sdp = with_bandwidth(&sdp, settings.audio_bandwidth, settings.video_bandwidth);
        let last_pc_state = Arc::new(Mutex::new(RTCPeerConnectionState::New));
        let video_slots = Arc::new(Mutex::new(Vec::new()));
        let tasks = Tasks::new(tasks);
        tasks.keep(tokio::spawn(follow(
            events,
            shared.clone(),
            opts.receive_channels,
            last_pc_state.clone(),
            video_slots.clone(),
            Arc::downgrade(&tasks),
        )));
        let session = Arc::new(MediaSession {
            pc,
            send,
            shared,
            pt,
            sender,
            video,
            video_pt,
            video_sender,
            video_slots,
            last_pc_state,
            tasks,
        });
        Ok((session, sdp))
    }

    /// Applies the server's ANSWER and waits until media is connected, at most `timeout`.
    pub async fn answer(&self, sdp: String, timeout: Duration) -> Result<()> {
        let desc = RTCSessionDescription::answer(sdp).map_err(|e| media_error("reading the answer", e))?;
        self.pc.set_remote_description(desc).await.map_err(|e| media_error("applying the answer", e))?;
        if let Some(sender) = &self.sender {
            let negotiated = sender.get_parameters().await.ok();
            if let Some(c) = negotiated.as_ref().and_then(|p| p.rtp_parameters.codecs.first()) {
                self.pt.store(c.payload_type, Ordering::Relaxed);
            }
        }
        if let (Some(sender), Some(video)) = (&self.video_sender, &self.video) {
            let negotiated = sender.get_parameters().await.ok();
            let codecs = negotiated.as_ref().map(|p| p.rtp_parameters.codecs.as_slice()).unwrap_or_default();
            if let Some(c) = codecs.iter().find(|c| video.codec.is(&c.rtp_codec.mime_type)) {
                self.video_pt.store(c.payload_type, Ordering::Relaxed);
            }
        }
        let mut state = self.shared.state.subscribe();
        let reached = tokio::time::timeout(
            timeout,
            state.wait_for(|s| matches!(s, MediaState::Connected | MediaState::Failed | MediaState::Disconnected)),
        )
        .await;
        match reached {
            Ok(Ok(s)) if *s == MediaState::Connected => Ok(()),
            _ => {
                let pc_state = self.last_pc_state.lock().map(|s| s.to_string()).unwrap_or_default();
                Err(Error::new(
                    ErrorCode::Media,
                    format!("media did not connect within {} s (connection state: {pc_state})", timeout.as_secs()),
                ))
            }
        }
    }

    /// Whether this session sends audio.
    pub fn sends_audio(&self) -> bool {
        self.send.is_some()
    }

    /// Encodes one frame (validated by the caller) and queues it for the engine task.
    pub fn send_audio(&self, pcm: &[i16], channels: u32) -> Result<()> {
        let Some(send) = &self.send else {
            return Err(Error::new(ErrorCode::Closed, "this meeting was joined without sending audio"));
        };
        let frames = pcm.len() / channels as usize;
        let packet = {
            let mut enc = send.encoder.lock().map_err(|_| Error::internal("audio encoder poisoned"))?;
            if enc.as_ref().is_none_or(|e| e.channels() != channels) {
                *enc = Some(Encoder::new(channels, send.bitrate)?);
            }
            enc.as_mut().map(|e| e.encode(pcm)).transpose()?.unwrap_or_default()
        };
        let duration = Duration::from_micros(frames as u64 * 1_000_000 / opus::SAMPLE_RATE as u64);
        if send.queue.try_send((Bytes::from(packet), duration)).is_err() {
            send.dropped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The codec this session sends video in, when it sends video.
    pub fn sends_video(&self) -> Option<VideoCodec> {
        self.video.as_ref().map(|v| v.codec)
    }

    /// Queues one video frame (checked by the caller) for the engine task.
    pub fn send_video(&self, frame: &[u8], duration: Duration) -> Result<()> {
        let Some(video) = &self.video else {
            return Err(Error::new(ErrorCode::Closed, "this meeting was joined without sending video"));
        };
        video.send(frame, duration);
        Ok(())
    }

    /// Sends a PLI on every video receive slot that carries one of `csis` (every slot that
    /// carries anything when `None`). Returns how many were sent.
    pub async fn request_keyframe(&self, csis: Option<&[u32]>) -> Result<usize> {
        let wanted: Vec<(Arc<dyn TrackRemote>, Arc<SlotSeen>)> = self
            .video_slots
            .lock()
            .map(|slots| {
                slots
                    .iter()
                    .filter(|s| s.seen.last().is_some_and(|(csi, _)| csis.is_none_or(|c| c.contains(&csi))))
                    .map(|s| (s.track.clone(), s.seen.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut sent = 0;
        for (track, seen) in wanted {
            if video::request_keyframe(&VideoSlot { track, seen }).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Per-stream statistics.
    pub async fn stats(&self) -> Vec<TrackStats> {
        let report = self.pc.get_stats(Instant::now(), StatsSelector::None).await;
        let mut rtt: HashMap<u32, (f64, i64)> = HashMap::new();
        for e in report.iter() {
            if let RTCStatsReportEntry::RemoteInboundRtp(r) = e {
                let s = &r.received_rtp_stream_stats;
                rtt.insert(s.rtp_stream_stats.ssrc, (r.round_trip_time, s.packets_lost));
            }
        }
        let mut out = Vec::new();
        for e in report.iter() {
            match e {
                RTCStatsReportEntry::OutboundRtp(o) => {
                    let s = &o.sent_rtp_stream_stats;
                    let remote = rtt.get(&s.rtp_stream_stats.ssrc);
                    out.push(TrackStats {
                        kind: s.rtp_stream_stats.kind.to_string(),
                        direction: "send".into(),
                        ssrc: s.rtp_stream_stats.ssrc,
                        packets: s.packets_sent,
                        bytes: s.bytes_sent,
                        packets_lost: remote.map(|r| r.1),
                        jitter: None,
                        round_trip_time: remote.map(|r| r.0).filter(|t| *t > 0.0),
                    });
                }
                RTCStatsReportEntry::InboundRtp(i) => {
                    let s = &i.received_rtp_stream_stats;
                    out.push(TrackStats {
                        kind: s.rtp_stream_stats.kind.to_string(),
                        direction: "receive".into(),
                        ssrc: s.rtp_stream_stats.ssrc,
                        packets: s.packets_received,
                        bytes: i.bytes_received,
                        packets_lost: Some(s.packets_lost),
                        jitter: Some(s.jitter),
                        round_trip_time: None,
                    });
                }
                _ => {}
            }
        }
        out
    }

    /// Closing, synchronous half: stops the tasks and moves the media state to `next` at once
    /// (DISCONNECTED, or RECONNECTING when a new session replaces this one); `true` the first
    /// time. Then [`MediaSession::close_connection`].
    pub fn stop_into(&self, next: MediaState) -> bool {
        if self.tasks.stopped.swap(true, Ordering::SeqCst) {
            return false;
        }
        if let Ok(handles) = self.tasks.handles.lock() {
            handles.iter().for_each(JoinHandle::abort);
        }
        self.shared.set_state(next);
        true
    }

    /// Closes the peer connection (after [`MediaSession::stop_into`]) and waits until every
    /// task of the session has ended: a receiver inside the app's frame sink finishes that
    /// call first, and none starts another. Closing twice (from two places) is harmless; the
    /// second returns once the first has ended the tasks.
    ///
    /// The close runs on a task of its own: a closer that is cancelled (a `leave` call that a
    /// client close cancels, a reconnection attempt's timeout) does not stop it halfway, and
    /// the next closer waits for it.
    pub async fn close_connection(self: &Arc<Self>) {
        let _ = self.start_close().await;
    }

    /// Starts [`MediaSession::close_connection`] on a task of its own (within a runtime) and
    /// gives its handle, for a closer that cannot wait.
    pub fn start_close(self: &Arc<Self>) -> JoinHandle<()> {
        let session = self.clone();
        tokio::spawn(async move {
            let _ = session.pc.close().await;
            session.tasks.end(&session.shared.meeting_id).await;
        })
    }

    /// Whether the session was stopped and every task of it has ended.
    pub fn is_ended(&self) -> bool {
        self.tasks.stopped.load(Ordering::SeqCst)
            && self.tasks.ending.try_lock().is_ok()
            && self.tasks.handles.lock().is_ok_and(|h| h.is_empty())
    }
}

/// Closes a connection that never became a session: its offer failed, or the caller gave up
/// waiting (a reconnection attempt's timeout drops the offer mid-way); else it would live on
/// with its tasks.
struct Unclaimed(Option<Arc<dyn PeerConnection>>);

impl Drop for Unclaimed {
    fn drop(&mut self) {
        if let (Some(pc), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

/// The m-line this client sends one kind on: `sendrecv` when it also receives that kind (it is
/// then the first receive slot too, and `slots` goes down by one), else `sendonly`.
struct SendingLine {
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    sender: Option<Arc<dyn webrtc::rtp_transceiver::RtpSender>>,
}

impl SendingLine {
    async fn add(
        pc: &Arc<dyn PeerConnection>,
        meeting_id: &str,
        kind: RtpCodecKind,
        codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
        slots: &mut usize,
    ) -> Result<SendingLine> {
        let (name, label) = match kind {
            RtpCodecKind::Video => ("video", "camera"),
            _ => ("audio", "microphone"),
        };
        let ssrc = random_u32();
        let track = Arc::new(
            TrackLocalStaticSample::new(
                Instant::now(),
                MediaStreamTrack::new(
                    format!("webex-{meeting_id}"),
                    name.into(),
                    label.into(),
                    kind,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                        codec,
                        ..Default::default()
                    }],
                ),
            )
            .map_err(|e| media_error(&format!("creating the {name} track"), e))?,
        );
        let direction = if *slots > 0 {
            *slots -= 1;
            RTCRtpTransceiverDirection::Sendrecv
        } else {
            RTCRtpTransceiverDirection::Sendonly
        };
        let init = RTCRtpTransceiverInit { direction, ..Default::default() };
        let transceiver = pc
            .add_transceiver_from_track(track.clone() as Arc<dyn TrackLocal>, Some(init))
            .await
            .map_err(|e| media_error(&format!("adding the {name} track"), e))?;
        let sender = transceiver.sender().await.ok().flatten();
        Ok(SendingLine { track, ssrc, sender })
    }
}

fn random_u32() -> u32 {
    uuid::Uuid::new_v4().as_u128() as u32
}

/// Adds the video m-lines (after every audio one): the sending one first when sending
/// (`sendrecv` when also receiving), then `recvonly` slots up to `video_streams`.
async fn add_video(
    pc: &Arc<dyn PeerConnection>,
    opts: &MediaOptions,
    settings: &MeetingSettings,
    shared: &Arc<MediaShared>,
    pt: &Arc<AtomicU8>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<(Option<VideoSend>, Option<Arc<dyn webrtc::rtp_transceiver::RtpSender>>)> {
    let mut slots = if opts.receive_video { opts.video_streams } else { 0 };
    let mut send = None;
    let mut sender = None;
    if opts.send_video {
        // The codec as registered in the media engine, so the two match.
        let codec = opts.video_codec.rtp_codec(settings.enable_rtx);
        let sending = SendingLine::add(pc, &shared.meeting_id, RtpCodecKind::Video, codec, &mut slots).await?;
        let (track, ssrc) = (sending.track, sending.ssrc);
        sender = sending.sender;
        send = Some(VideoSend::start(opts.video_codec, track, ssrc, pt.clone(), shared.clone(), tasks));
    }
    for _ in 0..slots {
        let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
        pc.add_transceiver_from_kind(RtpCodecKind::Video, Some(init))
            .await
            .map_err(|e| media_error("adding a video receive slot", e))?;
    }
    Ok((send, sender))
}

/// The offer with the bandwidth of `meetings.bandwidth.*`: `b=TIAS:<audio bits/s>` in audio
/// m-sections, `b=TIAS:<video bits/s>` and `b=AS:<kbit/s>` in video ones (RFC 3890, RFC 4566
/// §5.8), after the section's `i=`/`c=` lines as RFC 4566 orders them; other `b=` lines of
/// those sections are replaced. The connection never reads it back: it is for the media
/// server. UNSURE: which of TIAS/AS the Webex media servers read is not documented; browsers'
/// SDKs send both for video.
pub(crate) fn with_bandwidth(sdp: &str, audio_bps: u64, video_bps: u64) -> String {
    let mut out = String::with_capacity(sdp.len() + 128);
    // The lines still owed to the current m-section, emitted before its first line that may
    // not precede `b=`.
    let mut pending: Vec<String> = Vec::new();
    let mut in_media = false;
    for line in sdp.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        if content.starts_with("m=") {
            flush(&mut out, &mut pending);
            in_media = false;
            if content.starts_with("m=audio") {
                pending.push(format!("b=TIAS:{audio_bps}"));
                in_media = true;
            } else if content.starts_with("m=video") {
                pending.push(format!("b=AS:{}", video_bps.div_ceil(1000)));
                pending.push(format!("b=TIAS:{video_bps}"));
                in_media = true;
            }
            out.push_str(line);
            continue;
        }
        if in_media {
            if content.starts_with("b=") {
                continue;
            }
            if !(content.starts_with("i=") || content.starts_with("c=")) {
                flush(&mut out, &mut pending);
            }
        }
        out.push_str(line);
    }
    flush(&mut out, &mut pending);
    out
}

fn flush(out: &mut String, pending: &mut Vec<String>) {
    for line in pending.drain(..) {
        out.push_str(&line);
        out.push_str("\r\n");
    }
}

/// Follows the connection: its state drives the media state; each remote track gets a
/// receive task (audio or video by the track's kind).
async fn follow(
    mut events: mpsc::UnboundedReceiver<PcEvent>,
    shared: Arc<MediaShared>,
    channels: u32,
    last: Arc<Mutex<RTCPeerConnectionState>>,
    video_slots: Arc<Mutex<Vec<VideoSlot>>>,
    // Weak: the session holds the tasks, and this task is one of them.
    tasks: std::sync::Weak<Tasks>,
) {
    let mut receivers = Vec::new();
    while let Some(e) = events.recv().await {
        match e {
            PcEvent::State(s) => {
                if let Ok(mut l) = last.lock() {
                    *l = s;
                }
                match s {
                    RTCPeerConnectionState::Connected => shared.set_state(MediaState::Connected),
                    // Closed without our `stop` (which moves to DISCONNECTED first) means the
                    // far end went away: a failure too.
                    RTCPeerConnectionState::Failed
                    | RTCPeerConnectionState::Disconnected
                    | RTCPeerConnectionState::Closed
                        if shared.state() != MediaState::Disconnected =>
                    {
                        shared.set_state(MediaState::Failed)
                    }
                    _ => {}
                }
            }
            PcEvent::Track(track) => {
                let receiver = if track.kind().await == RtpCodecKind::Video {
                    let seen = Arc::new(SlotSeen::default());
                    if let Ok(mut slots) = video_slots.lock() {
                        slots.push(VideoSlot { track: track.clone(), seen: seen.clone() });
                    }
                    tokio::spawn(video::receive(track, seen, shared.clone()))
                } else {
                    tokio::spawn(receive(track, shared.clone(), channels))
                };
                receivers.push(receiver.abort_handle());
                if let Some(tasks) = tasks.upgrade() {
                    tasks.keep(receiver);
                }
            }
        }
    }
    receivers.iter().for_each(|r| r.abort());
}

/// Longest gap (packets) concealed with Opus PLC; longer gaps (or reordering) just resume.
const MAX_CONCEALED: u16 = 5;

/// One speaker heard on a receive slot.
struct Source {
    decoder: Decoder,
    last_seq: u16,
}

/// One receive slot: decode each packet with the decoder of its speaker (CSRC) and hand the
/// PCM to the sink; a short gap in the sequence numbers is concealed first (Opus PLC, 20 ms
/// per lost packet). Without a sink nothing is decoded.
async fn receive(track: Arc<dyn TrackRemote>, shared: Arc<MediaShared>, channels: u32) {
    let mut sources: HashMap<u32, Source> = HashMap::new();
    let mut announced: HashSet<u32> = HashSet::new();
    while let Some(e) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(p) = e else { continue };
        // The server names the speaker in the CSRC; a server that does not is one speaker
        // per SSRC.
        let id = p.header.csrc.first().copied().unwrap_or(p.header.ssrc);
        if !announced.contains(&id) && shared.announce("audio", id, shared.participant(id).as_deref()) {
            announced.insert(id);
        }
        let Some(sink) = shared.sink() else { continue };
        let seq = p.header.sequence_number;
        let (source, lost) = match sources.entry(id) {
            std::collections::hash_map::Entry::Occupied(o) => {
                let source = o.into_mut();
                let lost = seq.wrapping_sub(source.last_seq).wrapping_sub(1);
                source.last_seq = seq;
                (source, if lost <= MAX_CONCEALED { lost } else { 0 })
            }
            std::collections::hash_map::Entry::Vacant(v) => match Decoder::new(channels) {
                Ok(decoder) => (v.insert(Source { decoder, last_seq: seq }), 0),
                Err(_) => continue,
            },
        };
        let participant = shared.participant(id);
        let deliver = |pcm: &[i16], rtp_timestamp: u32| {
            sink(&AudioFrame {
                meeting_id: &shared.meeting_id,
                participant_id: participant.as_deref(),
                samples: pcm,
                frames: pcm.len() / channels as usize,
                channels,
                sample_rate: opus::SAMPLE_RATE,
                rtp_timestamp,
            })
        };
        for k in (1..=lost).rev() {
            if let Ok(pcm) = source.decoder.decode(None, 960) {
                deliver(pcm, p.header.timestamp.wrapping_sub(960 * k as u32));
            }
        }
        if let Ok(pcm) = source.decoder.decode(Some(&p.payload), 960) {
            deliver(pcm, p.header.timestamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\nc=IN IP4 0.0.0.0\r\nb=AS:30\r\na=mid:1\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n";

    #[test]
    fn bandwidth_goes_into_each_media_section() {
        let sdp = with_bandwidth(OFFER, 64_000, 4_000_000);
        let expected = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nb=TIAS:64000\r\na=mid:0\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\nc=IN IP4 0.0.0.0\r\nb=AS:4000\r\nb=TIAS:4000000\r\na=mid:1\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n";
        assert_eq!(sdp, expected);
        // Applied twice, still one of each; a section that ends the SDP gets its lines too.
        assert_eq!(with_bandwidth(&sdp, 64_000, 4_000_000), expected);
        assert_eq!(with_bandwidth("m=video 9 RTP 96\r\n", 1, 1_500), "m=video 9 RTP 96\r\nb=AS:2\r\nb=TIAS:1500\r\n");
    }
}
