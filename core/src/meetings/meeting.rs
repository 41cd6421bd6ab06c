//! One meeting: its Locus working copy, the requests that change it (join, leave, end, mute),
//! the events its changes emit, and its media session (audio).

use super::dto::{self, Member};
use super::info::DestinationType;
use super::media::{AudioSink, FRAME_SIZES, MediaOptions, MediaSession, MediaShared, TrackStats};
use super::settings::MeetingSettings;
use super::state::{MediaState, MeetingState};
use crate::error::{Error, ErrorCode, Result};
use crate::events::{Event, EventHub};
use crate::http::{Http, HttpRequest};
use reqwest::Method;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A meeting as the operations answer it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingView {
    /// This client's id for the meeting (`meetingId` of the other operations).
    pub id: String,
    /// Where it stands for this client.
    pub state: MeetingState,
    /// What `meetings.create` was given.
    pub destination: String,
    /// How the destination was read.
    pub destination_type: DestinationType,
    /// The meeting number.
    pub meeting_number: Option<String>,
    /// Its SIP address.
    pub sip_uri: Option<String>,
    /// Its link.
    pub meeting_join_url: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// The Locus URL once the meeting runs.
    pub locus_url: Option<String>,
    /// This client's participant id once joined.
    pub self_id: Option<String>,
    /// Whether this client muted its audio.
    pub audio_muted: bool,
    /// Whether this client muted its video.
    pub video_muted: bool,
    /// Where this client's media connection stands.
    pub media_state: MediaState,
    /// When joined sending video: the largest video to send (`meetings.resolution.max*`,
    /// `meetings.bandwidth.video`), what the app's encoder should keep to.
    pub send_video: Option<super::media::SendVideoLimits>,
    /// The roster.
    pub members: Vec<Member>,
}

struct Working {
    state: MeetingState,
    locus: Option<Value>,
    locus_url: Option<String>,
    members: Vec<Member>,
    audio_muted: bool,
    video_muted: bool,
}

/// One meeting of a client.
pub struct Meeting {
    /// The id the operations take.
    pub id: String,
    destination: String,
    destination_type: DestinationType,
    info: Value,
    /// Matches this client's ROAP messages over Mercury (protocol.md §6.2).
    correlation_id: String,
    http: Http,
    hub: Arc<EventHub>,
    /// The `meetings.*` config.
    settings: Arc<MeetingSettings>,
    working: Mutex<Working>,
    /// Serialises the requests that change the meeting (join, leave, end, mute).
    busy: tokio::sync::Mutex<()>,
    /// Media state, sink and the CSI → participant map, shared with the media session.
    media: Arc<MediaShared>,
    /// The media session while joined with media.
    session: Mutex<Option<Arc<MediaSession>>>,
    /// Sessions taken out and not known to have ended (their closer may have been cancelled,
    /// or a Locus event closes them on the runtime): leaving or closing the client waits for
    /// them too, as their receivers may be in the app's frame sink.
    closing: Mutex<Vec<Arc<MediaSession>>>,
    /// The seq of this client's last ROAP OFFER (the first is 1).
    roap_seq: AtomicU64,
    /// The device and media of the last join with media: what a reconnection restores.
    joined_with: Mutex<Option<(String, MediaOptions)>>,
    /// Signalled when Locus removes us (self LEFT, not by our leave): the rejoin trigger.
    removal: Arc<tokio::sync::Notify>,
    /// Whether we are out because Locus removed us (a rejoin may bring us back).
    removed: AtomicBool,
    /// Set when the client shuts down: no reconnection starts or goes on after it.
    closed: AtomicBool,
    /// Where a ROAP message from Locus over Mercury (`locus.message.roap`) goes while an
    /// offer waits for its answer.
    roap_inbox: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Value>>>,
}

/// How long a join waits for media to connect after the ANSWER.
const MEDIA_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an offer waits for an answer over Mercury (protocol.md §6.3: 10 s).
const ROAP_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

impl Meeting {
    /// A meeting resolved from `destination` (`info` is the meeting-info answer).
    pub fn new(
        destination: &str,
        destination_type: DestinationType,
        info: Value,
        http: Http,
        hub: Arc<EventHub>,
        settings: Arc<MeetingSettings>,
    ) -> Meeting {
        let locus_url = info.get("locusUrl").and_then(Value::as_str).map(str::to_owned);
        let id = uuid::Uuid::new_v4().to_string();
        Meeting {
            media: Arc::new(MediaShared::new(&id, hub.clone())),
            session: Mutex::new(None),
            closing: Mutex::new(Vec::new()),
            roap_seq: AtomicU64::new(0),
            joined_with: Mutex::new(None),
            removal: Arc::new(tokio::sync::Notify::new()),
            removed: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            roap_inbox: Mutex::new(None),
            id,
            destination: destination.to_owned(),
            destination_type,
            info,
            correlation_id: uuid::Uuid::new_v4().to_string(),
            http,
            hub,
            settings,
            working: Mutex::new(Working {
                state: MeetingState::Idle,
                locus: None,
                locus_url,
                members: Vec::new(),
                audio_muted: false,
                video_muted: false,
            }),
            busy: tokio::sync::Mutex::new(()),
        }
    }

