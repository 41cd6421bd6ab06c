//! Meetings with audio against the sandbox binary (`webex-sandbox`, its own process):
//!
//! 1. join → first received audio frame: Alice is in the meeting sending a 440 Hz tone at
//!    real-time pace; Bob joins with audio send+receive; the time from calling join to the first
//!    decoded frame in Bob's sink. Reference, same run: Bob's bare join without media. Goal ≤ 1 s.
//! 2. CPU of one audio leg: this process sends 20 ms tone frames and receives one remote
//!    participant (a child `meetings --peer` process) for a window; `/proc/self/stat`
//!    utime+stime ÷ wall. Reference, same run: the same client joined without media over the
//!    same window. Goal ≤ 5 % of a core.
//! 3. Capacity: N = 2, 4, 8, 12, 16, 24, 32 core clients (each its own client, device and
//!    sandbox user; all in this process) with audio send+receive in one fresh meeting, each
//!    sending a tone for a window. Delivery = frames heard by all sinks ÷ N × min(3, N−1) ×
//!    frames per sender (every receiver hears up to 3 others, the default receive slots); the
//!    RTP packets received (stats, without Opus concealment) are shown next to it. Capacity =
//!    the largest N with ≥ 95 % delivery (both counts) and sandbox CPU < 90 % of a core.
//!
//! Run: `cargo build --release -p webex-bench -p webex-sandbox --bin meetings --bin webex-sandbox`
//! (name both binaries: `--bin` filters every package) then `target/release/meetings [--quick]`. `--quick`: 3 joins, 5 s windows, ramp to 8; `--max N`:
//! ramp to N participants (past 32 in steps of 16).
//! The sandbox binary is looked up next to this executable (or `WEBEX_SANDBOX_BIN`).

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};
use tokio::time::MissedTickBehavior;
use webex_core::meetings::meeting::Meeting;
use webex_core::meetings::{AudioFrame, AudioSink, MediaOptions};
use webex_core::rest::meetings::CreateMeeting;
use webex_core::{Client, Config};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
/// One frame: 20 ms at 48 kHz, mono.
const FRAME: Duration = Duration::from_millis(20);
/// How long a join may wait for the first frame before the run counts as failed.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Ticks of the kernel's /proc clock (USER_HZ: 100 on every Linux ABI).
const USER_HZ: f64 = 100.0;

struct Plan {
    quick: bool,
    joins: usize,
    leg_window: Duration,
    step_window: Duration,
    ramp: Vec<usize>,
}

/// The 440 Hz tone: 5 frames of 20 ms are exactly 44 periods, so they loop without a click.
fn tone(i: usize) -> &'static [i16] {
    static TONE: OnceLock<Vec<Vec<i16>>> = OnceLock::new();
    let frames = TONE.get_or_init(|| {
        (0..5)
            .map(|f| {
                (0..960)
                    .map(|s| {
                        let t = (f * 960 + s) as f64 / 48_000.0;
                        ((2.0 * std::f64::consts::PI * 440.0 * t).sin() * 8000.0) as i16
                    })
                    .collect()
            })
            .collect()
    });
    &frames[i % frames.len()]
}

fn audio() -> MediaOptions {
    MediaOptions { send_audio: true, receive_audio: true, ..Default::default() }
}

/// Sends the tone at real-time pace (one frame per 20 ms tick from `start`) until `stop`
/// resolves; returns the frames the engine accepted.
async fn talk(meeting: &Meeting, start: tokio::time::Instant, stop: impl Future<Output = ()>) -> u64 {
    let mut tick = tokio::time::interval_at(start, FRAME);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tokio::pin!(stop);
    let (mut i, mut sent) = (0, 0);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => return sent,
            _ = tick.tick() => {
                if meeting.send_audio(tone(i), 1).is_ok() {
                    sent += 1;
                }
                i += 1;
            }
        }
    }
}

/// What a sink heard: a frame count, a wake-up per frame, and the instant of the first frame.
struct Ears {
    frames: AtomicU64,
    heard: Arc<Notify>,
    first: Mutex<Option<oneshot::Sender<Instant>>>,
}

