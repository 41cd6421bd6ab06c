//! `max` + `Link: <next>; rel="next"` across pages, keeping every filter.

mod common;

use reqwest::Method;
use serde_json::{Value, json};

use common::{call, room, start};

/// Follows next links from `url`, returning the ids of every page.
async fn walk(url: String, token: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(url);
    while let Some(url) = next.take() {
        let res = call(Method::GET, &url, token, None).await;
        assert_eq!(res.status(), 200);
        let links: Vec<String> =
            res.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(links.len() <= 1, "one Link header at most: {links:?}");
        if let Some(l) = links.first() {
            let (url, rel) = l.split_once(';').unwrap();
            assert_eq!(rel.trim(), "rel=\"next\"");
            let url = url.trim().trim_start_matches('<').trim_end_matches('>').to_string();
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            next = Some(url);
        }
        let body: Value = res.json().await.unwrap();
        pages.push(body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect());
    }
    pages
}

#[tokio::test]
async fn messages_page_newest_first_and_next_links_keep_filters() {
    let sb = start().await;
    let alice = sb.user("alice@example.com").unwrap();
    let h = sb.hydra_url();
    let rid = room(&sb, &alice.token, "paging").await;
    let other = room(&sb, &alice.token, "other").await;
    let mut sent = Vec::new();
    for i in 0..7 {
        let (_, m) = common::json(
            Method::POST,
            &format!("{h}/messages"),
            &alice.token,
            Some(json!({"roomId": rid, "text": format!("m{i}")})),
        )
        .await;
        sent.push(m["id"].as_str().unwrap().to_string());
        common::json(
            Method::POST,
            &format!("{h}/messages"),
            &alice.token,
            Some(json!({"roomId": other, "text": "noise"})),
        )
        .await;
    }
    let pages = walk(format!("{h}/messages?roomId={rid}&max=3"), &alice.token).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
    let all: Vec<String> = pages.concat();
    sent.reverse();
    assert_eq!(all, sent, "newest first, no repeats, only the filtered room");
}

#[tokio::test]
async fn rooms_and_memberships_page_with_default_and_explicit_max() {
    let sb = start().await;
    let bob = sb.user("bob@example.com").unwrap();
    let h = sb.hydra_url();
    for i in 0..5 {
        room(&sb, &bob.token, &format!("r{i}")).await;
    }
    let pages = walk(format!("{h}/rooms?type=group&sortBy=created&max=2"), &bob.token).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    let pages = walk(format!("{h}/rooms?type=group"), &bob.token).await;
    assert_eq!(pages.len(), 1);
    let pages = walk(format!("{h}/memberships?max=4"), &bob.token).await;
    assert_eq!(pages.concat().len(), 5);
    // The next link carries the filters: type=direct excludes all of bob's group rooms.
    let pages = walk(format!("{h}/rooms?type=direct&max=1"), &bob.token).await;
    assert_eq!(pages.concat().len(), 0);
}