    /// The meeting as the operations answer it.
    pub fn view(&self) -> MeetingView {
        let w = self.working.lock().unwrap_or_else(|e| e.into_inner());
        let info = |k: &str| self.info.get(k).and_then(Value::as_str).map(str::to_owned);
        MeetingView {
            id: self.id.clone(),
            state: w.state,
            destination: self.destination.clone(),
            destination_type: self.destination_type,
            meeting_number: info("meetingNumber"),
            sip_uri: info("sipUrl"),
            meeting_join_url: info("meetingJoinUrl"),
            title: info("meetingName"),
            locus_url: w.locus_url.clone(),
            self_id: w.locus.as_ref().and_then(|l| l.pointer("/self/id")).and_then(Value::as_str).map(str::to_owned),
            audio_muted: w.audio_muted,
            video_muted: w.video_muted,
            media_state: self.media.state(),
            send_video: self
                .joined_with
                .lock()
                .ok()
                .and_then(|j| j.as_ref().map(|(_, m)| m.send_video))
                .is_some_and(|sends| sends && w.state == MeetingState::Joined)
                .then(|| self.send_video_limits()),
            members: w.members.clone(),
        }
    }

    /// The Locus URL, once known.
    pub fn locus_url(&self) -> Option<String> {
        self.working.lock().ok()?.locus_url.clone()
    }

    /// The `meetings.*` config it follows.
    pub fn settings(&self) -> &MeetingSettings {
        &self.settings
    }

    /// Follows the media state.
    pub fn media_state_watch(&self) -> tokio::sync::watch::Receiver<MediaState> {
        self.media.subscribe()
    }

    /// Notified each time Locus removes us from the meeting.
    pub(crate) fn removal_signal(&self) -> Arc<tokio::sync::Notify> {
        self.removal.clone()
    }

    fn state(&self) -> MeetingState {
        self.working.lock().map(|w| w.state).unwrap_or(MeetingState::Idle)
    }

    /// Join: `POST <locus>/loci/call` by address, or `POST <locusUrl>/participant` when the
    /// meeting is already running (protocol.md §6.1-§6.2). `device_url` is this client's WDM
    /// device. No media: see [`Meeting::join_with_media`].
    pub async fn join(&self, device_url: &str, moderator: Option<bool>, pin: Option<&str>) -> Result<MeetingView> {
        self.join_with_media(device_url, moderator, pin, &MediaOptions::default()).await
    }

    /// Join, then (when `media` asks for audio) connect media: ROAP OFFER in
    /// `PUT <selfUrl>/media`, the ANSWER from the HTTP response, and a wait until the
    /// connection is up (10 s, else a MEDIA error naming the state reached; the meeting stays
    /// JOINED without media and may be left). A join that lands in the lobby connects no
    /// media (UNSURE: the official SDK offers media from the lobby too).
    pub async fn join_with_media(
        &self,
        device_url: &str,
        moderator: Option<bool>,
        pin: Option<&str>,
        media: &MediaOptions,
    ) -> Result<MeetingView> {
        let _busy = self.busy.lock().await;
        let view = self.join_locus(device_url, moderator, pin).await?;
        if !media.wants_media() || view.state != MeetingState::Joined || self.has_session() {
            return Ok(view);
        }
        if let Ok(mut j) = self.joined_with.lock() {
            *j = Some((device_url.to_owned(), media.clone()));
        }
        if let Err(e) = self.start_media(device_url, media, MediaState::Connecting).await {
            self.stop_media().await;
            self.media.set_state(MediaState::Failed);
            return Err(e);
        }
        Ok(self.view())
    }

