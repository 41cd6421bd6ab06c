//! The sandbox media server (docs/meetings-design.md §4.3): one WebRTC peer connection per
//! participant, answering the participant's ROAP OFFER, and forwarding each participant's
//! audio and video RTP to the others. Every webrtc call of the sandbox lives here and in
//! [`super::bot`]; what the clients' connections share with it is in `webex-media-common`.
//!
//! Slots: every offered audio (video) m-line on which the client can receive (`sendrecv` or
//! `recvonly` in its offer) is an audio (video) receive slot, in m-line order. Receiver R's
//! slot `i` of each kind carries the `i`-th other participant with media, in the order their
//! media sessions started (others beyond the slot count are not heard or seen by R).
//! Forwarded packets get the slot's SSRC and payload type, a continuous sequence/timestamp
//! per slot, and `csrc = [source's CSI of that kind]` (`status.csis` in the Locus DTO), which
//! is how a client tells who is speaking or shown. Video goes only to slots that negotiated
//! the source's codec (no transcoding). A PLI/FIR from a receiver on a video slot goes up to
//! the slot's source. A muted client simply sends nothing; the slot stays assigned.
//! Simplification: a second OFFER from the same participant replaces its connection instead
//! of renegotiating it.

mod codecs;
mod room;
mod sdp;
mod slot;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::interceptor::{Registry, Slot as ChainSlot};
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCSessionDescription,
    configure_rtcp_reports,
};

pub(crate) use room::{Member, Room, Upstream};
pub(crate) use webex_media_common::codecs::{H264_PT, OPUS_PT, VP8_PT};

use super::ops::Kind;
use crate::state::lock;
use sdp::{Line, media_lines};
use slot::Slot;
use webex_media_common::keyframe::{self, KeyframeRequests};

/// Packets queued per receive slot before the newest are dropped (a slow receiver never
/// stalls a sender).
const SLOT_QUEUE: usize = 64;

/// Media counters of one participant, as [`crate::Sandbox::meeting_media`] reports them.
#[derive(Clone, Debug)]
pub struct ParticipantMedia {
    /// The participant's email.
    pub email: String,
    /// Audio RTP packets the sandbox received from them (for the built-in participant: sent).
    pub audio_packets: u64,
    /// When the last of them arrived.
    pub last_audio_at: Option<Instant>,
    /// Video RTP packets the sandbox received from them (for the built-in participant: sent).
    pub video_packets: u64,
    /// When the last of them arrived.
    pub last_video_at: Option<Instant>,
    /// Keyframe requests (PLI/FIR) from receivers that reached them as a video source.
    pub keyframe_requests: u64,
}

/// Who a media session belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Owner {
    pub locus: Uuid,
    pub participant: Uuid,
    pub email: String,
    /// The audio and video CSIs (the CSRC of forwarded packets of each kind).
    pub csis: [u32; 2],
}

impl Owner {
    /// The CSI of this kind.
    pub fn csi(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Audio => self.csis[0],
            Kind::Video => self.csis[1],
        }
    }
}

/// Every media session of the sandbox.
pub(crate) struct Sfu {
    bind: IpAddr,
    rooms: Mutex<HashMap<Uuid, Arc<Room>>>,
}

impl std::fmt::Debug for Sfu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sfu").field("bind", &self.bind).field("rooms", &lock(&self.rooms).len()).finish()
    }
}

struct Handler {
    gathered: watch::Sender<bool>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.send_replace(true);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// A local track toward the offerer, one per offered m-line, and what was negotiated on it.
struct Outgoing {
    track: Arc<TrackLocalStaticRTP>,
    line: Line,
    ssrc: u32,
    pt: u8,
    mime: String,
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

fn rtc_kind(kind: Kind) -> RtpCodecKind {
    match kind {
        Kind::Audio => RtpCodecKind::Audio,
        Kind::Video => RtpCodecKind::Video,
    }
}

impl Sfu {
    /// A media server whose connections bind `bind` (port 0).
    pub fn new(bind: IpAddr) -> Sfu {
        Sfu { bind, rooms: Mutex::new(HashMap::new()) }
    }

