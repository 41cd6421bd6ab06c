//! `webex-sandbox --port 0 [--host 127.0.0.1] [--device-cap N] [--tls]`: runs the sandbox cloud, prints
//! one JSON line (`{"hydra", "u2c", "wdm", "orgId", "users": [...], "caCertificate"}`) on stdout, and serves
//! until SIGTERM or ctrl-c.

/// A message create spent a fifth of its time in glibc's malloc and free (consolidating and
/// growing the heap); the Python module uses the same allocator for the same reason.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use webex_sandbox::{Sandbox, SandboxOptions};

const USAGE: &str = "\
Usage: webex-sandbox [--port PORT] [--host IP] [--device-cap N] [--tls]

Runs a local, offline, Webex-compatible cloud (hydra REST under /v1, U2C catalog under
/u2c/api/v1, WDM devices under /wdm/api/v1, the Mercury websocket at each device's
webSocketUrl, test controls under /_sandbox/). Prints one JSON line with the service URLs
and the seeded users' tokens, then serves until killed.

Options:
  --port PORT       TCP port to listen on (default 0: the OS picks a free port)
  --host IP         address to bind (default 127.0.0.1)
  --device-cap N    WDM registrations allowed per user (default 25)
  --tls             serve https:// and wss:// with a CA made at start; its PEM is the JSON
                    line's \"caCertificate\" (give it to clients as http.caCertificates)
  -h, --help        print this help";

fn parse_args(args: &[String]) -> Result<Option<SandboxOptions>, String> {
    let mut opts = SandboxOptions::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        match name {
            "-h" | "--help" => return Ok(None),
            "--tls" if inline.is_none() => opts.tls = true,
            "--port" | "--host" | "--device-cap" => {
                let value = inline.or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"))?;
                if name == "--port" {
                    opts.port = value.parse().map_err(|_| format!("invalid port: {value}"))?;
                } else if name == "--device-cap" {
                    opts.device_cap = value.parse().map_err(|_| format!("invalid device cap: {value}"))?;
                } else {
                    opts.host = value.parse::<IpAddr>().map_err(|_| format!("invalid host: {value}"))?;
                }
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(Some(opts))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("webex-sandbox: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match Sandbox::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("webex-sandbox: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", sandbox.info_json()).and_then(|_| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    wait_for_signal().await;
    sandbox.stop().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