    async fn join_locus(&self, device_url: &str, moderator: Option<bool>, pin: Option<&str>) -> Result<MeetingView> {
        let before = self.state();
        match before {
            MeetingState::Ended => {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    format!("meeting {} has ended; create it again with meetings.create", self.id),
                ));
            }
            MeetingState::Joined | MeetingState::Lobby => return Ok(self.view()),
            _ => {}
        }
        self.transition(MeetingState::Joining);
        let mut body = json!({
            "device": {"url": device_url, "deviceType": "WEB"},
            "usingResource": null,
            "correlationId": self.correlation_id,
            "respOnlySdp": true,
            "allowMultiDevice": true,
            "supportsNativeLobby": 1,
            "clientMediaPreferences": {"preferTranscoding": true, "joinCookie": null, "ipver": 4},
        });
        if let Some(m) = moderator {
            body["moderator"] = json!(m);
        }
        if let Some(p) = pin {
            body["pin"] = json!(p);
        }
        let request = match self.locus_url() {
            Some(locus_url) => {
                HttpRequest::new(Method::POST, format!("{locus_url}/participant?alternateRedirect=true"))
            }
            None => {
                body["invitee"] = json!({"address": self.address()?});
                HttpRequest::new(Method::POST, self.http.service_url("locus", "loci/call?alternateRedirect=true")?)
            }
        };
        match self.http.send_json::<Value>(request.json(body)).await {
            Ok(answer) => {
                self.removed.store(false, Ordering::SeqCst);
                self.apply(answer.get("locus").unwrap_or(&Value::Null));
                Ok(self.view())
            }
            Err(e) => {
                // A refused join leaves the meeting where it was (an ended one is ENDED).
                let after = if e.status == Some(409) { MeetingState::Ended } else { before };
                self.transition(after);
                Err(e)
            }
        }
    }

    /// The address `/loci/call` invites: the SIP address, else `wbxmn:<meeting number>`.
    fn address(&self) -> Result<String> {
        if let Some(sip) = self.info.get("sipUrl").and_then(Value::as_str) {
            return Ok(sip.to_owned());
        }
        if let Some(n) = self.info.get("meetingNumber").and_then(Value::as_str) {
            return Ok(format!("wbxmn:{n}"));
        }
        Err(Error::protocol("the meeting info names neither a SIP address nor a meeting number"))
    }

    fn self_url(&self) -> Result<(String, String)> {
        let w = self.working.lock().map_err(|_| Error::internal("meeting state poisoned"))?;
        let locus = w.locus.as_ref();
        let url = locus.and_then(|l| l.pointer("/self/url")).and_then(Value::as_str);
        let id = locus.and_then(|l| l.pointer("/self/id")).and_then(Value::as_str);
        match (url, id, w.state) {
            (Some(u), Some(i), MeetingState::Joined | MeetingState::Lobby) => Ok((u.to_owned(), i.to_owned())),
            (_, _, state) => {
                Err(Error::new(ErrorCode::Closed, format!("meeting {} is {}; join it first", self.id, state.as_str())))
            }
        }
    }

    fn has_session(&self) -> bool {
        self.session.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    fn current_session(&self) -> Option<Arc<MediaSession>> {
        self.session.lock().ok().and_then(|s| s.clone())
    }

    /// Where this client's media connection binds: loopback when the cloud is on loopback
    /// (the sandbox), else every interface.
    fn media_bind(&self) -> std::net::IpAddr {
        let host =
            self.locus_url().and_then(|u| url::Url::parse(&u).ok()).and_then(|u| u.host_str().map(str::to_owned));
        let loopback = host.as_deref().is_some_and(|h| {
            h == "localhost" || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        });
        if loopback {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        } else {
            std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        }
    }

    /// Builds the media session, offers it through `PUT <selfUrl>/media` and applies the
    /// answer (protocol.md §6.3). The media state is `connecting` (CONNECTING, or
    /// RECONNECTING) until the connection is up.
    async fn start_media(&self, device_url: &str, media: &MediaOptions, connecting: MediaState) -> Result<()> {
        let (self_url, _) = self.self_url()?;
        self.media.set_state(connecting);
        let (session, sdp) = MediaSession::offer(media, &self.settings, self.media.clone(), self.media_bind()).await?;
        if let Ok(mut s) = self.session.lock() {
            *s = Some(session.clone());
        }
        let seq = self.roap_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let roap = json!({
            "messageType": "OFFER",
            "version": "2",
            "seq": seq,
            "sdps": [sdp],
            "tieBreaker": uuid::Uuid::new_v4().as_u128() as u32,
            "headers": ["includeAnswerInHttpResponse", "noOkInTransaction"],
        });
        let (audio_muted, video_muted) =
            self.working.lock().map(|w| (w.audio_muted, w.video_muted)).unwrap_or((false, false));
        let local_sdp = json!({"audioMuted": audio_muted, "videoMuted": video_muted, "roapMessage": roap}).to_string();
        let body = json!({
            "device": {"url": device_url, "deviceType": "WEB"},
            "correlationId": self.correlation_id,
            "clientMediaPreferences": {"preferTranscoding": true, "joinCookie": null, "ipver": 4},
            "localMedias": [{"localSdp": local_sdp, "mediaId": null}],
        });
        // Listening before the request: the answer may come over Mercury before the response.
        let (inbox, mut roap) = tokio::sync::mpsc::unbounded_channel();
        if let Ok(mut i) = self.roap_inbox.lock() {
            *i = Some(inbox);
        }
        let sent = self.http.send_json::<Value>(HttpRequest::new(Method::PUT, format!("{self_url}/media")).json(body));
        let answer = sent.await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                self.close_roap_inbox();
                return Err(e);
            }
        };
        if let Some(locus) = answer.get("locus") {
            self.apply(locus);
        }
        let sdp = if answer.pointer("/mediaConnections/0/remoteSdp").is_some() {
            answer_sdp(&answer, seq)
        } else {
            // Locus answers over Mercury instead (protocol.md §6.3).
            self.roap_answer(&mut roap, seq).await
        };
        self.close_roap_inbox();
        session.answer(sdp?, MEDIA_CONNECT_TIMEOUT).await
    }

    /// A `locus.message.roap` event's `data` (`{correlationId, message}`) for this meeting: to
    /// the offer waiting for it. Messages for another device's correlation id, and messages
    /// nobody waits for, are dropped (logged).
    pub(crate) fn on_roap(&self, data: &Value) {
        if data.get("correlationId").and_then(Value::as_str) != Some(self.correlation_id.as_str()) {
            tracing::debug!(target: "webex::meetings", "meeting {}: ROAP for another correlation id; ignored", self.id);
            return;
        }
        let message = data.get("message").cloned().unwrap_or(Value::Null);
        let delivered = self.roap_inbox.lock().ok().and_then(|i| i.as_ref().map(|tx| tx.send(message).is_ok()));
        if delivered != Some(true) {
            tracing::debug!(target: "webex::meetings", "meeting {}: ROAP message with no offer waiting; ignored", self.id);
        }
    }

    fn close_roap_inbox(&self) {
        if let Ok(mut i) = self.roap_inbox.lock() {
            *i = None;
        }
    }

    /// The ANSWER to our OFFER `seq` from the ROAP messages Locus sends over Mercury, within
    /// the same 10 s the official SDK waits.
    async fn roap_answer(&self, roap: &mut tokio::sync::mpsc::UnboundedReceiver<Value>, seq: u64) -> Result<String> {
        let wait = async {
            while let Some(message) = roap.recv().await {
                // Only the ANSWER (or ERROR) to this offer: replies to an older offer (a
                // reconnection's timed-out attempt), OKs and anything else are not ours.
                let kind = message.get("messageType").and_then(Value::as_str);
                let for_us = message.get("seq").and_then(Value::as_u64).is_none_or(|s| s == seq);
                if !(for_us && matches!(kind, Some("ANSWER" | "ERROR"))) {
                    tracing::debug!(target: "webex::meetings", "meeting {}: ROAP {kind:?} not for offer {seq}; skipped", self.id);
                    continue;
                }
                return roap_sdp(&message, seq);
            }
            Err(Error::internal("the ROAP inbox closed"))
        };
        tokio::time::timeout(ROAP_ANSWER_TIMEOUT, wait).await.unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Media,
                format!(
                    "the media offer got no answer: none in the HTTP response and no locus.message.roap within {} s",
                    ROAP_ANSWER_TIMEOUT.as_secs()
                ),
            ))
        })
    }

    /// Closes the media session, if any (media state DISCONNECTED); the meeting is not left.
    pub async fn close_media(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // A reconnection attempt holds `busy`: waiting for it means none builds a new
        // connection after this one is closed.
        let _busy = self.busy.lock().await;
        self.stop_media().await;
    }

    /// Whether the client shut down (see [`Meeting::close_media`]).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Whether Locus removed us and we have not rejoined since.
    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::SeqCst) && self.state() == MeetingState::Left
    }

    /// While a reconnection brings media back, frames of a kind this meeting sends are
    /// accepted and dropped, as a live microphone's or camera's would be lost: an app must
    /// not take the outage for the end of the meeting.
    fn dropped_while_reconnecting(&self, sends: impl Fn(&MediaOptions) -> bool) -> Option<MediaOptions> {
        if self.media.state() != MediaState::Reconnecting {
            return None;
        }
        self.joined_with.lock().ok()?.as_ref().map(|(_, m)| m.clone()).filter(|m| sends(m))
    }

    /// Closes the media session, if any (media state DISCONNECTED), and waits until it and any
    /// a Locus event is closing have ended: no frame sink runs after this returns.
    async fn stop_media(&self) {
        self.take_session();
        // Cloned, not taken: if this is cancelled, the next stop still finds them.
        let closing = self.closing.lock().map(|c| c.clone()).unwrap_or_default();
        for s in &closing {
            s.close_connection().await;
        }
        if let Ok(mut c) = self.closing.lock() {
            c.retain(|s| !s.is_ended());
        }
    }

    /// Takes the media session and stops it (state DISCONNECTED) under the session lock, so
    /// whoever finds no session afterwards also finds it stopped.
    fn take_session(&self) -> Option<Arc<MediaSession>> {
        self.take_session_into(MediaState::Disconnected)
    }

    /// [`Meeting::take_session`], stopping it into `next`. The session is recorded in
    /// `closing` under the same lock, so a stop that finds no session finds it there.
    fn take_session_into(&self, next: MediaState) -> Option<Arc<MediaSession>> {
        let mut slot = self.session.lock().ok()?;
        let session = slot.take()?;
        session.stop_into(next);
        if let Ok(mut closing) = self.closing.lock() {
            closing.retain(|c| !c.is_ended());
            closing.push(session.clone());
        }
        Some(session)
    }

    /// Brings media back (protocol.md §6.5; `meetings.reconnect`, or on its own when
    /// `meetings.reconnection` says so): up to `maxRejoinAttempts` attempts, each a new
    /// OFFER on a new connection within `iceReconnectionTimeout`, rejoining first when Locus
    /// no longer has us (with `autoRejoin`). A meeting joined without media has nothing to
    /// reconnect (CLOSED).
    pub async fn reconnect(&self) -> Result<MeetingView> {
        let Some((device_url, media)) = self.joined_with.lock().ok().and_then(|j| j.clone()) else {
            return Err(Error::new(
                ErrorCode::Closed,
                format!("meeting {} was not joined with media; there is nothing to reconnect", self.id),
            ));
        };
        let r = self.settings.reconnection.clone();
        let mut last = Error::new(ErrorCode::Media, "no reconnection attempt was made");
        let mut attempts = 0;
        for attempt in 1..=r.max_attempts.max(1) {
            if !self.may_reconnect(&r) {
                last = Error::new(
                    ErrorCode::Closed,
                    format!("meeting {} is {}; it is not reconnected", self.id, self.state().as_str()),
                );
                break;
            }
            attempts = attempt;
            self.hub
                .emit(Event::new("meeting:reconnectionStarting", json!({"meetingId": self.id, "attempt": attempt})));
            let outcome = {
                let _busy = self.busy.lock().await;
                match tokio::time::timeout(r.timeout, self.reconnect_once(&device_url, &media, &r)).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::new(
                        ErrorCode::Timeout,
                        format!("media did not come back within {} ms", r.timeout.as_millis()),
                    )),
                }
            };
            match outcome {
                Ok(()) => {
                    self.hub.emit(Event::new(
                        "meeting:reconnectionSuccess",
                        json!({"meetingId": self.id, "attempt": attempt}),
                    ));
                    return Ok(self.view());
                }
                Err(e) => {
                    tracing::warn!(target: "webex::meetings", "meeting {} reconnection attempt {attempt} failed: {e}", self.id);
                    last = e;
                }
            }
            // Give a media server that is restarting a moment (a backoff, not a sync).
            if attempt < r.max_attempts {
                tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt))).await;
            }
        }
        if attempts == 0 {
            return Err(last);
        }
        // Every way out ends the reconnection visibly: FAILED while still in the meeting,
        // DISCONNECTED once out of it (left, ended, removed for good, client closed).
        let end = if self.state() == MeetingState::Joined && !self.is_closed() {
            MediaState::Failed
        } else {
            MediaState::Disconnected
        };
        if let Some(s) = self.take_session_into(end) {
            s.close_connection().await;
        }
        self.media.set_state(end);
        self.hub.emit(Event::new(
            "meeting:reconnectionFailure",
            json!({"meetingId": self.id, "attempts": attempts, "error": last.message}),
        ));
        Err(last)
    }

    /// Whether a reconnection attempt may run now: joined, or removed by Locus with autoRejoin.
    fn may_reconnect(&self, r: &super::settings::Reconnection) -> bool {
        if self.is_closed() {
            return false;
        }
        match self.state() {
            MeetingState::Joined => true,
            MeetingState::Left | MeetingState::Joining => r.auto_rejoin && self.removed.load(Ordering::SeqCst),
            _ => false,
        }
    }

    /// One attempt: rejoin when Locus removed us, then a new connection and OFFER.
    async fn reconnect_once(
        &self,
        device_url: &str,
        media: &MediaOptions,
        r: &super::settings::Reconnection,
    ) -> Result<()> {
        if let Some(old) = self.take_session_into(MediaState::Reconnecting) {
            old.close_connection().await;
        }
        self.media.set_state(MediaState::Reconnecting);
        if self.state() != MeetingState::Joined {
            if !self.may_reconnect(r) {
                return Err(Error::new(ErrorCode::Closed, format!("meeting {} was left", self.id)));
            }
            let view = self.join_locus(device_url, None, None).await?;
            if view.state != MeetingState::Joined {
                return Err(Error::new(
                    ErrorCode::Media,
                    format!("rejoining meeting {} landed in {}", self.id, view.state.as_str()),
                ));
            }
        }
        self.start_media(device_url, media, MediaState::Reconnecting).await
    }

    /// Sends one frame of this client's audio: interleaved 16-bit PCM at 48 kHz, `channels`
    /// 1 or 2, 480 or 960 samples per channel (10 or 20 ms). Encodes on the caller's thread
    /// and queues the packet for an engine task: never blocks, needs no runtime. While muted
    /// the frame is accepted and dropped.
    pub fn send_audio(&self, pcm: &[i16], channels: u32) -> Result<()> {
        if !matches!(channels, 1 | 2) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("audio must have 1 or 2 channels; got {channels}"),
            ));
        }
        let frames = pcm.len() / channels as usize;
        if !FRAME_SIZES.contains(&frames) || frames * channels as usize != pcm.len() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "audio frame must be 480 or 960 samples per channel (10 or 20 ms at 48 kHz); got {} samples for {channels} channel(s)",
                    pcm.len()
                ),
            ));
        }
        let (state, muted) =
            self.working.lock().map(|w| (w.state, w.audio_muted)).unwrap_or((MeetingState::Idle, false));
        let session = self.current_session().filter(|s| s.sends_audio());
        if session.is_none() && self.dropped_while_reconnecting(|m| m.send_audio).is_some() {
            return Ok(());
        }
        let Some(session) = session.filter(|_| state == MeetingState::Joined) else {
            return Err(Error::new(
                ErrorCode::Closed,
                format!(
                    "meeting {} is {}; audio frames can be sent only while JOINED with audio sending on",
                    self.id,
                    state.as_str()
                ),
            ));
        };
        if muted {
            return Ok(());
        }
        session.send_audio(pcm, channels)
    }

    /// Where received audio goes (None stops delivery). May be set before joining.
    pub fn set_audio_sink(&self, sink: Option<AudioSink>) {
        if let Ok(mut s) = self.media.sink.lock() {
            *s = sink;
        }
    }

    /// Per-stream media statistics (empty without media).
    pub async fn stats(&self) -> Vec<TrackStats> {
        match self.current_session() {
            Some(s) => s.stats().await,
            None => Vec::new(),
        }
    }

    /// Leave: `PUT <locusUrl>/participant/<selfId>/leave`.
    pub async fn leave(&self, device_url: &str) -> Result<MeetingView> {
        let _busy = self.busy.lock().await;
        let (_, self_id) = self.self_url()?;
        let locus_url = self.locus_url().ok_or_else(|| Error::internal("joined without a locus url"))?;
        self.transition(MeetingState::Leaving);
        let body = json!({
            "device": {"url": device_url, "deviceType": "WEB"},
            "usingResource": null,
            "correlationId": self.correlation_id,
        });
        let url = format!("{locus_url}/participant/{self_id}/leave");
        match self.http.send_json::<Value>(HttpRequest::new(Method::PUT, url).json(body)).await {
            Ok(answer) => {
                self.stop_media().await;
                self.apply(answer.get("locus").unwrap_or(&Value::Null));
                self.transition(MeetingState::Left);
                Ok(self.view())
            }
            Err(e) => {
                self.transition(MeetingState::Joined);
                Err(e)
            }
        }
    }

    /// End the meeting for everyone (host or moderator): `POST <locusUrl>/end`.
    pub async fn end(&self) -> Result<MeetingView> {
        let _busy = self.busy.lock().await;
        self.self_url()?;
        let locus_url = self.locus_url().ok_or_else(|| Error::internal("joined without a locus url"))?;
        let answer: Value = self.http.send_json(HttpRequest::new(Method::POST, format!("{locus_url}/end"))).await?;
        self.stop_media().await;
        if let Some(locus) = answer.get("locus") {
            self.apply(locus);
        }
        self.transition(MeetingState::Ended);
        Ok(self.view())
    }

    /// Mute or unmute this client's audio or video: `PUT <selfUrl>/media` with the local
    /// mute state (protocol.md §6.3). UNSURE: the official SDK holds mute-only requests until
    /// its first ROAP OFFER; without media there is none, so the state is sent at once.
    pub async fn set_muted(&self, device_url: &str, audio: Option<bool>, video: Option<bool>) -> Result<MeetingView> {
        let _busy = self.busy.lock().await;
        let (self_url, _) = self.self_url()?;
        let (audio_muted, video_muted) = {
            let w = self.working.lock().map_err(|_| Error::internal("meeting state poisoned"))?;
            (audio.unwrap_or(w.audio_muted), video.unwrap_or(w.video_muted))
        };
        // Muting stops the packets at once, before the cloud hears of it.
        let before = self.working.lock().map(|mut w| std::mem::replace(&mut w.audio_muted, audio_muted)).ok();
        let local_sdp = json!({"audioMuted": audio_muted, "videoMuted": video_muted}).to_string();
        let body = json!({
            "device": {"url": device_url, "deviceType": "WEB"},
            "correlationId": self.correlation_id,
            "clientMediaPreferences": {"preferTranscoding": true, "joinCookie": null, "ipver": 4},
            "respOnlySdp": true,
            "usingResource": null,
            "localMedias": [{"localSdp": local_sdp, "mediaId": null}],
        });
        let answer: Value =
            match self.http.send_json(HttpRequest::new(Method::PUT, format!("{self_url}/media")).json(body)).await {
                Ok(a) => a,
                Err(e) => {
                    if let (Some(b), Ok(mut w)) = (before, self.working.lock()) {
                        w.audio_muted = b;
                    }
                    return Err(e);
                }
            };
        if let Ok(mut w) = self.working.lock() {
            w.audio_muted = audio_muted;
            w.video_muted = video_muted;
        }
        if let Some(locus) = answer.get("locus") {
            self.apply(locus);
        }
        Ok(self.view())
    }

    /// Re-read the whole Locus (after a delta or a reconnect): `GET <locusUrl>`.
    pub async fn resync(&self) -> Result<()> {
        let Some(locus_url) = self.locus_url() else { return Ok(()) };
        let locus: Value = self.http.send_json(HttpRequest::get(locus_url)).await?;
        self.apply(&locus);
        Ok(())
    }

    /// Take a Locus DTO (from a response or an event): newer copies replace the working one,
    /// the state and roster follow, and their changes are emitted. Returns whether it was used.
    pub fn apply(&self, locus: &Value) -> bool {
        if !dto::is_locus(locus) {
            return false;
        }
        let mut events = Vec::new();
        let mut removal = false;
        {
            let Ok(mut w) = self.working.lock() else { return false };
            let current = w.locus.as_ref().and_then(dto::sequence);
            if !dto::is_newer(current, dto::sequence(locus)) {
                return false;
            }
            if let Some(url) = locus.get("url").and_then(Value::as_str) {
                w.locus_url = Some(url.to_owned());
            }
            let members = dto::roster(locus);
            let delta = dto::diff(&w.members, &members);
            if !delta.is_empty() {
                events
                    .push(Event::new("members:update", json!({"meetingId": self.id, "delta": delta, "full": members})));
            }
            w.members = members;
            if let Ok(mut csis) = self.media.csis.lock() {
                *csis = dto::audio_csis(locus);
            }
            if let Ok(mut csis) = self.media.video_csis.lock() {
                *csis = dto::video_csis(locus);
            }
            let next = dto::state_of(locus, w.state);
            let removed = next == MeetingState::Left && !matches!(w.state, MeetingState::Leaving | MeetingState::Left);
            events.extend(self.state_event(&mut w, next));
            if removed && w.state == MeetingState::Left {
                self.removed.store(true, Ordering::SeqCst);
                removal = true;
            }
            w.locus = Some(locus.clone());
        }
        for e in events {
            self.hub.emit(e);
        }
        self.drop_media_when_out();
        if removal {
            self.removal.notify_one();
        }
        true
    }

    /// Out of the meeting (ended, removed) with a media session still open: close it.
    fn drop_media_when_out(&self) {
        if !matches!(self.state(), MeetingState::Ended | MeetingState::Left) {
            return;
        }
        // The state changes now (a leave racing this event must see DISCONNECTED); the
        // connection closes on the runtime (without one, it waits in `closing` for the next
        // stop).
        if let Some(s) = self.take_session()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            s.start_close();
        }
    }

    fn transition(&self, next: MeetingState) {
        let events = self.working.lock().map(|mut w| self.state_event(&mut w, next)).unwrap_or_default();
        for e in events {
            self.hub.emit(e);
        }
    }

    /// Move to `next` if allowed; the events to emit once the lock is released:
    /// `meeting:stateChange`, then `meeting:ended` or `meeting:self:left` where they apply.
    fn state_event(&self, w: &mut Working, next: MeetingState) -> Vec<Event> {
        let previous = w.state;
        if previous == next || !previous.can_become(next) {
            return Vec::new();
        }
        w.state = next;
        tracing::info!(target: "webex::meetings", "meeting {}: {} -> {}", self.id, previous.as_str(), next.as_str());
        let mut events = vec![Event::new(
            "meeting:stateChange",
            json!({"meetingId": self.id, "previousState": previous, "currentState": next}),
        )];
        match next {
            MeetingState::Ended => events.push(Event::new("meeting:ended", json!({"meetingId": self.id}))),
            // Removed by someone else (a moderator, the cloud), not by our own leave.
            MeetingState::Left if previous != MeetingState::Leaving => {
                events.push(Event::new("meeting:self:left", json!({"meetingId": self.id, "reason": "removed"})))
            }
            _ => {}
        }
        events
    }
}

