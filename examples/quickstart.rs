//! The quick start: the official SDK's first workflow in Rust.
//!
//! Wait for `ready`, create "My First Room", add alice@example.com and bob@example.com at the
//! same time, say `**Hi Everyone**`, then list what the room holds.
//!
//! With no `WEBEX_ACCESS_TOKEN` it starts the embedded sandbox in this process and acts as the
//! sandbox's bot (the room's creator is already its member, so it adds the two others). With a
//! token it talks to the real Webex cloud.
//!
//! Run: `cargo run --example quickstart`

use serde_json::json;
use webex_core::rest::memberships::CreateMembership;
use webex_core::rest::messages::{CreateMessage, ListMessages};
use webex_core::rest::rooms::CreateRoom;
use webex_core::{Client, Config};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> webex_core::Result<()> {
    // Keep the sandbox alive for the whole run: dropping it stops the server.
    let (_sandbox, config) = match std::env::var("WEBEX_ACCESS_TOKEN") {
        Ok(token) if !token.is_empty() => {
            println!("1. Using WEBEX_ACCESS_TOKEN against the real Webex cloud");
            (None, Config::from_value(json!({}))?)
        }
        _ => {
            let sandbox = webex_sandbox::Sandbox::start(Default::default())
                .await
                .map_err(|e| webex_core::Error::internal(format!("cannot start the sandbox: {e}")))?;
            let bot = sandbox.bot();
            println!("1. Started the embedded sandbox at {} as {}", sandbox.base_url(), bot.email);
            let config = Config::from_value(json!({
                "credentials": {"access_token": bot.token},
                "services": {"discovery": {"hydra": sandbox.hydra_url(), "u2c": sandbox.u2c_url()}},
            }))?;
            (Some(sandbox), config)
        }
    };

    let webex = Client::new(config)?;
    let mut events = webex.events();
    while let Some(event) = events.recv().await {
        if event.kind == "ready" {
            println!("2. The client is ready");
            break;
        }
    }

    let room = webex.rooms().create(&CreateRoom { title: "My First Room".into(), ..Default::default() }).await?;
    println!("3. Created room \"{}\" ({})", room.title.as_deref().unwrap_or(""), room.id);

    let add = |email: &str| CreateMembership {
        room_id: room.id.clone(),
        person_email: Some(email.to_owned()),
        ..Default::default()
    };
    let memberships = webex.memberships();
    let (add_alice, add_bob) = (add("alice@example.com"), add("bob@example.com"));
    let (alice, bob) = tokio::join!(memberships.create(&add_alice), memberships.create(&add_bob));
    for member in [alice?, bob?] {
        println!("4. Added {} to the room", member.person_email.as_deref().unwrap_or("?"));
    }

    let hello = CreateMessage {
        room_id: Some(room.id.clone()),
        markdown: Some("**Hi Everyone**".into()),
        ..Default::default()
    };
    let message = webex.messages().create(&hello).await?;
    println!("5. Sent {} (message {})", message.markdown.as_deref().unwrap_or(""), message.id);

    let list = ListMessages { room_id: Some(room.id.clone()), ..Default::default() };
    let messages = webex.messages().list(&list)?.collect_all().await?;
    println!("6. The room holds {} message(s):", messages.len());
    for m in messages {
        println!("   - {}: {}", m.person_email.as_deref().unwrap_or("?"), m.text.as_deref().unwrap_or(""));
    }
    // A client that connected its socket (listened) keeps it open until shut down.
    webex.shutdown().await;
    Ok(())
}
