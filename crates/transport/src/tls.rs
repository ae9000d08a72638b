//! Trusted roots: webpki's by default, added certificates, optionally the operating system's.

use std::fmt;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, InvalidKind};

/// A trusted root certificate to add to the defaults (for a TLS sandbox or a private CA).
///
/// # Examples
///
/// ```
/// use kyc_transport::Certificate;
///
/// assert!(Certificate::from_pem(b"not a certificate").is_err());
/// let der = Certificate::from_der(vec![0x30, 0x03, 0x02, 0x01, 0x00]); // checked when building
/// # let _ = der;
/// ```
#[derive(Clone)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// The first certificate in a PEM text.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the text holds no PEM certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_transport::Certificate;
    ///
    /// assert!(Certificate::from_pem(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").is_ok());
    /// assert!(Certificate::from_pem(b"").is_err());
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        CertificateDer::from_pem_slice(pem)
            .map(|der| Self { der })
            .map_err(|err| Error::invalid_with(InvalidKind::Certificate, err.to_string()))
    }

    /// A DER-encoded certificate; it is parsed when the transport is built.
    ///
    /// # Examples
    ///
    /// ```
    /// let certificate = kyc_transport::Certificate::from_der(Vec::new());
    /// assert!(kyc_transport::Transport::builder().add_root_certificate(certificate).build().is_err());
    /// ```
    #[must_use]
    pub fn from_der(der: impl Into<Vec<u8>>) -> Self {
        Self {
            der: CertificateDer::from(der.into()),
        }
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate(<{} bytes DER>)", self.der.len())
    }
}

/// Which roots to trust: the builder's TLS settings.
#[derive(Clone, Debug)]
pub(crate) struct Roots {
    pub(crate) added: Vec<Certificate>,
    pub(crate) webpki: bool,
    #[cfg(feature = "native-roots")]
    pub(crate) native: bool,
}

impl Roots {
    /// A rustls client configuration (the `ring` provider, its safe default versions) trusting
    /// these roots.
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, Error> {
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native {
            let found = rustls_native_certs::load_native_certs();
            for certificate in found.certs {
                // One unparsable system certificate must not disable the others.
                let _ = roots.add(certificate);
            }
        }
        for root in &self.added {
            roots
                .add(root.der.clone())
                .map_err(|err| Error::invalid_with(InvalidKind::Certificate, err))?;
        }
        if roots.is_empty() {
            return Err(Error::invalid_with(
                InvalidKind::Certificate,
                "no trusted root certificate",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::invalid_with(InvalidKind::Tls, err))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}
