//! Shared support for the end-to-end tests: a real sandbox on loopback and clients for its
//! users.

use serde_json::{Value, json};
use webex_core::Client;
use webex_sandbox::{Sandbox, SandboxOptions};

/// A sandbox on an OS-chosen loopback port.
pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default()).await.expect("the sandbox starts")
}

/// A config document for `token` against `sandbox`, with short retry waits so tests of the
/// retry policy stay quick (the waits themselves are never asserted).
pub fn config_for(sandbox: &Sandbox, token: &str) -> Value {
    json!({
        "credentials": {"access_token": token},
        "services": {"discovery": {"hydra": sandbox.hydra_url(), "u2c": sandbox.u2c_url()}},
        "http": {"retryAfterDefaultMs": 20, "backoffBaseMs": 5, "maxRetryAfterMs": 2000},
    })
}

/// A client acting as the sandbox user with `email`.
pub fn client_as(sandbox: &Sandbox, email: &str) -> Client {
    let user = sandbox.user(email).unwrap_or_else(|| panic!("no sandbox user {email}"));
    let config = webex_core::Config::from_value(config_for(sandbox, &user.token)).expect("valid config");
    Client::new(config).expect("client")
}

/// A client acting as the sandbox's bot.
pub fn bot_client(sandbox: &Sandbox) -> Client {
    client_as(sandbox, &sandbox.bot().email)
}

/// The email addresses of the seeded people.
pub const ALICE: &str = "alice@example.com";
/// Bob.
pub const BOB: &str = "bob@example.com";
