//! The sandbox media server (docs/meetings-design.md §4.3, stage 2: audio): one WebRTC peer
//! connection per participant, answering the participant's ROAP OFFER, and forwarding each
//! participant's audio RTP to the others. Every webrtc call of the sandbox lives here.
//!
//! Slots: every offered audio m-line on which the client can receive (`sendrecv` or
//! `recvonly` in its offer) is a receive slot, in m-line order. Receiver R's slot `i` carries
//! the `i`-th other participant with media, in the order their media sessions started
//! (others beyond the slot count are not heard by R). Forwarded packets get the slot's SSRC and payload type, a continuous
//! sequence/timestamp per slot, and `csrc = [source's audio CSI]` (`status.csis[0]` in the
//! Locus DTO), which is how a client tells who is speaking. A muted client simply sends
//! nothing; the slot stays assigned. Stage-2 simplification: a second OFFER from the same
//! participant replaces its connection instead of renegotiating it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::ice::mdns::MulticastDnsMode;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCBundlePolicy,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCRtcpMuxPolicy, RTCSessionDescription, SettingEngineBuilder,
    configure_rtcp_reports,
};

use crate::state::lock;

/// Opus as the clients offer it.
const OPUS_PT: u8 = 111;
/// Packets queued per receive slot before the oldest are dropped (a slow receiver never
/// stalls a sender).
const SLOT_QUEUE: usize = 64;

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// Media counters of one participant, as [`crate::Sandbox::meeting_media`] reports them.
#[derive(Clone, Debug)]
pub struct ParticipantMedia {
    /// The participant's email.
    pub email: String,
    /// Audio RTP packets the sandbox received from them.
    pub audio_packets: u64,
    /// When the last of them arrived.
    pub last_audio_at: Option<Instant>,
}

/// Who a media session belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Owner {
    pub locus: Uuid,
    pub participant: Uuid,
    pub email: String,
    /// The audio CSI (the CSRC of forwarded packets).
    pub csi: u32,
}

#[derive(Default)]
struct SlotState {
    /// The source and the SSRC of its upstream: a new upstream (a reconnected client starts
    /// over with a new SSRC and random sequence numbers) is a change of source too, or the
    /// receiver's SRTP would see a sequence jump it cannot follow.
    source: Option<(Uuid, u32)>,
    seq_delta: u16,
    ts_delta: u32,
    last_seq: u16,
    last_ts: u32,
    started: bool,
}

/// One receive slot of a participant: a local track toward them.
struct Slot {
    ssrc: u32,
    pt: u8,
    queue: mpsc::Sender<rtp::Packet>,
    state: Mutex<SlotState>,
}

impl Slot {
    /// Rewrites a packet of `source` for this slot: continuous seq/ts across source changes.
    fn rewrite(&self, pkt: &mut rtp::Packet, source: Uuid, csi: u32) {
        let mut s = lock(&self.state);
        let h = &mut pkt.header;
        let source = (source, h.ssrc);
        if s.source != Some(source) {
            if s.started {
                s.seq_delta = s.last_seq.wrapping_add(1).wrapping_sub(h.sequence_number);
                s.ts_delta = s.last_ts.wrapping_add(960).wrapping_sub(h.timestamp);
            }
            s.source = Some(source);
            s.started = true;
        }
        h.sequence_number = h.sequence_number.wrapping_add(s.seq_delta);
        h.timestamp = h.timestamp.wrapping_add(s.ts_delta);
        s.last_seq = h.sequence_number;
        s.last_ts = h.timestamp;
        h.ssrc = self.ssrc;
        h.payload_type = self.pt;
        h.csrc = vec![csi];
        // Extensions were negotiated on the source's leg, not on this one.
        h.extension = false;
        h.extensions.clear();
        h.extensions_padding = 0;
    }
}

/// A participant's media session.
struct Member {
    owner: Owner,
    pc: Arc<dyn PeerConnection>,
    slots: Vec<Slot>,
    audio_packets: AtomicU64,
    last_audio_at: Mutex<Option<Instant>>,
}

/// The media sessions of one locus, in join order.
#[derive(Default)]
struct Room {
    members: Mutex<Vec<Arc<Member>>>,
}

