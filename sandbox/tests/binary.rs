//! The `webex-sandbox` binary prints one JSON line and serves until killed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

/// Kills the child even when an assertion fails first.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_one_json_line_then_serves() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_webex-sandbox"))
            .args(["--port", "0", "--host", "127.0.0.1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read line");
        line
    })
    .await
    .unwrap();
    let info: Value = serde_json::from_str(&line).expect("one JSON line");
    let hydra = info["hydra"].as_str().unwrap();
    assert!(info["u2c"].as_str().unwrap().ends_with("/u2c/api/v1"));
    let alice = info["users"].as_array().unwrap().iter().find(|u| u["email"] == "alice@example.com").unwrap();
    let token = alice["token"].as_str().unwrap();
    let (s, me) = common::json(reqwest::Method::GET, &format!("{hydra}/people/me"), token, None).await;
    assert_eq!(s, 200);
    assert_eq!(me["id"], alice["personId"]);
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    let bin = env!("CARGO_BIN_EXE_webex-sandbox");
    let out = Command::new(bin).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
    let out = Command::new(bin).args(["--port", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
}
