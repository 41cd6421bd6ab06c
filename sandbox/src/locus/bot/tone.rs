//! The built-in participant's audio: a sine tone, Opus-encoded once (20 ms mono frames at
//! 48 kHz) and looped. Every `unsafe` block of the sandbox lives here.

use unsafe_libopus as unsafe_opus;

const SAMPLE_RATE: i32 = 48_000;
/// Samples in one 20 ms frame.
pub(super) const FRAME_SAMPLES: usize = 960;
/// Frames encoded: one second (a 440 Hz tone is then exactly 440 cycles, a seamless loop).
const FRAMES: usize = 50;
/// libopus's recommended upper bound for one packet.
const MAX_PACKET: usize = 4000;

/// One second of a `hz` tone as 50 Opus packets; `None` if libopus refuses.
pub(super) fn encode(hz: f64) -> Option<Vec<Vec<u8>>> {
    let mut err = 0i32;
    // SAFETY: valid arguments (48 kHz, mono, a known application); `err` is a valid
    // out-pointer. A null result is handled below.
    let st = unsafe {
        unsafe_opus::opus_encoder_create(SAMPLE_RATE, 1, unsafe_opus::OPUS_APPLICATION_AUDIO, &mut err as *mut i32)
    };
    if st.is_null() || err != unsafe_opus::OPUS_OK {
        return None;
    }
    let mut packets = Vec::with_capacity(FRAMES);
    for f in 0..FRAMES {
        let pcm: Vec<i16> = (0..FRAME_SAMPLES)
            .map(|n| {
                let t = (f * FRAME_SAMPLES + n) as f64 / f64::from(SAMPLE_RATE);
                // A third of full scale: clearly audible, never clipping.
                ((std::f64::consts::TAU * hz * t).sin() * 10_000.0) as i16
            })
            .collect();
        let mut out = vec![0u8; MAX_PACKET];
        // SAFETY: `st` is a live encoder; `pcm` holds FRAME_SAMPLES mono samples; `out` has
        // MAX_PACKET writable bytes, which is the length passed.
        let n = unsafe {
            unsafe_opus::opus_encode(st, pcm.as_ptr(), FRAME_SAMPLES as i32, out.as_mut_ptr(), MAX_PACKET as i32)
        };
        if n < 0 {
            break;
        }
        out.truncate(n as usize);
        packets.push(out);
    }
    // SAFETY: `st` came from `opus_encoder_create` and is freed exactly once, here.
    unsafe { unsafe_opus::opus_encoder_destroy(st) };
    (packets.len() == FRAMES).then_some(packets)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_second_of_tone_is_fifty_packets() {
        let packets = super::encode(440.0).expect("encodes");
        assert_eq!(packets.len(), 50);
        assert!(packets.iter().all(|p| !p.is_empty()));
    }
}
