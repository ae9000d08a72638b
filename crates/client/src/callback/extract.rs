//! The axum extractor for merchants who write their own callback handler (feature `axum`).

use axum_core::extract::{FromRef, FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use kyc_sign::SigningKey;

use super::{CallbackReply, DEFAULT_MAX_BODY, read_body};
use crate::Client;
use crate::telemetry::{self, CallbackOutcome};
use crate::types::Callback;

/// A callback whose signature verified, extracted from the request body by axum 0.8.
///
/// The key comes from the router's state: any state from which a [`SigningKey`] can be taken
/// through [`FromRef`] (a [`Client`], a `SigningKey` itself, or the merchant's own state with a
/// `FromRef` impl). The body is read up to 64 KiB. A request that does not verify is rejected
/// with the same answers as [`CallbackService`](crate::CallbackService): `413` for a body over
/// the limit or unreadable, `400` for a malformed callback, `401` for a bad signature, with a
/// short plain-text body, never `OK`. The handler answers `OK` itself
/// ([`CallbackReply::OK`] is a response), and only once the result is stored. Unlike
/// `CallbackService`, the extractor sets no time limit: keep the handler within the
/// provider's 10 s window.
///
/// # Examples
///
/// ```
/// use axum::Router;
/// use axum::extract::FromRef;
/// use axum::routing::post;
/// use kyc_client::{CallbackReply, Client, SigningKey, VerifiedCallback};
///
/// #[derive(Clone)]
/// struct AppState {
///     client: Client,
/// }
///
/// impl FromRef<AppState> for SigningKey {
///     fn from_ref(state: &AppState) -> Self {
///         state.client.signing_key().clone()
///     }
/// }
///
/// async fn on_callback(VerifiedCallback(callback): VerifiedCallback) -> CallbackReply {
///     // Store `callback` durably here; answer `OK` only then.
///     let _ = callback.status();
///     CallbackReply::OK
/// }
///
/// let client = Client::builder().merchant_no("1027749636").app_secret("s").build()?;
/// let app: Router = Router::new()
///     .route("/kyc/callback", post(on_callback))
///     .with_state(AppState { client });
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct VerifiedCallback(pub Callback);

impl<S> FromRequest<S> for VerifiedCallback
where
    S: Send + Sync,
    SigningKey: FromRef<S>,
{
    type Rejection = CallbackReply;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let key = SigningKey::from_ref(state);
        let body = match read_body(request.into_body(), DEFAULT_MAX_BODY).await {
            Ok(body) => body,
            Err(reason) => {
                telemetry::callback_outcome(CallbackOutcome::Refused(reason));
                return Err(CallbackReply::body_refused());
            }
        };
        match Callback::verify(&body, &key) {
            Ok(callback) => {
                telemetry::callback_outcome(CallbackOutcome::Handled(crate::Handled::Stored));
                Ok(Self(callback))
            }
            Err(err) => {
                tracing::warn!(error = %err, "callback refused");
                telemetry::callback_outcome(CallbackOutcome::refused(&err));
                Err(CallbackReply::refused(&err))
            }
        }
    }
}

/// A [`Client`] as the router's state gives the extractor its key.
impl FromRef<Client> for SigningKey {
    fn from_ref(client: &Client) -> Self {
        client.signing_key().clone()
    }
}

/// The reply as an axum response: its status, `text/plain` and its short body.
impl IntoResponse for CallbackReply {
    fn into_response(self) -> Response {
        let (parts, body) = self.to_response().into_parts();
        Response::from_parts(parts, axum_core::body::Body::new(body))
    }
}
