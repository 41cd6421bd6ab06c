//! Meetings with real audio, end to end against the sandbox's media server: Alice's 440 Hz
//! tone reaches Bob through WebRTC (ROAP offer/answer via Locus, SRTP on loopback, the SFU
//! forwarding with Alice's CSI as CSRC), mute stops her packets at the server, unmute brings
//! them back, leaving closes her media, and bad frames get clear errors.

use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use webex_core::meetings::meeting::{Meeting, MeetingView};
use webex_core::meetings::{MediaOptions, MediaState, MeetingState};
use webex_core::{Client, ErrorCode, Event};
use webex_sandbox::Sandbox;
use webex_tests::*;

/// A scheduled meeting hosted by Alice: its number.
async fn scheduled(alice: &Client) -> String {
    scheduled_meeting(alice, "Tone check").await.meeting_number.unwrap()
}

/// Alice and Bob, catalogs loaded, and the number of a meeting Alice scheduled.
async fn alice_and_bob(sb: &Sandbox) -> (Client, Client, String) {
    let alice = client_as(sb, ALICE);
    let bob = client_as(sb, BOB);
    alice.load_catalog().await.unwrap();
    bob.load_catalog().await.unwrap();
    let number = scheduled(&alice).await;
    (alice, bob, number)
}

/// The next event of `kind` for meeting `id` that `pred` accepts (10 s hang guard).
async fn wait(events: &mut UnboundedReceiver<Event>, kind: &str, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
    meeting_event_within(events, Duration::from_secs(10), kind, id, pred).await
}

fn alice_muted(d: &Value, muted: bool) -> bool {
    d["full"].as_array().is_some_and(|f| f.iter().any(|m| m["name"] == "Alice" && m["audioMuted"] == muted))
}

fn audio() -> MediaOptions {
    MediaOptions { send_audio: true, receive_audio: true, ..Default::default() }
}

async fn join(c: &Client, number: &str) -> (Arc<Meeting>, MeetingView) {
    let m = c.meetings().create(number, None).await.unwrap();
    let view = m.join_with_media(&connected_device(c).await, None, None, &audio()).await.unwrap();
    (m, view)
}

fn packets_of(sb: &Sandbox, number: &str, email: &str) -> u64 {
    sb.meeting_media(number).iter().find(|m| m.email == email).map(|m| m.audio_packets).unwrap_or(0)
}

