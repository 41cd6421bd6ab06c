//! Opening the event socket: TCP (directly or through an HTTP CONNECT proxy), TLS for `wss`,
//! then the WebSocket upgrade. No token here: it goes in the first frame (protocol.md §5.2).

use crate::error::{Error, ErrorCode, Result};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Any byte stream a socket can run on.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// An open WebSocket.
pub type Socket = WebSocketStream<Box<dyn Transport>>;

/// The proxy for `url` (`ws` or `wss`): the configured one, else `HTTPS_PROXY` / `HTTP_PROXY`
/// / `ALL_PROXY` (either case), unless `NO_PROXY` names the host.
pub fn proxy_for(url: &url::Url, configured: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Option<url::Url> {
    let host = url.host_str()?;
    let get = |name: &str| env(name).or_else(|| env(&name.to_lowercase())).filter(|v| !v.is_empty());
    if let Some(no_proxy) = get("NO_PROXY") {
        let bypass = no_proxy.split(',').map(str::trim).filter(|s| !s.is_empty()).any(|entry| {
            let entry = entry.trim_start_matches('.');
            entry == "*" || host == entry || host.ends_with(&format!(".{entry}"))
        });
        if bypass && configured.is_none() {
            return None;
        }
    }
    let candidate = match configured {
        Some(p) => Some(p.to_owned()),
        None if url.scheme() == "wss" => get("HTTPS_PROXY").or_else(|| get("ALL_PROXY")),
        None => get("HTTP_PROXY").or_else(|| get("ALL_PROXY")),
    }?;
    url::Url::parse(&candidate).ok()
}

/// Open a socket to `url`, through `proxy` when given, with frames capped at `max_frame`;
/// `wss` uses `tls` (the client's trust: `crate::tls::Trust`).
pub async fn open(
    url: &url::Url,
    proxy: Option<&url::Url>,
    max_frame: usize,
    tls: Arc<rustls::ClientConfig>,
) -> Result<Socket> {
    let host = bare_host(url).ok_or_else(|| Error::protocol("the device's webSocketUrl has no host"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let tcp = match proxy {
        Some(p) => connect_via_proxy(p, &host, port).await?,
        None => TcpStream::connect((host.as_str(), port)).await.map_err(|e| network(url, e))?,
    };
    tcp.set_nodelay(true).ok();
    let stream: Box<dyn Transport> =
        if url.scheme() == "wss" { Box::new(handshake(&host, tcp, tls).await?) } else { Box::new(tcp) };
    let config = WebSocketConfig::default().max_message_size(Some(max_frame)).max_frame_size(Some(max_frame));
    let (socket, _response) = tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
        .await
        .map_err(|e| Error::new(ErrorCode::Network, format!("websocket upgrade to {} failed: {e}", safe(url))))?;
    Ok(socket)
}

/// The URL's host as connect and TLS want it: an IPv6 literal without its URL brackets.
fn bare_host(url: &url::Url) -> Option<String> {
    match url.host()? {
        url::Host::Ipv6(ip) => Some(ip.to_string()),
        host => Some(host.to_string()),
    }
}

async fn connect_via_proxy(proxy: &url::Url, host: &str, port: u16) -> Result<TcpStream> {
    let proxy_host = bare_host(proxy).ok_or_else(|| Error::invalid("the proxy URL has no host"))?;
    let proxy_host = proxy_host.as_str();
    let proxy_port = proxy.port_or_known_default().unwrap_or(3128);
    let mut tcp = TcpStream::connect((proxy_host, proxy_port)).await.map_err(|e| {
        Error::new(ErrorCode::Network, format!("cannot connect to the proxy {proxy_host}:{proxy_port}: {e}"))
    })?;
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nProxy-Connection: keep-alive\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.map_err(|e| Error::new(ErrorCode::Network, format!("proxy: {e}")))?;
    // Read the proxy's answer byte by byte up to the blank line, so no tunnelled byte is lost.
    let mut reader = BufReader::with_capacity(1, &mut tcp);
    let mut status = String::new();
    reader.read_line(&mut status).await.map_err(|e| Error::new(ErrorCode::Network, format!("proxy: {e}")))?;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).await.map_err(|e| Error::new(ErrorCode::Network, format!("proxy: {e}")))?;
        if n == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let code = status.split_whitespace().nth(1).unwrap_or("");
    if code != "200" {
        return Err(Error::new(ErrorCode::Network, format!("the proxy refused CONNECT {target}: {}", status.trim())));
    }
    Ok(tcp)
}

async fn handshake(
    host: &str,
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Error::protocol(format!("bad TLS server name {host}: {e}")))?;
    tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| {
        let hint =
            if crate::tls::certificate_refused(&e) { format!("; {}", crate::tls::REFUSED_HINT) } else { String::new() };
        Error::new(ErrorCode::Network, format!("TLS handshake with {host} failed: {e}{hint}"))
    })
}

