//! Just enough of H.264 (ITU-T H.264 §7.3.2.1.1) to tell a picture's size from the sequence
//! parameter set an IDR access unit carries: the engine checks what the app sends against
//! `meetings.resolution` and tells the app the size of what it receives, without decoding.

/// The NAL units of an Annex-B byte stream (each without its start code), in order.
pub(crate) fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    // A start code is 00 00 01 (a 4-byte one is 00 00 00 01: the extra zero ends the
    // previous unit and is trimmed as trailing zero bytes).
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let ends: Vec<usize> = starts.iter().skip(1).map(|s| s - 3).chain(std::iter::once(data.len())).collect();
    starts.into_iter().zip(ends).map(move |(s, e)| {
        let mut unit = &data[s..e];
        while let [rest @ .., 0] = unit {
            unit = rest;
        }
        unit
    })
}

/// The type of a NAL unit (its header's low 5 bits).
pub(crate) fn nal_type(unit: &[u8]) -> Option<u8> {
    unit.first().map(|h| h & 0x1f)
}

/// Width × height in pixels from the first SPS (NAL type 7) of an access unit, cropping
/// applied; `None` without an SPS or when it cannot be read.
pub(crate) fn dimensions(access_unit: &[u8]) -> Option<(u32, u32)> {
    let sps = nal_units(access_unit).find(|u| nal_type(u) == Some(7))?;
    sps_dimensions(&unescape(sps.get(1..)?))
}

/// The RBSP of a NAL unit payload: every emulation prevention byte (00 00 03 → 00 00) removed.
fn unescape(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut zeros = 0;
    for &b in payload {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Reads bits most significant first; `None` past the end.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| Some((acc << 1) | self.bit()?))
    }

    /// Unsigned Exp-Golomb (`ue(v)`); at most 31 leading zeros (a 32-bit value).
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// Signed Exp-Golomb (`se(v)`).
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// The picture size an SPS RBSP (after the NAL header) describes.
fn sps_dimensions(rbsp: &[u8]) -> Option<(u32, u32)> {
    let mut r = Bits { data: rbsp, pos: 0 };
    let profile_idc = r.bits(8)?;
    r.bits(16)?; // constraint flags, level_idc
    r.ue()?; // seq_parameter_set_id
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    if matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma_format_idc = r.ue()?;
        if chroma_format_idc == 3 {
            separate_colour_plane = r.bit()? == 1;
        }
        r.ue()?; // bit_depth_luma_minus8
        r.ue()?; // bit_depth_chroma_minus8
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? == 1 {
            // seq_scaling_matrix_present_flag: skip every scaling list that is present.
            for i in 0..if chroma_format_idc == 3 { 12 } else { 8 } {
                if r.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256) % 256;
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bit()?; // delta_pic_order_always_zero_flag
            r.se()?; // offset_for_non_ref_pic
            r.se()?; // offset_for_top_to_bottom_field
            for _ in 0..r.ue()?.min(255) {
                r.se()?; // offset_for_ref_frame
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_map_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = u64::from(r.bit()?);
    if frame_mbs_only == 0 {
        r.bit()?; // mb_adaptive_frame_field_flag
    }
    r.bit()?; // direct_8x8_inference_flag
    let (mut crop_x, mut crop_y) = (0u64, 0u64);
    if r.bit()? == 1 {
        let (left, right, top, bottom) = (r.ue()?, r.ue()?, r.ue()?, r.ue()?);
        // Crop units (Table 6-1 and §7.4.2.1.1): chroma subsampling and field coding.
        let (unit_x, unit_y) = match (chroma_format_idc, separate_colour_plane) {
            (0, _) | (3, true) => (1, 2 - frame_mbs_only),
            (1, _) => (2, 2 * (2 - frame_mbs_only)),
            (2, _) => (2, 2 - frame_mbs_only),
            _ => (1, 2 - frame_mbs_only),
        };
        crop_x = unit_x * (u64::from(left) + u64::from(right));
        crop_y = unit_y * (u64::from(top) + u64::from(bottom));
    }
    let width = (width_mbs * 16).checked_sub(crop_x)?;
    let height = ((2 - frame_mbs_only) * height_map_units * 16).checked_sub(crop_y)?;
    Some((u32::try_from(width).ok()?, u32::try_from(height).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sandbox's test pattern (320x240, baseline) starts with an IDR access unit.
    const ASSET: &[u8] = include_bytes!("../../../../sandbox/assets/test-pattern-320x240.h264");

    #[test]
    fn the_test_patterns_sps_says_320x240() {
        assert_eq!(dimensions(ASSET), Some((320, 240)));
    }

    #[test]
    fn units_split_at_start_codes_and_drop_trailing_zeros() {
        let data = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 9];
        let units: Vec<&[u8]> = nal_units(&data).collect();
        assert_eq!(units, [&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 9][..]]);
        assert_eq!(units.iter().map(|u| nal_type(u)).collect::<Vec<_>>(), [Some(7), Some(8), Some(5)]);
    }

    #[test]
    fn emulation_prevention_bytes_are_removed() {
        assert_eq!(unescape(&[1, 0, 0, 3, 0, 0, 0, 3, 1]), [1, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn a_cropped_1080p_sps_is_1920x1080() {
        // profile 66 (baseline), level 40, id 0, log2_max_frame_num-4 = 0, poc type 2,
        // 1 ref frame, no gaps, 120 x 68 macroblocks, frame_mbs_only, direct_8x8, cropping
        // bottom 4 (x2 = 8 rows): 1920 x 1088 - 8.
        let mut w = BitWriter::default();
        w.bits(66, 8);
        w.bits(0, 8);
        w.bits(40, 8);
        for v in [0, 0, 2, 1] {
            w.ue(v);
        }
        w.bits(0, 1);
        w.ue(119);
        w.ue(67);
        w.bits(1, 1);
        w.bits(1, 1);
        w.bits(1, 1);
        for v in [0, 0, 0, 4] {
            w.ue(v);
        }
        w.bits(1, 1); // vui_parameters_present_flag (not read)
        assert_eq!(sps_dimensions(&w.finish()), Some((1920, 1080)));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        assert_eq!(dimensions(&[0, 0, 1, 0x67]), None);
        assert_eq!(dimensions(&[0, 0, 1, 0x67, 0, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(dimensions(&[0, 0, 1, 0x65, 0xff]), None);
        assert_eq!(dimensions(&[]), None);
    }

    #[derive(Default)]
    struct BitWriter {
        bits: Vec<u8>,
    }

    impl BitWriter {
        fn bits(&mut self, v: u32, n: u32) {
            (0..n).rev().for_each(|i| self.bits.push(((v >> i) & 1) as u8));
        }

        fn ue(&mut self, v: u32) {
            let n = 32 - (v + 1).leading_zeros();
            self.bits(0, n - 1);
            self.bits(v + 1, n);
        }

        fn finish(mut self) -> Vec<u8> {
            while !self.bits.len().is_multiple_of(8) {
                self.bits.push(0);
            }
            self.bits.chunks(8).map(|c| c.iter().fold(0, |a, b| (a << 1) | b)).collect()
        }
    }
}
