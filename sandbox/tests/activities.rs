//! `conversation.activity` events for hydra mutations (protocol.md §5.4-§5.5), read with real
//! websocket clients.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use webex_sandbox::Sandbox;

use common::ws::{Ws, register, wait_sockets};
use common::{json, room, start};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

/// The uuid inside a hydra id.
fn uuid_of(hydra_id: &str) -> String {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(hydra_id).unwrap()).unwrap();
    text.rsplit('/').next().unwrap().to_string()
}

fn hydra(kind: &str, uuid: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("ciscospark://us/{kind}/{uuid}"))
}

/// A connected, authorised socket for a user plus the user's token.
async fn online(sb: &Sandbox, email: &str) -> (Ws, String) {
    let token = sb.user(email).unwrap().token;
    let d = register(sb, &token).await;
    let ws = Ws::connect(&d, &token).await;
    wait_sockets(sb, email, 1).await;
    (ws, token)
}

/// The next activity on a socket (acked, as the JS SDK does).
async fn activity(ws: &mut Ws) -> Value {
    let ev = ws.json().await;
    assert_eq!(ev["data"]["eventType"], "conversation.activity", "{ev}");
    ws.ack(&ev["id"]).await;
    ev["data"]["activity"].clone()
}

/// Asserts that nothing is queued for the socket: the next frame is the pong.
async fn nothing_pending(ws: &mut Ws) {
    let v = ws.ping("quiet").await;
    assert_eq!(v["type"], "pong");
}

async fn post(sb: &Sandbox, token: &str, path: &str, body: Value) -> Value {
    let (s, v) = json(Method::POST, &format!("{}/{path}", sb.hydra_url()), token, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn message_post_matches_the_protocol_and_maps_to_the_hydra_id() {
    let sb = start().await;
    sb.add_user("carol@example.com", "Carol");
    let (mut a, alice) = online(&sb, ALICE).await;
    let (mut b, bob) = online(&sb, BOB).await;
    let (mut c, _) = online(&sb, "carol@example.com").await;
    let room_id = room(&sb, &alice, "shapes").await;
    let create = activity(&mut a).await;
    assert_eq!(create["verb"], "create");
    post(&sb, &alice, "memberships", json!({"roomId": room_id, "personEmail": BOB})).await;
    assert_eq!(activity(&mut a).await["verb"], "add");
    assert_eq!(activity(&mut b).await["verb"], "add");
    let msg = post(&sb, &alice, "messages", json!({"roomId": room_id, "markdown": "**hi** there"})).await;

    let ev = a.json().await;
    let keys: Vec<&str> = ev.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "data",
            "timestamp",
            "trackingId",
            "alertType",
            "headers",
            "sequenceNumber",
            "filterMessage",
            "wsWriteTimestamp"
        ]
    );
    let act = &ev["data"]["activity"];
    let base = sb.base_url();
    let room_uuid = uuid_of(&room_id);
    let alice_uuid = uuid_of(&sb.user(ALICE).unwrap().person_id);
    assert_eq!(act["objectType"], "activity");
    assert_eq!(act["verb"], "post");
    assert_eq!(act["id"], uuid_of(msg["id"].as_str().unwrap()));
    assert_eq!(act["url"], format!("{base}/conversation/api/v1/activities/{}", act["id"].as_str().unwrap()));
    assert!(act["published"].as_str().unwrap().ends_with('Z'));
    let org_uuid = uuid_of(sb.info_json()["orgId"].as_str().unwrap());
    assert_eq!(
        act["actor"],
        json!({"id": alice_uuid, "objectType": "person", "displayName": "Alice", "orgId": org_uuid,
            "emailAddress": ALICE, "entryUUID": alice_uuid, "entryEmail": ALICE, "type": "PERSON"})
    );
    assert_eq!(act["object"]["objectType"], "comment");
    assert_eq!(act["object"]["displayName"], msg["text"]);
    assert_eq!(
        act["target"],
        json!({"id": room_uuid, "objectType": "conversation",
            "url": format!("{base}/conversation/api/v1/conversations/{room_uuid}"), "tags": []})
    );
    // The §5.5 rule: GET /messages/<MESSAGE(activity.id)> is the message.
    let id = hydra("MESSAGE", act["id"].as_str().unwrap());
    let (s, got) = json(Method::GET, &format!("{}/messages/{id}", sb.hydra_url()), &bob, None).await;
    assert_eq!(s, 200);
    assert_eq!(got, msg);
    // Bob (a member) gets the same event; Carol (not a member) gets nothing.
    let bev = b.json().await;
    assert_eq!(bev["data"], ev["data"]);
    nothing_pending(&mut c).await;

    // Delete: object.id is the message uuid.
    let res = common::call(
        Method::DELETE,
        &format!("{}/messages/{}", sb.hydra_url(), msg["id"].as_str().unwrap()),
        &alice,
        None,
    )
    .await;
    assert_eq!(res.status().as_u16(), 204);
    let del = activity(&mut b).await;
    assert_eq!(del["verb"], "delete");
    assert_eq!(del["object"]["id"], act["id"]);
    assert_eq!(del["target"]["id"], room_uuid);
}

