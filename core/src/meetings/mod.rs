//! Meetings: resolve a destination, join and leave through Locus, follow the roster and the
//! meeting's state from `locus.*` events (protocol.md §6).
//!
//! Audio and video flow over WebRTC ([`media`]) when a join asks for them
//! (`audio: {send, receive}`, `video: {send, receive, codec}`).

pub mod dto;
pub mod info;
pub mod media;
pub mod meeting;
mod reconnect;
pub mod settings;
pub mod state;

use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{Event, EventHub};
use crate::http::Http;
use crate::rest::NoParams;
use info::DestinationType;
use meeting::{Meeting, MeetingView};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub use dto::{Member, MemberStatus};
pub use media::{AudioFrame, AudioSink, MediaOptions, TrackStats, VideoCodec, VideoFrame, VideoFrameInfo, VideoSink};
pub use settings::MeetingSettings;
pub use state::{MediaState, MeetingState};

/// The meetings of one client.
pub struct Meetings {
    http: Http,
    hub: Arc<EventHub>,
    settings: Arc<MeetingSettings>,
    all: Mutex<Vec<Arc<Meeting>>>,
}

impl Meetings {
    /// No meetings yet.
    pub fn new(http: Http, hub: Arc<EventHub>, settings: MeetingSettings) -> Meetings {
        Meetings { http, hub, settings: Arc::new(settings), all: Mutex::new(Vec::new()) }
    }

    /// Resolve `destination` and keep the meeting (`meeting:added`). Needs the service
    /// catalog (`Client::load_catalog`; the `meetings.create` operation loads it).
    pub async fn create(&self, destination: &str, kind: Option<DestinationType>) -> Result<Arc<Meeting>> {
        let kind = info::classify(destination, kind)?;
        let answer = info::resolve(&self.http, destination, kind).await?;
        let meeting = Arc::new(Meeting::new(
            destination,
            kind,
            answer,
            self.http.clone(),
            self.hub.clone(),
            self.settings.clone(),
        ));
        if let Ok(mut all) = self.all.lock() {
            all.push(meeting.clone());
        }
        reconnect::supervise(&meeting);
        self.hub.emit(Event::new("meeting:added", json!({"meetingId": meeting.id, "type": "JOIN"})));
        Ok(meeting)
    }

    /// The meeting with this id.
    pub fn get(&self, id: &str) -> Result<Arc<Meeting>> {
        self.all.lock().ok().and_then(|all| all.iter().find(|m| m.id == id).cloned()).ok_or_else(|| {
            Error::new(ErrorCode::NotFound, format!("no meeting {id:?} in this client; create it with meetings.create"))
        })
    }

    /// Every meeting of this client.
    pub fn list(&self) -> Vec<Arc<Meeting>> {
        self.all.lock().map(|all| all.clone()).unwrap_or_default()
    }

    /// Closes the media connection of every meeting (client shutdown).
    pub async fn close_media(&self) {
        for m in self.list() {
            m.close_media().await;
        }
    }

    /// A `locus.*` event's `data` (`{eventType, locusUrl, locus}`): applied to its meeting.
    /// Deltas (and DTOs that are not whole) make the meeting re-read its Locus.
    pub fn on_locus_event(&self, data: &Value) {
        let kind = data.get("eventType").and_then(Value::as_str).unwrap_or("");
        let locus = data.get("locus").unwrap_or(&Value::Null);
        let url = data.get("locusUrl").or_else(|| locus.get("url")).and_then(Value::as_str);
        let Some(meeting) = url.and_then(|u| self.list().into_iter().find(|m| m.locus_url().as_deref() == Some(u)))
        else {
            // UNSURE: incoming calls (a new locusUrl) are not offered yet.
            tracing::debug!(target: "webex::meetings", "{kind} for a locus this client does not follow; ignored");
            return;
        };
        if kind == "locus.message.roap" {
            meeting.on_roap(data);
            return;
        }
        if dto::is_delta(locus) || !dto::is_locus(locus) {
            tokio::spawn(async move {
                if let Err(e) = meeting.resync().await {
                    tracing::warn!(target: "webex::meetings", "re-reading the Locus of meeting {} failed: {e}", meeting.id);
                }
            });
            return;
        }
        meeting.apply(locus);
    }
}

/// `meetings.create` params.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateMeeting {
    /// A meeting number, a meeting link, a SIP address or a room id.
    pub destination: String,
    /// What the destination is, when it cannot be told from its form.
    #[serde(rename = "type")]
    pub kind: Option<DestinationType>,
}

/// Which way media flows for one kind.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaDirection {
    /// Send this kind.
    pub send: Option<bool>,
    /// Receive this kind.
    pub receive: Option<bool>,
}

/// Which way video flows, and in which codec this client sends.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoDirection {
    /// Send video (frames the app encodes, pushed with the send-video function).
    pub send: Option<bool>,
    /// Receive the others' video (encoded frames given to the video sink).
    pub receive: Option<bool>,
    /// The codec this client sends in: `VP8` (default) or `H264`. Both are received.
    pub codec: Option<VideoCodec>,
}

