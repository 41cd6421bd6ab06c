//! Ids, authentication, access control and error bodies over real HTTP.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::Method;
use serde_json::json;

use common::{assert_error, call, json, room, start};

#[tokio::test]
async fn ids_are_unpadded_and_padded_ids_are_accepted() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let id = room(&sb, &alice.token, "ids").await;
    assert!(!id.contains('='));
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(&id).unwrap()).unwrap();
    assert!(text.starts_with("ciscospark://us/ROOM/"), "{text}");
    // Room payloads are 57 bytes (no padding); people (59) and membership (100) ids pad.
    let std_room = STANDARD.encode(text.as_bytes());
    let (s, v) = json(Method::GET, &format!("{}/rooms/{std_room}", sb.hydra_url()), &alice.token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id"], id.as_str());
    let person = String::from_utf8(URL_SAFE_NO_PAD.decode(&alice.person_id).unwrap()).unwrap();
    let padded = STANDARD.encode(person.as_bytes());
    assert!(padded.ends_with('='));
    let (s, v) = json(Method::GET, &format!("{}/people/{padded}", sb.hydra_url()), &alice.token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id"], alice.person_id.as_str());
    let (_, ms) = json(Method::GET, &format!("{}/memberships?roomId={id}", sb.hydra_url()), &alice.token, None).await;
    let mid = ms["items"][0]["id"].as_str().unwrap();
    let mtext = String::from_utf8(URL_SAFE_NO_PAD.decode(mid).unwrap()).unwrap();
    assert!(mtext.starts_with("ciscospark://us/MEMBERSHIP/"), "{mtext}");
    let padded = STANDARD.encode(mtext.as_bytes());
    assert!(padded.ends_with("=="));
    let (s, v) = json(Method::GET, &format!("{}/memberships/{padded}", sb.hydra_url()), &alice.token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id"], mid);
}

#[tokio::test]
async fn unauthenticated_and_garbage_requests_get_error_bodies() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let url = format!("{}/rooms", sb.hydra_url());
    assert_error(common::client().get(&url).send().await.unwrap(), 401).await;
    assert_error(call(Method::GET, &url, "nope", None).await, 401).await;
    for bad in ["x", "%%%", "Y2lzY29zcGFyazovL3VzL1JPT00vbm90LWEtdXVpZA", "====="] {
        let res = call(Method::GET, &format!("{url}/{bad}"), &alice.token, None).await;
        assert_error(res, 404).await;
    }
    let res = common::client()
        .post(&url)
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(res, 400).await;
    let body = assert_error(call(Method::POST, &url, &alice.token, Some(json!({}))).await, 400).await;
    assert!(body["message"].as_str().unwrap().contains("title"), "{body}");
    assert_error(call(Method::GET, &format!("{url}?max=0"), &alice.token, None).await, 400).await;
    assert_error(call(Method::GET, &format!("{url}?max=1001"), &alice.token, None).await, 400).await;
    let res = call(Method::GET, &format!("{}/messages", sb.hydra_url()), &alice.token, None).await;
    assert_error(res, 400).await;
    let res = call(Method::GET, &format!("{}/people", sb.hydra_url()), &alice.token, None).await;
    assert_error(res, 400).await;
    assert_error(call(Method::GET, &format!("{}/nothing", sb.hydra_url()), &alice.token, None).await, 404).await;
    // Rejections from the HTTP layer (undecodable path, wrong method) use the same body.
    assert_error(call(Method::GET, &format!("{url}/%FF"), &alice.token, None).await, 400).await;
    assert_error(call(Method::PATCH, &url, &alice.token, None).await, 405).await;
}

#[tokio::test]
async fn rooms_of_others_are_404_and_duplicate_membership_is_409() {
    let sb = start().await;
    let (alice, bob) = (sb.user("alice@example.com").unwrap(), sb.user("bob@example.com").unwrap());
    let h = sb.hydra_url();
    let rid = room(&sb, &alice.token, "private").await;
    let (_, msg) =
        json(Method::POST, &format!("{h}/messages"), &alice.token, Some(json!({"roomId": rid, "text": "hi"}))).await;
    let mid = msg["id"].as_str().unwrap();
    for url in [
        format!("{h}/rooms/{rid}"),
        format!("{h}/messages?roomId={rid}"),
        format!("{h}/memberships?roomId={rid}"),
        format!("{h}/messages/{mid}"),
    ] {
        assert_error(call(Method::GET, &url, &bob.token, None).await, 404).await;
    }
    let (_, rooms) = json(Method::GET, &format!("{h}/rooms"), &bob.token, None).await;
    assert_eq!(rooms["items"].as_array().unwrap().len(), 0);

    let add = json!({"roomId": rid, "personEmail": "bob@example.com"});
    let (s, m) = json(Method::POST, &format!("{h}/memberships"), &alice.token, Some(add.clone())).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["personId"], bob.person_id.as_str());
    assert_error(call(Method::POST, &format!("{h}/memberships"), &alice.token, Some(add)).await, 409).await;
    let (s, _) = json(Method::GET, &format!("{h}/messages/{mid}"), &bob.token, None).await;
    assert_eq!(s, 200);

    // Leaving makes the room invisible again; the creator deletes it for everyone.
    let mem = m["id"].as_str().unwrap();
    assert_eq!(call(Method::DELETE, &format!("{h}/memberships/{mem}"), &bob.token, None).await.status(), 204);
    assert_error(call(Method::GET, &format!("{h}/rooms/{rid}"), &bob.token, None).await, 404).await;
    assert_eq!(call(Method::DELETE, &format!("{h}/rooms/{rid}"), &alice.token, None).await.status(), 204);
    assert_error(call(Method::GET, &format!("{h}/rooms/{rid}"), &alice.token, None).await, 404).await;
}

