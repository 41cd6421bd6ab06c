//! Talking and listening in a meeting: a paced 440 Hz speaker, a sink that collects what a
//! listener hears, and bounded waits for meeting events (media tests must fail, not hang).

use super::{meeting_event, tone_frame};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use webex_core::Event;
use webex_core::meetings::meeting::Meeting;
use webex_core::meetings::{AudioFrame, AudioSink};

/// The next event of `kind` for meeting `id` that `pred` accepts, within `guard` (a hang
/// guard: the test fails instead of hanging; the time is not what is tested).
pub async fn meeting_event_within(
    events: &mut UnboundedReceiver<Event>,
    guard: Duration,
    kind: &str,
    id: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    tokio::time::timeout(guard, meeting_event(events, kind, id, pred))
        .await
        .unwrap_or_else(|_| panic!("no {kind} within {guard:?}"))
}

/// What a listener's sink saw: (speaker's participant id, PCM).
pub type Heard = UnboundedReceiver<(Option<String>, Vec<i16>)>;

/// A sink for mono 20 ms frames that forwards (speaker, PCM) to a channel.
pub fn audio_sink() -> (AudioSink, Heard) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sink: AudioSink = Arc::new(move |f: &AudioFrame<'_>| {
        assert_eq!((f.sample_rate, f.channels, f.frames), (48_000, 1, 960));
        let _ = tx.send((f.participant_id.map(str::to_owned), f.samples.to_vec()));
    });
    (sink, rx)
}

/// A speaker: a 440 Hz tone into `meeting`, one 20 ms frame per tick (real-time pacing).
pub struct Speaker {
    /// The meeting it talks into.
    pub meeting: Arc<Meeting>,
    tick: tokio::time::Interval,
    next: usize,
}

impl Speaker {
    /// A speaker into `meeting`.
    pub fn new(meeting: Arc<Meeting>) -> Speaker {
        Speaker { meeting, tick: tokio::time::interval(Duration::from_millis(20)), next: 0 }
    }

    /// Waits for the next tick and sends one frame. A frame may be refused as CLOSED only
    /// while Locus has removed the speaker and the rejoin has not started yet (a live
    /// microphone's frame lost); any other refusal fails the test.
    pub async fn push(&mut self) {
        self.tick.tick().await;
        match self.meeting.send_audio(&tone_frame(440.0, self.next, 1), 1) {
            Ok(()) => {}
            Err(e) if e.code == webex_core::ErrorCode::Closed => {}
            Err(e) => panic!("the frame was refused: {e}"),
        }
        self.next += 1;
    }

    /// Like [`Speaker::push`], but the frame must be accepted.
    pub async fn push_ok(&mut self) {
        self.tick.tick().await;
        self.meeting.send_audio(&tone_frame(440.0, self.next, 1), 1).expect("the frame is accepted");
        self.next += 1;
    }
}

/// Pushes the speaker's tone until the listener has heard `samples` of it from `speaker_id`
/// (frames heard before are dropped first); at most `ticks` frames of pushing.
pub async fn hear(
    speaker: &mut Speaker,
    heard: &mut Heard,
    speaker_id: &str,
    samples: usize,
    ticks: usize,
) -> Vec<i16> {
    while heard.try_recv().is_ok() {}
    let mut pcm = Vec::new();
    for _ in 0..ticks {
        speaker.push().await;
        while let Ok((who, frame)) = heard.try_recv() {
            assert_eq!(who.as_deref(), Some(speaker_id), "the listener hears only the speaker, by its CSI");
            pcm.extend(frame);
        }
        if pcm.len() >= samples {
            return pcm;
        }
    }
    panic!("heard only {} samples of {speaker_id} in {ticks} frames", pcm.len());
}
