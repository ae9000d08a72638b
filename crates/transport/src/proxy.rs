//! Which proxy requests go through, as a hyper-util [`Matcher`].

use std::fmt;

use hyper_util::client::proxy::matcher::Matcher;

/// Which proxy, if any, requests go through.
///
/// `https` destinations are tunnelled with `CONNECT`; `http` destinations are forwarded with an
/// absolute-form request target. Only `http://` proxy URLs are supported; credentials in the
/// URL (`http://user:pass@proxy:3128`) are sent as `Proxy-Authorization: Basic`.
///
/// # Examples
///
/// ```
/// use kyc_transport::Proxy;
///
/// let from_env = Proxy::from_env(); // HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (either case)
/// let explicit = Proxy::all("http://proxy.internal:3128").no_proxy("localhost, .internal");
/// let direct = Proxy::none();
/// # let _ = (from_env, explicit, direct);
/// ```
#[derive(Clone)]
pub struct Proxy {
    kind: ProxyKind,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Proxy URLs may carry credentials (`user:pass@`): show the host part only.
        fn redact(url: &Option<String>) -> Option<&str> {
            url.as_deref()
                .map(|url| url.rsplit_once('@').map_or(url, |(_, host)| host))
        }
        match &self.kind {
            ProxyKind::None => f.write_str("Proxy::none()"),
            ProxyKind::Env => f.write_str("Proxy::from_env()"),
            ProxyKind::Explicit { http, https, no } => f
                .debug_struct("Proxy")
                .field("http", &redact(http))
                .field("https", &redact(https))
                .field("no_proxy", no)
                .finish(),
        }
    }
}

#[derive(Clone, Debug)]
enum ProxyKind {
    None,
    Env,
    Explicit {
        http: Option<String>,
        https: Option<String>,
        no: Option<String>,
    },
}

impl Proxy {
    /// Read from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper or lower case)
    /// when the transport is built, with curl's rules. This is the default. Loopback hosts are
    /// not exempt unless `NO_PROXY` lists them. In a CGI environment (`REQUEST_METHOD` set,
    /// where a client could set `HTTP_PROXY` through a `Proxy:` header) no proxy is used.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::from_env();
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            kind: ProxyKind::Env,
        }
    }

    /// No proxy: always connect directly, whatever the environment says.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::none();
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn none() -> Self {
        Self {
            kind: ProxyKind::None,
        }
    }

    /// One proxy for both `http` and `https` destinations.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::all("http://127.0.0.1:3128");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn all(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            kind: ProxyKind::Explicit {
                http: Some(url.clone()),
                https: Some(url),
                no: None,
            },
        }
    }

    /// A proxy for `https` destinations only.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::https("http://127.0.0.1:3128");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn https(url: impl Into<String>) -> Self {
        Self {
            kind: ProxyKind::Explicit {
                http: None,
                https: Some(url.into()),
                no: None,
            },
        }
    }

    /// A proxy for `http` destinations only.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::http("http://127.0.0.1:3128");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn http(url: impl Into<String>) -> Self {
        Self {
            kind: ProxyKind::Explicit {
                http: Some(url.into()),
                https: None,
                no: None,
            },
        }
    }

    /// Hosts that bypass an explicit proxy, in `NO_PROXY` syntax: comma-separated domains
    /// (matching subdomains too), IP addresses or CIDR ranges, or `*`. Ignored for
    /// [`Proxy::from_env`] (which reads `NO_PROXY`) and [`Proxy::none`].
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = kyc_transport::Proxy::all("http://127.0.0.1:3128").no_proxy("example.com, 10.0.0.0/8");
    /// # let _ = proxy;
    /// ```
    #[must_use]
    pub fn no_proxy(mut self, list: impl Into<String>) -> Self {
        if let ProxyKind::Explicit { no, .. } = &mut self.kind {
            *no = Some(list.into());
        }
        self
    }

    /// The rules as hyper-util's matcher; `None` for no proxy. [`Proxy::from_env`] reads the
    /// environment here.
    pub(crate) fn matcher(&self) -> Option<Matcher> {
        match &self.kind {
            ProxyKind::None => None,
            ProxyKind::Env => Some(Matcher::from_env()),
            ProxyKind::Explicit { http, https, no } => {
                let mut builder = Matcher::builder();
                if let Some(http) = http {
                    builder = builder.http(http.clone());
                }
                if let Some(https) = https {
                    builder = builder.https(https.clone());
                }
                if let Some(no) = no {
                    builder = builder.no(no.clone());
                }
                Some(builder.build())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_proxy_credentials() {
        let proxy = Proxy::all("http://user:hunter2@proxy.internal:3128");
        let debug = format!("{proxy:?}");
        assert!(debug.contains("proxy.internal:3128"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let transport = crate::Transport::builder()
            .proxy(proxy)
            .build()
            .expect("builds");
        assert!(!format!("{transport:?}").contains("hunter2"));
    }
}
