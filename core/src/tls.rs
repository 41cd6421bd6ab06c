//! Which server certificates a client trusts (`http.verifyTls`, `http.caCertificates`), decided
//! once per client and used by both the REST pipeline and the event socket, so the two can
//! never disagree about a server.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::Config;
use crate::error::{Error, Result};

/// How a client checks certificates.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The platform's roots plus `extra` (`http.caCertificates`: a corporate TLS-inspecting
    /// proxy's CA, the sandbox's HTTPS mode).
    Verify {
        /// Extra trusted roots, DER.
        extra: Vec<CertificateDer<'static>>,
    },
    /// `http.verifyTls: false`: any certificate (the app's explicit choice, warned about).
    AnyCertificate,
}

impl Trust {
    /// From the config; a `http.caCertificates` holding no certificate is an error naming it.
    pub fn from_config(config: &Config) -> Result<Trust> {
        // Checked even when verification is off: a broken setting is an error either way.
        let extra = match config.str("http.caCertificates") {
            Some(pem) => parse_pem(pem)?,
            None => Vec::new(),
        };
        if !config.bool("http.verifyTls") {
            return Ok(Trust::AnyCertificate);
        }
        Ok(Trust::Verify { extra })
    }

    /// A rustls client configuration for sockets this client opens itself (Mercury), with
    /// the given ALPN protocols.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Result<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(format!("TLS set-up failed: {e}")))?
            .dangerous();
        let mut config = match self {
            Trust::Verify { extra } => {
                let verifier =
                    rustls_platform_verifier::Verifier::new_with_extra_roots(extra.iter().cloned(), provider)
                        .map_err(|e| Error::internal(format!("cannot load the trusted certificates: {e}")))?;
                builder.with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
            }
            Trust::AnyCertificate => {
                builder.with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))).with_no_client_auth()
            }
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    /// Applies the same trust to a reqwest client.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        Ok(match self {
            Trust::Verify { extra } if extra.is_empty() => builder,
            Trust::Verify { extra } => {
                let certs = extra
                    .iter()
                    .map(|der| reqwest::Certificate::from_der(der))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| Error::invalid(format!("http.caCertificates: {e}")))?;
                builder.tls_certs_merge(certs)
            }
            Trust::AnyCertificate => builder.tls_danger_accept_invalid_certs(true),
        })
    }
}

/// Every certificate in a PEM text; an error that says what was expected when none is there.
fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid(format!("http.caCertificates is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(
            "http.caCertificates holds no certificate: expected one or more \
             -----BEGIN CERTIFICATE----- blocks (the PEM text itself, not a file name)",
        ));
    }
    // A block can be valid base64 and still not be a certificate; say so here, by position,
    // rather than fail later inside the verifier with an internal error.
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        roots.add(cert.clone()).map_err(|e| {
            Error::invalid(format!("http.caCertificates: block {} is not a usable CA certificate ({e})", i + 1))
        })?;
    }
    Ok(certs)
}

/// Whether `e` failed because the server's certificate was refused: no retry changes that.
pub(crate) fn certificate_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let refused =
        |r: &rustls::Error| matches!(r, rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented);
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some_and(refused) {
            return true;
        }
        // An io::Error's `source` skips the error it wraps (here an io::Error around the
        // rustls one), so step into it instead.
        source = match s.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(wrapped) => Some(wrapped as &(dyn std::error::Error + 'static)),
            None => s.source(),
        };
    }
    false
}

/// Whether `e` is a refusal of the server's certificate, as the REST pipeline and the socket
/// report it (both end their message with [`REFUSED_HINT`], which only they write).
pub(crate) fn is_refusal(e: &Error) -> bool {
    e.code == crate::error::ErrorCode::Network && e.message.ends_with(REFUSED_HINT)
}

/// What to tell an app whose server was refused for its certificate.
pub(crate) const REFUSED_HINT: &str =
    "if a proxy inspects TLS or the server has its own CA, give that CA's PEM as http.caCertificates";

/// `http.verifyTls: false`: any certificate is taken, but the handshake's signatures are still
/// checked, so the session is at least bound to the key the server showed.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_without_certificates_is_refused_by_name() {
        let err = parse_pem("/etc/ssl/corp-ca.pem").unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidArgument);
        assert!(err.message.contains("http.caCertificates holds no certificate"), "{}", err.message);
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let two = format!("{}\n{}", generated.cert.pem(), generated.cert.pem());
        assert_eq!(parse_pem(&two).unwrap().len(), 2);
        let not_a_certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = parse_pem(&format!("{}{not_a_certificate}", generated.cert.pem())).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidArgument);
        assert!(err.message.contains("block 2 is not a usable CA certificate"), "{}", err.message);
    }
}