#[tokio::test]
async fn a_locked_room_is_moderated_and_announcement_mode_needs_the_lock() {
    let sb = start().await;
    let (alice, bob) = (sb.user("alice@example.com").unwrap(), sb.user("bob@example.com").unwrap());
    let h = sb.hydra_url();
    // Announcement mode only on a locked space (the spec's words).
    let loud = json!({"title": "loud", "isAnnouncementOnly": true});
    assert_error(call(Method::POST, &format!("{h}/rooms"), &alice.token, Some(loud)).await, 400).await;
    let news = json!({"title": "news", "isLocked": true, "isAnnouncementOnly": true});
    let (s, room) = json(Method::POST, &format!("{h}/rooms"), &alice.token, Some(news)).await;
    assert_eq!(s, 200, "{room}");
    let rid = room["id"].as_str().unwrap();
    let add = json!({"roomId": rid, "personEmail": "bob@example.com"});
    let (_, bob_m) = json(Method::POST, &format!("{h}/memberships"), &alice.token, Some(add)).await;
    let (_, alice_m) =
        json(Method::GET, &format!("{h}/memberships?roomId={rid}&personEmail=alice@example.com"), &alice.token, None)
            .await;
    let (bob_url, alice_url) = (
        format!("{h}/memberships/{}", bob_m["id"].as_str().unwrap()),
        format!("{h}/memberships/{}", alice_m["items"][0]["id"].as_str().unwrap()),
    );

    // Bob, no moderator: no posting in announcement mode, no changing the room or who moderates,
    // no hiding it for Alice, no removing her.
    let post = json!({"roomId": rid, "text": "me too"});
    assert_error(call(Method::POST, &format!("{h}/messages"), &bob.token, Some(post.clone())).await, 403).await;
    let unlock = json!({"title": "mine", "isLocked": false});
    assert_error(call(Method::PUT, &format!("{h}/rooms/{rid}"), &bob.token, Some(unlock)).await, 403).await;
    let promote = json!({"isModerator": true});
    assert_error(call(Method::PUT, &bob_url, &bob.token, Some(promote.clone())).await, 403).await;
    let hide = json!({"isRoomHidden": true});
    assert_error(call(Method::PUT, &alice_url, &bob.token, Some(hide)).await, 403).await;
    assert_error(call(Method::DELETE, &alice_url, &bob.token, None).await, 403).await;
    // What the JS SDK sends back unchanged is no change.
    let (s, _) =
        json(Method::PUT, &bob_url, &bob.token, Some(json!({"isModerator": false, "isRoomHidden": true}))).await;
    assert_eq!(s, 200);

    // Alice moderates: she promotes Bob, who may then post.
    let (s, m) = json(Method::PUT, &bob_url, &alice.token, Some(promote)).await;
    assert_eq!((s, m["isModerator"].as_bool()), (200, Some(true)));
    let (s, _) = json(Method::POST, &format!("{h}/messages"), &bob.token, Some(post)).await;
    assert_eq!(s, 200);
    // Unlocking with the whole room sent back (announcement flag included) ends announcement
    // mode rather than failing; turning it on unlocked is what is refused.
    let unlock = json!({"title": "news", "isLocked": false, "isAnnouncementOnly": true});
    let (s, r) = json(Method::PUT, &format!("{h}/rooms/{rid}"), &alice.token, Some(unlock)).await;
    assert_eq!((s, r["isAnnouncementOnly"].as_bool()), (200, Some(false)), "{r}");
    let again = json!({"title": "news", "isAnnouncementOnly": true});
    assert_error(call(Method::PUT, &format!("{h}/rooms/{rid}"), &alice.token, Some(again)).await, 400).await;
}