/// Pushes Alice's tone until Bob has heard `samples` of it; at most 10 s of pushing.
async fn hear_alice(speaker: &mut Speaker, heard: &mut Heard, alice_id: &str, samples: usize) -> Vec<i16> {
    hear(speaker, heard, alice_id, samples, 500).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_hears_alices_tone_and_her_mute() {
    let sb = sandbox().await;
    let (alice, bob, number) = alice_and_bob(&sb).await;
    let mut a_events = alice.events();
    let mut b_events = bob.events();

    let (a, a_view) = join(&alice, &number).await;
    assert_eq!((a_view.state, a_view.media_state), (MeetingState::Joined, MediaState::Connected));
    let change = wait(&mut a_events, "media:stateChange", &a_view.id, |d| d["currentState"] == "CONNECTED").await;
    assert_eq!(change["previousState"], "CONNECTING");
    let alice_id = a_view.self_id.clone().unwrap();
    let bob_meeting = bob.meetings().create(&number, None).await.unwrap();
    let (bob_sink, mut heard) = audio_sink();
    bob_meeting.set_audio_sink(Some(bob_sink));

    // Alice already talks while Bob joins (the server forwards to him before his media is up).
    let (stop, talking) = talk_until_stopped(Speaker::new(a.clone()));
    let started = Instant::now();
    let b_view = bob_meeting.join_with_media(&connected_device(&bob).await, None, None, &audio()).await.unwrap();
    assert_eq!(b_view.media_state, MediaState::Connected);
    let joined_after = started.elapsed();
    stop.send(()).unwrap();
    let mut speaker = talking.await.unwrap();

    // The tone: Bob's PCM from Alice peaks at 440 Hz.
    let pcm = hear_alice(&mut speaker, &mut heard, &alice_id, 960).await;
    // Bob was told Alice's audio arrived, naming her.
    let stream = wait(&mut b_events, "media:remoteStream", &b_view.id, |d| d["kind"] == "audio").await;
    assert_eq!(stream["participantId"], alice_id.as_str());
    let first_audio_after = started.elapsed();
    assert!(!pcm.is_empty());
    let pcm = hear_alice(&mut speaker, &mut heard, &alice_id, 30 * 960).await;
    let f = dominant_frequency(&pcm[pcm.len() - 24_000..], 300, 600);
    assert!((435..=445).contains(&f), "Bob hears {f} Hz");
    eprintln!("media: Bob joined with audio in {joined_after:?}; first frame of Alice after {first_audio_after:?}");

    // Stats: Alice sends, Bob receives.
    let sent = a.stats().await;
    assert!(sent.iter().any(|s| s.kind == "audio" && s.direction == "send" && s.packets > 0), "{sent:?}");
    eprintln!("media: Alice stats {sent:?}");
    let received = bob_meeting.stats().await;
    eprintln!("media: Bob stats {received:?}");
    assert!(received.iter().any(|s| s.direction == "receive" && s.packets > 0 && s.bytes > 0), "{received:?}");

    // Mute: once Bob's roster shows it, Alice's further frames never reach the server.
    let alice_device = connected_device(&alice).await;
    assert!(a.set_muted(&alice_device, Some(true), None).await.unwrap().audio_muted);
    wait(&mut b_events, "members:update", &b_view.id, |d| alice_muted(d, true)).await;
    let before = packets_of(&sb, &number, ALICE);
    assert!(before > 0);
    for _ in 0..25 {
        speaker.push_ok().await;
    }
    assert_eq!(packets_of(&sb, &number, ALICE), before, "muted Alice sent packets");

    // Unmute: packets flow again and Bob hears 440 Hz again.
    a.set_muted(&alice_device, Some(false), None).await.unwrap();
    wait(&mut b_events, "members:update", &b_view.id, |d| alice_muted(d, false)).await;
    let pcm = hear_alice(&mut speaker, &mut heard, &alice_id, 30 * 960).await;
    assert!(packets_of(&sb, &number, ALICE) > before);
    let f = dominant_frequency(&pcm[pcm.len() - 24_000..], 300, 600);
    assert!((435..=445).contains(&f), "after unmute Bob hears {f} Hz");

    // Bad frames.
    let e = a.send_audio(&[0; 500], 1).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("480 or 960") && e.message.contains("500"), "{}", e.message);
    assert_eq!(a.send_audio(&[0; 960], 3).unwrap_err().code, ErrorCode::InvalidArgument);

    // Alice leaves: Bob's roster shows it, her media is closed, her frames are refused.
    assert_eq!(a.leave(&alice_device).await.unwrap().state, MeetingState::Left);
    assert_eq!(a.view().media_state, MediaState::Disconnected);
    wait(&mut a_events, "media:stateChange", &a_view.id, |d| d["currentState"] == "DISCONNECTED").await;
    wait(&mut b_events, "members:update", &b_view.id, |d| {
        d["full"].as_array().is_some_and(|f| f.iter().any(|m| m["name"] == "Alice" && m["status"] == "NOT_IN_MEETING"))
    })
    .await;
    let e = a.send_audio(&tone_frame(440.0, 0, 1), 1).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    assert!(e.message.contains("LEFT"), "{}", e.message);
    let media: Vec<String> = sb.meeting_media(&number).into_iter().map(|m| m.email).collect();
    assert_eq!(media, [BOB]);
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_before_joining_with_audio_are_refused() {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    alice.load_catalog().await.unwrap();
    let number = scheduled(&alice).await;
    let m = alice.meetings().create(&number, None).await.unwrap();
    let e = m.send_audio(&tone_frame(440.0, 0, 1), 1).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    assert!(e.message.contains("IDLE"), "{}", e.message);
    // Joined without audio: still refused, with the reason.
    m.join(&connected_device(&alice).await, None, None).await.unwrap();
    let e = m.send_audio(&tone_frame(440.0, 0, 2), 2).unwrap_err();
    assert_eq!(e.code, ErrorCode::Closed);
    assert_eq!(m.view().media_state, MediaState::None);
    assert!(m.stats().await.is_empty());
    alice.shutdown().await;
}

/// A Locus that answers offers over Mercury (`locus.message.roap`) instead of in the
/// `PUT /media` response: media connects all the same, and audio flows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_mercury_connect_media_too() {
    let sb = sandbox().await;
    sb.set_roap_via_mercury(true);
    let (alice, bob, number) = alice_and_bob(&sb).await;
    let (a, a_view) = join(&alice, &number).await;
    assert_eq!(a_view.media_state, MediaState::Connected);
    let b = bob.meetings().create(&number, None).await.unwrap();
    let (sink, mut heard) = audio_sink();
    b.set_audio_sink(Some(sink));
    let b_view = b.join_with_media(&connected_device(&bob).await, None, None, &audio()).await.unwrap();
    assert_eq!(b_view.media_state, MediaState::Connected);
    let mut speaker = Speaker::new(a);
    let pcm = hear_alice(&mut speaker, &mut heard, &a_view.self_id.unwrap(), 30 * 960).await;
    let f = dominant_frequency(&pcm[pcm.len() - 24_000..], 300, 600);
    assert!((435..=445).contains(&f), "Bob hears {f} Hz");
    alice.shutdown().await;
    bob.shutdown().await;
}

