//! The media server with video, the built-in participant (media bot) and ROAP over Mercury,
//! over real HTTP, a real Mercury socket and a real WebRTC connection on loopback.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use webex_media_common::codecs::{self, H264_PT, OPUS_PT, VP8_PT};
use webex_sandbox::{BotVideo, MEDIA_BOT_EMAIL, MediaBotOptions, ParticipantMedia, Sandbox};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCSessionDescription, configure_rtcp_reports,
};

use common::ws::{Ws, next_locus, register, wait_sockets};
use common::{json, start};

const ALICE: &str = "alice@example.com";
/// Safety net only: a broken server fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(20);

/// A meeting Alice started: its number, locus URL and Alice's participant URL.
struct Meeting {
    number: String,
    locus_url: String,
    self_url: String,
}

async fn start_meeting(sb: &Sandbox, device: &Value) -> Meeting {
    let token = sb.user(ALICE).unwrap().token;
    let body = json!({"title": "Media", "start": "2030-01-02T10:00:00Z", "end": "2030-01-02T11:00:00Z"});
    let (s, m) = json(Method::POST, &format!("{}/meetings", sb.hydra_url()), &token, Some(body)).await;
    assert_eq!(s, 200, "{m}");
    join_meeting(sb, ALICE, device, m["meetingNumber"].as_str().unwrap()).await
}

/// `email` joins the meeting with this number from `device`.
async fn join_meeting(sb: &Sandbox, email: &str, device: &Value, number: &str) -> Meeting {
    let token = sb.user(email).unwrap().token;
    let number = number.to_string();
    let url = format!("{}/locus/api/v1/loci/call", sb.base_url());
    let body = json!({"device": {"url": device["url"], "deviceType": "WEB"}, "correlationId": "corr-1",
        "invitee": {"address": format!("wbxmn:{number}")}});
    let (s, v) = json(Method::POST, &url, &token, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    let locus = &v["locus"];
    Meeting {
        number,
        locus_url: locus["url"].as_str().unwrap().to_string(),
        self_url: locus["self"]["url"].as_str().unwrap().to_string(),
    }
}

/// `PUT <selfUrl>/media` with a ROAP OFFER carrying `headers`; returns the response body.
async fn put_offer(sb: &Sandbox, m: &Meeting, sdp: &str, headers: Value) -> Value {
    put_offer_as(sb, ALICE, m, sdp, headers).await
}

/// [`put_offer`] as `email`.
async fn put_offer_as(sb: &Sandbox, email: &str, m: &Meeting, sdp: &str, headers: Value) -> Value {
    let token = sb.user(email).unwrap().token;
    let roap = json!({"messageType": "OFFER", "version": "2", "seq": 1, "sdps": [sdp], "tieBreaker": 7,
        "headers": headers});
    let local = json!({"audioMuted": false, "videoMuted": false, "roapMessage": roap, "reachability": null});
    let body = json!({"device": {"url": "x", "deviceType": "WEB"}, "correlationId": "corr-media",
        "localMedias": [{"localSdp": local.to_string(), "mediaId": "media-1"}]});
    let (s, v) = json(Method::PUT, &format!("{}/media", m.self_url), &token, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The ANSWER SDP inside an HTTP `mediaConnections`.
fn http_answer(v: &Value) -> String {
    let sdp: Value = serde_json::from_str(v["mediaConnections"][0]["remoteSdp"].as_str().expect("remoteSdp")).unwrap();
    assert_eq!(sdp["roapMessage"]["messageType"], "ANSWER", "{sdp}");
    sdp["roapMessage"]["sdps"][0].as_str().unwrap().to_string()
}

fn participant<'a>(locus: &'a Value, email: &str) -> &'a Value {
    locus["participants"].as_array().unwrap().iter().find(|p| p["person"]["email"] == email).expect(email)
}

/// The bot's counters in `meeting_media`.
fn bot_media(sb: &Sandbox, number: &str) -> Option<ParticipantMedia> {
    sb.meeting_media(number).into_iter().find(|m| m.email == MEDIA_BOT_EMAIL)
}

struct Handler {
    gathered: watch::Sender<bool>,
    packets: mpsc::UnboundedSender<(Arc<dyn TrackRemote>, rtp::Packet)>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let tx = self.packets.clone();
        tokio::spawn(async move {
            while let Some(ev) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(p) = ev {
                    let _ = tx.send((track.clone(), p));
                }
            }
        });
    }
}

