//! The built-in participant's video: the test-pattern assets (sandbox/assets/README.md) split
//! into frames, each marked keyframe or not.

use bytes::Bytes;

static IVF: &[u8] = include_bytes!("../../../assets/test-pattern-320x240.ivf");
static H264: &[u8] = include_bytes!("../../../assets/test-pattern-320x240.h264");

/// One encoded frame of the asset.
#[derive(Clone, Debug)]
pub(super) struct Frame {
    pub data: Bytes,
    pub key: bool,
}

/// The VP8 asset's frames.
pub(super) fn vp8() -> Vec<Frame> {
    ivf_frames(IVF)
}

/// The H.264 asset's access units.
pub(super) fn h264() -> Vec<Frame> {
    annexb_frames(H264)
}

/// Frames of an IVF file: a 32-byte file header (`DKIF`, header length at byte 6), then per
/// frame a 12-byte header (u32 LE size, u64 LE pts) and the data. A truncated tail is
/// dropped. VP8 keyframes have bit 0 of the first byte clear (RFC 6386 §9.1).
fn ivf_frames(file: &[u8]) -> Vec<Frame> {
    if file.len() < 32 || &file[..4] != b"DKIF" {
        return Vec::new();
    }
    let mut at = usize::from(u16::from_le_bytes([file[6], file[7]]));
    let mut frames = Vec::new();
    while let Some(header) = file.get(at..at + 12) {
        let size = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let Some(data) = file.get(at + 12..at + 12 + size) else { break };
        if let Some(first) = data.first() {
            frames.push(Frame { data: Bytes::copy_from_slice(data), key: first & 1 == 0 });
        }
        at += 12 + size;
    }
    frames
}

/// The NAL units of an Annex-B stream (start codes removed).
fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut units = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let mut end = starts.get(n + 1).map_or(stream.len(), |next| next - 3);
        // A 4-byte start code leaves a zero before the 3-byte one we found.
        while end > s && stream[end - 1] == 0 && n + 1 < starts.len() {
            end -= 1;
        }
        if end > s {
            units.push(&stream[s..end]);
        }
    }
    units
}

/// Access units of an Annex-B stream, each re-emitted with 4-byte start codes (what the
/// H.264 payloader splits on). A slice whose `first_mb_in_slice` is 0 (first bit of the
/// slice header set) starts a new picture; parameter sets and SEI go with the next picture.
/// An IDR slice (type 5) makes it a keyframe.
fn annexb_frames(stream: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut current: Vec<&[u8]> = Vec::new();
    let mut has_slice = false;
    let flush = |units: &mut Vec<&[u8]>, frames: &mut Vec<Frame>| {
        if units.is_empty() {
            return;
        }
        let key = units.iter().any(|u| u[0] & 0x1f == 5);
        let mut data = Vec::new();
        for u in units.drain(..) {
            data.extend_from_slice(&[0, 0, 0, 1]);
            data.extend_from_slice(u);
        }
        frames.push(Frame { data: Bytes::from(data), key });
    };
    for unit in nal_units(stream) {
        let kind = unit[0] & 0x1f;
        let is_slice = matches!(kind, 1 | 5);
        let starts_picture = is_slice && unit.get(1).is_some_and(|b| b & 0x80 != 0);
        let non_vcl_after_slice = !is_slice && has_slice && matches!(kind, 6..=9);
        if has_slice && (starts_picture || non_vcl_after_slice) {
            flush(&mut current, &mut frames);
            has_slice = false;
        }
        current.push(unit);
        has_slice |= is_slice;
    }
    if has_slice {
        flush(&mut current, &mut frames);
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assets_are_thirty_frames_with_a_keyframe_every_fifteen() {
        for (name, frames) in [("vp8", vp8()), ("h264", h264())] {
            assert_eq!(frames.len(), 30, "{name}");
            let keys: Vec<usize> = frames.iter().enumerate().filter(|(_, f)| f.key).map(|(i, _)| i).collect();
            assert_eq!(keys, [0, 15], "{name}");
        }
    }

    #[test]
    fn bad_containers_give_no_frames() {
        assert!(ivf_frames(b"not an ivf").is_empty());
        assert!(annexb_frames(&[0, 0, 1]).is_empty());
        let mut ivf = b"DKIF".to_vec();
        ivf.resize(32, 0);
        ivf[6] = 32;
        ivf.extend_from_slice(&[100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
        assert!(ivf_frames(&ivf).is_empty(), "a truncated frame is dropped");
    }
}
