//! The media sessions of one locus and the forwarding between them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rtc::rtp;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::PeerConnection;

use super::slot::Slot;
use super::{Owner, ParticipantMedia};
use crate::locus::ops::Kind;
use crate::state::lock;
use webex_media_common::keyframe;

/// How to ask a source for a keyframe.
#[derive(Clone)]
pub(crate) enum Upstream {
    /// A participant's inbound video track: a PLI goes back up it.
    Track { track: Arc<dyn TrackRemote>, ssrc: u32 },
    /// The built-in participant: it jumps to its next keyframe when this is set.
    Bot(Arc<AtomicBool>),
}

#[derive(Default)]
struct Counters {
    audio_packets: AtomicU64,
    video_packets: AtomicU64,
    keyframe_requests: AtomicU64,
    last_audio_at: Mutex<Option<Instant>>,
    last_video_at: Mutex<Option<Instant>>,
}

/// A participant's media session: a peer connection, or none for the built-in participant.
pub(crate) struct Member {
    pub(super) owner: Owner,
    pub(super) pc: Option<Arc<dyn PeerConnection>>,
    audio_slots: Vec<Slot>,
    video_slots: Vec<Slot>,
    /// Set once the member's video is known (its first video packet, or the bot at start).
    upstream: Mutex<Option<Upstream>>,
    counters: Counters,
}

impl Member {
    pub(super) fn new(owner: Owner, pc: Option<Arc<dyn PeerConnection>>, slots: Vec<Slot>) -> Member {
        let (audio_slots, video_slots) = slots.into_iter().partition(|s| s.kind == Kind::Audio);
        Member { owner, pc, audio_slots, video_slots, upstream: Mutex::new(None), counters: Counters::default() }
    }

    fn slots(&self, kind: Kind) -> &[Slot] {
        match kind {
            Kind::Audio => &self.audio_slots,
            Kind::Video => &self.video_slots,
        }
    }

    /// Where keyframe requests for this member's video go.
    pub(super) fn set_upstream(&self, upstream: Upstream) {
        *lock(&self.upstream) = Some(upstream);
    }

    fn count(&self, kind: Kind) {
        let (packets, at) = match kind {
            Kind::Audio => (&self.counters.audio_packets, &self.counters.last_audio_at),
            Kind::Video => (&self.counters.video_packets, &self.counters.last_video_at),
        };
        packets.fetch_add(1, Ordering::Relaxed);
        *lock(at) = Some(Instant::now());
    }

    pub(super) fn media(&self) -> ParticipantMedia {
        let c = &self.counters;
        ParticipantMedia {
            email: self.owner.email.clone(),
            audio_packets: c.audio_packets.load(Ordering::Relaxed),
            last_audio_at: *lock(&c.last_audio_at),
            video_packets: c.video_packets.load(Ordering::Relaxed),
            last_video_at: *lock(&c.last_video_at),
            keyframe_requests: c.keyframe_requests.load(Ordering::Relaxed),
        }
    }
}

/// The media sessions of one locus, in the order they started (the slot order).
#[derive(Default)]
pub(crate) struct Room {
    pub(super) members: Mutex<Vec<Arc<Member>>>,
}

/// Receiver `r`'s slot index for `source`: the source's place among the others.
fn slot_index(members: &[Arc<Member>], r: &Member, source: &Member) -> Option<usize> {
    members
        .iter()
        .filter(|m| m.owner.participant != r.owner.participant)
        .position(|m| m.owner.participant == source.owner.participant)
}

impl Room {
    /// Counts a `kind` packet of codec `mime` from `source` and queues a copy for every
    /// receiver with a slot for it that negotiated that codec. `false` when `source` is no
    /// longer in the room (left, replaced, or the room closed): its sender should stop.
    pub(crate) fn forward(&self, source: &Arc<Member>, kind: Kind, mime: &str, pkt: &rtp::Packet) -> bool {
        let members = lock(&self.members);
        if !members.iter().any(|m| Arc::ptr_eq(m, source)) {
            return false;
        }
        source.count(kind);
        let csi = source.owner.csi(kind);
        for r in members.iter().filter(|m| m.owner.participant != source.owner.participant) {
            let Some(slot) = slot_index(&members, r, source).and_then(|i| r.slots(kind).get(i)) else { continue };
            if slot.accepts(mime) {
                slot.send(pkt.clone(), source.owner.participant, csi);
            }
        }
        true
    }

    /// Receiver `receiver` asked for a keyframe on its video slot `slot`: count it on the
    /// slot's source and pass it up (a PLI to a participant, a jump for the bot).
    pub(super) async fn keyframe_request(&self, receiver: &Arc<Member>, slot: usize) {
        let upstream = {
            let members = lock(&self.members);
            let source = members.iter().filter(|m| m.owner.participant != receiver.owner.participant).nth(slot);
            let Some(source) = source else { return };
            source.counters.keyframe_requests.fetch_add(1, Ordering::Relaxed);
            lock(&source.upstream).clone()
        };
        match upstream {
            Some(Upstream::Track { track, ssrc }) => {
                // The source's connection may be closing; a lost request is harmless (the
                // receiver asks again).
                let _ = track.write_rtcp(vec![keyframe::pli(ssrc)]).await;
            }
            Some(Upstream::Bot(flag)) => flag.store(true, Ordering::Relaxed),
            None => {}
        }
    }
}