    /// Answers `owner`'s OFFER: a new connection (replacing any earlier one), one local track
    /// per offered audio/video m-line, the answer SDP once ICE gathering is complete.
    pub async fn offer(self: &Arc<Self>, owner: Owner, offer: String) -> Result<String, String> {
        let lines = media_lines(&offer);
        let (se, cfg) = webex_media_common::connection_settings();
        // No NACK responder: on loopback nothing is lost, and retransmitting would mean
        // keeping every forwarded packet per slot.
        let registry =
            configure_rtcp_reports(Registry::new()).with(ChainSlot::from(keyframe::SLOT), KeyframeRequests::default());
        let (gathered_tx, mut gathered) = watch::channel(false);
        let (tracks_tx, tracks) = mpsc::unbounded_channel();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(cfg)
            .with_media_engine(codecs::media_engine()?)
            .with_setting_engine(se)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler { gathered: gathered_tx, tracks: tracks_tx }))
            .with_udp_addrs(vec![SocketAddr::new(self.bind, 0)])
            .build()
            .await
            .map_err(|e| err("peer connection", e))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let (answer, outgoing) = match self.negotiate(&pc, &owner, &lines, offer, &mut gathered).await {
            Ok(r) => r,
            Err(e) => {
                let _ = pc.close().await;
                return Err(e);
            }
        };
        let mut slots = Vec::new();
        let mut requesters = Vec::new();
        for out in outgoing {
            let (tx, mut rx) = mpsc::channel::<rtp::Packet>(SLOT_QUEUE);
            let track = out.track.clone();
            // Until the receiver's connection is up, writes fail: those packets are lost, the
            // slot keeps going. It ends when the member is dropped.
            tokio::spawn(async move {
                while let Some(p) = rx.recv().await {
                    let _ = track.write_rtp(p).await;
                }
            });
            if out.line.receives {
                if out.line.kind == Kind::Video {
                    let index = slots.iter().filter(|s: &&Slot| s.kind == Kind::Video).count();
                    requesters.push((out.track.clone(), index));
                }
                slots.push(Slot::new(out.line.kind, out.ssrc, out.pt, out.mime, tx));
            }
        }
        let member = Arc::new(Member::new(owner.clone(), Some(pc), slots));
        let room = self.join_room(member.clone());
        for (track, index) in requesters {
            tokio::spawn(relay_keyframe_requests(room.clone(), member.clone(), track, index));
        }
        tokio::spawn(read_tracks(room, member, tracks));
        Ok(answer)
    }

    /// Adds a member to its locus's room (replacing the participant's earlier session).
    fn join_room(&self, member: Arc<Member>) -> Arc<Room> {
        let mut rooms = lock(&self.rooms);
        let room = rooms.entry(member.owner.locus).or_default().clone();
        let old = {
            let mut members = lock(&room.members);
            let old =
                members.iter().position(|m| m.owner.participant == member.owner.participant).map(|i| members.remove(i));
            members.push(member);
            old
        };
        if let Some(pc) = old.and_then(|m| m.pc.clone()) {
            close_later(pc);
        }
        room
    }

    /// Adds a member without a connection (the built-in participant): it receives nothing,
    /// its media is fed with [`Room::forward`], and a keyframe request sets the returned flag.
    pub fn add_virtual(&self, owner: Owner) -> (Arc<Room>, Arc<Member>, Arc<AtomicBool>) {
        let member = Arc::new(Member::new(owner, None, Vec::new()));
        let flag = Arc::new(AtomicBool::new(false));
        member.set_upstream(Upstream::Bot(flag.clone()));
        (self.join_room(member.clone()), member, flag)
    }