impl JoinMeeting {
    /// The media this join asks for; INVALID_ARGUMENT when a stream count is out of range.
    pub fn media(&self) -> Result<MediaOptions> {
        let audio = self.audio.clone().unwrap_or_default();
        let video = self.video.clone().unwrap_or_default();
        let defaults = MediaOptions::default();
        let streams = |name: &str, value: Option<usize>, range: std::ops::RangeInclusive<usize>, default: usize| {
            let n = value.unwrap_or(default);
            if range.contains(&n) {
                Ok(n)
            } else {
                Err(Error::invalid(format!(
                    "meetings.join: {name} must be {} to {}; got {n}",
                    range.start(),
                    range.end()
                )))
            }
        };
        Ok(MediaOptions {
            send_audio: audio.send.unwrap_or(false),
            receive_audio: audio.receive.unwrap_or(false),
            audio_streams: streams("remoteAudioStreams", self.remote_audio_streams, 1..=8, defaults.audio_streams)?,
            send_video: video.send.unwrap_or(false),
            receive_video: video.receive.unwrap_or(false),
            video_codec: video.codec.unwrap_or_default(),
            video_streams: streams("remoteVideoStreams", self.remote_video_streams, 0..=8, defaults.video_streams)?,
            ..defaults
        })
    }
}

/// `meetings.join` params.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinMeeting {
    /// Join as moderator (host).
    pub moderator: Option<bool>,
    /// The host PIN or meeting password, when asked for.
    pub pin: Option<String>,
    /// Audio: `{send, receive}` (both off when not given).
    pub audio: Option<MediaDirection>,
    /// Video: `{send, receive, codec}` (off when not given).
    pub video: Option<VideoDirection>,
    /// How many other participants can be heard at once (1 to 8, default 3).
    pub remote_audio_streams: Option<usize>,
    /// How many other participants can be seen at once (0 to 8, default 4).
    pub remote_video_streams: Option<usize>,
}

/// `meetings.requestKeyframe` params.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestKeyframe {
    /// The participant whose video should restart with a keyframe; every received video
    /// when not given.
    pub participant_id: Option<String>,
}

/// `meetings.list` answer.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct MeetingList {
    /// Every meeting of this client.
    pub items: Vec<MeetingView>,
}

/// This client's device URL, connecting the event socket first: Locus events reach a client
/// only through its socket.
async fn device_url(c: &Client) -> Result<String> {
    c.connect().await?;
    c.devices().current().await.map(|d| d.url).ok_or_else(|| Error::internal("connected without a device"))
}

/// The device a joined client already has, for leaving: with the cloud gone, connecting the
/// socket first (as joining must) waited forever and the leave never returned.
async fn joined_device_url(c: &Client) -> Result<String> {
    match c.devices().current().await {
        Some(device) => Ok(device.url),
        None => device_url(c).await,
    }
}

/// The meeting rows of the operation table.
pub(crate) fn operations() -> Vec<crate::boundary::Operation> {
    use crate::boundary::operation::{call, call_id};
    vec![
        call(
            "meetings.create",
            "Resolve a meeting number, link, SIP address or room id into a meeting to join.",
            |c, p: CreateMeeting| async move {
                c.load_catalog().await?;
                Ok(c.meetings().create(&p.destination, p.kind).await?.view())
            },
        ),
        call_id(
            "meetings.join",
            "meetingId",
            "Join the meeting (the event socket is connected first); with audio or video, resolves once media is connected.",
            |c, id, p: JoinMeeting| async move {
                let meeting = c.meetings().get(&id)?;
                let media = p.media()?;
                let device = device_url(&c).await?;
                meeting.join_with_media(&device, p.moderator, p.pin.as_deref(), &media).await
            },
        ),
        call_id("meetings.leave", "meetingId", "Leave the meeting.", |c, id, _: NoParams| async move {
            let meeting = c.meetings().get(&id)?;
            meeting.leave(&joined_device_url(&c).await?).await
        }),
        call_id(
            "meetings.end",
            "meetingId",
            "End the meeting for everyone (host or moderator).",
            |c, id, _: NoParams| async move { c.meetings().get(&id)?.end().await },
        ),
        mute_row("meetings.muteAudio", "Mute this client's audio.", Some(true), None),
        mute_row("meetings.unmuteAudio", "Unmute this client's audio.", Some(false), None),
        mute_row("meetings.muteVideo", "Mute this client's video.", None, Some(true)),
        mute_row("meetings.unmuteVideo", "Unmute this client's video.", None, Some(false)),
        call_id("meetings.get", "meetingId", "The meeting, with its roster.", |c, id, _: NoParams| async move {
            Ok(c.meetings().get(&id)?.view())
        }),
        call_id("meetings.members", "meetingId", "The meeting's roster.", |c, id, _: NoParams| async move {
            Ok(c.meetings().get(&id)?.view().members)
        }),
        call_id(
            "meetings.getStats",
            "meetingId",
            "Statistics of each media stream: kind, direction, packets, bytes, loss, jitter, round-trip time.",
            |c, id, _: NoParams| async move { Ok(c.meetings().get(&id)?.stats().await) },
        ),
        call_id(
            "meetings.reconnect",
            "meetingId",
            "Bring the meeting's media back now (a new offer on a new connection; rejoins when Locus removed us).",
            |c, id, _: NoParams| async move { c.meetings().get(&id)?.reconnect().await },
        ),
        call_id(
            "meetings.requestKeyframe",
            "meetingId",
            "Ask for a keyframe of a participant's received video (every received video without participantId).",
            |c, id, p: RequestKeyframe| async move {
                c.meetings().get(&id)?.request_keyframe(p.participant_id.as_deref()).await?;
                Ok(NoParams {})
            },
        ),
        call("meetings.list", "Every meeting this client created.", |c, _: NoParams| async move {
            Ok(MeetingList { items: c.meetings().list().iter().map(|m| m.view()).collect() })
        }),
    ]
}

fn mute_row(
    name: &'static str,
    doc: &'static str,
    audio: Option<bool>,
    video: Option<bool>,
) -> crate::boundary::Operation {
    crate::boundary::operation::call_id(name, "meetingId", doc, move |c, id, _: NoParams| async move {
        let meeting = c.meetings().get(&id)?;
        meeting.set_muted(&device_url(&c).await?, audio, video).await
    })
}
