//! Meeting controls as one JSON call, so every language drives them the same way: the C,
//! Python and Node bindings each pass [`Sandbox::meeting_control`] through unchanged, and
//! anything with an HTTP client uses `POST /_sandbox/meetings/{meetingNumber}/{action}`.

use serde_json::{Value, json};

use super::bot::{BotVideo, MEDIA_BOT_EMAIL, MediaBotOptions};
use crate::Sandbox;
use crate::state::Shared;

/// The actions [`Sandbox::meeting_control`] takes.
pub const MEETING_CONTROLS: [&str; 6] = ["media", "cut", "kick", "end", "addBot", "removeBot"];

impl Sandbox {
    /// One meeting control on the running meeting with `meeting_number`; `params` is a JSON
    /// object (or null):
    ///
    /// | action | params | answer |
    /// | --- | --- | --- |
    /// | `media` | — | `[{email, audioPackets, videoPackets, keyframeRequests, msSinceAudio, msSinceVideo}]`, join order |
    /// | `cut` | `{email}` | `{}`: their media session is dropped (Locus unchanged) |
    /// | `kick` | `{email}` | `{}`: Locus removes them (self LEFT, `removed`) |
    /// | `end` | — | `{}`: the meeting ends for everybody |
    /// | `addBot` | `{toneHz?: 440, video?: "VP8" \| "H264" \| null}` | `{email}`: the built-in participant joins |
    /// | `removeBot` | — | `{}` |
    ///
    /// Errors name what is wrong: an unknown action, a bad parameter, a meeting that is not
    /// running, a person who is not in it.
    ///
    /// Callable from any thread (media sessions open and close on the sandbox's runtime). The
    /// admin route `POST /_sandbox/meetings/{meetingNumber}/{action}` (body: `params`) runs
    /// the same.
    pub fn meeting_control(&self, meeting_number: &str, action: &str, params: &Value) -> Result<Value, String> {
        let _runtime = self.runtime.enter();
        self.shared.meeting_control(meeting_number, action, params)
    }
}

impl Shared {
    /// [`Sandbox::meeting_control`].
    pub(crate) fn meeting_control(&self, meeting_number: &str, action: &str, params: &Value) -> Result<Value, String> {
        if !params.is_null() && !params.is_object() {
            return Err(format!("{action}: params must be a JSON object, got {params}"));
        }
        let running = || self.loci_running(meeting_number);
        let email = || -> Result<&str, String> {
            params
                .get("email")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{action} needs {{\"email\": \"<participant's email>\"}}"))
        };
        let done = |ok: bool, what: &str| -> Result<Value, String> {
            if ok {
                Ok(json!({}))
            } else if !running() {
                Err(format!("meeting {meeting_number} is not running"))
            } else {
                Err(what.to_owned())
            }
        };
        match action {
            "media" => Ok(Value::Array(
                self.meeting_media(meeting_number)
                    .into_iter()
                    .map(|m| {
                        let ms = |t: Option<std::time::Instant>| t.map(|t| t.elapsed().as_millis() as u64);
                        json!({
                            "email": m.email,
                            "audioPackets": m.audio_packets,
                            "videoPackets": m.video_packets,
                            "keyframeRequests": m.keyframe_requests,
                            "msSinceAudio": ms(m.last_audio_at),
                            "msSinceVideo": ms(m.last_video_at),
                        })
                    })
                    .collect(),
            )),
            "cut" => {
                let email = email()?;
                done(
                    self.cut_media(meeting_number, email),
                    &format!("{email} has no media session in meeting {meeting_number}"),
                )
            }
            "kick" => {
                let email = email()?;
                done(self.kick(meeting_number, email), &format!("{email} is not in meeting {meeting_number}"))
            }
            "end" => done(self.end_meeting(meeting_number), "the meeting did not end"),
            "addBot" => {
                let tone_hz = match params.get("toneHz") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.as_f64().ok_or_else(|| format!("addBot: toneHz must be a number, got {v}"))?),
                };
                let video = match params.get("video") {
                    None => Some(BotVideo::Vp8),
                    Some(Value::Null) => None,
                    Some(v) if v == "VP8" => Some(BotVideo::Vp8),
                    Some(v) if v == "H264" => Some(BotVideo::H264),
                    Some(v) => return Err(format!("addBot: video must be \"VP8\", \"H264\" or null, got {v}")),
                };
                let added = self.add_media_bot(meeting_number, MediaBotOptions { tone_hz, video });
                done(added, "the media bot was not added: it is already in, or toneHz is outside (0, 24000)")
                    .map(|_| json!({"email": MEDIA_BOT_EMAIL}))
            }
            "removeBot" => done(self.remove_media_bot(meeting_number), "the media bot is not in the meeting"),
            other => Err(format!("unknown meeting control {other:?}; expected one of {}", MEETING_CONTROLS.join(", "))),
        }
    }

    /// Whether a meeting with this number is running (a Locus exists for it).
    fn loci_running(&self, meeting_number: &str) -> bool {
        crate::state::lock(&self.locus).active_for(meeting_number).is_some()
    }
}
