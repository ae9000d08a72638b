//! Whom the sandbox trusts when it delivers a callback to an `https://` URL.

use std::fmt;
use std::sync::Arc;

use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, RootCertStore};

/// The callback client's trust: the system's roots (unless turned off), the roots given to the
/// builder, or — for local development only, when asked explicitly — any certificate.
#[derive(Clone, Default)]
pub(crate) struct CallbackTrust {
    pub(crate) native_roots: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) accept_invalid_certs: bool,
}

impl CallbackTrust {
    /// The rustls client configuration, on the ring provider (chosen explicitly: the
    /// process-wide default is ambiguous when another crate enables a second provider).
    pub(crate) fn client_config(&self) -> ClientConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions");
        // No ALPN here: the connector offers the protocols it enables.
        if self.accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate {
                    algorithms: provider.signature_verification_algorithms,
                }))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(self.roots())
                .with_no_client_auth()
        }
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            if !found.errors.is_empty() {
                tracing::warn!(
                    errors = found.errors.len(),
                    "some system roots could not be read for https callbacks"
                );
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "system roots for https callbacks");
        }
        for root in &self.extra_roots {
            // Checked when the builder parsed them; a refusal here leaves that root out.
            if roots.add(root.clone()).is_err() {
                tracing::warn!("a callback root given to the sandbox was refused by rustls");
            }
        }
        roots
    }
}

impl fmt::Debug for CallbackTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackTrust")
            .field("native_roots", &self.native_roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .finish()
    }
}

/// Accepts any server certificate, but still checks that the handshake is signed by the key
/// of the certificate presented (so the connection is at least encrypted to someone).
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
