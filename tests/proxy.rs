//! REST and the event socket through a real HTTP CONNECT proxy (tinyproxy from Debian; the
//! test command installs it). The proxy's own log and the `Via` header it adds prove the
//! traffic went through it.

use serde_json::json;
use std::process::{Child, Command};
use webex_core::rest::memberships::CreateMembership;
use webex_core::rest::messages::CreateMessage;
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config};
use webex_tests::*;

struct Proxy {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
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
    let log = dir.join("tinyproxy.log");
    let conf = dir.join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\nLogLevel Info\nLogFile \"{}\"\nPidFile \"{}\"\nAllow 127.0.0.1\n",
            log.display(),
            dir.join("tinyproxy.pid").display()
        ),
    )
    .unwrap();
    let child = Command::new(binary).arg("-d").arg("-c").arg(&conf).spawn().expect("tinyproxy starts");
    // Readiness: the port accepts connections (bounded: 10 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "tinyproxy did not start listening");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
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

    let room = bot.rooms().create(&CreateRoom { title: "proxied".into(), ..Default::default() }).await.unwrap();
    let add = CreateMembership { room_id: room.id.clone(), person_email: Some(ALICE.into()), ..Default::default() };
    bot.memberships().create(&add).await.unwrap();
    let mut events = alice.events();
    alice.listen("messages").await.unwrap();
    let hello = CreateMessage { room_id: Some(room.id.clone()), text: Some("via proxy".into()), ..Default::default() };
    let sent = bot.messages().create(&hello).await.unwrap();
    let created = loop {
        let e = events.recv().await.expect("events");
        if e.kind == "messages:created" {
            break e;
        }
    };
    assert_eq!(created.data["data"]["id"], sent.id);

    let base = sb.base_url();
    let authority = base.trim_start_matches("http://");
    let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
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