/// The SDP of the ROAP ANSWER in a `PUT /media` response (`mediaConnections[0].remoteSdp`, a
/// JSON string of `{"roapMessage": ...}`), or the error the server answered instead.
fn answer_sdp(response: &Value, seq: u64) -> Result<String> {
    let remote = response
        .pointer("/mediaConnections/0/remoteSdp")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::protocol("mediaConnections[0].remoteSdp is not a string"))?;
    let remote: Value = serde_json::from_str(remote)
        .map_err(|e| Error::protocol(format!("mediaConnections[0].remoteSdp is not JSON: {e}")))?;
    roap_sdp(remote.get("roapMessage").unwrap_or(&Value::Null), seq)
}

/// The SDP of a ROAP ANSWER to our OFFER `seq`, or the error the server answered instead.
fn roap_sdp(roap: &Value, seq: u64) -> Result<String> {
    match roap.get("messageType").and_then(Value::as_str) {
        Some("ANSWER") => {
            if roap.get("seq").and_then(Value::as_u64).is_some_and(|s| s != seq) {
                return Err(Error::protocol(format!("ROAP ANSWER for seq {} to OFFER seq {seq}", roap["seq"])));
            }
            roap.pointer("/sdps/0")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::protocol("ROAP ANSWER without sdps"))
        }
        Some("ERROR") => Err(Error::new(
            ErrorCode::Media,
            format!(
                "the media server refused the offer: {} {}",
                roap.get("errorType").and_then(Value::as_str).unwrap_or("ERROR"),
                roap.get("errorCause").and_then(Value::as_str).unwrap_or("")
            )
            .trim_end()
            .to_owned(),
        )),
        other => Err(Error::protocol(format!("expected a ROAP ANSWER to the offer, got {other:?}"))),
    }
}

