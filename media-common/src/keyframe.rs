//! The interceptor that lets keyframe requests reach the application (webrtc 0.21).
//!
//! Inbound RTCP stops at the end of webrtc's interceptor chain unless an interceptor marks it
//! `Attribute::DeliverToApplication` (see the docs of `TrackLocalEvent::OnRtcpPacket`). A
//! keyframe request (PLI or FIR) is about the video this end sends, and only the application
//! can answer it — the client's encoder, or the media server relaying it to the sender — so
//! this one marks those, and nothing else: reports and NACKs are for the other interceptors,
//! which have seen them by then (this one sits last, nearest the application). A marked
//! request then arrives on the sending track's `poll()`.

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use std::collections::VecDeque;
use std::time::Instant;

/// Where the interceptor sits in the chain: after every named slot (the jitter buffer is the
/// last one, 13 000), so every other interceptor has read the RTCP first.
pub const SLOT: usize = 14_000;

/// A PLI for the stream `media_ssrc` (the sender SSRC is not ours to name: 0).
pub fn pli(media_ssrc: u32) -> Box<dyn rtc::rtcp::Packet> {
    Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc })
}

/// Whether an RTCP packet asks for a keyframe.
pub fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

/// Passes inbound PLI/FIR on to the application; other inbound RTCP ends here (the chain's
/// end would drop it anyway). Outbound packets pass untouched.
#[derive(Default)]
pub struct KeyframeRequests {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<Box<dyn rtc::rtcp::Packet>> =
                packets.iter().filter(|p| is_keyframe_request(p.as_ref())).cloned().collect();
            if requests.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::receiver_report::ReceiverReport;

    #[test]
    fn only_pli_and_fir_are_keyframe_requests() {
        assert!(is_keyframe_request(&PictureLossIndication { sender_ssrc: 1, media_ssrc: 2 }));
        assert!(is_keyframe_request(&FullIntraRequest::default()));
        assert!(!is_keyframe_request(&ReceiverReport::default()));
    }
}
