//! Shared support for the end-to-end tests: a real sandbox on loopback and clients for its
//! users.

use serde_json::{Value, json};
use webex_core::Client;
use webex_sandbox::{Sandbox, SandboxOptions};

mod frames;
mod talk;
pub use frames::*;
pub use talk::*;

/// A sandbox on an OS-chosen loopback port.
pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).await.expect("the sandbox starts")
}

/// A config document for `token` against `sandbox`, with short retry waits so tests of the
/// retry policy stay quick (the waits themselves are never asserted).
pub fn config_for(sandbox: &Sandbox, token: &str) -> Value {
    json!({
        "credentials": {"access_token": token},
        "services": {"discovery": {"hydra": sandbox.hydra_url(), "u2c": sandbox.u2c_url()}},
        "http": {"retryAfterDefaultMs": 20, "backoffBaseMs": 5, "maxRetryAfterMs": 2000},
    })
}

/// A client acting as the sandbox user with `email`.
pub fn client_as(sandbox: &Sandbox, email: &str) -> Client {
    let user = sandbox.user(email).unwrap_or_else(|| panic!("no sandbox user {email}"));
    let config = webex_core::Config::from_value(config_for(sandbox, &user.token)).expect("valid config");
    Client::new(config).expect("client")
}

/// A client acting as `email` with `patch`'s members merged into the test config (one
/// level deep: `{"meetings": {...}}` adds the meetings section).
pub fn client_with(sandbox: &Sandbox, email: &str, patch: Value) -> Client {
    let user = sandbox.user(email).unwrap_or_else(|| panic!("no sandbox user {email}"));
    let mut doc = config_for(sandbox, &user.token);
    if let (Some(doc), Value::Object(patch)) = (doc.as_object_mut(), patch) {
        doc.extend(patch);
    }
    Client::new(webex_core::Config::from_value(doc).expect("valid config")).expect("client")
}

/// `sender` makes a room with `receiver_email` in it, `receiver` listens for messages, and
/// `sender` posts `text`: returns the message's id once `receiver` got its `messages:created`
/// (asserted to be that message).
pub async fn message_reaches(sender: &Client, receiver: &Client, receiver_email: &str, text: &str) -> String {
    use webex_core::rest::{memberships::CreateMembership, messages::CreateMessage, rooms::CreateRoom};
    let room = sender.rooms().create(&CreateRoom { title: text.into(), ..Default::default() }).await.unwrap();
    let add =
        CreateMembership { room_id: room.id.clone(), person_email: Some(receiver_email.into()), ..Default::default() };
    sender.memberships().create(&add).await.unwrap();
    let mut events = receiver.events();
    receiver.listen("messages").await.unwrap();
    let hello = CreateMessage { room_id: Some(room.id), text: Some(text.into()), ..Default::default() };
    let sent = sender.messages().create(&hello).await.unwrap();
    let created = loop {
        let e = events.recv().await.expect("events");
        if e.kind == "messages:created" {
            break e;
        }
    };
    assert_eq!(created.data["data"]["id"], sent.id);
    sent.id
}

/// A client acting as the sandbox's bot.
pub fn bot_client(sandbox: &Sandbox) -> Client {
    client_as(sandbox, &sandbox.bot().email)
}

/// The email addresses of the seeded people.
pub const ALICE: &str = "alice@example.com";
/// Bob.
pub const BOB: &str = "bob@example.com";

/// Power of `freq` Hz in `samples` at 48 kHz (Goertzel).
pub fn tone_power(samples: &[f64], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 48_000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in samples {
        let s = v + c * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - c * s1 * s2
}

/// The strongest frequency between `lo` and `hi` Hz (1 Hz steps) of mono 48 kHz PCM.
pub fn dominant_frequency(pcm: &[i16], lo: u32, hi: u32) -> u32 {
    let x: Vec<f64> = pcm.iter().map(|&s| s as f64).collect();
    (lo..=hi).max_by(|a, b| tone_power(&x, *a as f64).total_cmp(&tone_power(&x, *b as f64))).unwrap_or(lo)
}

/// Frame `index` (960 samples per channel, 20 ms) of a continuous `hz` tone.
pub fn tone_frame(hz: f64, index: usize, channels: usize) -> Vec<i16> {
    (0..960)
        .flat_map(|i| {
            let t = (index * 960 + i) as f64 / 48_000.0;
            let v = ((2.0 * std::f64::consts::PI * hz * t).sin() * 8000.0) as i16;
            std::iter::repeat_n(v, channels)
        })
        .collect()
}

/// A meeting scheduled by `host` (2030-01-01, 30 minutes): number, link, SIP address.
pub async fn scheduled_meeting(host: &Client, title: &str) -> webex_core::rest::meetings::Meeting {
    host.scheduled_meetings()
        .create(&webex_core::rest::meetings::CreateMeeting {
            title: Some(title.into()),
            start: Some("2030-01-01T10:00:00Z".into()),
            end: Some("2030-01-01T10:30:00Z".into()),
            ..Default::default()
        })
        .await
        .expect("the meeting is scheduled")
}

/// The client's WDM device URL, with its event socket connected (meetings join as a device).
pub async fn connected_device(c: &Client) -> String {
    c.connect().await.expect("the event socket connects");
    c.devices().current().await.expect("a registered device").url
}

/// The next event of `kind` for meeting `id` that `pred` accepts.
pub async fn meeting_event(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<webex_core::Event>,
    kind: &str,
    id: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let e = events.recv().await.unwrap_or_else(|| panic!("the stream ended before {kind}"));
        if e.kind == kind && e.data["meetingId"] == id && pred(&e.data) {
            return e.data;
        }
    }
}