impl Ears {
    fn new(heard: Arc<Notify>) -> (Arc<Ears>, oneshot::Receiver<Instant>) {
        let (tx, rx) = oneshot::channel();
        (Arc::new(Ears { frames: AtomicU64::new(0), heard, first: Mutex::new(Some(tx)) }), rx)
    }

    fn sink(self: &Arc<Self>) -> AudioSink {
        let ears = self.clone();
        Arc::new(move |_: &AudioFrame<'_>| {
            let at = Instant::now();
            if ears.frames.fetch_add(1, Ordering::Relaxed) == 0
                && let Some(tx) = ears.first.lock().ok().and_then(|mut f| f.take())
            {
                let _ = tx.send(at);
            }
            ears.heard.notify_one();
        })
    }

    fn count(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }
}

/// User + system CPU seconds of process `pid` (`"self"` for this one), from /proc.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces: fields are counted after its closing parenthesis,
    // which leaves field 3 (state) first, so utime (14) and stime (15) are at 11 and 12.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / USER_HZ
}

/// A CPU measurement window over one process.
struct CpuWindow {
    pid: String,
    cpu: f64,
    at: Instant,
}

impl CpuWindow {
    fn start(pid: &str) -> CpuWindow {
        CpuWindow { pid: pid.to_owned(), cpu: cpu_seconds(pid), at: Instant::now() }
    }

    /// Percent of one core since the start.
    fn percent(&self) -> f64 {
        (cpu_seconds(&self.pid) - self.cpu) / self.at.elapsed().as_secs_f64() * 100.0
    }
}

/// Kills and reaps a child process when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `webex-sandbox` binary running in its own process.
struct SandboxProc {
    child: Reaped,
    info: Value,
    http: reqwest::Client,
}

fn sandbox_binary() -> Result<PathBuf, String> {
    let path = match std::env::var_os("WEBEX_SANDBOX_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot locate this executable: {e}"))?
            .with_file_name(format!("webex-sandbox{}", std::env::consts::EXE_SUFFIX)),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the sandbox binary {} is missing: build it with `cargo build --release -p webex-sandbox --bin webex-sandbox` \
             (same profile as this bench), or point WEBEX_SANDBOX_BIN at it",
            path.display()
        ))
    }
}