#[tokio::test]
async fn direct_message_creates_the_room_first() {
    let sb = start().await;
    let (mut a, alice) = online(&sb, ALICE).await;
    let (mut b, _) = online(&sb, BOB).await;
    let msg = post(&sb, &alice, "messages", json!({"toPersonEmail": BOB, "text": "psst"})).await;
    for ws in [&mut a, &mut b] {
        let create = activity(ws).await;
        assert_eq!(create["verb"], "create");
        assert_eq!(create["object"]["tags"], json!(["ONE_ON_ONE"]));
        let emails: Vec<&Value> =
            create["object"]["participants"]["items"].as_array().unwrap().iter().map(|p| &p["emailAddress"]).collect();
        assert_eq!(emails, [ALICE, BOB]);
        let p = activity(ws).await;
        assert_eq!(p["verb"], "post");
        assert_eq!(p["target"]["tags"], json!(["ONE_ON_ONE"]));
        assert_eq!(hydra("MESSAGE", p["id"].as_str().unwrap()), msg["id"].as_str().unwrap());
        assert_eq!(hydra("ROOM", p["target"]["id"].as_str().unwrap()), msg["roomId"].as_str().unwrap());
    }
    // A second message reuses the room: no second create.
    post(&sb, &alice, "messages", json!({"toPersonEmail": BOB, "text": "again"})).await;
    assert_eq!(activity(&mut b).await["verb"], "post");
}

#[tokio::test]
async fn room_and_membership_lifecycle_in_order() {
    let sb = start().await;
    let (mut a, alice) = online(&sb, ALICE).await;
    let (mut b, _) = online(&sb, BOB).await;
    let room_id = room(&sb, &alice, "life").await;
    let room_uuid = uuid_of(&room_id);
    let create = activity(&mut a).await;
    assert_eq!(create["object"]["id"], room_uuid);
    assert_eq!(create["object"]["objectType"], "conversation");
    assert_eq!(create["object"]["tags"], json!([]));
    let parts = create["object"]["participants"]["items"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["emailAddress"], ALICE);

    let m = post(&sb, &alice, "memberships", json!({"roomId": room_id, "personEmail": BOB})).await;
    let add = activity(&mut a).await;
    assert_eq!(add["verb"], "add");
    let bob_uuid = uuid_of(m["personId"].as_str().unwrap());
    assert_eq!(add["object"]["entryUUID"], bob_uuid);
    assert_eq!(add["object"]["emailAddress"], BOB);
    assert_eq!(add["object"]["objectType"], "person");
    assert_eq!(add["object"]["roomProperties"]["isModerator"], false);
    assert_eq!(add["target"]["id"], room_uuid);
    assert_eq!(activity(&mut b).await["verb"], "add");

    let url = format!("{}/rooms/{room_id}", sb.hydra_url());
    let (s, _) = json(Method::PUT, &url, &alice, Some(json!({"title": "renamed"}))).await;
    assert_eq!(s, 200);
    let (s, _) = json(Method::PUT, &url, &alice, Some(json!({"title": "renamed", "isLocked": true}))).await;
    assert_eq!(s, 200);
    let mid = m["id"].as_str().unwrap();
    let murl = format!("{}/memberships/{mid}", sb.hydra_url());
    let (s, _) = json(Method::PUT, &murl, &alice, Some(json!({"isModerator": true}))).await;
    assert_eq!(s, 200);
    let (s, _) = json(Method::PUT, &murl, &alice, Some(json!({"isModerator": false}))).await;
    assert_eq!(s, 200);
    let (s, _) = json(Method::PUT, &url, &alice, Some(json!({"title": "renamed", "isLocked": false}))).await;
    assert_eq!(s, 200);
    let res = common::call(Method::DELETE, &murl, &alice, None).await;
    assert_eq!(res.status().as_u16(), 204);

    let mut verbs = Vec::new();
    for _ in 0..6 {
        verbs.push(activity(&mut b).await);
    }
    let names: Vec<&str> = verbs.iter().map(|v| v["verb"].as_str().unwrap()).collect();
    assert_eq!(names, ["update", "lock", "assignModerator", "unassignModerator", "unlock", "leave"]);
    assert_eq!(verbs[0]["object"]["displayName"], "renamed");
    assert_eq!(verbs[0]["object"]["id"], room_uuid);
    assert_eq!(verbs[1]["object"]["tags"], json!(["LOCKED"]));
    assert_eq!(verbs[1]["target"]["tags"], json!(["LOCKED"]));
    assert_eq!(verbs[2]["object"]["roomProperties"]["isModerator"], true);
    assert_eq!(verbs[4]["object"]["tags"], json!([]));
    assert_eq!(verbs[5]["object"]["entryUUID"], bob_uuid);
    // Alice saw the same sequence.
    for want in ["update", "lock", "assignModerator", "unassignModerator", "unlock", "leave"] {
        assert_eq!(activity(&mut a).await["verb"], want);
    }
    // Bob is out: a new message reaches Alice only.
    post(&sb, &alice, "messages", json!({"roomId": room_id, "text": "bye"})).await;
    assert_eq!(activity(&mut a).await["verb"], "post");
    nothing_pending(&mut b).await;
}

