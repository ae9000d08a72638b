//! The first connection to an `https` origin goes alone.
//!
//! hyper-util learns from ALPN whether an origin speaks HTTP/2 only once a connection is up, so
//! requests that arrive together before then each open a connection, and all but one are
//! closed again (hyper#1485). Here, while an `https` origin has no open connection, the first
//! request connects alone and the others wait until its connection carries it: for HTTP/2 that
//! connection is in hyper-util's pool by then and they share it; for HTTP/1.1 they open their
//! own, as before. The wait is one TCP and TLS handshake, paid only when no connection is open.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::Uri;
use http::uri::{Authority, Scheme};
use tokio::sync::watch;

/// Scheme and authority: where a connection leads, as hyper-util keys its pool.
type Key = (Scheme, Authority);

/// Open connections and first connects under way, per origin. Cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub(crate) struct Origins {
    inner: Arc<Mutex<HashMap<Key, Origin>>>,
}

#[derive(Debug, Default)]
struct Origin {
    /// Connections open to the origin (from TCP up to close), whatever their protocol.
    open: usize,
    /// Set while a first request connects: closed (its sender dropped) once that request's
    /// connection carries it, or it failed.
    first: Option<watch::Receiver<()>>,
}

/// Held by the request that connects first; dropping it lets the waiting requests go.
#[derive(Debug)]
pub(crate) struct First {
    origins: Origins,
    key: Key,
    _release: watch::Sender<()>,
}

/// Held by an open connection; dropping it counts the connection closed.
#[derive(Debug)]
pub(crate) struct Open {
    origins: Origins,
    key: Key,
}

impl Origins {
    /// Waits while another request makes the first connection to `uri`'s origin; returns
    /// [`First`] when this request is to make it. Only for `https` origins (the others never
    /// speak HTTP/2 here).
    pub(crate) async fn enter(&self, uri: &Uri) -> Option<First> {
        let key = key(uri)?;
        let mut waiting = {
            let mut origins = self.lock();
            let origin = origins.entry(key.clone()).or_default();
            match &origin.first {
                Some(first) => first.clone(),
                None if origin.open > 0 => return None,
                None => {
                    let (release, first) = watch::channel(());
                    origin.first = Some(first);
                    return Some(First {
                        origins: self.clone(),
                        key,
                        _release: release,
                    });
                }
            }
        };
        // Ends with an error once the first request's sender is dropped, even if it was
        // dropped before this call.
        let _ = waiting.changed().await;
        None
    }

    /// Counts a connection to `uri`'s origin open until the returned guard is dropped.
    pub(crate) fn open(&self, uri: &Uri) -> Option<Open> {
        let key = key(uri)?;
        self.lock().entry(key.clone()).or_default().open += 1;
        Some(Open {
            origins: self.clone(),
            key,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Origin>> {
        // The map stays consistent whatever panicked while it was held: each change is one step.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, key: &Key, change: impl FnOnce(&mut Origin)) {
        let mut origins = self.lock();
        if let Some(origin) = origins.get_mut(key) {
            change(origin);
            if origin.open == 0 && origin.first.is_none() {
                origins.remove(key);
            }
        }
    }
}

impl Drop for First {
    fn drop(&mut self) {
        self.origins.update(&self.key, |origin| origin.first = None);
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.origins.update(&self.key, |origin| origin.open -= 1);
    }
}

fn key(uri: &Uri) -> Option<Key> {
    if uri.scheme() != Some(&Scheme::HTTPS) {
        return None;
    }
    Some((Scheme::HTTPS, uri.authority()?.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_request_connects_alone_until_released() {
        let origins = Origins::default();
        let uri = Uri::from_static("https://h:8443/a");
        let first = origins.enter(&uri).await.expect("the first connects");
        let mut waiting = tokio::spawn({
            let origins = origins.clone();
            async move { origins.enter(&uri).await.is_some() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "waits for the first");
        let open = origins.open(&Uri::from_static("https://h:8443/"));
        drop(first);
        assert!(
            !(&mut waiting).await.expect("joins"),
            "goes without connecting first"
        );
        // With a connection open, nobody waits; once it closes, the next request goes first.
        assert!(
            origins
                .enter(&Uri::from_static("https://h:8443/b"))
                .await
                .is_none()
        );
        drop(open);
        assert!(
            origins
                .enter(&Uri::from_static("https://h:8443/b"))
                .await
                .is_some()
        );
        assert!(
            origins.lock().is_empty(),
            "nothing kept for a closed origin"
        );
    }

    #[tokio::test]
    async fn plain_http_never_waits() {
        let origins = Origins::default();
        let uri = Uri::from_static("http://h/");
        assert!(origins.enter(&uri).await.is_none());
        assert!(origins.open(&uri).is_none());
    }
}