/// A video codec as offered and its payload type.
type Video = (RTCRtpCodec, u8);

/// A receive-only client: one audio and (with a codec) one video m-line.
struct Client {
    pc: Arc<dyn PeerConnection>,
    packets: mpsc::UnboundedReceiver<(Arc<dyn TrackRemote>, rtp::Packet)>,
    offer: String,
    /// With [`Client::sending`]: the video track it sends on, and its SSRC.
    video_out: Option<(Arc<TrackLocalStaticRTP>, u32)>,
}

impl Client {
    async fn new(video: Option<Video>) -> Client {
        Client::build(video, false).await
    }

    /// A client whose video m-line also sends (`sendrecv`).
    async fn sending(video: Video) -> Client {
        Client::build(Some(video), true).await
    }

    async fn build(video: Option<Video>, send: bool) -> Client {
        // The codecs and settings the engine's clients use (webex-media-common).
        let mut me = MediaEngine::default();
        me.register_codec(
            RTCRtpCodecParameters { rtp_codec: codecs::opus(), payload_type: OPUS_PT },
            RtpCodecKind::Audio,
        )
        .unwrap();
        if let Some((codec, pt)) = &video {
            me.register_codec(
                RTCRtpCodecParameters { rtp_codec: codec.clone(), payload_type: *pt },
                RtpCodecKind::Video,
            )
            .unwrap();
        }
        let (se, cfg) = webex_media_common::connection_settings();
        let (gathered_tx, mut gathered) = watch::channel(false);
        let (tx, packets) = mpsc::unbounded_channel();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(cfg)
            .with_media_engine(me)
            .with_setting_engine(se)
            .with_interceptor_registry(configure_rtcp_reports(Registry::new()))
            .with_handler(Arc::new(Handler { gathered: gathered_tx, packets: tx }))
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await
            .expect("client peer connection");
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let recvonly =
            || Some(RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() });
        pc.add_transceiver_from_kind(RtpCodecKind::Audio, recvonly()).await.unwrap();
        let mut video_out = None;
        match video {
            Some((codec, _)) if send => {
                let ssrc = rand::random::<u32>();
                let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                    "client".into(),
                    "client-video".into(),
                    "camera".into(),
                    RtpCodecKind::Video,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                        codec,
                        ..Default::default()
                    }],
                )));
                pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.unwrap();
                video_out = Some((track, ssrc));
            }
            Some(_) => {
                pc.add_transceiver_from_kind(RtpCodecKind::Video, recvonly()).await.unwrap();
            }
            None => {}
        }
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        tokio::time::timeout(PATIENCE, gathered.wait_for(|g| *g)).await.expect("gathering in time").unwrap();
        let offer = pc.local_description().await.unwrap().sdp;
        Client { pc, packets, offer, video_out }
    }

    async fn answer(&self, sdp: String) {
        self.pc.set_remote_description(RTCSessionDescription::answer(sdp).unwrap()).await.unwrap();
    }

    /// The next packet received, on any track.
    async fn next(&mut self) -> (Arc<dyn TrackRemote>, rtp::Packet) {
        tokio::time::timeout(PATIENCE, self.packets.recv()).await.expect("a packet in time").expect("client open")
    }
}

