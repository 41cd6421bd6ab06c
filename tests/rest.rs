//! The typed REST API against the real sandbox: lazy pages, access control, uploads.

use futures_util::StreamExt;
use webex_core::ErrorCode;
use webex_core::http::HttpRequest;
use webex_core::rest::memberships::CreateMembership;
use webex_core::rest::messages::{CreateMessage, ListMessages};
use webex_core::rest::rooms::CreateRoom;
use webex_tests::*;

async fn room_with_messages(n: usize) -> (webex_sandbox::Sandbox, webex_core::Client, String) {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let room = bot.rooms().create(&CreateRoom { title: "paging".into(), ..Default::default() }).await.unwrap();
    for i in 0..n {
        let msg = CreateMessage { room_id: Some(room.id.clone()), text: Some(format!("m{i}")), ..Default::default() };
        bot.messages().create(&msg).await.unwrap();
    }
    (sb, bot, room.id)
}

#[tokio::test]
async fn pages_are_fetched_lazily_and_keep_filters() {
    let (sb, bot, room_id) = room_with_messages(7).await;
    let gets = || sb.requests().iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/messages")).count();
    let query = ListMessages { room_id: Some(room_id.clone()), max: Some(3), ..Default::default() };
    let mut stream = Box::pin(bot.messages().list(&query).unwrap().into_stream());
    assert_eq!(gets(), 0, "nothing is fetched before the first item is asked for");
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.text.as_deref(), Some("m6"), "newest first");
    stream.next().await.unwrap().unwrap();
    assert_eq!(gets(), 1, "two items come from the first page");
    let rest: Vec<_> = stream.map(|m| m.unwrap().text.unwrap()).collect().await;
    assert_eq!(rest, ["m4", "m3", "m2", "m1", "m0"]);
    assert_eq!(gets(), 3, "7 items at 3 a page");
    let paged: Vec<_> =
        sb.requests().into_iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/messages")).collect();
    for r in &paged[1..] {
        assert!(r.path.contains("roomId=") && r.path.contains("max=3"), "the next link keeps the filters: {}", r.path);
    }
}

#[tokio::test]
async fn people_outside_a_room_cannot_see_it() {
    let (sb, _bot, room_id) = room_with_messages(1).await;
    let bob = client_as(&sb, BOB);
    let err = bob.rooms().get(&room_id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.tracking_id.is_some());
    let query = ListMessages { room_id: Some(room_id.clone()), ..Default::default() };
    let err = bob.messages().list(&query).unwrap().collect_all().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[tokio::test]
async fn a_local_file_is_uploaded_and_served_back() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let room = bot.rooms().create(&CreateRoom { title: "files".into(), ..Default::default() }).await.unwrap();
    let add = CreateMembership { room_id: room.id.clone(), person_email: Some(ALICE.into()), ..Default::default() };
    bot.memberships().create(&add).await.unwrap();
    let dir = std::env::temp_dir().join(format!("webex-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.txt");
    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let msg = CreateMessage {
        room_id: Some(room.id.clone()),
        text: Some("the report".into()),
        files: Some(vec![path.to_string_lossy().into_owned()]),
        ..Default::default()
    };
    let sent = bot.messages().create(&msg).await.unwrap();
    let upload = sb.requests().into_iter().find(|r| r.method == "POST" && r.path == "/v1/messages").unwrap();
    assert!(
        upload
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with("multipart/form-data")),
        "a local file goes as multipart"
    );
    let files = sent.files.clone().unwrap();
    assert_eq!(files.len(), 1);
    // Alice, a member, downloads it through her own client.
    let alice = client_as(&sb, ALICE);
    let body = alice.http().send(HttpRequest::get(files[0].clone())).await.unwrap();
    assert_eq!(body.body, content);
    // Bob is not a member.
    let bob = client_as(&sb, BOB);
    assert_eq!(bob.http().send(HttpRequest::get(files[0].clone())).await.unwrap_err().code, ErrorCode::NotFound);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_file_url_goes_in_json_and_a_missing_path_is_refused() {
    let sb = sandbox().await;
    let bot = bot_client(&sb);
    let room = bot.rooms().create(&CreateRoom { title: "urls".into(), ..Default::default() }).await.unwrap();
    let msg = CreateMessage {
        room_id: Some(room.id.clone()),
        files: Some(vec!["https://example.test/picture.png".into()]),
        ..Default::default()
    };
    let sent = bot.messages().create(&msg).await.unwrap();
    assert_eq!(sent.files.unwrap(), ["https://example.test/picture.png"]);
    let missing =
        CreateMessage { room_id: Some(room.id), files: Some(vec!["/no/such/file.txt".into()]), ..Default::default() };
    let err = bot.messages().create(&missing).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("/no/such/file.txt"), "{}", err.message);
}
