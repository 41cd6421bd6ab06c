//! Encoded video for the video tests: the sandbox's test-pattern assets split into frames,
//! and a sink that collects what a viewer sees.

use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use webex_core::meetings::{VideoCodec, VideoFrame, VideoSink};

/// The VP8 test pattern (320×240, 15 fps, keyframes at frames 0 and 15), IVF.
pub static VP8_ASSET: &[u8] = include_bytes!("../../sandbox/assets/test-pattern-320x240.ivf");
/// The same pattern in H.264 constrained baseline, Annex-B.
pub static H264_ASSET: &[u8] = include_bytes!("../../sandbox/assets/test-pattern-320x240.h264");

/// The frames of an IVF file: a 32-byte file header (`DKIF`, header length at bytes 6..8),
/// then per frame a 12-byte header (u32 LE size, u64 LE pts) and the frame.
pub fn ivf_frames(data: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&data[..4], b"DKIF", "not an IVF file");
    let mut at = u16::from_le_bytes([data[6], data[7]]) as usize;
    let mut frames = Vec::new();
    while at + 12 <= data.len() {
        let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        at += 12;
        frames.push(data[at..at + size].to_vec());
        at += size;
    }
    frames
}

/// The NAL units of an Annex-B stream, without their start codes (00 00 01 or 00 00 00 01).
pub fn nal_units(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new(); // (start code position, NAL position)
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            let code = if i > 0 && data[i - 1] == 0 { i - 1 } else { i };
            starts.push((code, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    starts.iter().enumerate().map(|(k, &(_, nal))| &data[nal..starts.get(k + 1).map_or(data.len(), |n| n.0)]).collect()
}

/// The access units (frames) of an Annex-B stream, each again in Annex-B form (4-byte start
/// codes). Kept simple: a frame is the NAL units up to and including a slice (types 1 and
/// 5), so a new one starts at the first NAL unit after a slice that is not a slice itself —
/// an access unit delimiter (9), SPS (7), PPS (8) or SEI (6) — or at a slice after a slice.
/// That holds for one slice per picture, as the assets have (x264, baseline, no B-frames).
pub fn annexb_frames(data: &[u8]) -> Vec<Vec<u8>> {
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut has_slice = false;
    for nal in nal_units(data) {
        let kind = nal[0] & 0x1f;
        let slice = kind == 1 || kind == 5;
        if has_slice && (slice || matches!(kind, 6..=9)) {
            frames.push(std::mem::take(&mut current));
            has_slice = false;
        }
        current.extend_from_slice(&[0, 0, 0, 1]);
        current.extend_from_slice(nal);
        has_slice |= slice;
    }
    if !current.is_empty() {
        frames.push(current);
    }
    frames
}

/// The asset frames of `codec`.
pub fn asset_frames(codec: VideoCodec) -> Vec<Vec<u8>> {
    match codec {
        VideoCodec::Vp8 => ivf_frames(VP8_ASSET),
        VideoCodec::H264 => annexb_frames(H264_ASSET),
    }
}

/// Whether an asset frame is a keyframe: VP8 key frame bit (bit 0 of the first byte clear),
/// H.264 an IDR slice or an SPS.
pub fn asset_keyframe(codec: VideoCodec, frame: &[u8]) -> bool {
    match codec {
        VideoCodec::Vp8 => frame.first().is_some_and(|b| b & 1 == 0),
        VideoCodec::H264 => nal_units(frame).iter().any(|n| matches!(n[0] & 0x1f, 5 | 7)),
    }
}

/// Whether two frames carry the same picture: the same bytes for VP8; for H.264 the same NAL
/// units, whatever their start codes, leaving out delimiters (9) and filler (12), which RTP
/// does not carry.
pub fn same_frame(codec: VideoCodec, a: &[u8], b: &[u8]) -> bool {
    match codec {
        VideoCodec::Vp8 => a == b,
        VideoCodec::H264 => {
            let nals = |d| nal_units(d).into_iter().filter(|n| !matches!(n[0] & 0x1f, 9 | 12)).collect::<Vec<_>>();
            nals(a) == nals(b)
        }
    }
}

/// One frame a viewer's sink got.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The sender's participant id.
    pub participant_id: Option<String>,
    /// Its codec.
    pub codec: VideoCodec,
    /// The frame.
    pub data: Vec<u8>,
    /// Keyframe flag.
    pub keyframe: bool,
    /// Width × height (VP8 keyframes).
    pub size: (u32, u32),
}

/// A video sink that forwards every frame to a channel.
pub fn video_sink() -> (VideoSink, UnboundedReceiver<Seen>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sink: VideoSink = Arc::new(move |f: &VideoFrame<'_>| {
        let _ = tx.send(Seen {
            participant_id: f.participant_id.map(str::to_owned),
            codec: f.codec,
            data: f.data.to_vec(),
            keyframe: f.keyframe,
            size: (f.width, f.height),
        });
    });
    (sink, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vp8_asset_has_30_frames_with_two_keyframes() {
        let frames = ivf_frames(VP8_ASSET);
        assert_eq!(frames.len(), 30);
        let keys: Vec<usize> = (0..30).filter(|&i| frames[i][0] & 1 == 0).collect();
        assert_eq!(keys, [0, 15]);
    }

    #[test]
    fn annexb_splits_at_access_units() {
        let stream = [
            &[0, 0, 0, 1, 0x67, 1][..], // SPS
            &[0, 0, 1, 0x68, 2],        // PPS
            &[0, 0, 1, 0x65, 3, 3],     // IDR
            &[0, 0, 0, 1, 0x41, 4],     // P
            &[0, 0, 1, 0x09, 0xf0],     // AUD
            &[0, 0, 1, 0x41, 5],        // P
        ]
        .concat();
        let frames = annexb_frames(&stream);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0], [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 3, 3]);
        assert_eq!(frames[1], [0, 0, 0, 1, 0x41, 4]);
        assert!(same_frame(VideoCodec::H264, &frames[2], &[0, 0, 1, 0x41, 5]));
        assert_eq!(annexb_frames(H264_ASSET).len(), 30);
    }
}
