//! HTTPS for the sandbox (`SandboxOptions::tls`): a certificate authority made for this one
//! sandbox, a server certificate it signs for the loopback names, and a listener that does
//! the TLS handshakes off the accept loop.
//!
//! The real cloud is only reachable over HTTPS; this lets an app (and our own tests and
//! benchmarks) exercise the same path: certificate verification against a CA the client is
//! told to trust (`http.caCertificates`), ALPN choosing HTTP/2 or HTTP/1.1, `wss://` for
//! Mercury.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake that has not finished by then is dropped (a client that connected and said
/// nothing must not hold a task forever).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the certificates are valid from a day before the start: under the 398 days
/// platform verifiers (macOS among them) accept for a server certificate.
const VALID_DAYS: i64 = 397;

/// The sandbox's own certificate authority and the server configuration it signed.
pub(crate) struct Authority {
    /// The CA certificate, PEM: what a client must trust.
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// A new CA and a server certificate for `localhost`, 127.0.0.1, ::1 and `bound` (the
    /// interface the sandbox listens on, when it is another address).
    pub fn new(bound: IpAddr) -> io::Result<Authority> {
        let ca_key = KeyPair::generate().map_err(cert_error)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
        ca_params.distinguished_name.push(DnType::CommonName, "webex-sandbox local CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut ca_params);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(cert_error)?;

        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        if !bound.is_unspecified() && !bound.is_loopback() {
            names.push(bound.to_string());
        }
        let server_key = KeyPair::generate().map_err(cert_error)?;
        let mut params = CertificateParams::new(names).map_err(cert_error)?;
        params.distinguished_name.push(DnType::CommonName, "webex-sandbox");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params);
        let cert = params.signed_by(&server_key, &ca).map_err(cert_error)?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone(), ca.der().clone()], key)
            .map_err(io::Error::other)?;
        // HTTP/2 first, as a CDN in front of a cloud API offers it; clients that only speak
        // HTTP/1.1 (or say nothing, like a websocket client) get HTTP/1.1.
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Authority { ca_pem: ca.pem(), server: Arc::new(server) })
    }
}

/// From yesterday (a client clock a little behind still accepts it) for [`VALID_DAYS`].
fn validity(params: &mut CertificateParams) {
    let day = 86_400_000;
    let at = |ms: i64| {
        let (y, m, d) = crate::time::date(ms);
        rcgen::date_time_ymd(y as i32, m as u8, d as u8)
    };
    let now = crate::time::now_ms();
    params.not_before = at(now - day);
    params.not_after = at(now + VALID_DAYS * day);
}

fn cert_error(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("cannot make the sandbox's TLS certificate: {e}"))
}

/// A connection whose handshake finished.
pub(crate) type Stream = TlsStream<TcpStream>;

/// A listener handing out connections whose TLS handshake has finished. Handshakes run in
/// their own tasks (a slow client never holds up the others), owned by the listener: when the
/// server drops it, the port closes and unfinished handshakes stop at once.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(Stream, SocketAddr)>>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        TlsListener { tcp, acceptor: TlsAcceptor::from(config), handshakes: JoinSet::new() }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Stream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) => {
                        // No Nagle: see `Sandbox::start`.
                        let _ = stream.set_nodelay(true);
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            // A failed handshake (an untrusted CA, plain HTTP to the TLS port)
                            // is the client's to report; the server drops the connection.
                            let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                            tls.ok()?.ok().map(|tls| (tls, peer))
                        });
                    }
                    // Out of file descriptors and the like: wait as axum's own loop does.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
