//! Multipart `POST /messages` stores the file; `GET /contents/{id}` serves it to members.

mod common;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use common::{assert_error, call, room, start};

#[tokio::test]
async fn multipart_upload_is_served_back() {
    let sb = start().await;
    let (alice, bob) = (sb.user("alice@example.com").unwrap(), sb.user("bob@example.com").unwrap());
    let rid = room(&sb, &alice.token, "files").await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let form = Form::new()
        .text("roomId", rid.clone())
        .text("text", "see attached")
        .part("files", Part::bytes(bytes.clone()).file_name("data.bin").mime_str("application/x-test").unwrap());
    let res = common::client()
        .post(format!("{}/messages", sb.hydra_url()))
        .bearer_auth(&alice.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let msg: Value = res.json().await.unwrap();
    assert_eq!(msg["text"], "see attached");
    let url = msg["files"][0].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/contents/", sb.hydra_url())), "{url}");

    let res = call(Method::GET, &url, &alice.token, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-test");
    assert_eq!(res.headers()["content-disposition"], "attachment; filename=\"data.bin\"");
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);

    // Not a member: 404. Edits of messages with files: 400.
    assert_error(call(Method::GET, &url, &bob.token, None).await, 404).await;
    let edit = serde_json::json!({"roomId": rid, "text": "changed"});
    let res = call(
        Method::PUT,
        &format!("{}/messages/{}", sb.hydra_url(), msg["id"].as_str().unwrap()),
        &alice.token,
        Some(edit),
    )
    .await;
    assert_error(res, 400).await;
}
