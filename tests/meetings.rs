//! Meetings through Locus, end to end against the sandbox: resolve a destination, join, the
//! roster and the state on both sides from `locus.*` events, mute, leave, end, redirects and
//! bad input. Audio and video are not part of this yet (signalling only).

use serde_json::{Value, json};
use webex_core::meetings::meeting::MeetingView;
use webex_core::meetings::{MeetingState, MemberStatus};
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, ErrorCode};
use webex_sandbox::Fault;
use webex_tests::*;

/// A scheduled meeting hosted by Alice: (number, link, SIP address).
async fn scheduled(alice: &Client) -> (String, String, String) {
    let m = scheduled_meeting(alice, "Standup").await;
    (m.meeting_number.unwrap(), m.web_link.unwrap(), m.sip_address.unwrap())
}

fn member<'a>(view: &'a MeetingView, name: &str) -> &'a webex_core::meetings::Member {
    view.members.iter().find(|m| m.name.as_deref() == Some(name)).unwrap_or_else(|| panic!("{name} not in {view:?}"))
}

async fn joined(c: &Client, destination: &str) -> MeetingView {
    c.load_catalog().await.unwrap();
    let m = c.meetings().create(destination, None).await.unwrap();
    let view = m.join(&connected_device(c).await, None, None).await.unwrap();
    assert_eq!(view.state, MeetingState::Joined);
    view
}

#[tokio::test]
async fn destinations_resolve_by_number_link_sip_and_room() {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    alice.load_catalog().await.unwrap();
    let (number, link, sip) = scheduled(&alice).await;
    for destination in [number.clone(), link.clone(), sip.clone(), format!("sip:{sip}")] {
        let view = alice.meetings().create(&destination, None).await.unwrap().view();
        assert_eq!(view.meeting_number.as_deref(), Some(number.as_str()), "{destination}");
        assert_eq!(view.state, MeetingState::Idle);
        assert_eq!(view.title.as_deref(), Some("Standup"));
    }
    let room = alice.rooms().create(&CreateRoom { title: "space".into(), ..Default::default() }).await.unwrap();
    let view = alice.meetings().create(&room.id, None).await.unwrap().view();
    assert!(view.meeting_number.is_some() && view.sip_uri.is_some());
    // Bob is not in the room: the cloud refuses; an unknown number is not found.
    let bob = client_as(&sb, BOB);
    bob.load_catalog().await.unwrap();
    assert_eq!(bob.meetings().create(&room.id, None).await.err().unwrap().code, ErrorCode::Forbidden);
    assert_eq!(bob.meetings().create("999 999 999", None).await.err().unwrap().code, ErrorCode::NotFound);
    let odd = bob.meetings().create("next tuesday", None).await.err().unwrap();
    assert_eq!(odd.code, ErrorCode::InvalidArgument);
    assert_eq!(alice.meetings().list().len(), 5);
}