impl SandboxProc {
    fn start() -> Result<SandboxProc, String> {
        let bin = sandbox_binary()?;
        let child = Command::new(&bin)
            .args(["--port", "0", "--device-cap", "100"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut child = Reaped(child);
        let mut out = BufReader::new(child.0.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| format!("reading the sandbox's first line: {e}"))?;
        // Keep its stdout drained so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let info: Value =
            serde_json::from_str(&line).map_err(|e| format!("the sandbox printed {line:?}, not its JSON line: {e}"))?;
        Ok(SandboxProc { child, info, http: reqwest::Client::new() })
    }

    fn pid(&self) -> String {
        self.child.0.id().to_string()
    }

    fn hydra(&self) -> &str {
        self.info["hydra"].as_str().unwrap_or_default()
    }

    fn token(&self, email: &str) -> String {
        let users = self.info["users"].as_array().cloned().unwrap_or_default();
        let user = users.iter().find(|u| u["email"] == email).unwrap_or_else(|| panic!("no sandbox user {email}"));
        user["token"].as_str().unwrap_or_default().to_owned()
    }

    /// A user through the admin API (`POST /_sandbox/users`): its token.
    async fn add_user(&self, email: &str, name: &str) -> Result<String, String> {
        let base = self.hydra().trim_end_matches("/v1");
        let answer: Value = self
            .http
            .post(format!("{base}/_sandbox/users"))
            .json(&json!({"email": email, "displayName": name}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("adding {email}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("adding {email}: {e}"))?;
        answer["token"].as_str().map(str::to_owned).ok_or_else(|| format!("adding {email}: no token in {answer}"))
    }

    fn client(&self, token: &str) -> Client {
        client_for(self.hydra(), self.info["u2c"].as_str().unwrap_or_default(), token)
    }
}

fn client_for(hydra: &str, u2c: &str, token: &str) -> Client {
    let cfg = json!({
        "credentials": {"access_token": token},
        "services": {"discovery": {"hydra": hydra, "u2c": u2c}},
    });
    Client::new(Config::from_value(cfg).expect("config")).expect("client")
}

/// Connects the client's event socket; its WDM device URL (meetings join as a device).
async fn device(c: &Client) -> Result<String, String> {
    c.connect().await.map_err(|e| format!("connect: {e}"))?;
    c.devices().current().await.map(|d| d.url).ok_or_else(|| "no registered device".into())
}

/// A fresh scheduled meeting hosted by `host`: its number.
async fn schedule(host: &Client, title: &str) -> String {
    let m = host
        .scheduled_meetings()
        .create(&CreateMeeting {
            title: Some(title.into()),
            start: Some("2030-01-01T10:00:00Z".into()),
            end: Some("2030-01-01T10:30:00Z".into()),
            ..Default::default()
        })
        .await
        .expect("the meeting is scheduled");
    m.meeting_number.expect("a meeting number")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (median, min, max).
fn spread(mut v: Vec<Duration>) -> Option<(Duration, Duration, Duration)> {
    v.sort();
    Some((*v.get(v.len() / 2)?, *v.first()?, *v.last()?))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

// ---------------------------------------------------------------------------------------------
// 1. Join → first received audio frame.

struct JoinFigures {
    bare: Vec<Duration>,
    joined: Vec<Duration>,
    first: Vec<Duration>,
    failures: Vec<String>,
}

async fn join_to_audio(sb: &SandboxProc, runs: usize) -> JoinFigures {
    let alice = sb.client(&sb.token(ALICE));
    let bob = sb.client(&sb.token(BOB));
    let a_dev = device(&alice).await.expect("Alice connects");
    let b_dev = device(&bob).await.expect("Bob connects");
    let number = schedule(&alice, "bench: join to audio").await;
    let a = alice.meetings().create(&number, None).await.expect("Alice's meeting");
    a.join_with_media(&a_dev, None, None, &audio()).await.expect("Alice joins with audio");
    let (stop, stopped) = oneshot::channel::<()>();
    let speaker = {
        let a = a.clone();
        tokio::spawn(async move {
            talk(&a, tokio::time::Instant::now(), async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let mut f = JoinFigures { bare: Vec::new(), joined: Vec::new(), first: Vec::new(), failures: Vec::new() };
    for _ in 0..runs {
        // Reference: the same join without media.
        let m = bob.meetings().create(&number, None).await.expect("Bob's meeting");
        let t = Instant::now();
        match m.join(&b_dev, None, None).await {
            Ok(_) => {
                f.bare.push(t.elapsed());
                let _ = m.leave(&b_dev).await;
            }
            Err(e) => f.failures.push(format!("bare join: {e}")),
        }
        // With audio: join → first decoded frame of Alice in Bob's sink.
        let m = bob.meetings().create(&number, None).await.expect("Bob's meeting");
        let (ears, first) = Ears::new(Arc::new(Notify::new()));
        m.set_audio_sink(Some(ears.sink()));
        let t = Instant::now();
        match m.join_with_media(&b_dev, None, None, &audio()).await {
            Ok(_) => {
                f.joined.push(t.elapsed());
                match tokio::time::timeout(FIRST_FRAME_TIMEOUT, first).await {
                    Ok(Ok(at)) => f.first.push(at - t),
                    _ => f.failures.push(format!("no audio within {FIRST_FRAME_TIMEOUT:?}")),
                }
                let _ = m.leave(&b_dev).await;
            }
            Err(e) => f.failures.push(format!("join with audio: {e}")),
        }
    }
    let _ = stop.send(());
    let _ = speaker.await;
    let _ = a.leave(&a_dev).await;
    alice.shutdown().await;
    bob.shutdown().await;
    f
}

fn print_join(f: &JoinFigures, runs: usize) -> Option<Duration> {
    println!(
        "1) join -> first received audio frame (Alice talks at 20 ms pace; Bob joins, audio send+receive), {runs} runs"
    );
    println!("                                                 median       min       max");
    let row = |label: &str, v: &[Duration]| match spread(v.to_vec()) {
        Some((med, min, max)) => {
            println!("  {label:<44} {:>7.1} ms {:>6.1} ms {:>6.1} ms", ms(med), ms(min), ms(max))
        }
        None => println!("  {label:<44}      (no successful run)"),
    };
    row("bare join, no media (reference)", &f.bare);
    row("join with audio (returns once connected)", &f.joined);
    row("join -> first decoded frame in Bob's sink", &f.first);
    let first = spread(f.first.clone()).map(|s| s.0);
    if let (Some(first), Some((bare, _, _))) = (first, spread(f.bare.clone())) {
        println!("  ratio first frame / bare join:               {:>7.2}x", first.as_secs_f64() / bare.as_secs_f64());
        let met = first <= Duration::from_secs(1) && f.failures.is_empty();
        println!("  goal: median <= 1000 ms, every run hears audio: {}", verdict(met));
    }
    for e in &f.failures {
        println!("  failure: {e}");
    }
    println!();
    first.filter(|_| f.failures.is_empty())
}

// ---------------------------------------------------------------------------------------------
// 2. CPU of one send+receive leg.

/// The other participant of the leg: this binary in `--peer` mode, in its own process. It
/// joins with audio, talks, and leaves when its stdin closes.
struct Peer(Reaped);

impl Peer {
    fn spawn(sb: &SandboxProc, email: &str, number: &str) -> Result<Peer, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot locate this executable: {e}"))?;
        let arg = json!({
            "hydra": sb.hydra(),
            "u2c": sb.info["u2c"],
            "number": number,
        });
        // The token goes in the environment, not on the command line (where `ps` shows it).
        let child = Command::new(exe)
            .args(["--peer", &arg.to_string()])
            .env(PEER_TOKEN, sb.token(email))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the peer: {e}"))?;
        let mut child = Reaped(child);
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| format!("reading the peer: {e}"))?;
        if line.trim() != "joined" {
            return Err(format!("the peer did not join (it said {line:?})"));
        }
        Ok(Peer(child))
    }

    /// Closes its stdin (it leaves and exits) and waits for it.
    async fn stop(mut self) {
        drop(self.0.0.stdin.take());
        let mut child = self;
        let _ = tokio::task::spawn_blocking(move || {
            let _ = child.0.0.wait();
        })
        .await;
    }
}

/// Where the peer process finds its access token.
const PEER_TOKEN: &str = "WEBEX_BENCH_PEER_TOKEN";

/// `--peer <json>`: join the meeting with audio, talk, leave when stdin closes.
async fn peer(arg: &str) -> ExitCode {
    let v: Value = match serde_json::from_str(arg) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("meetings --peer: bad JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let token = std::env::var(PEER_TOKEN).unwrap_or_default();
    let c = client_for(&s("hydra"), &s("u2c"), &token);
    let joined = async {
        let dev = device(&c).await?;
        let m = c.meetings().create(&s("number"), None).await.map_err(|e| e.to_string())?;
        let (ears, _) = Ears::new(Arc::new(Notify::new()));
        m.set_audio_sink(Some(ears.sink()));
        m.join_with_media(&dev, None, None, &audio()).await.map_err(|e| e.to_string())?;
        Ok::<_, String>((dev, m))
    };
    let (dev, m) = match joined.await {
        Ok(j) => j,
        Err(e) => {
            eprintln!("meetings --peer: {e}");
            println!("failed");
            return ExitCode::FAILURE;
        }
    };
    println!("joined");
    let _ = std::io::stdout().flush();
    let (closed, stdin_closed) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = closed.send(());
    });
    talk(&m, tokio::time::Instant::now(), async {
        let _ = stdin_closed.await;
    })
    .await;
    let _ = m.leave(&dev).await;
    c.shutdown().await;
    ExitCode::SUCCESS
}

struct LegFigures {
    idle: f64,
    leg: f64,
    heard: u64,
    sent: u64,
    window: Duration,
}

async fn leg_cpu(sb: &SandboxProc, window: Duration) -> Result<LegFigures, String> {
    let alice = sb.client(&sb.token(ALICE));
    let dev = device(&alice).await?;
    let number = schedule(&alice, "bench: one leg").await;
    let peer = Peer::spawn(sb, BOB, &number)?;
    let me = "self";

    // Reference: joined without media, the peer talking in the meeting.
    let m = alice.meetings().create(&number, None).await.map_err(|e| e.to_string())?;
    m.join(&dev, None, None).await.map_err(|e| format!("join: {e}"))?;
    let cpu = CpuWindow::start(me);
    tokio::time::sleep(window).await;
    let idle = cpu.percent();
    m.leave(&dev).await.map_err(|e| format!("leave: {e}"))?;

    // The leg: send the tone, hear the peer. The window opens once the peer is heard.
    let m = alice.meetings().create(&number, None).await.map_err(|e| e.to_string())?;
    let (ears, first) = Ears::new(Arc::new(Notify::new()));
    m.set_audio_sink(Some(ears.sink()));
    m.join_with_media(&dev, None, None, &audio()).await.map_err(|e| format!("join with audio: {e}"))?;
    let warm = tokio::time::timeout(
        FIRST_FRAME_TIMEOUT,
        talk(&m, tokio::time::Instant::now(), async {
            let _ = first.await;
        }),
    )
    .await;
    if warm.is_err() {
        return Err(format!("the peer was not heard within {FIRST_FRAME_TIMEOUT:?}"));
    }
    let heard0 = ears.count();
    let cpu = CpuWindow::start(me);
    let start = tokio::time::Instant::now();
    let sent = talk(&m, start, tokio::time::sleep_until(start + window)).await;
    let leg = cpu.percent();
    let heard = ears.count() - heard0;
    let _ = m.leave(&dev).await;
    peer.stop().await;
    alice.shutdown().await;
    Ok(LegFigures { idle, leg, heard, sent, window })
}

fn print_leg(r: &Result<LegFigures, String>, window: Duration) -> Option<f64> {
    println!(
        "2) CPU of one audio leg (this process: send 20 ms tone frames + receive 1 remote participant), {} s window",
        window.as_secs()
    );
    let l = match r {
        Ok(l) => l,
        Err(e) => {
            println!("  failed: {e}\n");
            return None;
        }
    };
    let frames = l.window.as_secs_f64() / FRAME.as_secs_f64();
    println!("  joined without media (reference):      {:>6.2} % of a core", l.idle);
    println!("  one send+receive leg:                   {:>6.2} % of a core", l.leg);
    println!("  leg minus reference:                    {:>6.2} % of a core", l.leg - l.idle);
    // One /proc tick over the window: the smallest non-zero reading.
    let tick = 100.0 / USER_HZ / l.window.as_secs_f64();
    if l.idle >= tick {
        println!("  ratio leg / reference:                  {:>6.2}x", l.leg / l.idle);
    } else {
        println!(
            "  ratio leg / reference:                  >= {:.0}x (reference below one /proc tick, {tick:.2} %)",
            l.leg / tick
        );
    }
    println!("  frames sent / heard in the window:      {} / {} (real time: {frames:.0})", l.sent, l.heard);
    println!("  goal: leg <= 5 % of a core: {}", verdict(l.leg <= 5.0));
    println!();
    Some(l.leg)
}

// ---------------------------------------------------------------------------------------------
// 3. Capacity.

struct Step {
    n: usize,
    joined: usize,
    sent: Vec<u64>,
    heard: u64,
    packets: u64,
    expected: u64,
    sandbox_cpu: f64,
    bench_cpu: f64,
    error: Option<String>,
}

impl Step {
    fn ratio(&self, got: u64) -> f64 {
        if self.expected == 0 { 0.0 } else { got as f64 / self.expected as f64 * 100.0 }
    }

    fn passed(&self) -> bool {
        self.error.is_none()
            && self.ratio(self.heard) >= 95.0
            && self.ratio(self.packets) >= 95.0
            && self.sandbox_cpu < 90.0
    }
}

/// Frames the sinks should hear: receiver `r` hears the first `slots` others in join order
/// (the sandbox fills receive slots in the order media sessions started).
fn expected(sent: &[u64], slots: usize) -> u64 {
    let n = sent.len();
    (0..n).map(|r| (0..n).filter(|&s| s != r).take(slots).map(|s| sent[s]).sum::<u64>()).sum()
}

async fn step(sb: &SandboxProc, host: &Client, tokens: &[String], window: Duration) -> Step {
    let n = tokens.len();
    let mut st = Step {
        n,
        joined: 0,
        sent: Vec::new(),
        heard: 0,
        packets: 0,
        expected: 0,
        sandbox_cpu: 0.0,
        bench_cpu: 0.0,
        error: None,
    };
    let number = schedule(host, &format!("bench: {n} participants")).await;
    let clients: Vec<Client> = tokens.iter().map(|t| sb.client(t)).collect();
    let devices = join_all(clients.iter().map(device)).await;
    let heard = Arc::new(Notify::new());
    let mut joined: Vec<(Arc<Meeting>, Arc<Ears>, &String)> = Vec::new();
    // One at a time: the join order is the order the sandbox fills receive slots in.
    for (c, d) in clients.iter().zip(&devices) {
        let d = match d {
            Ok(d) => d,
            Err(e) => {
                st.error = Some(e.clone());
                break;
            }
        };
        let m = match c.meetings().create(&number, None).await {
            Ok(m) => m,
            Err(e) => {
                st.error = Some(format!("create: {e}"));
                break;
            }
        };
        let (ears, _) = Ears::new(heard.clone());
        m.set_audio_sink(Some(ears.sink()));
        let r = m.join_with_media(d, None, None, &audio()).await;
        if let Err(e) = r {
            st.error = Some(format!("participant {} joins: {e}", joined.len() + 1));
            let _ = m.leave(d).await;
            break;
        }
        joined.push((m, ears, d));
    }
    st.joined = joined.len();
    if st.error.is_none() {
        let sandbox = CpuWindow::start(&sb.pid());
        let me = CpuWindow::start("self");
        let start = tokio::time::Instant::now();
        let end = start + window;
        let talkers = joined.iter().map(|(m, _, _)| {
            let m = m.clone();
            tokio::spawn(async move { talk(&m, start, tokio::time::sleep_until(end)).await })
        });
        st.sent = join_all(talkers).await.into_iter().map(|r| r.unwrap_or(0)).collect();
        st.sandbox_cpu = sandbox.percent();
        st.bench_cpu = me.percent();
        // Frames still in flight: wait until the sinks have been quiet for 250 ms (2 s at most).
        let drain = Instant::now();
        while drain.elapsed() < Duration::from_secs(2)
            && tokio::time::timeout(Duration::from_millis(250), heard.notified()).await.is_ok()
        {}
        st.heard = joined.iter().map(|(_, e, _)| e.count()).sum();
        for (m, _, _) in &joined {
            st.packets += m.stats().await.iter().filter(|s| s.direction == "receive").map(|s| s.packets).sum::<u64>();
        }
        st.expected = expected(&st.sent, MediaOptions::default().audio_streams);
    }
    join_all(joined.iter().map(|(m, _, d)| m.leave(d))).await;
    join_all(clients.iter().map(|c| c.shutdown())).await;
    st
}

async fn capacity(sb: &SandboxProc, plan: &Plan) -> Result<Vec<Step>, String> {
    let host = sb.client(&sb.token(ALICE));
    let most = plan.ramp.iter().copied().max().unwrap_or(0);
    let mut tokens = Vec::new();
    for i in 1..=most {
        tokens.push(sb.add_user(&format!("participant{i:02}@example.com"), &format!("Participant {i:02}")).await?);
    }
    println!(
        "3) capacity: N participants in one meeting (audio send+receive, {} s of tone each), sandbox in its own process (pid {})",
        plan.step_window.as_secs(),
        sb.pid()
    );
    println!("     N  joined  sent/sender  heard/expected   frames  RTP pkts  sandbox CPU  bench CPU  result");
    let mut steps = Vec::new();
    for &n in &plan.ramp {
        let st = step(sb, &host, &tokens[..n], plan.step_window).await;
        let per_sender = if st.sent.is_empty() { 0 } else { st.sent.iter().sum::<u64>() / st.sent.len() as u64 };
        println!(
            "  {:>4}  {:>3}/{:<3} {:>10}  {:>7}/{:<7} {:>6.1} %  {:>6.1} %  {:>8.1} %  {:>7.1} %  {}",
            st.n,
            st.joined,
            st.n,
            per_sender,
            st.heard,
            st.expected,
            st.ratio(st.heard),
            st.ratio(st.packets),
            st.sandbox_cpu,
            st.bench_cpu,
            if st.passed() { "ok" } else { "FAIL" }
        );
        if let Some(e) = &st.error {
            println!("        failure: {e}");
        }
        let passed = st.passed();
        steps.push(st);
        if !passed {
            break;
        }
    }
    host.shutdown().await;
    Ok(steps)
}

fn print_capacity(r: &Result<Vec<Step>, String>, plan: &Plan) -> String {
    let steps = match r {
        Ok(s) => s,
        Err(e) => {
            println!("  failed: {e}\n");
            return "capacity not measured".into();
        }
    };
    println!("  frames = decoded frames in the sinks (incl. Opus concealment of short gaps) / expected;");
    println!("  RTP pkts = packets the receivers' streams counted / expected; CPU in % of one core (2 cores here).");
    let best = steps.iter().take_while(|s| s.passed()).last().map(|s| s.n);
    let all = steps.len() == plan.ramp.len() && steps.iter().all(Step::passed);
    let text = match (best, all) {
        (Some(n), true) => format!(">= {n} participants"),
        (Some(n), false) => format!("{n} participants"),
        (None, _) => "below 2 participants".to_string(),
    };
    let why = match (best, all) {
        (_, true) => " (every step passed: the ramp ends there)",
        (Some(_), false) => " (the next step failed)",
        (None, _) => " (the first step failed)",
    };
    println!("  capacity (>= 95 % delivery, sandbox CPU < 90 % of a core): {text}{why}");
    println!();
    text
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    // reqwest is built without a TLS provider (one rustls, one ring: shared/toolchain.md).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, arg] = args.as_slice()
        && flag == "--peer"
    {
        return peer(arg).await;
    }
    let (mut quick, mut max, mut bad) = (false, None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--max" => {
                max = it.next().and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 2);
                bad |= max.is_none();
            }
            _ => bad = true,
        }
    }
    if bad {
        eprintln!("usage: meetings [--quick] [--max N]   (internal: meetings --peer <json>)");
        eprintln!("  --quick   3 joins, 5 s windows, ramp to 8");
        eprintln!("  --max N   ramp to N participants (past 32: steps of 16)");
        return ExitCode::from(2);
    }
    let mut plan = if quick {
        Plan {
            quick,
            joins: 3,
            leg_window: Duration::from_secs(5),
            step_window: Duration::from_secs(5),
            ramp: vec![2, 4, 8],
        }
    } else {
        Plan {
            quick,
            joins: 10,
            leg_window: Duration::from_secs(20),
            step_window: Duration::from_secs(10),
            ramp: vec![2, 4, 8, 12, 16, 24, 32],
        }
    };
    if let Some(max) = max {
        plan.ramp.retain(|&n| n <= max);
        let mut n = plan.ramp.last().copied().unwrap_or(0).max(32);
        while n < max {
            n = (n + 16).min(max);
            plan.ramp.push(n);
        }
        if plan.ramp.last() != Some(&max) {
            plan.ramp.push(max);
        }
    }
    if let Err(e) = sandbox_binary() {
        eprintln!("meetings: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "meetings with audio against the sandbox binary (own process), {} run, {} CPUs",
        if plan.quick { "quick" } else { "full" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!();

    // A fresh sandbox process per measurement, so none sees another's leftovers.
    let start = |what: &str| {
        SandboxProc::start().unwrap_or_else(|e| {
            eprintln!("meetings: {what}: {e}");
            std::process::exit(1)
        })
    };
    let sb = start("join");
    let joins = join_to_audio(&sb, plan.joins).await;
    drop(sb);
    let first = print_join(&joins, plan.joins);

    let sb = start("leg");
    let leg = leg_cpu(&sb, plan.leg_window).await;
    drop(sb);
    let leg = print_leg(&leg, plan.leg_window);

    let sb = start("capacity");
    let steps = capacity(&sb, &plan).await;
    drop(sb);
    let cap = print_capacity(&steps, &plan);

    let first = match first {
        Some(d) => format!("{:.0} ms (goal <= 1 s: {})", ms(d), verdict(d <= Duration::from_secs(1))),
        None => "failed".into(),
    };
    let leg = match leg {
        Some(p) => format!("{p:.2} % of a core (goal <= 5 %: {})", verdict(p <= 5.0)),
        None => "failed".into(),
    };
    println!(
        "summary: join -> first audio frame median {first}; one send+receive leg {leg}; capacity {cap} per sandbox meeting on this machine"
    );
    ExitCode::SUCCESS
}
