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

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake that has not finished by then is dropped (a client that connected and said
/// nothing must not hold a task forever).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Finished handshakes waiting for the server to take them.
const READY_BACKLOG: usize = 64;

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
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(cert_error)?;

        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        if !bound.is_unspecified() && !bound.is_loopback() {
            names.push(bound.to_string());
        }
        let server_key = KeyPair::generate().map_err(cert_error)?;
        let mut params = CertificateParams::new(names).map_err(cert_error)?;
        params.distinguished_name.push(DnType::CommonName, "webex-sandbox");
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

fn cert_error(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("cannot make the sandbox's TLS certificate: {e}"))
}

/// A connection whose handshake finished.
pub(crate) type Stream = TlsStream<TcpStream>;

/// A listener handing out connections whose TLS handshake has finished; handshakes run in
/// their own tasks so a slow client never holds up the others.
pub(crate) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: tokio::task::JoinHandle<()>,
    local: io::Result<SocketAddr>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        let local = tcp.local_addr();
        let (tx, ready) = mpsc::channel(READY_BACKLOG);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = tcp.accept() => match accepted {
                        Ok(a) => a,
                        // Out of file descriptors and the like: wait as axum's own loop does.
                        Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
                    },
                    _ = tx.closed() => return,
                };
                // No Nagle: see `Sandbox::start`.
                let _ = stream.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    // A failed handshake (wrong CA, plain HTTP to the TLS port) is the
                    // client's to report; the server just drops the connection.
                    if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        let _ = tx.send((tls, peer)).await;
                    }
                });
            }
        });
        TlsListener { ready, accepting, local }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends when this listener is dropped; never reached while
            // the server polls it, but a listener may not return an error.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match &self.local {
            Ok(addr) => Ok(*addr),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        }
    }
}