fn network(url: &url::Url, e: std::io::Error) -> Error {
    Error::new(ErrorCode::Network, format!("cannot connect to {}: {e}", safe(url)))
}

/// The URL without its query (nothing secret is in it, but keep messages short).
fn safe(url: &url::Url) -> String {
    format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or(""), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::Trust;

    #[test]
    fn hosts_are_bare() {
        let host = |u: &str| bare_host(&url::Url::parse(u).unwrap());
        assert_eq!(host("wss://[::1]:8443/x").as_deref(), Some("::1"));
        assert_eq!(host("wss://127.0.0.1:8443/x").as_deref(), Some("127.0.0.1"));
        assert_eq!(host("wss://mercury.test/x").as_deref(), Some("mercury.test"));
    }

    #[test]
    fn proxy_choice() {
        let env = |n: &str| match n {
            "HTTPS_PROXY" => Some("http://secure-proxy:3128".to_string()),
            "http_proxy" => Some("http://plain-proxy:3128".to_string()),
            "NO_PROXY" => Some("internal.test, .corp.test".to_string()),
            _ => None,
        };
        let wss = url::Url::parse("wss://mercury.test/x").unwrap();
        let ws = url::Url::parse("ws://mercury.test/x").unwrap();
        assert_eq!(proxy_for(&wss, None, &env).unwrap().host_str(), Some("secure-proxy"));
        assert_eq!(proxy_for(&ws, None, &env).unwrap().host_str(), Some("plain-proxy"));
        let bypassed = url::Url::parse("wss://a.corp.test/x").unwrap();
        assert_eq!(proxy_for(&bypassed, None, &env), None);
        let internal = url::Url::parse("wss://internal.test/x").unwrap();
        assert_eq!(proxy_for(&internal, None, &env), None);
        let configured = proxy_for(&internal, Some("http://cfg:1"), &env).unwrap();
        assert_eq!(configured.host_str(), Some("cfg"));
        assert_eq!(proxy_for(&wss, None, &|_| None), None);
    }

    /// A `wss` server on loopback with a self-signed certificate: refused by default (naming
    /// the fix), taken when the app trusts it (`http.caCertificates`) or turned
    /// `http.verifyTls` off.
    #[tokio::test]
    async fn a_self_signed_socket_needs_its_certificate_trusted_or_verification_off() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = generated.cert.der().clone();
        let ca = cert.clone();
        let key = rustls::pki_types::PrivateKeyDer::try_from(generated.signing_key.serialize_der()).unwrap();
        let server = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert], key).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = tokio_tungstenite::accept_async(tls).await;
                    }
                });
            }
        });
        let url = url::Url::parse(&format!("wss://localhost:{port}/mercury")).unwrap();
        let verify = Arc::new(Trust::Verify { extra: vec![] }.client_config(&[]).unwrap());
        let refused = open(&url, None, 1 << 20, verify).await.err().expect("a self-signed certificate is refused");
        assert_eq!(refused.code, ErrorCode::Network);
        assert!(refused.message.contains("TLS handshake with localhost failed"), "{}", refused.message);
        assert!(refused.message.contains("http.caCertificates"), "names the fix: {}", refused.message);
        let any = Arc::new(Trust::AnyCertificate.client_config(&[]).unwrap());
        assert!(open(&url, None, 1 << 20, any).await.is_ok());
        // Trusting that very certificate (`http.caCertificates`) is enough too.
        let trusted = Arc::new(Trust::Verify { extra: vec![ca] }.client_config(&[]).unwrap());
        assert!(open(&url, None, 1 << 20, trusted).await.is_ok());
    }
}
