//! Keyframe requests (PLI, FIR) reach the media server's code.
//!
//! Inbound RTCP stops at the end of webrtc's interceptor chain unless an interceptor marks a
//! packet `Attribute::DeliverToApplication`. [`KeyframeRequests`] marks PLI and FIR (and lets
//! nothing else through): a receiver's request then arrives as `TrackLocalEvent::OnRtcpPacket`
//! from the slot's local track, and the SFU relays it to the slot's source.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// Where the interceptor sits: after every built-in one (application side), so those have
/// seen all the RTCP before this one narrows it to keyframe requests.
pub(crate) const SLOT: usize = 14_000;

/// Whether an RTCP packet asks for a keyframe.
pub(crate) fn is_keyframe_request(packet: &dyn rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

/// A PLI for the stream `media_ssrc` (the sender SSRC is not ours to name: 0).
pub(crate) fn pli(media_ssrc: u32) -> Box<dyn rtcp::Packet> {
    Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc })
}

/// Passes inbound PLI and FIR to the application; other inbound RTCP ends here as before.
#[derive(Default)]
pub(crate) struct KeyframeRequests {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let wanted: Vec<Box<dyn rtcp::Packet>> =
                packets.iter().filter(|p| is_keyframe_request(p.as_ref())).cloned().collect();
            if wanted.is_empty() {
                // Reports and NACKs: the other interceptors already acted on them.
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(wanted);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
