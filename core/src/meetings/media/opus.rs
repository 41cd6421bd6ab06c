//! A small safe wrapper over `unsafe-libopus` (libopus 1.3.1 transpiled to Rust: no system
//! library, no C toolchain): an [`Encoder`] and a [`Decoder`] at 48 kHz, mono or stereo,
//! 10 or 20 ms frames. Every `unsafe` block of the media code lives here.

use crate::error::{Error, ErrorCode, Result};
use unsafe_libopus as unsafe_opus;

/// The only sample rate the engine uses.
pub const SAMPLE_RATE: u32 = 48_000;
/// The largest Opus packet we produce (libopus recommends 4000 bytes as a safe upper bound).
const MAX_PACKET: usize = 4000;
/// The longest frame a packet may decode to: 120 ms at 48 kHz, per channel.
const MAX_FRAME: usize = 5760;

fn check_channels(channels: u32) -> Result<i32> {
    match channels {
        1 | 2 => Ok(channels as i32),
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("audio must be mono or stereo; got {channels} channels"),
        )),
    }
}

fn opus_error(what: &str, code: i32) -> Error {
    Error::new(ErrorCode::Media, format!("opus {what} failed (libopus error {code})"))
}

/// An Opus encoder (application VOIP).
pub struct Encoder {
    st: *mut unsafe_opus::OpusEncoder,
    channels: u32,
}

// SAFETY: the encoder state is a plain heap block owned by this value; libopus keeps no
// thread-local or global state for it, so moving it to another thread is sound. `&mut self`
// on every use keeps access exclusive (it is not `Sync`).
unsafe impl Send for Encoder {}

impl Encoder {
    /// A 48 kHz encoder for `channels` (1 or 2), at `bitrate` bits/s, with in-band FEC on.
    pub fn new(channels: u32, bitrate: i32) -> Result<Encoder> {
        let ch = check_channels(channels)?;
        let mut err = 0i32;
        // SAFETY: the arguments are valid by construction (48 kHz, 1|2 channels, a known
        // application); `err` is a valid out-pointer for the call. A null result is handled.
        let st = unsafe {
            unsafe_opus::opus_encoder_create(
                SAMPLE_RATE as i32,
                ch,
                unsafe_opus::OPUS_APPLICATION_VOIP,
                &mut err as *mut i32,
            )
        };
        if st.is_null() || err != unsafe_opus::OPUS_OK {
            return Err(opus_error("encoder create", err));
        }
        let mut e = Encoder { st, channels };
        e.ctl(unsafe_opus::OPUS_SET_BITRATE_REQUEST, bitrate)?;
        e.ctl(unsafe_opus::OPUS_SET_INBAND_FEC_REQUEST, 1)?;
        // Expect a little loss so FEC data is actually carried.
        e.ctl(unsafe_opus::OPUS_SET_PACKET_LOSS_PERC_REQUEST, 5)?;
        Ok(e)
    }

    fn ctl(&mut self, request: i32, value: i32) -> Result<()> {
        // SAFETY: `self.st` is a live encoder (created in `new`, freed only in `drop`); the
        // SET requests used here each take exactly one i32, which is what we pass.
        let r = unsafe {
            unsafe_opus::opus_encoder_ctl_impl(
                self.st,
                request,
                unsafe_opus::varargs::VarArgs::new(vec![unsafe_opus::varargs::VarArg::I32(value)]),
            )
        };
        if r != unsafe_opus::OPUS_OK {
            return Err(opus_error("encoder ctl", r));
        }
        Ok(())
    }

    /// Sets the target bitrate (bits/s).
    pub fn set_bitrate(&mut self, bitrate: i32) -> Result<()> {
        self.ctl(unsafe_opus::OPUS_SET_BITRATE_REQUEST, bitrate)
    }

    /// Channels this encoder takes.
    pub fn channels(&self) -> u32 {
        self.channels
    }

    /// Encodes one frame of interleaved PCM (480 or 960 samples per channel) into a packet.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>> {
        let per_channel = pcm.len() / self.channels as usize;
        if !matches!(per_channel, 480 | 960) || per_channel * self.channels as usize != pcm.len() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "audio frame must be 480 or 960 samples per channel (10 or 20 ms at 48 kHz); got {} samples for {} channel(s)",
                    pcm.len(),
                    self.channels
                ),
            ));
        }
        let mut out = vec![0u8; MAX_PACKET];
        // SAFETY: `self.st` is live; `pcm` holds exactly `per_channel * channels` samples as
        // checked above; `out` has `MAX_PACKET` writable bytes and we pass that length.
        let n = unsafe {
            unsafe_opus::opus_encode(self.st, pcm.as_ptr(), per_channel as i32, out.as_mut_ptr(), MAX_PACKET as i32)
        };
        if n < 0 {
            return Err(opus_error("encode", n));
        }
        out.truncate(n as usize);
        Ok(out)
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: `self.st` came from `opus_encoder_create` and is freed exactly once, here.
        unsafe { unsafe_opus::opus_encoder_destroy(self.st) }
    }
}