#[tokio::test]
async fn a_non_moderator_deleting_a_room_leaves_it_instead() {
    let sb = start().await;
    let (alice, bob) = (sb.user("alice@example.com").unwrap(), sb.user("bob@example.com").unwrap());
    let h = sb.hydra_url();
    let rid = room(&sb, &alice.token, "kept").await;
    let add = json!({"roomId": rid, "personEmail": "bob@example.com"});
    assert_eq!(json(Method::POST, &format!("{h}/memberships"), &alice.token, Some(add)).await.0, 200);
    // The spec: "when a non moderator deletes the room they are removed from the room instead".
    assert_eq!(call(Method::DELETE, &format!("{h}/rooms/{rid}"), &bob.token, None).await.status(), 204);
    assert_error(call(Method::GET, &format!("{h}/rooms/{rid}"), &bob.token, None).await, 404).await;
    let (s, r) = json(Method::GET, &format!("{h}/rooms/{rid}"), &alice.token, None).await;
    assert_eq!((s, r["title"].as_str()), (200, Some("kept")));
}

#[tokio::test]
async fn direct_messages_create_a_direct_room_and_people_lookup_echoes_ids() {
    let sb = start().await;
    let (alice, bob) = (sb.user("alice@example.com").unwrap(), sb.user("bob@example.com").unwrap());
    let h = sb.hydra_url();
    let (s, m) = json(
        Method::POST,
        &format!("{h}/messages"),
        &alice.token,
        Some(json!({"toPersonEmail": "bob@example.com", "markdown": "**hey** <@personEmail:bob@example.com>"})),
    )
    .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["roomType"], "direct");
    assert_eq!(m["text"], "hey Bob");
    assert_eq!(m["mentionedPeople"][0], bob.person_id.as_str());
    let (_, d) =
        json(Method::GET, &format!("{h}/messages/direct?personEmail=alice@example.com"), &bob.token, None).await;
    assert_eq!(d["items"][0]["id"], m["id"]);
    let (_, r) = json(Method::GET, &format!("{h}/rooms?type=direct"), &bob.token, None).await;
    assert_eq!(r["items"][0]["title"], "Alice");

    // Padded ids come back exactly as sent; unknown ones land in notFoundIds.
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(&bob.person_id).unwrap()).unwrap();
    let std_padded = STANDARD.encode(text);
    let unknown = URL_SAFE_NO_PAD.encode(format!("ciscospark://us/PEOPLE/{}", uuid_like()));
    let url = format!("{h}/people/?id={std_padded},{unknown}&showAllTypes=false");
    let (s, v) = json(Method::GET, &url, &alice.token, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"][0]["id"], std_padded.as_str());
    assert_eq!(v["notFoundIds"], json!([unknown]));
}

fn uuid_like() -> &'static str {
    "00000000-0000-4000-8000-000000000000"
}
