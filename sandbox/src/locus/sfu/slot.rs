//! A receive slot: one local track toward a receiver, carrying one source at a time.

use std::sync::Mutex;

use rtc::rtp;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::locus::ops::Kind;
use crate::state::lock;

/// How far a slot's timestamp moves when its source changes: one frame of the kind's clock
/// (20 ms of 48 kHz audio; 1/30 s of 90 kHz video), so a receiver sees time go on.
fn source_change_step(kind: Kind) -> u32 {
    match kind {
        Kind::Audio => 960,
        Kind::Video => 3000,
    }
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
pub(super) struct Slot {
    pub kind: Kind,
    ssrc: u32,
    /// The payload type and codec the receiver negotiated on this m-line.
    pt: u8,
    mime: String,
    queue: mpsc::Sender<rtp::Packet>,
    state: Mutex<SlotState>,
}

impl Slot {
    pub fn new(kind: Kind, ssrc: u32, pt: u8, mime: String, queue: mpsc::Sender<rtp::Packet>) -> Slot {
        Slot { kind, ssrc, pt, mime, queue, state: Mutex::default() }
    }

    /// Whether the receiver negotiated this codec here (the SFU does not transcode).
    pub fn accepts(&self, mime: &str) -> bool {
        self.mime.eq_ignore_ascii_case(mime)
    }

    /// Rewrites a packet of `source` for this slot and queues it. A full queue means a slow
    /// receiver: the packet is dropped rather than stalling the sender.
    pub fn send(&self, mut pkt: rtp::Packet, source: Uuid, csi: u32) {
        self.rewrite(&mut pkt, source, csi);
        let _ = self.queue.try_send(pkt);
    }

    /// Continuous seq/ts across source changes, the slot's SSRC and PT, the source's CSI.
    fn rewrite(&self, pkt: &mut rtp::Packet, source: Uuid, csi: u32) {
        let mut s = lock(&self.state);
        let h = &mut pkt.header;
        let source = (source, h.ssrc);
        if s.source != Some(source) {
            if s.started {
                s.seq_delta = s.last_seq.wrapping_add(1).wrapping_sub(h.sequence_number);
                s.ts_delta = s.last_ts.wrapping_add(source_change_step(self.kind)).wrapping_sub(h.timestamp);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32) -> rtp::Packet {
        let mut p = rtp::Packet::default();
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p
    }

    #[test]
    fn a_new_source_continues_the_slot_sequence_and_clock() {
        let (tx, _rx) = mpsc::channel(4);
        let slot = Slot::new(Kind::Video, 7, 96, "video/VP8".into(), tx);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut p = packet(100, 5000);
        slot.rewrite(&mut p, a, 1);
        assert_eq!((p.header.sequence_number, p.header.timestamp, p.header.ssrc), (100, 5000, 7));
        let mut q = packet(9, 77);
        slot.rewrite(&mut q, b, 2);
        assert_eq!((q.header.sequence_number, q.header.timestamp, q.header.csrc.clone()), (101, 8000, vec![2]));
        assert!(slot.accepts("video/vp8") && !slot.accepts("video/H264"));
    }
}