impl Room {
    /// Counts a packet from `source` and queues a copy for every receiver with a slot for it.
    fn forward(&self, source: Uuid, pkt: &rtp::Packet) {
        let members = lock(&self.members);
        let Some(src) = members.iter().find(|m| m.owner.participant == source) else { return };
        src.audio_packets.fetch_add(1, Ordering::Relaxed);
        *lock(&src.last_audio_at) = Some(Instant::now());
        for r in members.iter().filter(|m| m.owner.participant != source) {
            let index = members
                .iter()
                .filter(|m| m.owner.participant != r.owner.participant)
                .position(|m| m.owner.participant == source);
            let Some(slot) = index.and_then(|i| r.slots.get(i)) else { continue };
            let mut out = pkt.clone();
            slot.rewrite(&mut out, source, src.owner.csi);
            // Full queue: this receiver is slow; drop the packet rather than stall.
            let _ = slot.queue.try_send(out);
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

/// The audio m-lines of an SDP: whether the offerer can receive on each, in order.
fn audio_lines(sdp: &str) -> Vec<bool> {
    sdp.split("\nm=")
        .skip(1)
        .filter(|section| section.starts_with("audio"))
        .map(|section| {
            let dir = section
                .lines()
                .map(str::trim)
                .find(|l| matches!(*l, "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"))
                .unwrap_or("a=sendrecv");
            matches!(dir, "a=sendrecv" | "a=recvonly")
        })
        .collect()
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

impl Sfu {
    /// A media server whose connections bind `bind` (port 0).
    pub fn new(bind: IpAddr) -> Sfu {
        Sfu { bind, rooms: Mutex::new(HashMap::new()) }
    }

    /// Answers `owner`'s OFFER: a new connection (replacing any earlier one), one local track
    /// per offered audio m-line, the answer SDP once ICE gathering is complete.
    pub async fn offer(self: &Arc<Self>, owner: Owner, offer: String) -> Result<String, String> {
        let lines = audio_lines(&offer);
        let mut me = MediaEngine::default();
        me.register_codec(
            RTCRtpCodecParameters { rtp_codec: opus_codec(), payload_type: OPUS_PT },
            RtpCodecKind::Audio,
        )
        .map_err(|e| err("codec", e))?;
        let se = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_ice_timeouts(Some(Duration::from_secs(2)), Some(Duration::from_secs(6)), Some(Duration::from_secs(1)))
            .with_host_acceptance_min_wait(Some(Duration::ZERO))
            .build();
        let cfg = RTCConfigurationBuilder::new()
            .with_bundle_policy(RTCBundlePolicy::MaxBundle)
            .with_rtcp_mux_policy(RTCRtcpMuxPolicy::Require)
            .build();
        let (gathered_tx, mut gathered) = watch::channel(false);
        let (tracks_tx, mut tracks) = mpsc::unbounded_channel();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(cfg)
            .with_media_engine(me)
            .with_setting_engine(se)
            .with_interceptor_registry(configure_rtcp_reports(Registry::new()))
            .with_handler(Arc::new(Handler { gathered: gathered_tx, tracks: tracks_tx }))
            .with_udp_addrs(vec![SocketAddr::new(self.bind, 0)])
            .build()
            .await
            .map_err(|e| err("peer connection", e))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let result = self.negotiate(&pc, &owner, &lines, offer, &mut gathered).await;
        let (answer, outgoing) = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = pc.close().await;
                return Err(e);
            }
        };
        let mut slots = Vec::new();
        for (track, ssrc, pt, receives) in outgoing {
            let (tx, mut rx) = mpsc::channel::<rtp::Packet>(SLOT_QUEUE);
            // Until the receiver's connection is up the track is unbound and writes fail: those
            // packets are lost, the slot keeps going. It ends when the member is dropped.
            tokio::spawn(async move {
                while let Some(p) = rx.recv().await {
                    let _ = track.write_rtp(p).await;
                }
            });
            if receives {
                slots.push(Slot { ssrc, pt, queue: tx, state: Mutex::default() });
            }
        }
        let member = Arc::new(Member {
            owner: owner.clone(),
            pc,
            slots,
            audio_packets: AtomicU64::new(0),
            last_audio_at: Mutex::new(None),
        });
        let room = {
            let mut rooms = lock(&self.rooms);
            let room = rooms.entry(owner.locus).or_default().clone();
            let old = {
                let mut members = lock(&room.members);
                let old =
                    members.iter().position(|m| m.owner.participant == owner.participant).map(|i| members.remove(i));
                members.push(member);
                old
            };
            if let Some(old) = old {
                close_later(old.pc.clone());
            }
            room
        };
        let participant = owner.participant;
        tokio::spawn(async move {
            while let Some(track) = tracks.recv().await {
                let room = room.clone();
                tokio::spawn(async move {
                    while let Some(ev) = track.poll().await {
                        if let TrackRemoteEvent::OnRtpPacket(pkt) = ev {
                            room.forward(participant, &pkt);
                        }
                    }
                });
            }
        });
        Ok(answer)
    }

    /// Applies the offer, adds the outgoing tracks, answers and waits for gathering.
    #[allow(clippy::type_complexity)]
    async fn negotiate(
        &self,
        pc: &Arc<dyn PeerConnection>,
        owner: &Owner,
        lines: &[bool],
        offer: String,
        gathered: &mut watch::Receiver<bool>,
    ) -> Result<(String, Vec<(Arc<TrackLocalStaticRTP>, u32, u8, bool)>), String> {
        let desc = RTCSessionDescription::offer(offer).map_err(|e| err("offer", e))?;
        pc.set_remote_description(desc).await.map_err(|e| err("offer", e))?;
        // One track per audio m-line: the answerer's add_track takes the transceivers in
        // m-line order, so track i is m-line i.
        let mut outgoing = Vec::new();
        for (i, &receives) in lines.iter().enumerate() {
            let ssrc = rand::random::<u32>();
            let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                format!("sfu-{}", owner.participant),
                format!("sfu-{}-audio-{i}", owner.participant),
                format!("slot {i}"),
                RtpCodecKind::Audio,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                    codec: opus_codec(),
                    ..Default::default()
                }],
            )));
            let sender = pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.map_err(|e| err("add_track", e))?;
            outgoing.push((track, ssrc, sender, receives));
        }
        let answer = pc.create_answer(None).await.map_err(|e| err("answer", e))?;
        pc.set_local_description(answer).await.map_err(|e| err("answer", e))?;
        tokio::time::timeout(Duration::from_secs(5), gathered.wait_for(|g| *g))
            .await
            .map_err(|_| "ICE gathering did not complete".to_string())?
            .map_err(|e| err("gathering", e))?;
        let sdp = pc.local_description().await.ok_or("no local description")?.sdp;
        let mut out = Vec::new();
        for (track, ssrc, sender, receives) in outgoing {
            let pt = sender
                .get_parameters()
                .await
                .ok()
                .and_then(|p| p.rtp_parameters.codecs.first().map(|c| c.payload_type))
                .unwrap_or(OPUS_PT);
            out.push((track, ssrc, pt, receives));
        }
        Ok((sdp, out))
    }

    /// Drops a participant's media session (leave, kick, cut).
    pub fn remove(&self, locus: Uuid, participant: Uuid) -> bool {
        let mut rooms = lock(&self.rooms);
        let Some(room) = rooms.get(&locus).cloned() else { return false };
        let mut members = lock(&room.members);
        let Some(i) = members.iter().position(|m| m.owner.participant == participant) else { return false };
        close_later(members.remove(i).pc.clone());
        if members.is_empty() {
            rooms.remove(&locus);
        }
        true
    }

    /// Drops every media session of a locus (end).
    pub fn close_room(&self, locus: Uuid) {
        if let Some(room) = lock(&self.rooms).remove(&locus) {
            for m in lock(&room.members).drain(..) {
                close_later(m.pc.clone());
            }
        }
    }

    /// The counters of every participant with a media session in `locus`, in join order.
    pub fn media(&self, locus: Uuid) -> Vec<ParticipantMedia> {
        let rooms = lock(&self.rooms);
        let Some(room) = rooms.get(&locus) else { return Vec::new() };
        lock(&room.members)
            .iter()
            .map(|m| ParticipantMedia {
                email: m.owner.email.clone(),
                audio_packets: m.audio_packets.load(Ordering::Relaxed),
                last_audio_at: *lock(&m.last_audio_at),
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::audio_lines;

    #[test]
    fn audio_lines_read_directions_in_order() {
        let sdp = "v=0\r\nm=audio 9 UDP 111\r\na=sendonly\r\nm=audio 9 UDP 111\r\na=recvonly\r\nm=video 9 UDP 96\r\na=recvonly\r\nm=audio 9 UDP 111\r\na=mid:2\r\n";
        assert_eq!(audio_lines(sdp), [false, true, true]);
    }
}
