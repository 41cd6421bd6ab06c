//! Meetings with video, end to end against the sandbox's media server: Alice pushes the
//! encoded test pattern (VP8, then H.264) at 15 fps, Bob's sink gets her frames by her video
//! CSI starting at a keyframe, Bob's keyframe request reaches Alice as
//! `meeting:keyframeRequested`, bad frames and frames after leaving get clear errors, and the
//! sandbox's media bot is seen with its own participant id.

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use webex_core::meetings::meeting::{Meeting, MeetingView};
use webex_core::meetings::{MediaOptions, MediaState, MeetingState, VideoCodec, VideoFrameInfo};
use webex_core::{Client, ErrorCode, Event};
use webex_sandbox::{BotVideo, MEDIA_BOT_EMAIL, MediaBotOptions};
use webex_tests::*;

/// One frame every 66 ms: the assets' 15 fps.
const FRAME: Duration = Duration::from_micros(66_667);

/// The next event of `kind` for meeting `id` that `pred` accepts (10 s hang guard).
async fn wait(events: &mut UnboundedReceiver<Event>, kind: &str, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
    meeting_event_within(events, Duration::from_secs(10), kind, id, pred).await
}

async fn join(c: &Client, number: &str, media: &MediaOptions) -> (Arc<Meeting>, MeetingView) {
    join_created(c, c.meetings().create(number, None).await.unwrap(), media).await
}

/// Joins `m` (created by `c`, perhaps with sinks set already) with `media`.
async fn join_created(c: &Client, m: Arc<Meeting>, media: &MediaOptions) -> (Arc<Meeting>, MeetingView) {
    let view = m.join_with_media(&connected_device(c).await, None, None, media).await.unwrap();
    assert_eq!((view.state, view.media_state), (MeetingState::Joined, MediaState::Connected));
    (m, view)
}

fn sending(codec: VideoCodec) -> MediaOptions {
    MediaOptions { send_video: true, video_codec: codec, ..Default::default() }
}

/// Receiving video, `codec` first in the offer (the sandbox's slots carry the first codec
/// they negotiated: it does not transcode).
fn receiving(codec: VideoCodec) -> MediaOptions {
    MediaOptions { receive_video: true, video_codec: codec, ..Default::default() }
}

/// Alice's camera: the asset's frames in a loop, one per tick (real-time pacing).
struct Camera {
    meeting: Arc<Meeting>,
    codec: VideoCodec,
    frames: Vec<Vec<u8>>,
    tick: tokio::time::Interval,
    next: usize,
}

impl Camera {
    fn new(meeting: Arc<Meeting>, codec: VideoCodec) -> Camera {
        Camera { meeting, codec, frames: asset_frames(codec), tick: tokio::time::interval(FRAME), next: 0 }
    }

    async fn push(&mut self) {
        self.tick.tick().await;
        let frame = &self.frames[self.next % self.frames.len()];
        let info = VideoFrameInfo { keyframe: asset_keyframe(self.codec, frame), duration: FRAME };
        self.meeting.send_video(frame, info).expect("the frame is accepted");
        self.next += 1;
    }
}

/// Pushes Alice's frames until Bob has seen `n` frames of `sender_id` (what he saw before is
/// dropped first); at most `ticks` frames of pushing.
async fn see(camera: &mut Camera, seen: &mut UnboundedReceiver<Seen>, sender_id: &str, n: usize) -> Vec<Seen> {
    while seen.try_recv().is_ok() {}
    let mut frames = Vec::new();
    for _ in 0..300 {
        camera.push().await;
        while let Ok(f) = seen.try_recv() {
            assert_eq!(f.participant_id.as_deref(), Some(sender_id), "Bob sees only Alice, by her video CSI");
            frames.push(f);
        }
        if frames.len() >= n {
            return frames;
        }
    }
    panic!("Bob saw only {} frames of {sender_id} in 300 frames pushed", frames.len());
}