/// `Some(keyframe?)` when a VP8 packet starts a frame, `None` for the rest of a frame.
fn vp8_frame_start(pkt: &rtp::Packet) -> Option<bool> {
    let mut vp8 = Vp8Packet::default();
    let payload: Bytes = vp8.depacketize(&pkt.payload).ok()?;
    (vp8.s == 1 && vp8.pid == 0).then(|| payload.first().is_some_and(|b| b & 1 == 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_is_seen_and_heard_and_a_pli_brings_a_keyframe() {
    let sb = start().await;
    let token = sb.user(ALICE).unwrap().token;
    let device = register(&sb, &token).await;
    assert!(!sb.add_media_bot("123456789", MediaBotOptions::default()), "no such meeting running");
    let m = start_meeting(&sb, &device).await;
    assert!(sb.add_media_bot(&m.number, MediaBotOptions::default()));
    assert!(!sb.add_media_bot(&m.number, MediaBotOptions::default()), "already in");
    let bad = MediaBotOptions { tone_hz: Some(f64::NAN), video: None };
    assert!(!sb.add_media_bot(&m.number, bad));

    // The bot is in everyone's roster with its own CSIs.
    let (_, locus) = json(Method::GET, &m.locus_url, &token, None).await;
    let bot = participant(&locus, MEDIA_BOT_EMAIL);
    assert_eq!(bot["state"], "JOINED");
    assert_eq!(bot["person"]["name"], "Sandbox Media Bot");
    assert_eq!(locus["fullState"]["count"], 2);
    let csis: Vec<u32> = bot["status"]["csis"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u32).collect();
    let (audio_csi, video_csi) = (csis[0], csis[1]);

    let mut client = Client::new(Some((codecs::vp8(false), VP8_PT))).await;
    let headers = json!(["includeAnswerInHttpResponse", "noOkInTransaction"]);
    let v = put_offer(&sb, &m, &client.offer, headers).await;
    client.answer(http_answer(&v)).await;

    // Audio and video from the bot, each stamped with the bot's CSI of that kind.
    let (mut heard, mut seen) = (false, false);
    let mut video_track = None;
    while !(heard && seen) {
        let (track, pkt) = client.next().await;
        match pkt.header.payload_type {
            111 => {
                assert_eq!(pkt.header.csrc, [audio_csi]);
                heard = true;
            }
            96 => {
                assert_eq!(pkt.header.csrc, [video_csi]);
                seen = true;
                video_track = Some((track, pkt.header.ssrc));
            }
            other => panic!("unexpected payload type {other}"),
        }
    }
    let bot = bot_media(&sb, &m.number).expect("the bot's counters");
    assert!(bot.audio_packets > 0 && bot.video_packets > 0, "{bot:?}");
    assert_eq!(bot.keyframe_requests, 0);

    // A PLI on the video receiver reaches the bot, whose next frame is a keyframe: within a
    // few frames (those already on their way) of the request being counted.
    let (track, ssrc) = video_track.unwrap();
    track.write_rtcp(vec![Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc })]).await.unwrap();
    while bot_media(&sb, &m.number).unwrap().keyframe_requests == 0 {
        client.next().await;
    }
    let mut frames = 0;
    loop {
        let (_, pkt) = client.next().await;
        if pkt.header.payload_type != 96 {
            continue;
        }
        match vp8_frame_start(&pkt) {
            Some(true) => break,
            Some(false) => frames += 1,
            None => {}
        }
        assert!(frames <= 4, "no keyframe after the PLI");
    }
    assert_eq!(bot_media(&sb, &m.number).unwrap().keyframe_requests, 1);

    // It leaves: out of the roster and of the media room.
    assert!(sb.remove_media_bot(&m.number));
    assert!(!sb.remove_media_bot(&m.number));
    let (_, locus) = json(Method::GET, &m.locus_url, &token, None).await;
    assert_eq!(participant(&locus, MEDIA_BOT_EMAIL)["state"], "LEFT");
    assert!(bot_media(&sb, &m.number).is_none());

    // Back again (same participant), then it leaves with the last person: the meeting does
    // not stay running for the bot alone.
    assert!(sb.add_media_bot(&m.number, MediaBotOptions { tone_hz: None, video: None }));
    assert_eq!(bot_media(&sb, &m.number).unwrap().keyframe_requests, 0, "a fresh media session");
    let (s, v) = json(Method::PUT, &format!("{}/leave", m.self_url), &token, Some(json!({}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(participant(&v["locus"], MEDIA_BOT_EMAIL)["state"], "LEFT");
    assert_eq!(v["locus"]["fullState"]["state"], "INACTIVE");
    assert!(sb.meeting_media(&m.number).is_empty());
    let _ = client.pc.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h264_bot_reaches_an_h264_receiver() {
    let sb = start().await;
    let token = sb.user(ALICE).unwrap().token;
    let device = register(&sb, &token).await;
    let m = start_meeting(&sb, &device).await;
    assert!(sb.add_media_bot(&m.number, MediaBotOptions { tone_hz: Some(880.0), video: Some(BotVideo::H264) }));
    let mut client = Client::new(Some((codecs::h264(false), H264_PT))).await;
    let v = put_offer(&sb, &m, &client.offer, json!(["includeAnswerInHttpResponse"])).await;
    client.answer(http_answer(&v)).await;
    let (_, locus) = json(Method::GET, &m.locus_url, &token, None).await;
    let video_csi = participant(&locus, MEDIA_BOT_EMAIL)["status"]["csis"][1].as_u64().unwrap() as u32;
    loop {
        let (_, pkt) = client.next().await;
        if pkt.header.payload_type == 102 {
            assert_eq!(pkt.header.csrc, [video_csi]);
            break;
        }
    }
    // Ending the meeting stops the bot with everything else.
    assert!(sb.end_meeting(&m.number));
    assert!(sb.meeting_media(&m.number).is_empty());
    let _ = client.pc.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roap_answers_go_over_mercury_unless_asked_in_http() {
    let sb = start().await;
    let token = sb.user(ALICE).unwrap().token;
    let device = register(&sb, &token).await;
    let mut ws = Ws::connect(&device, &token).await;
    wait_sockets(&sb, ALICE, 1).await;
    let m = start_meeting(&sb, &device).await;
    assert_eq!(next_locus(&mut ws).await["eventType"], "locus.participant_joined");

    // Without includeAnswerInHttpResponse: no mediaConnections, the ANSWER as an event.
    let client = Client::new(None).await;
    let v = put_offer(&sb, &m, &client.offer, json!(["noOkInTransaction"])).await;
    assert!(v.get("mediaConnections").is_none(), "{v}");
    assert!(v["locus"]["self"].is_object(), "{v}");
    let ev = next_locus(&mut ws).await;
    assert_eq!(ev["eventType"], "locus.message.roap");
    assert_eq!(ev["locusUrl"], m.locus_url.as_str());
    assert_eq!(ev["correlationId"], "corr-media");
    assert_eq!((ev["message"]["messageType"].clone(), ev["message"]["seq"].clone()), (json!("ANSWER"), json!(1)));
    client.answer(ev["message"]["sdps"][0].as_str().unwrap().to_string()).await;

    // The toggle sends it over Mercury even when asked in HTTP; off again, HTTP again.
    sb.set_roap_via_mercury(true);
    let client = Client::new(None).await;
    let v = put_offer(&sb, &m, &client.offer, json!(["includeAnswerInHttpResponse"])).await;
    assert!(v.get("mediaConnections").is_none(), "{v}");
    let ev = next_locus(&mut ws).await;
    assert_eq!(
        (ev["eventType"].clone(), ev["message"]["messageType"].clone()),
        (json!("locus.message.roap"), json!("ANSWER"))
    );
    sb.set_roap_via_mercury(false);
    let v = put_offer(&sb, &m, &client.offer, json!(["includeAnswerInHttpResponse"])).await;
    client.answer(http_answer(&v)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participants_video_reaches_the_other_and_a_pli_goes_back_up() {
    const BOB: &str = "bob@example.com";
    let sb = start().await;
    let (alice, bob) = (sb.user(ALICE).unwrap(), sb.user(BOB).unwrap());
    let (da, db) = (register(&sb, &alice.token).await, register(&sb, &bob.token).await);
    let ma = start_meeting(&sb, &da).await;
    let mb = join_meeting(&sb, BOB, &db, &ma.number).await;

    // Alice sends VP8 (made-up payloads: the SFU does not decode); Bob only receives.
    let sender = Client::sending((codecs::vp8(false), VP8_PT)).await;
    let v = put_offer(&sb, &ma, &sender.offer, json!(["includeAnswerInHttpResponse"])).await;
    sender.answer(http_answer(&v)).await;
    let mut receiver = Client::new(Some((codecs::vp8(false), VP8_PT))).await;
    let v = put_offer_as(&sb, BOB, &mb, &receiver.offer, json!(["includeAnswerInHttpResponse"])).await;
    receiver.answer(http_answer(&v)).await;
    let (track, ssrc) = sender.video_out.clone().unwrap();
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(33));
        for n in 0u32.. {
            tick.tick().await;
            let mut pkt =
                rtp::Packet { payload: Bytes::from_static(&[0x10, 0x00, 0x9d, 0x01, 0x2a]), ..Default::default() };
            let h = &mut pkt.header;
            (h.version, h.payload_type, h.ssrc, h.marker) = (2, 96, ssrc, true);
            (h.sequence_number, h.timestamp) = (n as u16, n.wrapping_mul(3000));
            // Before the connection is up the track is not bound yet: keep going.
            let _ = track.write_rtp(pkt).await;
        }
    });

    let (_, locus) = json(Method::GET, &ma.locus_url, &alice.token, None).await;
    let video_csi = participant(&locus, ALICE)["status"]["csis"][1].as_u64().unwrap() as u32;
    let (track, pkt) = loop {
        let (track, pkt) = receiver.next().await;
        if pkt.header.payload_type == 96 {
            break (track, pkt);
        }
    };
    assert_eq!(pkt.header.csrc, [video_csi]);
    let alice_media = |sb: &Sandbox| sb.meeting_media(&ma.number).into_iter().find(|m| m.email == ALICE).unwrap();
    assert!(alice_media(&sb).video_packets > 0);

    // Bob's PLI reaches Alice as a video source.
    let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: pkt.header.ssrc };
    track.write_rtcp(vec![Box::new(pli)]).await.unwrap();
    while alice_media(&sb).keyframe_requests == 0 {
        receiver.next().await;
    }
    writer.abort();
    let _ = sender.pc.close().await;
    let _ = receiver.pc.close().await;
}

/// The JSON controls the bindings use, called from a thread outside the runtime as a
/// binding's would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meeting_controls_in_json_from_any_thread() {
    let sb = Arc::new(start().await);
    let alice = register(&sb, &sb.user(ALICE).unwrap().token).await;
    let m = start_meeting(&sb, &alice).await;
    let control = |action: &'static str, params: Value| {
        let (sb, number) = (sb.clone(), m.number.clone());
        std::thread::spawn(move || sb.meeting_control(&number, action, &params)).join().unwrap()
    };
    let e = control("explode", Value::Null).unwrap_err();
    assert!(e.contains("unknown meeting control \"explode\"") && e.contains("addBot"), "{e}");
    assert!(control("cut", json!({})).unwrap_err().contains("cut needs {\"email\""));
    assert!(control("media", json!([1])).unwrap_err().contains("params must be a JSON object"));
    let e = control("addBot", json!({"video": "AV1"})).unwrap_err();
    assert!(e.contains("\"VP8\", \"H264\" or null") && e.contains("AV1"), "{e}");
    assert_eq!(control("addBot", json!({"toneHz": 440})).unwrap()["email"], MEDIA_BOT_EMAIL);
    let rows = control("media", Value::Null).unwrap();
    let bot = rows.as_array().unwrap().iter().find(|r| r["email"] == MEDIA_BOT_EMAIL).expect("the bot's row");
    assert!(bot["audioPackets"].is_u64() && bot["videoPackets"].is_u64() && bot["keyframeRequests"] == 0, "{bot}");
    assert!(control("addBot", Value::Null).unwrap_err().contains("already in"));
    let e = control("cut", json!({"email": "nobody@example.com"})).unwrap_err();
    assert!(e.contains("nobody@example.com has no media session"), "{e}");
    control("removeBot", Value::Null).unwrap();
    control("end", Value::Null).unwrap();
    let e = control("kick", json!({"email": ALICE})).unwrap_err();
    assert_eq!(e, format!("meeting {} is not running", m.number));
}

/// The same controls over HTTP, for apps that run the sandbox binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meeting_controls_over_http() {
    let sb = start().await;
    let alice = register(&sb, &sb.user(ALICE).unwrap().token).await;
    let m = start_meeting(&sb, &alice).await;
    let url = |action: &str| format!("{}/_sandbox/meetings/{}/{action}", sb.base_url(), m.number);
    let (s, v) = json(Method::POST, &url("addBot"), "", Some(json!({"video": "H264"}))).await;
    assert_eq!((s, v["email"].as_str()), (200, Some(MEDIA_BOT_EMAIL)), "{v}");
    let (s, v) = json(Method::POST, &url("media"), "", None).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.as_array().unwrap().iter().any(|r| r["email"] == MEDIA_BOT_EMAIL), "{v}");
    let (s, v) = json(Method::POST, &url("explode"), "", None).await;
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("unknown meeting control \"explode\""), "{v}");
    let (s, v) = json(Method::POST, &url("end"), "", None).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = json(Method::POST, &url("end"), "", None).await;
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("is not running"), "{v}");
}