#[tokio::test]
async fn two_clients_see_each_other_join_mute_leave_and_the_end() {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    let bob = client_as(&sb, BOB);
    alice.load_catalog().await.unwrap();
    let (number, _, _) = scheduled(&alice).await;
    let mut a_events = alice.events();
    let mut b_events = bob.events();

    let a = joined(&alice, &number).await;
    assert!(member(&a, "Alice").is_self && member(&a, "Alice").is_host);
    let b = joined(&bob, &number).await;
    assert_eq!(b.locus_url, a.locus_url, "Bob joined the running meeting");
    assert_eq!(member(&b, "Alice").status, MemberStatus::InMeeting);
    // Alice learns of Bob from a locus event.
    let update = meeting_event(&mut a_events, "members:update", &a.id, |d| {
        d["delta"]["added"].as_array().is_some_and(|a| a.iter().any(|m| m["name"] == "Bob"))
    })
    .await;
    assert_eq!(update["full"].as_array().unwrap().len(), 2);

    // Alice mutes: Bob's roster shows it.
    let alice_meeting = alice.meetings().get(&a.id).unwrap();
    let device = connected_device(&alice).await;
    assert!(alice_meeting.set_muted(&device, Some(true), None).await.unwrap().audio_muted);
    meeting_event(&mut b_events, "members:update", &b.id, |d| {
        d["delta"]["updated"]
            .as_array()
            .is_some_and(|u| u.iter().any(|m| m["name"] == "Alice" && m["audioMuted"] == true))
    })
    .await;
    assert!(member(&bob.meetings().get(&b.id).unwrap().view(), "Alice").audio_muted);
    alice_meeting.set_muted(&device, Some(false), None).await.unwrap();
    meeting_event(&mut b_events, "members:update", &b.id, |d| {
        d["delta"]["updated"]
            .as_array()
            .is_some_and(|u| u.iter().any(|m| m["name"] == "Alice" && m["audioMuted"] == false))
    })
    .await;

    // Bob leaves and comes back.
    let bob_meeting = bob.meetings().get(&b.id).unwrap();
    let bob_device = connected_device(&bob).await;
    assert_eq!(bob_meeting.leave(&bob_device).await.unwrap().state, MeetingState::Left);
    meeting_event(&mut a_events, "members:update", &a.id, |d| {
        d["full"].as_array().is_some_and(|f| f.iter().any(|m| m["name"] == "Bob" && m["status"] == "NOT_IN_MEETING"))
    })
    .await;
    assert_eq!(bob_meeting.join(&bob_device, None, None).await.unwrap().state, MeetingState::Joined);

    // Alice (host) ends it: both are ENDED, and a join afterwards is refused.
    assert_eq!(alice_meeting.end().await.unwrap().state, MeetingState::Ended);
    meeting_event(&mut b_events, "meeting:ended", &b.id, |_| true).await;
    assert_eq!(bob_meeting.view().state, MeetingState::Ended);
    let again = bob_meeting.join(&bob_device, None, None).await.err().unwrap();
    assert_eq!(again.code, ErrorCode::Conflict);
    let states: Vec<Value> = {
        let mut seen = Vec::new();
        while let Ok(e) = a_events.try_recv() {
            if e.kind == "meeting:stateChange" && e.data["meetingId"] == a.id {
                seen.push(e.data["currentState"].clone());
            }
        }
        seen
    };
    assert_eq!(states.last(), Some(&json!("ENDED")));
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_locus_redirect_is_followed() {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    alice.load_catalog().await.unwrap();
    let (number, _, _) = scheduled(&alice).await;
    let target = format!("{}/locus/api/v1/loci/call?alternateRedirect=true", sb.base_url());
    sb.inject_fault(Fault {
        path: "/locus/api/v1/loci/call".into(),
        status: Some(404),
        body: Some(json!({"errorCode": 2000002, "message": "moved", "location": target}).to_string()),
        ..Default::default()
    });
    let view = joined(&alice, &number).await;
    assert!(view.locus_url.is_some());
    let calls: Vec<u16> =
        sb.requests().iter().filter(|r| r.path.starts_with("/locus/api/v1/loci/call")).map(|r| r.status).collect();
    assert_eq!(calls, [404, 200]);
    alice.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let sb = sandbox().await;
    let alice = client_as(&sb, ALICE);
    alice.load_catalog().await.unwrap();
    let (number, _, _) = scheduled(&alice).await;
    let meeting = alice.meetings().create(&number, None).await.unwrap();
    let device = connected_device(&alice).await;
    let early = meeting.leave(&device).await.err().unwrap();
    assert_eq!(early.code, ErrorCode::Closed);
    assert!(early.message.contains("join it first"), "{}", early.message);
    let unknown = alice.meetings().get("no-such-meeting").err().unwrap();
    assert_eq!(unknown.code, ErrorCode::NotFound);
    alice.shutdown().await;
}