/// Alice sends `codec`, Bob receives: frames, keyframe request, stats, bad frames, leave.
async fn alice_to_bob(codec: VideoCodec) {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    let bob = client_as(&sb, BOB);
    alice.load_catalog().await.unwrap();
    bob.load_catalog().await.unwrap();
    let number = scheduled_meeting(&alice, "Video check").await.meeting_number.unwrap();
    let mut a_events = alice.events();

    let (a, a_view) = join(&alice, &number, &sending(codec)).await;
    // What Alice's encoder should keep to: the config's defaults (1280x720, 4 Mb/s).
    let limits = a_view.send_video.expect("joined sending video: the limits are known");
    assert_eq!((limits.max_width, limits.max_height, limits.max_bitrate), (1280, 720, 4_000_000));
    let alice_id = a_view.self_id.clone().unwrap();
    let b = bob.meetings().create(&number, None).await.unwrap();
    let (sink, mut seen) = video_sink();
    b.set_video_sink(Some(sink));
    join_created(&bob, b.clone(), &receiving(codec)).await;

    // Bob's first frame of Alice is a keyframe (320x240 in the VP8 header or the H.264 SPS);
    // every frame is one of the asset's, whole.
    let mut camera = Camera::new(a.clone(), codec);
    let frames = see(&mut camera, &mut seen, &alice_id, 20).await;
    assert!(frames[0].keyframe, "the first frame Bob gets is a keyframe");
    assert_eq!(frames[0].size, (320, 240));
    for f in &frames {
        assert_eq!(f.codec, codec);
        assert!(camera.frames.iter().any(|sent| same_frame(codec, sent, &f.data)), "a frame Alice never sent");
        assert_eq!(f.keyframe, asset_keyframe(codec, &f.data));
    }
    let bytes: usize = frames.iter().map(|f| f.data.len()).sum();
    eprintln!("video: Bob saw {} {} frames of Alice, {bytes} bytes", frames.len(), codec.as_str());

    // Bob asks for a keyframe of Alice: her client is told to send one.
    while a_events.try_recv().is_ok() {}
    b.request_keyframe(Some(&alice_id)).await.unwrap();
    wait(&mut a_events, "meeting:keyframeRequested", &a_view.id, |_| true).await;
    let e = b.request_keyframe(Some("nobody")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // Stats show the video both ways.
    let sent = a.stats().await;
    assert!(sent.iter().any(|s| s.kind == "video" && s.direction == "send" && s.packets > 0), "{sent:?}");
    let received = b.stats().await;
    assert!(received.iter().any(|s| s.kind == "video" && s.direction == "receive" && s.bytes > 0), "{received:?}");

    // Bad frames.
    let info = VideoFrameInfo { keyframe: true, duration: FRAME };
    assert_eq!(a.send_video(&[], info).unwrap_err().code, ErrorCode::InvalidArgument);
    if codec == VideoCodec::Vp8 {
        let mut huge = camera.frames[0].clone();
        huge[6..8].copy_from_slice(&4000u16.to_le_bytes());
        let e = a.send_video(&huge, info).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("4000x240") && e.message.contains("meetings.resolution"), "{}", e.message);
    }

    // After leaving, frames are refused.
    a.leave(&connected_device(&alice).await).await.unwrap();
    let e = a.send_video(&camera.frames[0], info).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    assert!(e.message.contains("LEFT"), "{}", e.message);
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_sees_alices_vp8_and_asks_for_a_keyframe() {
    alice_to_bob(VideoCodec::Vp8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_sees_alices_h264_and_asks_for_a_keyframe() {
    alice_to_bob(VideoCodec::H264).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_sees_the_media_bots_test_pattern() {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    alice.load_catalog().await.unwrap();
    let number = scheduled_meeting(&alice, "Bot check").await.meeting_number.unwrap();
    let mut events = alice.events();
    // Its own receiver: the roster wait below may pass over the announcement.
    let mut streams = alice.events();
    let m = alice.meetings().create(&number, None).await.unwrap();
    let (sink, mut seen) = video_sink();
    m.set_video_sink(Some(sink));
    let (_, view) = join_created(&alice, m.clone(), &receiving(VideoCodec::Vp8)).await;
    assert!(sb.add_media_bot(&number, MediaBotOptions { tone_hz: None, video: Some(BotVideo::Vp8) }));
    let roster = wait(&mut events, "members:update", &view.id, |d| {
        d["full"].as_array().is_some_and(|f| f.iter().any(|m| m["email"] == MEDIA_BOT_EMAIL))
    })
    .await;
    let bot = roster["full"].as_array().unwrap().iter().find(|m| m["email"] == MEDIA_BOT_EMAIL).unwrap();
    let bot_id = bot["id"].as_str().unwrap().to_owned();

    // Frames that raced ahead of the roster (Locus events and RTP take different paths) name
    // no participant yet; once one names the bot, all do. A keyframe request then makes the
    // bot's next frame a keyframe, so one arrives among the next few.
    loop {
        let f = next_seen(&mut seen).await;
        if f.participant_id.as_deref() == Some(bot_id.as_str()) {
            break;
        }
    }
    // The bot's video was announced, naming it, once for this media session.
    let stream = wait(&mut streams, "media:remoteStream", &view.id, |d| d["kind"] == "video").await;
    assert_eq!(stream["participantId"], bot_id.as_str());
    m.request_keyframe(Some(&bot_id)).await.unwrap();
    let asset = asset_frames(VideoCodec::Vp8);
    let mut frames = Vec::new();
    while frames.len() < 20 {
        let f = next_seen(&mut seen).await;
        assert_eq!(f.participant_id.as_deref(), Some(bot_id.as_str()));
        assert!(asset.iter().any(|a| a == &f.data), "a frame that is not the test pattern");
        frames.push(f);
    }
    let key = frames.iter().find(|f| f.keyframe).expect("a keyframe among 20 frames after the request");
    assert_eq!(key.size, (320, 240));
    let requests =
        sb.meeting_media(&number).into_iter().find(|p| p.email == MEDIA_BOT_EMAIL).unwrap().keyframe_requests;
    assert!(requests >= 1, "the bot was asked for a keyframe");
    alice.shutdown().await;
}

/// The next frame a video sink saw (10 s hang guard).
async fn next_seen(seen: &mut UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .expect("video within 10 s (hang guard)")
        .expect("the sink stays")
}
