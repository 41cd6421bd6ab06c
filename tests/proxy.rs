//! REST and the event socket through a real HTTP CONNECT proxy (tinyproxy from Debian; the
//! test command installs it). The proxy's own log and the `Via` header it adds prove the
//! traffic went through it.

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use webex_core::{Client, Config};
use webex_tests::*;

struct Proxy {
    child: Child,
    port: u16,
    /// What tinyproxy printed so far (it logs to stdout when no LogFile is set).
    log: Arc<Mutex<String>>,
    dir: std::path::PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start_tinyproxy() -> Proxy {
    let binary = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("tinyproxy is not installed: run scripts/test-all.sh (it installs it) or apt-get install tinyproxy");
    let dir = std::env::temp_dir().join(format!("webex-proxy-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf = dir.join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\nLogLevel Info\nPidFile \"{}\"\nAllow 127.0.0.1\n",
            dir.join("tinyproxy.pid").display()
        ),
    )
    .unwrap();
    let mut child =
        Command::new(binary).arg("-d").arg("-c").arg(&conf).stdout(Stdio::piped()).spawn().expect("tinyproxy starts");
    // Readiness is the line tinyproxy prints once it accepts connections: read its output on
    // a thread (which keeps collecting it for the assertions) and wait for that line.
    let log: Arc<Mutex<String>> = Arc::default();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready_tx = Some(ready_tx);
    let stdout = child.stdout.take().expect("piped stdout");
    let collected = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(tx) = ready_tx.take_if(|_| line.contains("Accepting connections")) {
                let _ = tx.send(());
            }
            let mut log = collected.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    ready_rx.await.expect("tinyproxy exited before accepting connections");
    Proxy { child, port, log, dir }
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}

#[tokio::test]
async fn rest_and_socket_go_through_the_configured_proxy() {
    let sb = sandbox().await;
    let proxy = start_tinyproxy().await;
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let with_proxy = |email: &str| {
        let mut cfg = config_for(&sb, &sb.user(email).unwrap().token);
        cfg["defaultMercuryOptions"] = json!({"proxy": proxy_url});
        Client::new(Config::from_value(cfg).unwrap()).unwrap()
    };
    let bot = with_proxy(&sb.bot().email);
    let alice = with_proxy(ALICE);

    message_reaches(&bot, &alice, ALICE, "via proxy").await;

    let base = sb.base_url();
    let authority = base.trim_start_matches("http://");
    let log = proxy.log.lock().unwrap().clone();
    assert!(log.contains(&format!("CONNECT {authority}")), "the socket tunnelled through the proxy:\n{log}");
    let via_proxy = sb
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/rooms") && r.method == "POST")
        .all(|r| r.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("via") && v.contains("tinyproxy")));
    assert!(via_proxy, "REST went through the proxy (it adds Via)");
    alice.shutdown().await;
    bot.shutdown().await;
}

/// Over HTTPS nothing can be read on the way: REST and the socket both tunnel with CONNECT,
/// and the sandbox's CA still verifies the server at the end of the tunnel.
#[tokio::test]
async fn https_rest_and_socket_tunnel_through_the_proxy() {
    let sb = webex_sandbox::Sandbox::start(webex_sandbox::SandboxOptions { tls: true, ..Default::default() })
        .await
        .expect("the sandbox starts");
    let proxy = start_tinyproxy().await;
    let mut cfg = sb.client_config(ALICE).expect("alice");
    cfg["defaultMercuryOptions"] = json!({"proxy": format!("http://127.0.0.1:{}", proxy.port)});
    let alice = Client::new(Config::from_value(cfg).unwrap()).unwrap();
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    let me = alice.people().me().await.unwrap();
    assert_eq!(me.emails, Some(vec![ALICE.to_string()]));
    let ready = loop {
        let e = events.recv().await.expect("events");
        if e.kind == "online" {
            break e;
        }
    };
    assert_eq!(ready.kind, "online");

    let authority = sb.base_url().trim_start_matches("https://").to_string();
    let log = proxy.log.lock().unwrap().clone();
    let tunnels = log.matches(&format!("CONNECT {authority}")).count();
    assert!(tunnels >= 2, "REST and the socket each tunnelled ({tunnels} CONNECTs):\n{log}");
    assert!(sb.requests().iter().all(|r| !r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("via"))));
    alice.shutdown().await;
}