    /// Applies the offer, adds the outgoing tracks, answers and waits for gathering.
    async fn negotiate(
        &self,
        pc: &Arc<dyn PeerConnection>,
        owner: &Owner,
        lines: &[Line],
        offer: String,
        gathered: &mut watch::Receiver<bool>,
    ) -> Result<(String, Vec<Outgoing>), String> {
        let desc = RTCSessionDescription::offer(offer).map_err(|e| err("offer", e))?;
        pc.set_remote_description(desc).await.map_err(|e| err("offer", e))?;
        // One track per m-line: the answerer's add_track takes the first same-kind
        // transceiver without a sender, in m-line order, so the i-th track of a kind is that
        // kind's i-th m-line.
        let mut added = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let ssrc = rand::random::<u32>();
            // Audio is always Opus; video takes whichever codec the m-line negotiates (no
            // codec preference), read back from the sender below.
            let codec = if line.kind == Kind::Audio { codecs::opus() } else { Default::default() };
            let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                format!("sfu-{}", owner.participant),
                format!("sfu-{}-{i}", owner.participant),
                format!("slot {i}"),
                rtc_kind(line.kind),
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                    codec,
                    ..Default::default()
                }],
            )));
            let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.map_err(|e| err("add_track", e))?;
            added.push((track, *line, ssrc, sender));
        }
        let answer = pc.create_answer(None).await.map_err(|e| err("answer", e))?;
        pc.set_local_description(answer).await.map_err(|e| err("answer", e))?;
        tokio::time::timeout(Duration::from_secs(5), gathered.wait_for(|g| *g))
            .await
            .map_err(|_| "ICE gathering did not complete".to_string())?
            .map_err(|e| err("gathering", e))?;
        let sdp = pc.local_description().await.ok_or("no local description")?.sdp;
        let mut out = Vec::new();
        for (track, line, ssrc, sender) in added {
            let negotiated = sender.get_parameters().await.ok().and_then(|p| p.rtp_parameters.codecs.first().cloned());
            let (pt, mime) = match negotiated {
                Some(c) => (c.payload_type, c.rtp_codec.mime_type),
                // Nothing in common on this m-line: the slot accepts no codec.
                None => (0, String::new()),
            };
            out.push(Outgoing { track, line, ssrc, pt, mime });
        }
        Ok((sdp, out))
    }

    /// Drops a participant's media session (leave, kick, cut).
    pub fn remove(&self, locus: Uuid, participant: Uuid) -> bool {
        let mut rooms = lock(&self.rooms);
        let Some(room) = rooms.get(&locus).cloned() else { return false };
        let mut members = lock(&room.members);
        let Some(i) = members.iter().position(|m| m.owner.participant == participant) else { return false };
        if let Some(pc) = members.remove(i).pc.clone() {
            close_later(pc);
        }
        if members.is_empty() {
            rooms.remove(&locus);
        }
        true
    }

    /// Drops every media session of a locus (end).
    pub fn close_room(&self, locus: Uuid) {
        if let Some(room) = lock(&self.rooms).remove(&locus) {
            for m in lock(&room.members).drain(..) {
                if let Some(pc) = m.pc.clone() {
                    close_later(pc);
                }
            }
        }
    }

    /// The counters of every participant with a media session in `locus`, in join order.
    pub fn media(&self, locus: Uuid) -> Vec<ParticipantMedia> {
        let rooms = lock(&self.rooms);
        let Some(room) = rooms.get(&locus) else { return Vec::new() };
        lock(&room.members).iter().map(|m| m.media()).collect()
    }
}

/// Forwards every packet of every inbound track of `member`, routed by the track's kind.
async fn read_tracks(room: Arc<Room>, member: Arc<Member>, mut tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>) {
    while let Some(track) = tracks.recv().await {
        let (room, member) = (room.clone(), member.clone());
        tokio::spawn(async move {
            let kind = match track.kind().await {
                RtpCodecKind::Video => Kind::Video,
                _ => Kind::Audio,
            };
            let mut mime: Option<String> = None;
            while let Some(ev) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(pkt) = ev else { continue };
                if mime.is_none() {
                    mime = match track.codec(pkt.header.ssrc).await {
                        Some(c) => Some(c.mime_type),
                        None => codecs::mime_of(pkt.header.payload_type).map(str::to_owned),
                    };
                    if kind == Kind::Video {
                        member.set_upstream(Upstream::Track { track: track.clone(), ssrc: pkt.header.ssrc });
                    }
                }
                let codec = mime.as_deref().unwrap_or_default();
                if !room.forward(&member, kind, codec, &pkt) {
                    break;
                }
            }
        });
    }
}

/// Relays the keyframe requests a receiver sends on its video slot `index` to the slot's
/// source. Ends when the connection closes.
async fn relay_keyframe_requests(room: Arc<Room>, member: Arc<Member>, track: Arc<TrackLocalStaticRTP>, index: usize) {
    while let Some(TrackLocalEvent::OnRtcpPacket(packets)) = track.poll().await {
        if packets.iter().any(|p| keyframe::is_keyframe_request(p.as_ref())) {
            room.keyframe_request(&member, index).await;
        }
    }
}

/// Closes a connection on the runtime (callers hold locks and are not async).
fn close_later(pc: Arc<dyn PeerConnection>) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = pc.close().await;
        });
    }
}
