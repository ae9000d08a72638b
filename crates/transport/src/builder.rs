//! [`TransportBuilder`]: timeouts, roots, proxy, HTTP/2 and the pool's idle settings.

use std::time::Duration;

use crate::error::Error;
use crate::proxy::Proxy;
use crate::tls::{Certificate, Roots};
use crate::transport::Transport;

/// Configures a [`Transport`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let transport = kyc_transport::Transport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .timeout(Duration::from_secs(20))
///     .max_response_body(256 * 1024)
///     .proxy(kyc_transport::Proxy::none())
///     .build()?;
/// # let _ = transport;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TransportBuilder {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_response_body: usize,
    pub(crate) roots: Roots,
    pub(crate) proxy: Proxy,
    pub(crate) http2: bool,
    pub(crate) pool_idle_timeout: Duration,
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_body: 1024 * 1024,
            roots: Roots {
                added: Vec::new(),
                webpki: true,
                #[cfg(feature = "native-roots")]
                native: false,
            },
            proxy: Proxy::from_env(),
            http2: true,
            pool_idle_timeout: Duration::from_secs(60),
        }
    }
}

impl TransportBuilder {
    /// The limit for connecting: TCP, proxy tunnel and TLS handshake together. Default 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().connect_timeout(std::time::Duration::from_secs(3));
    /// # let _ = builder;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit for one attempt, from handing the request to the pool to the last byte of the
    /// response body (connecting included). Default 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().timeout(std::time::Duration::from_secs(15));
    /// # let _ = builder;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body read, in bytes; a larger one fails with
    /// [`Error::BodyTooLarge`]. Default 1 MiB (the provider's replies are a few hundred bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().max_response_body(64 * 1024);
    /// # let _ = builder;
    /// ```
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Trusts `certificate` as a root, in addition to the built-in roots.
    ///
    /// # Examples
    ///
    /// ```
    /// # let pem = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    /// let root = kyc_transport::Certificate::from_pem(pem)?;
    /// let builder = kyc_transport::Transport::builder().add_root_certificate(root);
    /// # let _ = builder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_root_certificate(mut self, certificate: Certificate) -> Self {
        self.roots.added.push(certificate);
        self
    }

    /// Whether to trust the Mozilla roots compiled in from `webpki-roots`. Default true; turn
    /// off to trust only the added (and, with `native-roots`, the system's) certificates.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().webpki_roots(false);
    /// # let _ = builder;
    /// ```
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.roots.webpki = enabled;
        self
    }

    /// Whether to trust the operating system's certificate store too. Default false.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().native_roots(true);
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.roots.native = enabled;
        self
    }

    /// The proxy configuration. Default [`Proxy::from_env`].
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().proxy(kyc_transport::Proxy::none());
    /// # let _ = builder;
    /// ```
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Whether to offer HTTP/2 in the TLS handshake (ALPN). Default true; plain `http` always
    /// uses HTTP/1.1.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().http2(false);
    /// # let _ = builder;
    /// ```
    pub fn http2(mut self, enabled: bool) -> Self {
        self.http2 = enabled;
        self
    }

    /// How long an idle pooled connection is kept. Default 60 s; zero means a connection is
    /// never reused. At most 128 idle connections are kept per origin.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = kyc_transport::Transport::builder().pool_idle_timeout(std::time::Duration::from_secs(30));
    /// # let _ = builder;
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Builds the transport. It needs a Tokio runtime only when sending.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when an added root certificate cannot be parsed, or no root at all
    /// is trusted.
    ///
    /// # Examples
    ///
    /// ```
    /// let transport = kyc_transport::Transport::builder().build()?;
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Transport, Error> {
        Transport::new(self)
    }
}