/// Video frames (docs/meetings-design.md §5.4): the app encodes, the engine carries.
impl Meeting {
    /// Sends one encoded frame of this client's video (VP8 frame or H.264 access unit in
    /// Annex-B form, in the codec the join chose). Checked (not empty, a duration, VP8
    /// keyframes no larger than `meetings.resolution.max*`), copied and queued for an engine
    /// task: never blocks, needs no runtime. While video is muted the frame is accepted and
    /// dropped. After a `meeting:keyframeRequested` event, send a keyframe next.
    pub fn send_video(&self, frame: &[u8], info: super::media::VideoFrameInfo) -> Result<()> {
        let (state, muted) =
            self.working.lock().map(|w| (w.state, w.video_muted)).unwrap_or((MeetingState::Idle, false));
        let session = self.current_session().filter(|s| s.sends_video().is_some());
        if let (None, Some(m)) = (&session, self.dropped_while_reconnecting(|m| m.send_video)) {
            return super::media::video::check_frame(m.video_codec, frame, &info, self.settings.max_resolution);
        }
        let Some(session) = session.filter(|_| state == MeetingState::Joined) else {
            return Err(Error::new(
                ErrorCode::Closed,
                format!(
                    "meeting {} is {}; video frames can be sent only while JOINED with video sending on",
                    self.id,
                    state.as_str()
                ),
            ));
        };
        let codec = session.sends_video().unwrap_or_default();
        super::media::video::check_frame(codec, frame, &info, self.settings.max_resolution)?;
        if muted {
            return Ok(());
        }
        session.send_video(frame, info.duration)
    }