/// An Opus decoder.
pub struct Decoder {
    st: *mut unsafe_opus::OpusDecoder,
    channels: u32,
    buf: Vec<i16>,
}

// SAFETY: as for `Encoder`: an owned heap block with no shared state; `&mut self` on use.
unsafe impl Send for Decoder {}

impl Decoder {
    /// A 48 kHz decoder producing `channels` (1 or 2).
    pub fn new(channels: u32) -> Result<Decoder> {
        let ch = check_channels(channels)?;
        let mut err = 0i32;
        // SAFETY: valid rate and channel count; `err` is a valid out-pointer.
        let st = unsafe { unsafe_opus::opus_decoder_create(SAMPLE_RATE as i32, ch, &mut err as *mut i32) };
        if st.is_null() || err != unsafe_opus::OPUS_OK {
            return Err(opus_error("decoder create", err));
        }
        Ok(Decoder { st, channels, buf: vec![0; MAX_FRAME * channels as usize] })
    }

    /// Channels this decoder produces.
    pub fn channels(&self) -> u32 {
        self.channels
    }

    /// Decodes one packet into interleaved PCM (borrowed until the next call). `None` as the
    /// packet asks for loss concealment of one `conceal_samples`-long frame.
    pub fn decode(&mut self, packet: Option<&[u8]>, conceal_samples: usize) -> Result<&[i16]> {
        let (ptr, len, frame) = match packet {
            Some(p) => (p.as_ptr(), p.len() as i32, MAX_FRAME as i32),
            None => (std::ptr::null(), 0, conceal_samples.min(MAX_FRAME) as i32),
        };
        // SAFETY: `self.st` is live; `ptr`/`len` describe the caller's packet (or null/0 for
        // concealment, which libopus accepts); `buf` holds `MAX_FRAME * channels` samples and
        // `frame` ≤ MAX_FRAME per channel.
        let n = unsafe { unsafe_opus::opus_decode(self.st, ptr, len, self.buf.as_mut_ptr(), frame, 0) };
        if n < 0 {
            return Err(opus_error("decode", n));
        }
        Ok(&self.buf[..n as usize * self.channels as usize])
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: `self.st` came from `opus_decoder_create` and is freed exactly once, here.
        unsafe { unsafe_opus::opus_decoder_destroy(self.st) }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Power of `freq` in `x` (Goertzel); the media tests of this module tree share it.
    pub(crate) fn power(x: &[f64], freq: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / SAMPLE_RATE as f64;
        let c = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &v in x {
            let s = v + c * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        s1 * s1 + s2 * s2 - c * s1 * s2
    }

    fn tone(n: usize, start: usize, hz: f64, channels: usize) -> Vec<i16> {
        (0..n)
            .flat_map(|i| {
                let v =
                    ((2.0 * std::f64::consts::PI * hz * (start + i) as f64 / SAMPLE_RATE as f64).sin() * 8000.0) as i16;
                std::iter::repeat_n(v, channels)
            })
            .collect()
    }

    #[test]
    fn a_440_hz_tone_survives_a_round_trip() {
        for (channels, frame) in [(1usize, 960usize), (2, 480)] {
            let mut enc = Encoder::new(channels as u32, 32_000).unwrap();
            let mut dec = Decoder::new(channels as u32).unwrap();
            let mut out = Vec::new();
            for k in 0..50 {
                let packet = enc.encode(&tone(frame, k * frame, 440.0, channels)).unwrap();
                assert!(!packet.is_empty() && packet.len() < 400);
                let pcm = dec.decode(Some(&packet), frame).unwrap();
                assert_eq!(pcm.len(), frame * channels);
                out.extend(pcm.iter().step_by(channels).map(|&s| s as f64));
            }
            let tail = &out[out.len() / 2..];
            let best = (300..=600).step_by(2).max_by(|a, b| power(tail, *a as f64).total_cmp(&power(tail, *b as f64)));
            assert!(best.is_some_and(|f| (436..=444).contains(&f)), "dominant {best:?} Hz");
            // Concealment produces a frame too.
            assert_eq!(dec.decode(None, frame).unwrap().len(), frame * channels);
        }
    }

    #[test]
    fn wrong_frame_sizes_are_refused() {
        let mut enc = Encoder::new(1, 32_000).unwrap();
        let e = enc.encode(&[0; 500]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("500"), "{}", e.message);
        assert!(Encoder::new(3, 32_000).is_err());
    }
}
