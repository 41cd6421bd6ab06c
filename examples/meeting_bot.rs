//! A meeting bot: joins a meeting with audio, says a 440 Hz tone for two seconds, and a second
//! participant prints the roster and what it heard.
//!
//! Everything runs on the embedded sandbox in this process (its Locus and media server): Bob
//! schedules a meeting and listens; the sandbox's bot joins the same meeting and speaks.
//!
//! Run: `cargo run --release --example meeting_bot`

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use webex_core::meetings::{AudioFrame, MediaOptions};
use webex_core::rest::meetings::CreateMeeting;
use webex_core::{Client, Config, Error, Result};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("meeting_bot failed: {e}");
        std::process::exit(1);
    }
}

fn client(sandbox: &webex_sandbox::Sandbox, token: &str) -> Result<Client> {
    Client::new(Config::from_value(json!({
        "credentials": {"access_token": token},
        "services": {"discovery": {"hydra": sandbox.hydra_url(), "u2c": sandbox.u2c_url()}},
    }))?)
}

async fn run() -> Result<()> {
    let sandbox = webex_sandbox::Sandbox::start(Default::default())
        .await
        .map_err(|e| Error::internal(format!("cannot start the sandbox: {e}")))?;
    let bob_user = sandbox.user("bob@example.com").ok_or_else(|| Error::internal("the sandbox has no Bob"))?;
    let bob = client(&sandbox, &bob_user.token)?;
    let bot = client(&sandbox, &sandbox.bot().token)?;
    bob.load_catalog().await?;
    bot.load_catalog().await?;

    let meeting = bob
        .scheduled_meetings()
        .create(&CreateMeeting {
            title: Some("Tone check".into()),
            start: Some("2030-01-01T10:00:00Z".into()),
            end: Some("2030-01-01T10:30:00Z".into()),
            ..Default::default()
        })
        .await?;
    let number = meeting.meeting_number.ok_or_else(|| Error::protocol("the meeting has no number"))?;
    println!("1. Bob scheduled meeting {number}");

    // Bob listens: every decoded frame lands here, keyed by who spoke.
    let heard: Arc<Mutex<Heard>> = Arc::default();
    let listening = bob.meetings().create(&number, None).await?;
    let sink = heard.clone();
    listening.set_audio_sink(Some(Arc::new(move |f: &AudioFrame<'_>| {
        if let Ok(mut h) = sink.lock() {
            h.extend(f.samples.iter().map(|s| (f.participant_id.map(str::to_owned), *s)));
        }
    })));
    let audio = MediaOptions { send_audio: true, receive_audio: true, ..Default::default() };
    bob.connect().await?;
    let bob_device = bob.devices().current().await.map(|d| d.url).unwrap_or_default();
    listening.join_with_media(&bob_device, None, None, &audio).await?;

    // The bot joins and speaks: 100 frames of 20 ms, paced in real time.
    let speaking = bot.meetings().create(&number, None).await?;
    bot.connect().await?;
    let bot_device = bot.devices().current().await.map(|d| d.url).unwrap_or_default();
    let view = speaking.join_with_media(&bot_device, None, None, &audio).await?;
    println!(
        "2. The bot joined ({}, media {}) and says 440 Hz for 2 s",
        view.state.as_str(),
        view.media_state.as_str()
    );
    let mut pacing = tokio::time::interval(Duration::from_millis(20));
    for i in 0..100 {
        pacing.tick().await;
        speaking.send_audio(&tone(440.0, i), 1)?;
    }

    println!("3. Bob's roster:");
    for m in listening.view().members {
        println!("   {:<24} {:?}{}", m.name.unwrap_or_default(), m.status, if m.audio_muted { " (muted)" } else { "" });
    }
    let bot_id = view.self_id.clone();
    let samples: Vec<i16> =
        heard.lock().map(|h| h.iter().filter(|(who, _)| *who == bot_id).map(|(_, s)| *s).collect()).unwrap_or_default();
    if samples.len() < 24_000 {
        return Err(Error::new(webex_core::ErrorCode::Media, format!("Bob heard only {} samples", samples.len())));
    }
    // The last second: the first frames carry the decoder's start-up.
    let tail = &samples[samples.len() - 48_000.min(samples.len())..];
    println!("4. Bob heard {} ms of audio from the bot, loudest at {} Hz", samples.len() / 48, loudest(tail, 300, 600));
    speaking.leave(&bot_device).await?;
    listening.leave(&bob_device).await?;
    bot.shutdown().await;
    bob.shutdown().await;
    Ok(())
}

/// Every sample Bob heard, with the participant id of who spoke it.
type Heard = Vec<(Option<String>, i16)>;

/// Frame `index` (960 samples, 20 ms at 48 kHz) of a continuous `hz` tone.
fn tone(hz: f64, index: usize) -> Vec<i16> {
    (0..960)
        .map(|i| {
            let t = (index * 960 + i) as f64 / 48_000.0;
            ((2.0 * std::f64::consts::PI * hz * t).sin() * 8000.0) as i16
        })
        .collect()
}

/// The frequency in `lo..=hi` Hz with the most energy (Goertzel, 1 Hz steps).
fn loudest(pcm: &[i16], lo: u32, hi: u32) -> u32 {
    let power = |hz: f64| {
        let w = 2.0 * std::f64::consts::PI * hz / 48_000.0;
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in pcm {
            let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2
    };
    (lo..=hi).max_by(|a, b| power(f64::from(*a)).total_cmp(&power(f64::from(*b)))).unwrap_or(lo)
}
