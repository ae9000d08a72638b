//! The control API under `{base}/_sandbox/`: the dashboard page, the state it polls, and the
//! decide and resend actions, all JSON except the page.
//!
//! Actions must be `POST` with `Content-Type: application/json`: a web page of another origin
//! cannot send that without a CORS preflight, which the sandbox never grants, so a site open in
//! the developer's browser cannot decide applications behind their back.

use std::error::Error as StdError;

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::Control;
use crate::parse;
use crate::{CallbackRecord, Decision, Error, Review, Scenario};

/// The dashboard: one page, its CSS and script inline, no external asset.
const DASHBOARD: &str = include_str!("dashboard.html");

/// The largest control request body, in bytes.
const MAX_CONTROL_BODY: usize = 16 * 1024;

/// The most applications and callback attempts one state answer lists (the latest).
const STATE_LIMIT: usize = 500;

/// A control answer: HTTP status, content type, body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
}

impl Reply {
    fn json(status: u16, value: &impl Serialize) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    fn error(error: &Error) -> Self {
        let (kind, message) = error
            .as_control()
            .unwrap_or((Control::Invalid, "invalid request"));
        Self::refused(kind, message)
    }

    fn refused(kind: Control, message: &str) -> Self {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
        }
        Self::json(
            kind.http_status(),
            &Body {
                error: Detail {
                    code: kind.code(),
                    message,
                },
            },
        )
    }
}

/// Answers a request for `{base}/_sandbox/{rest}`.
pub(crate) async fn handle<B>(engine: &Engine, rest: &str, request: Request<B>) -> Reply
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let method = request.method().clone();
    match (rest, &method) {
        ("" | "/", &Method::GET) => Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: Bytes::from_static(DASHBOARD.as_bytes()),
        },
        ("/state", &Method::GET) => Reply::json(200, &state(engine)),
        ("/decide" | "/resend", &Method::POST) => {
            let body = match read_json_body(engine, request).await {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            if rest == "/decide" {
                decide(engine, &body)
            } else {
                resend(engine, &body)
            }
        }
        ("" | "/" | "/state" | "/decide" | "/resend", _) => Reply::json(
            405,
            &serde_json::json!({"error": {"code": "method_not_allowed", "message": "wrong method for this control endpoint"}}),
        ),
        _ => Reply::json(
            404,
            &serde_json::json!({"error": {"code": "not_found", "message": "no such control endpoint"}}),
        ),
    }
}

/// One application as the control API shows it: no name, no `failReason`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationView {
    merchant_no: String,
    user_id: String,
    /// The outcome, with the callback piece when there is one: `hold`, `lost-reject`.
    scenario: String,
    /// The wire value: `0` to `3`.
    status: String,
    status_name: &'static str,
    applied_at_millis: u64,
    changed_at_millis: u64,
    decided_at_millis: Option<u64>,
}

impl From<&Review> for ApplicationView {
    fn from(review: &Review) -> Self {
        let callback = Scenario::parse(&review.user_id).callback();
        let scenario = match callback {
            crate::CallbackMode::Normal => review.outcome.as_str().to_owned(),
            mode => format!("{}-{}", mode.as_str(), review.outcome.as_str()),
        };
        Self {
            merchant_no: review.merchant_no.clone(),
            user_id: review.user_id.clone(),
            scenario,
            status: review.status.as_str().to_owned(),
            status_name: status_name(&review.status),
            applied_at_millis: review.applied_at_millis,
            changed_at_millis: review.changed_at_millis,
            decided_at_millis: review.decided_at_millis,
        }
    }
}

fn status_name(status: &kyc_proto::AuthenticationStatus) -> &'static str {
    use kyc_proto::AuthenticationStatus as S;
    match status {
        S::Pending => "pending",
        S::UnderReview => "under review",
        S::Approved => "approved",
        S::Rejected => "rejected",
        _ => "unknown",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct State {
    now_millis: u64,
    /// How many applications are stored (the list holds the latest changed).
    total_applications: usize,
    applications: Vec<ApplicationView>,
    callbacks: Vec<CallbackRecord>,
}

fn state(engine: &Engine) -> State {
    let mut reviews = engine.config.store.list();
    let total_applications = reviews.len();
    reviews.sort_by(|a, b| {
        b.changed_at_millis
            .cmp(&a.changed_at_millis)
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    reviews.truncate(STATE_LIMIT);
    State {
        now_millis: engine.now(),
        total_applications,
        applications: reviews.iter().map(ApplicationView::from).collect(),
        callbacks: engine.log.recent_callbacks(STATE_LIMIT),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DecideRequest {
    merchant_no: Option<String>,
    user_id: String,
    decision: String,
    fail_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResendRequest {
    merchant_no: Option<String>,
    user_id: String,
}

#[derive(Serialize)]
struct Done {
    application: ApplicationView,
}

fn decide(engine: &Engine, body: &[u8]) -> Reply {
    let request: DecideRequest = match parse_json(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    let decision = match (request.decision.as_str(), request.fail_reason) {
        ("approve", None) => Decision::Approve,
        ("hold", None) => Decision::Hold,
        ("reject", Some(reason)) => Decision::Reject(reason),
        ("reject", None) => {
            return Reply::refused(Control::Invalid, "a rejection needs a failReason");
        }
        ("approve" | "hold", Some(_)) => {
            return Reply::refused(Control::Invalid, "only a rejection takes a failReason");
        }
        _ => {
            return Reply::refused(
                Control::Invalid,
                "decision must be \"approve\", \"reject\" or \"hold\"",
            );
        }
    };
    match engine.decide(request.merchant_no.as_deref(), &request.user_id, decision) {
        Ok(review) => Reply::json(
            200,
            &Done {
                application: ApplicationView::from(&review),
            },
        ),
        Err(error) => Reply::error(&error),
    }
}

fn resend(engine: &Engine, body: &[u8]) -> Reply {
    let request: ResendRequest = match parse_json(body) {
        Ok(request) => request,
        Err(reply) => return reply,
    };
    match engine.resend(request.merchant_no.as_deref(), &request.user_id) {
        Ok(review) => Reply::json(
            202,
            &Done {
                application: ApplicationView::from(&review),
            },
        ),
        Err(error) => Reply::error(&error),
    }
}

/// Parses a control body; the error names the position, never the value (a `failReason` may
/// be about a person).
fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|error| {
        let what = match error.classify() {
            serde_json::error::Category::Data => "a field is missing, unknown or of the wrong type",
            serde_json::error::Category::Eof => "the JSON ends early",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => "not JSON",
        };
        Reply::refused(
            Control::Invalid,
            &format!(
                "bad JSON body ({what}, line {} column {})",
                error.line(),
                error.column()
            ),
        )
    })
}

async fn read_json_body<B>(engine: &Engine, request: Request<B>) -> Result<Bytes, Reply>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    if !parse::is_json(content_type) {
        return Err(Reply::refused(
            Control::Invalid,
            "Content-Type must be application/json",
        ));
    }
    let limited = Limited::new(request.into_body(), MAX_CONTROL_BODY);
    match tokio::time::timeout(engine.config.body_read_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(Reply::refused(
            Control::Invalid,
            "the body is too large or was cut short",
        )),
        Err(_) => Err(Reply::refused(Control::Invalid, "the body came too slowly")),
    }
}
