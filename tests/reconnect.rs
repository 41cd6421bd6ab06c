//! Media reconnection against the sandbox (protocol.md §6.5): the media server drops Alice's
//! media (`cut_media`) or Locus removes her (`kick`), and with `meetings.reconnection.enabled`
//! her client brings media back by itself — Bob hears her 440 Hz tone again. Without it the
//! media state goes FAILED and nothing else happens until the app calls `reconnect`.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use webex_core::meetings::meeting::Meeting;
use webex_core::meetings::{MediaOptions, MediaState, MeetingState};
use webex_core::{Client, Event};
use webex_sandbox::Sandbox;
use webex_tests::*;

/// Hang guard for one reconnection (detection ~2 s + a new connection).
const GUARD: Duration = Duration::from_secs(30);

fn audio() -> MediaOptions {
    MediaOptions { send_audio: true, receive_audio: true, ..Default::default() }
}

fn reconnecting() -> Value {
    json!({"meetings": {"reconnection": {"enabled": true}}})
}

struct Call {
    sb: Sandbox,
    alice: Client,
    bob: Client,
    number: String,
    a_events: UnboundedReceiver<Event>,
    a: Arc<Meeting>,
    speaker: Speaker,
    heard: Heard,
}

impl Call {
    /// Alice (with `alice_config`) and Bob in one meeting with audio; Bob has heard Alice.
    async fn start(alice_config: Value) -> Call {
        let sb = sandbox().await;
        let alice = client_with(&sb, ALICE, alice_config);
        let bob = client_as(&sb, BOB);
        alice.load_catalog().await.unwrap();
        bob.load_catalog().await.unwrap();
        let number = scheduled_meeting(&alice, "Reconnection").await.meeting_number.unwrap();
        let a_events = alice.events();
        let a = alice.meetings().create(&number, None).await.unwrap();
        a.join_with_media(&connected_device(&alice).await, None, None, &audio()).await.unwrap();
        let b = bob.meetings().create(&number, None).await.unwrap();
        let (sink, heard) = audio_sink();
        b.set_audio_sink(Some(sink));
        b.join_with_media(&connected_device(&bob).await, None, None, &audio()).await.unwrap();
        let mut call = Call { sb, alice, bob, number, a_events, speaker: Speaker::new(a.clone()), a, heard };
        call.bob_hears_alice().await;
        call
    }

    fn alice_id(&self) -> String {
        self.a.view().self_id.expect("Alice is in the meeting")
    }

    /// Bob hears Alice's 440 Hz tone (0.6 s of it, within 10 s of talking).
    async fn bob_hears_alice(&mut self) {
        let id = self.alice_id();
        let pcm = hear(&mut self.speaker, &mut self.heard, &id, 30 * 960, 500).await;
        let f = dominant_frequency(&pcm[pcm.len() - 24_000..], 300, 600);
        assert!((435..=445).contains(&f), "Bob hears {f} Hz");
    }

    /// Alice keeps talking until her client emits an event `kind`; the meeting events seen
    /// until then, in order. Frames during the outage are accepted and lost, as from a live
    /// microphone: with `strict`, any refused frame fails the test (while Locus has removed
    /// her and her rejoin has not started, CLOSED is fair).
    async fn talk_until(&mut self, kind: &str, strict: bool) -> Vec<Event> {
        let mut seen = Vec::new();
        for _ in 0..GUARD.as_millis() / 20 {
            if strict {
                self.speaker.push_ok().await;
            } else {
                self.speaker.push().await;
            }
            while let Ok(e) = self.a_events.try_recv() {
                let done = e.kind == kind && e.data["meetingId"] == self.a.id;
                seen.push(e);
                if done {
                    return seen;
                }
            }
        }
        panic!("no {kind} within {GUARD:?}; saw {:?}", seen.iter().map(|e| &e.kind).collect::<Vec<_>>());
    }

    async fn stop(self) {
        self.alice.shutdown().await;
        self.bob.shutdown().await;
    }
}

fn kinds(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

fn media_states(events: &[Event]) -> Vec<&str> {
    events.iter().filter(|e| e.kind == "media:stateChange").filter_map(|e| e.data["currentState"].as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_cut_by_the_server_comes_back_by_itself() {
    let mut call = Call::start(reconnecting()).await;
    while call.a_events.try_recv().is_ok() {}
    assert!(call.sb.cut_media(&call.number, ALICE), "Alice had media");
    let seen = call.talk_until("meeting:reconnectionSuccess", true).await;
    let k = kinds(&seen);
    let starting = k.iter().position(|k| *k == "meeting:reconnectionStarting").expect("reconnectionStarting");
    assert_eq!(seen[starting].data["attempt"], 1);
    assert_eq!(seen.last().unwrap().data["attempt"], 1);
    assert_eq!(media_states(&seen), ["FAILED", "RECONNECTING", "CONNECTED"], "{k:?}");
    assert_eq!(call.a.view().media_state, MediaState::Connected);
    assert_eq!(call.a.view().state, MeetingState::Joined, "the meeting itself was never left");
    call.bob_hears_alice().await;
    call.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_by_locus_rejoins_with_auto_rejoin() {
    let mut call = Call::start(reconnecting()).await;
    while call.a_events.try_recv().is_ok() {}
    assert!(call.sb.kick(&call.number, ALICE));
    let seen = call.talk_until("meeting:reconnectionSuccess", false).await;
    let k = kinds(&seen);
    let left = k.iter().position(|k| *k == "meeting:self:left").expect("meeting:self:left");
    let starting = k.iter().position(|k| *k == "meeting:reconnectionStarting").expect("reconnectionStarting");
    assert!(left < starting, "{k:?}");
    let states: Vec<&str> = seen
        .iter()
        .filter(|e| e.kind == "meeting:stateChange")
        .filter_map(|e| e.data["currentState"].as_str())
        .collect();
    assert_eq!(states, ["LEFT", "JOINING", "JOINED"], "{k:?}");
    assert_eq!((call.a.view().state, call.a.view().media_state), (MeetingState::Joined, MediaState::Connected));
    call.bob_hears_alice().await;
    call.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reconnection_media_fails_until_the_app_reconnects() {
    let mut call = Call::start(json!({})).await;
    while call.a_events.try_recv().is_ok() {}
    assert!(call.sb.cut_media(&call.number, ALICE));
    let seen = call.talk_until("media:stateChange", true).await;
    assert_eq!(media_states(&seen), ["FAILED"]);
    assert!(!kinds(&seen).contains(&"meeting:reconnectionStarting"));
    // The app asks: one attempt brings it back (`meetings.reconnect` is this call).
    let view = call.a.reconnect().await.expect("the reconnection succeeds");
    assert_eq!(view.media_state, MediaState::Connected);
    call.bob_hears_alice().await;
    // A meeting joined without media has nothing to reconnect.
    let m = call.bob.meetings().create(&call.number, None).await.unwrap();
    let e = m.reconnect().await.unwrap_err();
    assert_eq!(e.code, webex_core::ErrorCode::Closed);
    assert!(e.message.contains("not joined with media"), "{}", e.message);
    call.stop().await;
}
