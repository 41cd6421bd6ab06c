//! The stage-2 spike, kept as a test: two peer connections on 127.0.0.1 connect, Opus frames
//! written with `TrackLocalStaticSample` arrive on the other side's `on_track`, and decode to
//! the tone that was sent.

use super::opus::{Decoder, Encoder};
use super::pc::{self, PcEvent, opus_codec};
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::{RTCPeerConnectionState, RTCSessionDescription};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

use super::opus::tests::power as goertzel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_carry_opus_on_loopback() {
    let started = Instant::now();
    let a = pc::build(LOOPBACK).await.unwrap();
    let mut b = pc::build(LOOPBACK).await.unwrap();
    let ssrc = 0x1234_5678;
    let track = Arc::new(
        TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                "stream".into(),
                "audio".into(),
                "audio".into(),
                RtpCodecKind::Audio,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                    codec: opus_codec(),
                    ..Default::default()
                }],
            ),
        )
        .unwrap(),
    );
    let sender = a.pc.add_track(track.clone() as Arc<dyn TrackLocal>).await.unwrap();
    // Two extra receive-only m-lines, as a meeting client offers them.
    for _ in 0..2 {
        let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
        a.pc.add_transceiver_from_kind(RtpCodecKind::Audio, Some(init)).await.unwrap();
    }
    let offer = a.pc.create_offer(None).await.unwrap();
    a.pc.set_local_description(offer).await.unwrap();
    let mut a_gathered = a.gathered.clone();
    pc::wait_gathered(&mut a_gathered, Duration::from_secs(5)).await.unwrap();
    let offer = a.pc.local_description().await.unwrap().sdp;
    assert!(offer.contains("a=candidate") && offer.contains("127.0.0.1"), "{offer}");
    assert_eq!(offer.matches("m=audio").count(), 3, "{offer}");

    b.pc.set_remote_description(RTCSessionDescription::offer(offer).unwrap()).await.unwrap();
    let answer = b.pc.create_answer(None).await.unwrap();
    b.pc.set_local_description(answer).await.unwrap();
    let mut b_gathered = b.gathered.clone();
    pc::wait_gathered(&mut b_gathered, Duration::from_secs(5)).await.unwrap();
    let answer = b.pc.local_description().await.unwrap().sdp;
    a.pc.set_remote_description(RTCSessionDescription::answer(answer).unwrap()).await.unwrap();

    let mut a_events = a.events;
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = a_events.recv().await {
            if let PcEvent::State(RTCPeerConnectionState::Connected) = e {
                return;
            }
        }
    })
    .await
    .expect("connected");
    let connected_after = started.elapsed();

    let pt = sender.get_parameters().await.unwrap().rtp_parameters.codecs[0].payload_type;
    assert_eq!(pt, pc::OPUS_PT);
    // Send 1 s of a 440 Hz tone, paced like a microphone.
    let send = tokio::spawn(async move {
        let mut enc = Encoder::new(1, 32_000).unwrap();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for k in 0..100usize {
            tick.tick().await;
            let pcm: Vec<i16> = (0..960)
                .map(|i| ((2.0 * std::f64::consts::PI * 440.0 * (k * 960 + i) as f64 / 48_000.0).sin() * 8000.0) as i16)
                .collect();
            let data = enc.encode(&pcm).unwrap();
            let sample =
                Sample { data: data.into(), duration: Duration::from_millis(20), ..Sample::new(Instant::now()) };
            track.write_sample(ssrc, pt, &sample, &[]).await.unwrap();
        }
    });

    let remote = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = b.events.recv().await {
            if let PcEvent::Track(t) = e {
                return t;
            }
        }
        panic!("no track")
    })
    .await
    .expect("a remote track");
    let mut dec = Decoder::new(1).unwrap();
    let mut pcm = Vec::new();
    let mut first_packet_after = None;
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = remote.poll().await {
            if let TrackRemoteEvent::OnRtpPacket(p) = e {
                first_packet_after.get_or_insert(started.elapsed());
                assert_eq!(p.header.ssrc, ssrc);
                pcm.extend(dec.decode(Some(&p.payload), 960).unwrap().iter().map(|&s| s as f64));
                if pcm.len() >= 48_000 / 2 {
                    return;
                }
            }
        }
    })
    .await
    .expect("0.5 s of audio");
    let tail = &pcm[pcm.len() / 4..];
    let best = (300..=600).max_by(|x, y| goertzel(tail, *x as f64).total_cmp(&goertzel(tail, *y as f64))).unwrap();
    assert!((435..=445).contains(&best), "dominant frequency {best} Hz");
    eprintln!("spike: connected after {connected_after:?}, first packet after {first_packet_after:?}");
    send.abort();
    a.pc.close().await.unwrap();
    b.pc.close().await.unwrap();
}