#[tokio::test]
async fn hide_reaches_only_the_member_who_hid() {
    let sb = start().await;
    let (mut a, alice) = online(&sb, ALICE).await;
    let (mut b, bob) = online(&sb, BOB).await;
    let msg = post(&sb, &alice, "messages", json!({"toPersonEmail": BOB, "text": "x"})).await;
    for ws in [&mut a, &mut b] {
        activity(ws).await;
        activity(ws).await;
    }
    let room_id = msg["roomId"].as_str().unwrap();
    let (_, ms) =
        json(Method::GET, &format!("{}/memberships?roomId={room_id}&personEmail={BOB}", sb.hydra_url()), &bob, None)
            .await;
    let mid = ms["items"][0]["id"].as_str().unwrap();
    let (s, _) =
        json(Method::PUT, &format!("{}/memberships/{mid}", sb.hydra_url()), &bob, Some(json!({"isRoomHidden": true})))
            .await;
    assert_eq!(s, 200);
    let hide = activity(&mut b).await;
    assert_eq!(hide["verb"], "hide");
    assert_eq!(hide["object"]["id"], uuid_of(room_id));
    assert_eq!(hide["actor"]["emailAddress"], BOB);
    assert!(hide["url"].as_str().unwrap().starts_with(&format!("{}/conversation/api/v1/", sb.base_url())));
    nothing_pending(&mut a).await;
}

#[tokio::test]
async fn card_action_and_file_share() {
    let sb = start().await;
    let (mut a, alice) = online(&sb, ALICE).await;
    let room_id = room(&sb, &alice, "cards").await;
    activity(&mut a).await;
    let card = json!({"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard"}});
    let msg = post(&sb, &alice, "messages", json!({"roomId": room_id, "text": "card", "attachments": [card]})).await;
    activity(&mut a).await;
    let action = post(
        &sb,
        &alice,
        "attachment/actions",
        json!({"type": "submit", "messageId": msg["id"], "inputs": {"a": "1"}}),
    )
    .await;
    let act = activity(&mut a).await;
    assert_eq!(act["verb"], "cardAction");
    assert_eq!(hydra("ATTACHMENT_ACTION", act["id"].as_str().unwrap()), action["id"].as_str().unwrap());
    assert_eq!(hydra("MESSAGE", act["parent"]["id"].as_str().unwrap()), msg["id"].as_str().unwrap());
    assert_eq!(act["object"]["inputs"], json!({"a": "1"}));
    assert_eq!(act["target"]["id"], uuid_of(&room_id));

    let form = reqwest::multipart::Form::new()
        .text("roomId", room_id.clone())
        .text("text", "a file")
        .part("files", reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("hi.txt"));
    let res = common::client()
        .post(format!("{}/messages", sb.hydra_url()))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let shared: Value = res.json().await.unwrap();
    let share = activity(&mut a).await;
    assert_eq!(share["verb"], "share");
    assert_eq!(share["object"]["objectType"], "content");
    assert_eq!(share["object"]["files"]["items"][0]["displayName"], "hi.txt");
    assert_eq!(share["object"]["files"]["items"][0]["url"], shared["files"][0]);
    assert_eq!(hydra("MESSAGE", share["id"].as_str().unwrap()), shared["id"].as_str().unwrap());
}

#[tokio::test]
async fn team_rooms_and_room_deletion() {
    let sb = start().await;
    let (mut a, alice) = online(&sb, ALICE).await;
    let (mut b, _) = online(&sb, BOB).await;
    let team = post(&sb, &alice, "teams", json!({"name": "T"})).await;
    let create = activity(&mut a).await;
    assert_eq!(create["verb"], "create");
    assert_eq!(create["object"]["displayName"], "T");
    post(&sb, &alice, "team/memberships", json!({"teamId": team["id"], "personEmail": BOB})).await;
    let add = activity(&mut b).await;
    assert_eq!(add["verb"], "add");
    assert_eq!(add["target"]["id"], create["object"]["id"]);
    activity(&mut a).await;

    let room_id = room(&sb, &alice, "doomed").await;
    activity(&mut a).await;
    post(&sb, &alice, "memberships", json!({"roomId": room_id, "personEmail": BOB})).await;
    activity(&mut a).await;
    activity(&mut b).await;
    let res = common::call(Method::DELETE, &format!("{}/rooms/{room_id}", sb.hydra_url()), &alice, None).await;
    assert_eq!(res.status().as_u16(), 204);
    for ws in [&mut a, &mut b] {
        let l1 = activity(ws).await;
        let l2 = activity(ws).await;
        assert_eq!((l1["verb"].as_str(), l2["verb"].as_str()), (Some("leave"), Some("leave")));
        assert_eq!(l1["target"]["id"], uuid_of(&room_id));
    }
}
