//! One HTTP request in, one answer out: routing, headers, body limits, then the engine.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;

use crate::engine::{Answer, Engine};
use crate::parse::{self, Limits, Refusal};
use crate::{Endpoint, RefusalCode, RequestRecord};

/// The path of the apply endpoint under the base path.
pub(crate) const APPLY_PATH: &str = "/v1/vexora/kycApplyFor";
/// The path of the status query endpoint under the base path.
pub(crate) const STATUS_PATH: &str = "/v1/vexora/kycStatusQuery";
/// The path of the log under the base path.
pub(crate) const LOG_PATH: &str = "/_sandbox/log";
/// The prefix of the control API (and the dashboard at `{CONTROL_PATH}/`).
pub(crate) const CONTROL_PATH: &str = "/_sandbox";

/// The service's error: the connection is closed without an answer (the `drop` scenario).
#[derive(Debug)]
pub(crate) struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the sandbox's drop scenario")
    }
}

impl StdError for Dropped {}

enum Route<'p> {
    Api(Endpoint),
    Log,
    /// Under `/_sandbox`, with the rest of the path.
    Control(&'p str),
    Unknown,
}

/// Answers one request. `Err` closes the connection without an answer.
pub(crate) async fn handle<B>(
    engine: Arc<Engine>,
    request: Request<B>,
) -> Result<Response<Full<Bytes>>, Dropped>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let path = request.uri().path().to_owned();
    let route = route(&engine.config.base_path, &path);
    let endpoint = match route {
        Route::Log if engine.config.log_endpoint && request.method() == Method::GET => {
            let body = serde_json::to_vec(&engine.log.snapshot()).unwrap_or_default();
            return Ok(respond(200, "application/json", Bytes::from(body)));
        }
        Route::Control(rest) if engine.config.control => {
            let reply = crate::admin::handle(&engine, rest, request).await;
            return Ok(respond(reply.status, reply.content_type, reply.body));
        }
        Route::Api(endpoint) => endpoint,
        Route::Log | Route::Control(_) | Route::Unknown => Endpoint::Other,
    };
    let (merchant_no, answer) = match endpoint {
        Endpoint::Other => (
            None,
            Answer::refusal(&Refusal::new(RefusalCode::NotFound), engine.now()),
        ),
        _ => api(&engine, endpoint, request).await,
    };
    engine.log.push_request(RequestRecord {
        seq: 0,
        at_millis: engine.now(),
        endpoint,
        merchant_no,
        user_id: answer.user_id.clone(),
        http_status: (!answer.drop).then_some(answer.http_status),
        code: answer.code.clone(),
        authentication_status: answer.authentication_status.clone(),
        fault: answer.fault.map(|fault| fault.as_str().to_owned()),
    });
    tracing::debug!(
        ?endpoint,
        status = answer.http_status,
        code = answer.code.as_deref().unwrap_or(""),
        user_id = answer.user_id.as_deref().unwrap_or(""),
        "sandbox request"
    );
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    if answer.drop {
        return Err(Dropped);
    }
    Ok(respond(
        answer.http_status,
        answer.content_type,
        answer.body,
    ))
}

/// The checks before the engine: method, merchant, content type, length, body.
async fn api<B>(
    engine: &Engine,
    endpoint: Endpoint,
    request: Request<B>,
) -> (Option<String>, Answer)
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let config = &engine.config;
    let refuse = |refusal: Refusal| Answer::refusal(&refusal, engine.now());
    if request.method() != Method::POST {
        return (None, refuse(Refusal::new(RefusalCode::MethodNotAllowed)));
    }
    let headers = request.headers();
    // Exactly one `merchantNo`: with two, which one counts would depend on the reader (a
    // proxy may keep the last, the sandbox would read the first), so neither does.
    // Regression: `GET` of the first header accepted `merchantNo: A` + `merchantNo: B` as A.
    let mut numbers = headers.get_all("merchantNo").iter();
    let merchant = match (numbers.next(), numbers.next()) {
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|number| config.merchants.get_key_value(number)),
        _ => None,
    };
    let Some((merchant_no, key)) = merchant else {
        return (None, refuse(Refusal::new(RefusalCode::UnknownMerchant)));
    };
    let merchant_no = Some(merchant_no.clone());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let boundary = match endpoint {
        Endpoint::Apply => match parse::multipart_boundary(content_type) {
            Ok(boundary) => Some(boundary),
            Err(refusal) => return (merchant_no, refuse(refusal)),
        },
        _ if parse::is_json(content_type) => None,
        _ => {
            let refusal = Refusal::with(RefusalCode::WrongContentType, "expected application/json");
            return (merchant_no, refuse(refusal));
        }
    };
    let exact = request.body().size_hint().exact();
    if let Err(refusal) = check_length(request.headers(), exact, config.max_body_bytes) {
        return (merchant_no, refuse(refusal));
    }
    let limited = Limited::new(request.into_body(), config.max_body_bytes);
    let body = match tokio::time::timeout(config.body_read_timeout, limited.collect()).await {
        Err(_) => return (merchant_no, refuse(Refusal::new(RefusalCode::BodyTimeout))),
        Ok(Err(error)) => {
            let refusal = if error.is::<http_body_util::LengthLimitError>() {
                Refusal::new(RefusalCode::BodyTooLarge)
            } else {
                Refusal::with(RefusalCode::MalformedBody, "the body was cut short")
            };
            return (merchant_no, refuse(refusal));
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let limits = Limits {
        max_body_bytes: config.max_body_bytes,
        max_fields: config.max_fields,
        max_field_bytes: config.max_field_bytes,
    };
    let fields = match &boundary {
        Some(boundary) => parse::multipart(body, boundary, limits),
        None => parse::json(&body, limits),
    };
    let fields = match fields {
        Ok(fields) => fields,
        Err(refusal) => return (merchant_no, refuse(refusal)),
    };
    let answer = match endpoint {
        Endpoint::Apply => engine.apply(merchant_no.as_deref().unwrap_or_default(), key, &fields),
        _ => engine.status(merchant_no.as_deref().unwrap_or_default(), key, &fields),
    };
    (merchant_no, answer)
}

/// A body must announce its length, within the limit: a chunked body (or an HTTP/2 stream
/// without `content-length`) could otherwise hold the connection open at the client's pace.
/// An HTTP/1.1 request with neither header has an empty body, which is a known length.
fn check_length(headers: &HeaderMap, exact: Option<u64>, max: usize) -> Result<(), Refusal> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return Err(Refusal::new(RefusalCode::LengthRequired));
    }
    let length = exact.ok_or_else(|| Refusal::new(RefusalCode::LengthRequired))?;
    if length > u64::try_from(max).unwrap_or(u64::MAX) {
        return Err(Refusal::with(
            RefusalCode::BodyTooLarge,
            format!("at most {max} bytes"),
        ));
    }
    Ok(())
}

fn route<'p>(base_path: &str, path: &'p str) -> Route<'p> {
    let Some(rest) = path.strip_prefix(base_path) else {
        return Route::Unknown;
    };
    match rest {
        APPLY_PATH => Route::Api(Endpoint::Apply),
        STATUS_PATH => Route::Api(Endpoint::StatusQuery),
        LOG_PATH => Route::Log,
        _ => match rest.strip_prefix(CONTROL_PATH) {
            Some(control) if control.is_empty() || control.starts_with('/') => {
                Route::Control(control)
            }
            _ => Route::Unknown,
        },
    }
}

fn respond(status: u16, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}