/// `speaker` talks (real-time pacing) until the sender is used; the task gives it back.
fn talk_until_stopped(mut speaker: Speaker) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<Speaker>) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let talking = tokio::spawn(async move {
        while stopped.try_recv().is_err() {
            speaker.push_ok().await;
        }
        speaker
    });
    (stop, talking)
}

/// Bob in Alice's meeting with audio, Alice talking, and Bob's sink blocked inside his first
/// frame until the engine logs a line (about Bob's meeting) containing `release_on`.
struct BlockedSink {
    alice: Client,
    bob: Client,
    meeting: Arc<Meeting>,
    device: String,
    /// Whether the blocked sink call has returned.
    returned: Arc<std::sync::atomic::AtomicBool>,
    /// The engine's "waiting for" lines about Bob's meeting, as they come.
    waits: UnboundedReceiver<String>,
    log_sink: u64,
    stop: tokio::sync::oneshot::Sender<()>,
    talking: tokio::task::JoinHandle<Speaker>,
}

impl BlockedSink {
    async fn start(sb: &Sandbox, release_on: &'static str) -> BlockedSink {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Mutex, mpsc};
        use webex_core::log::{self, LogRecord};
        use webex_core::meetings::{AudioFrame, AudioSink};

        log::init("debug", 0);
        let (alice, bob, number) = alice_and_bob(sb).await;
        let (a, _) = join(&alice, &number).await;
        let meeting = bob.meetings().create(&number, None).await.unwrap();
        let (release, released) = mpsc::channel::<()>();
        let (waits_tx, waits) = tokio::sync::mpsc::unbounded_channel();
        let about = format!("meeting {}: waiting for", meeting.id);
        let log_sink = log::add_sink(Arc::new(move |batch: &[LogRecord]| {
            for line in batch.iter().filter(|r| r.message.contains(&about)) {
                if line.message.contains(release_on) {
                    let _ = release.send(());
                }
                let _ = waits_tx.send(line.message.clone());
            }
        }));
        let released = Mutex::new(released);
        let blocked = AtomicBool::new(false);
        let returned = Arc::new(AtomicBool::new(false));
        let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel::<()>();
        let sink: AudioSink = {
            let returned = returned.clone();
            Arc::new(move |_: &AudioFrame<'_>| {
                if !blocked.swap(true, Ordering::SeqCst) {
                    let _ = entered_tx.send(());
                    // 10 s: a hang guard for an engine that never logs the line.
                    let _ = released.lock().unwrap().recv_timeout(Duration::from_secs(10));
                    returned.store(true, Ordering::SeqCst);
                }
            })
        };
        meeting.set_audio_sink(Some(sink));
        let (stop, talking) = talk_until_stopped(Speaker::new(a.clone()));
        let device = connected_device(&bob).await;
        meeting.join_with_media(&device, None, None, &audio()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), entered.recv()).await.expect("Bob hears Alice (10 s hang guard)");
        BlockedSink { alice, bob, meeting, device, returned, waits, log_sink, stop, talking }
    }

    fn returned(&self) -> bool {
        self.returned.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn finish(self) {
        webex_core::log::remove_sink(self.log_sink);
        self.stop.send(()).unwrap();
        self.talking.await.unwrap();
        self.alice.shutdown().await;
        self.bob.shutdown().await;
    }
}

/// Leaving waits for a frame sink that is running: once `leave()` has returned, no sink call is
/// running or starts, so an app (a C one above all) may free what its sink uses.
///
/// Bob's sink returns only once the engine says (its debug log) that the close waits for the
/// media tasks. An engine that leaves without waiting returns while the sink is still blocked
/// (and never says it waits): the assertion catches it every time, with no timed wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn no_frame_sink_runs_once_leave_has_returned() {
    let sb = sandbox().await;
    let bob = BlockedSink::start(&sb, "media tasks to end").await;
    assert_eq!(bob.meeting.leave(&bob.device).await.unwrap().state, MeetingState::Left);
    assert!(bob.returned(), "leave() returned while a frame sink was still running");
    bob.finish().await;
}

/// A leave cancelled while it waits for a running sink (a client close cancels the calls in
/// flight) does not stop the close halfway: the client close then waits for the same sink.
/// The sink returns once the engine says the second closer waits for the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_cancelled_leave_leaves_the_wait_to_the_client_close() {
    let sb = sandbox().await;
    let mut bob = BlockedSink::start(&sb, "waiting for another close").await;
    tokio::select! {
        _ = bob.meeting.leave(&bob.device) => panic!("leave() returned while a frame sink was still running"),
        line = tokio::time::timeout(Duration::from_secs(10), bob.waits.recv()) => {
            let line = line.expect("the close waits for the media tasks (10 s hang guard)").unwrap();
            assert!(line.contains("media tasks to end"), "{line}");
        }
    }
    // The leave is dropped mid-wait; the client's close must take the wait over.
    bob.bob.shutdown().await;
    assert!(bob.returned(), "the client close returned while a frame sink was still running");
    bob.finish().await;
}
