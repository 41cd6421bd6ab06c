//! # webex-core
//!
//! The webex-native engine: the whole `webex` config, credentials, the Webex REST API, and one
//! handle-and-callback boundary (`boundary`) that the C, Python and Node bindings call.
//!
//! ```no_run
//! # async fn demo() -> webex_core::Result<()> {
//! use webex_core::{Client, rest::rooms::CreateRoom};
//! let client = Client::from_json(r#"{"credentials": {"access_token": "..."}}"#)?;
//! let room = client.rooms().create(&CreateRoom { title: "My First Room".into(), ..Default::default() }).await?;
//! println!("{}", room.id);
//! # Ok(()) }
//! ```

pub mod activity;
pub mod authorization;
pub mod boundary;
pub mod catalog;
pub mod client;
pub mod config;
pub mod credentials;
pub mod device;
pub mod error;
pub mod events;
pub mod http;
pub mod listener;
pub mod log;
pub mod meetings;
pub mod mercury;
pub mod rest;
pub mod storage;
pub mod time;
pub mod tls;

pub use client::Client;
pub use config::Config;
pub use error::{Error, ErrorCode, Result};
pub use events::Event;

/// This engine's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