    /// Where received video goes (None stops delivery). May be set before joining.
    pub fn set_video_sink(&self, sink: Option<super::media::VideoSink>) {
        if let Ok(mut s) = self.media.video_sink.lock() {
            *s = sink;
        }
    }

    /// Asks the media server for a keyframe of `participant_id`'s video (a PLI on the receive
    /// slot carrying it), or of every received video when `None`. NOT_FOUND when that
    /// participant's video is not being received; CLOSED without media.
    pub async fn request_keyframe(&self, participant_id: Option<&str>) -> Result<()> {
        let state = self.state();
        let Some(session) = self.current_session().filter(|_| state == MeetingState::Joined) else {
            return Err(Error::new(
                ErrorCode::Closed,
                format!(
                    "meeting {} is {}; keyframes can be requested only while JOINED with video",
                    self.id,
                    state.as_str()
                ),
            ));
        };
        let Some(participant) = participant_id else {
            session.request_keyframe(None).await?;
            return Ok(());
        };
        let csis = self.media.video_csis_of(participant);
        if csis.is_empty() || session.request_keyframe(Some(&csis)).await? == 0 {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("no video of participant {participant:?} is being received in meeting {}", self.id),
            ));
        }
        Ok(())
    }

    /// The largest video this client may send, from `meetings.resolution.max*` and
    /// `meetings.bandwidth.video` (what the app's encoder should keep to).
    pub fn send_video_limits(&self) -> super::media::SendVideoLimits {
        let (max_width, max_height) = self.settings.max_resolution;
        super::media::SendVideoLimits { max_width, max_height, max_bitrate: self.settings.video_bandwidth }
    }
}
