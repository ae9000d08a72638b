//! The business rules: what a well-formed request means, and what the sandbox answers.
//!
//! Nothing here touches a socket: the service hands in parsed fields and gets an [`Answer`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use kyc_proto::{
    ApplyData, AuthenticationStatus, CallbackUrl, Code, Response, StatusData, Timestamp, UserId,
    ValidationError, ValidationKind,
};
use kyc_sign::SigningKey;
use serde::Serialize;

use crate::callback::Dispatcher;
use crate::config::{Config, SCENARIO_FAIL_REASON};
use crate::log::LogBook;
use crate::parse::{Refusal, TextFields, printable};
use crate::schedule::Schedule;
use crate::{Endpoint, Fault, Outcome, RefusalCode, Review, Scenario};

/// What to send back for one request, plus what the log needs to know about it.
///
/// Deliberately not `Debug`: the body of a status answer can hold a `failReason`.
pub(crate) struct Answer {
    pub(crate) http_status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
    pub(crate) code: Option<String>,
    pub(crate) authentication_status: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) fault: Option<Fault>,
    /// Wait this long (tokio time) before answering.
    pub(crate) delay: Option<Duration>,
    /// Close the connection instead of answering.
    pub(crate) drop: bool,
}

const JSON: &str = "application/json";

impl Answer {
    fn envelope(http_status: u16, body: Vec<u8>, code: &str) -> Self {
        Self {
            http_status,
            content_type: JSON,
            body: Bytes::from(body),
            code: Some(code.to_owned()),
            authentication_status: None,
            user_id: None,
            fault: None,
            delay: None,
            drop: false,
        }
    }

    /// The documented failure envelope: `{"msg","code","timestamp","success":false,"data":null}`.
    pub(crate) fn failure(http_status: u16, code: &str, msg: &str, now: u64) -> Self {
        let body = Response::<serde_json::Value>::new(Code::new(code), msg)
            .with_timestamp(Timestamp::from_millis(now))
            .with_success_flag(Some(false))
            .with_data(serde_json::Value::Null)
            .to_json();
        Self::envelope(http_status, body, code)
    }

    pub(crate) fn refusal(refusal: &Refusal, now: u64) -> Self {
        Self::failure(
            refusal.code.http_status(),
            refusal.code.as_str(),
            &refusal.message(),
            now,
        )
    }

    fn plain_500() -> Self {
        Self {
            http_status: 500,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from_static(b"sandbox fault: internal server error"),
            code: None,
            authentication_status: None,
            user_id: None,
            fault: Some(Fault::Http500),
            delay: None,
            drop: false,
        }
    }

    fn with_user(mut self, user_id: &str) -> Self {
        self.user_id = Some(user_id.to_owned());
        self
    }
}

/// A request whose fields, signature and timestamp passed.
#[derive(Debug)]
pub(crate) struct CheckedApply {
    pub(crate) user_id: UserId,
    pub(crate) callback_url: CallbackUrl,
}

/// Checks common to both endpoints, in the documented order: required fields, `sign`,
/// `timestamp`. Returns the `userId` text (not yet validated).
pub(crate) fn check_signed<'f>(
    fields: &'f TextFields,
    required: &[&str],
    key: &SigningKey,
    now: u64,
    freshness: Duration,
) -> Result<&'f str, Refusal> {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    };
    let sign = value("sign").ok_or_else(|| Refusal::new(RefusalCode::MissingSign))?;
    for name in required {
        if value(name).is_none() {
            return Err(Refusal::with(RefusalCode::MissingField, *name));
        }
    }
    // The fields exactly as received, `sign` among them (the signer excludes it).
    let pairs = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    kyc_proto::verify_fields(pairs, sign, key).map_err(|error| match error {
        kyc_sign::Error::DuplicateName { name, .. } => {
            Refusal::with(RefusalCode::DuplicateField, printable(&name))
        }
        kyc_sign::Error::MalformedSignature(_) => {
            Refusal::with(RefusalCode::BadSign, "sign must be 32 hex digits")
        }
        _ => Refusal::with(RefusalCode::BadSign, "signature does not match"),
    })?;
    let timestamp = value("timestamp").unwrap_or_default();
    let timestamp = Timestamp::parse(timestamp)
        .map_err(|_| Refusal::new(RefusalCode::BadTimestamp))?
        .as_millis();
    let window = u64::try_from(freshness.as_millis()).unwrap_or(u64::MAX);
    if timestamp.abs_diff(now) > window {
        return Err(Refusal::with(
            RefusalCode::StaleTimestamp,
            format!("more than {} ms from the sandbox clock", window),
        ));
    }
    Ok(value("userId").unwrap_or_default())
}

/// The apply checks after [`check_signed`]: the 2.0 form's values, through `kyc-proto`'s types.
pub(crate) fn check_apply(
    fields: &TextFields,
    require_https_callbacks: bool,
) -> Result<CheckedApply, Refusal> {
    let pairs = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let application =
        kyc_proto::Application::from_text_fields(pairs).map_err(validation_refusal)?;
    let callback_url = application.callback_url().clone();
    if require_https_callbacks && callback_url.is_plain_http() {
        return Err(Refusal::with(
            RefusalCode::InvalidField,
            "callBackUrl must be an https URL",
        ));
    }
    Ok(CheckedApply {
        user_id: application.user_id().clone(),
        callback_url,
    })
}

/// Maps a `kyc-proto` validation error to a refusal without repeating the offending value
/// (a furigana is personal data: only the position of the bad character is given).
fn validation_refusal(error: ValidationError) -> Refusal {
    let field = error.field();
    match error.kind() {
        ValidationKind::Missing => Refusal::with(RefusalCode::MissingField, field),
        ValidationKind::Empty if field != kyc_proto::names::USERNAME_FURIGANA => {
            Refusal::with(RefusalCode::MissingField, field)
        }
        ValidationKind::Duplicate => Refusal::with(RefusalCode::DuplicateField, field),
        _ if field == kyc_proto::names::USERNAME_FURIGANA => match error.position() {
            Some(position) => Refusal::with(
                RefusalCode::BadFurigana,
                format!("not full-width katakana at position {position}"),
            ),
            None => Refusal::with(RefusalCode::BadFurigana, "not full-width katakana"),
        },
        _ => {
            let name = error.name().map(printable);
            Refusal::with(
                RefusalCode::InvalidField,
                match name {
                    Some(name) => format!("{field} {name}"),
                    None => field.to_owned(),
                },
            )
        }
    }
}

/// The shared state of a running sandbox.
pub(crate) struct Engine {
    pub(crate) config: Arc<Config>,
    pub(crate) log: Arc<LogBook>,
    /// Valid requests seen per merchant, `userId` and endpoint: drives counted faults.
    attempts: Mutex<HashMap<(String, String, Endpoint), u32>>,
    /// Serialises read-modify-write sequences on the store (see [`crate::Store`]), and holds
    /// when each open review moves next.
    pub(crate) write: Mutex<Schedule>,
    pub(crate) dispatcher: Dispatcher,
}

impl Engine {
    pub(crate) fn new(config: Arc<Config>, log: Arc<LogBook>, dispatcher: Dispatcher) -> Self {
        Self {
            log,
            config,
            attempts: Mutex::new(HashMap::new()),
            write: Mutex::new(Schedule::default()),
            dispatcher,
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.config.clock.now().as_millis()
    }

    /// A valid-looking apply request from `merchant_no`: checks, scenario, state.
    pub(crate) fn apply(&self, merchant_no: &str, key: &SigningKey, fields: &TextFields) -> Answer {
        let now = self.now();
        let required = ["timestamp", "userId", "callBackUrl", "usernameFurigana"];
        let checked = check_signed(fields, &required, key, now, self.config.freshness)
            .and_then(|_| check_apply(fields, self.config.require_https_callbacks));
        let checked = match checked {
            Ok(checked) => checked,
            Err(refusal) => {
                let mut answer = Answer::refusal(&refusal, now);
                answer.user_id = user_id_of(fields);
                return answer;
            }
        };
        let user_id = checked.user_id.as_str();
        let scenario = Scenario::parse_with_default(user_id, self.config.default_outcome);
        let fault = self.fault(&scenario, merchant_no, user_id, Endpoint::Apply);
        if let Some(answer) = self.fault_answer(fault, now) {
            return answer.with_user(user_id);
        }
        let (review, message) = {
            let mut schedule = self.write.lock().unwrap_or_else(PoisonError::into_inner);
            let store = &self.config.store;
            match store.load(merchant_no, user_id) {
                // Applying again while an application is open, or after approval, answers its
                // current status (the provider's pages leave this open; the status query stays
                // the source of truth). Only a rejected application can be replaced.
                Some(mut existing) if existing.status != AuthenticationStatus::Rejected => {
                    self.progress(&mut existing, now);
                    self.reschedule(&mut schedule, &existing);
                    store.save(existing.clone());
                    (existing, "application already received")
                }
                _ => {
                    let mut review = Review {
                        merchant_no: merchant_no.to_owned(),
                        user_id: user_id.to_owned(),
                        callback_url: checked.callback_url.as_str().to_owned(),
                        outcome: scenario.outcome(),
                        applied_at_millis: now,
                        status: AuthenticationStatus::Pending,
                        fail_reason: None,
                        decided_at_millis: None,
                        changed_at_millis: now,
                    };
                    self.progress(&mut review, now);
                    self.reschedule(&mut schedule, &review);
                    store.save(review.clone());
                    (review, "application received")
                }
            }
        };
        let data = ApplyData::new(user_id, review.status.clone()).with_message(message);
        self.accepted(data, &review, now, fault)
    }

    /// A valid-looking status query from `merchant_no`.
    pub(crate) fn status(
        &self,
        merchant_no: &str,
        key: &SigningKey,
        fields: &TextFields,
    ) -> Answer {
        let now = self.now();
        let checked = check_signed(
            fields,
            &["timestamp", "userId"],
            key,
            now,
            self.config.freshness,
        )
        .and_then(|user_id| UserId::new(user_id).map_err(validation_refusal));
        let user_id = match checked {
            Ok(user_id) => user_id,
            Err(refusal) => {
                let mut answer = Answer::refusal(&refusal, now);
                answer.user_id = user_id_of(fields);
                return answer;
            }
        };
        let user_id = user_id.as_str();
        let scenario = Scenario::parse_with_default(user_id, self.config.default_outcome);
        let fault = self.fault(&scenario, merchant_no, user_id, Endpoint::StatusQuery);
        if let Some(answer) = self.fault_answer(fault, now) {
            return answer.with_user(user_id);
        }
        let review = {
            let mut schedule = self.write.lock().unwrap_or_else(PoisonError::into_inner);
            let store = &self.config.store;
            store.load(merchant_no, user_id).map(|mut review| {
                if self.progress(&mut review, now) {
                    self.reschedule(&mut schedule, &review);
                    store.save(review.clone());
                }
                review
            })
        };
        let Some(review) = review else {
            return Answer::refusal(&Refusal::new(RefusalCode::UnknownUser), now)
                .with_user(user_id);
        };
        if review.status.is_final() {
            // A `late` callback goes out once the merchant has seen the result this way.
            self.dispatcher.status_shown(merchant_no, user_id);
        }
        let mut data = StatusData::new(review.status.clone()).with_user_id(user_id);
        if let Some(reason) = &review.fail_reason {
            data = data.with_fail_reason(reason.clone());
        }
        self.accepted(data, &review, now, fault)
    }

    /// The accepted answer carrying `data` about `review`, with a fault that acts after the
    /// answer (if any) applied.
    fn accepted<T: Serialize>(
        &self,
        data: T,
        review: &Review,
        now: u64,
        fault: Option<Fault>,
    ) -> Answer {
        let body = Response::accepted(data)
            .with_timestamp(Timestamp::from_millis(now))
            .to_json();
        let mut answer = Answer::envelope(200, body, Code::SUCCESS.as_str());
        answer.authentication_status = Some(review.status.as_str().to_owned());
        self.apply_fault_after(&mut answer, fault);
        answer.with_user(&review.user_id)
    }

    /// Moves every review that is due along to the clock's current time, sending due
    /// callbacks. Only the due reviews are read: the cost of a tick does not grow with the
    /// number of stored applications.
    pub(crate) fn tick(&self) {
        let now = self.now();
        let mut schedule = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((merchant_no, user_id)) = schedule.pop_due(now) {
            let Some(mut review) = self.config.store.load(&merchant_no, &user_id) else {
                continue;
            };
            if self.progress(&mut review, now) {
                self.config.store.save(review.clone());
            }
            self.reschedule(&mut schedule, &review);
        }
    }

    /// Fills the review index from the store, once at start: a store handed over with open
    /// reviews (from an earlier run) keeps them moving.
    pub(crate) fn seed_schedule(&self) {
        let mut schedule = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        for review in self.config.store.list() {
            self.reschedule(&mut schedule, &review);
        }
    }

    /// Records in `schedule` when `review` moves next by itself (or that it does not).
    pub(crate) fn reschedule(&self, schedule: &mut Schedule, review: &Review) {
        let key = (review.merchant_no.clone(), review.user_id.clone());
        schedule.set(&key, self.next_move(review));
    }

    /// The clock time of `review`'s next move on the schedule, if it has one.
    fn next_move(&self, review: &Review) -> Option<u64> {
        let at = |delay: Duration| {
            let delay = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            review.applied_at_millis.saturating_add(delay)
        };
        match (&review.status, review.outcome) {
            (AuthenticationStatus::Pending, Outcome::Pending) => None,
            (AuthenticationStatus::Pending, _) => Some(at(self.config.under_review_after)),
            (AuthenticationStatus::UnderReview, Outcome::Approve | Outcome::Reject) => {
                Some(at(self.config.final_after))
            }
            _ => None,
        }
    }

    /// Sets the status `review` has reached by `now`; on reaching a final status, records the
    /// decision and hands the callback to the dispatcher. Statuses never move backwards, even
    /// if the clock does. Whether the status changed.
    pub(crate) fn progress(&self, review: &mut Review, now: u64) -> bool {
        let elapsed = Duration::from_millis(now.saturating_sub(review.applied_at_millis));
        let under_review = elapsed >= self.config.under_review_after;
        let decided = elapsed >= self.config.final_after;
        let target = match review.outcome {
            Outcome::Pending => AuthenticationStatus::Pending,
            Outcome::Review | Outcome::Hold if under_review => AuthenticationStatus::UnderReview,
            Outcome::Approve if decided => AuthenticationStatus::Approved,
            Outcome::Reject if decided => AuthenticationStatus::Rejected,
            Outcome::Approve | Outcome::Reject if under_review => AuthenticationStatus::UnderReview,
            Outcome::Review | Outcome::Hold | Outcome::Approve | Outcome::Reject => {
                AuthenticationStatus::Pending
            }
        };
        if rank(&target) <= rank(&review.status) {
            return false;
        }
        let rejected = target == AuthenticationStatus::Rejected;
        review.status = target;
        review.changed_at_millis = now;
        if review.status.is_final() {
            if rejected {
                review.fail_reason = Some(SCENARIO_FAIL_REASON.to_owned());
            }
            self.decided(review, now);
        }
        true
    }

    /// Records that `review` reached its final status at `now` and starts its callback, the
    /// same way for a scheduled and an on-demand decision.
    pub(crate) fn decided(&self, review: &mut Review, now: u64) {
        review.decided_at_millis = Some(now);
        review.changed_at_millis = now;
        if let Some(key) = self.config.merchants.get(&review.merchant_no) {
            let mode = Scenario::parse(&review.user_id).callback();
            self.dispatcher.send(review, key, mode);
        }
    }

    /// The fault `scenario` injects into this request. Attempts are counted only for ids that
    /// name faults: a plain application costs no counter.
    fn fault(
        &self,
        scenario: &Scenario,
        merchant_no: &str,
        user_id: &str,
        endpoint: Endpoint,
    ) -> Option<Fault> {
        if !scenario.has_faults() {
            return None;
        }
        scenario.fault_for_attempt(self.attempt(merchant_no, user_id, endpoint))
    }

    fn attempt(&self, merchant_no: &str, user_id: &str, endpoint: Endpoint) -> u32 {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = attempts
            .entry((merchant_no.to_owned(), user_id.to_owned(), endpoint))
            .or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// The answer of a fault that replaces the normal one (no state change), if any.
    fn fault_answer(&self, fault: Option<Fault>, now: u64) -> Option<Answer> {
        let mut answer = match fault? {
            Fault::Http500 => return Some(Answer::plain_500()),
            Fault::Code8000 => {
                Answer::failure(200, Code::SYSTEM_ERROR.as_str(), "system error", now)
            }
            Fault::Code5000 => Answer::failure(
                200,
                Code::SYSTEM_EXCEPTION.as_str(),
                "system exception",
                now,
            ),
            Fault::Slow | Fault::Drop => return None,
        };
        answer.fault = fault;
        Some(answer)
    }

    /// Faults that act on the normal answer after the state changed: a delay or a drop.
    fn apply_fault_after(&self, answer: &mut Answer, fault: Option<Fault>) {
        match fault {
            Some(Fault::Slow) => {
                answer.fault = fault;
                answer.delay = Some(self.config.scaled(self.config.slow_delay));
            }
            Some(Fault::Drop) => {
                answer.fault = fault;
                answer.drop = true;
            }
            _ => {}
        }
    }
}

/// How far a review has got; a status only ever moves to a higher rank.
pub(crate) fn rank(status: &AuthenticationStatus) -> u8 {
    match status {
        AuthenticationStatus::UnderReview => 1,
        AuthenticationStatus::Approved | AuthenticationStatus::Rejected => 2,
        // Pending, and a value the sandbox never sets (a custom `Store` may hold one): the
        // review may still move on.
        _ => 0,
    }
}

/// The `userId` of a refused request, for the log, when it is a plausible identifier.
fn user_id_of(fields: &TextFields) -> Option<String> {
    fields
        .iter()
        .find(|(name, _)| name == "userId")
        .and_then(|(_, value)| UserId::new(value.as_str()).ok())
        .map(UserId::into_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_774_925_553_256;

    fn fields(pairs: &[(&str, &str)]) -> TextFields {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn signed(pairs: &[(&str, &str)], key: &SigningKey) -> TextFields {
        let mut fields = fields(pairs);
        let signature =
            kyc_proto::sign_fields(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())), key)
                .unwrap();
        fields.push(("sign".into(), signature.to_string()));
        fields
    }

    #[test]
    fn check_signed_order_and_codes() {
        let key = SigningKey::new("k").unwrap();
        let window = Duration::from_secs(300);
        let now = NOW.to_string();
        let code = |f: &TextFields| {
            check_signed(f, &["timestamp", "userId"], &key, NOW, window)
                .err()
                .map(|r| r.code)
        };
        assert_eq!(code(&fields(&[])), Some(RefusalCode::MissingSign));
        assert_eq!(
            code(&fields(&[("sign", "x")])),
            Some(RefusalCode::MissingField)
        );
        assert_eq!(
            code(&fields(&[
                ("sign", "x"),
                ("timestamp", "1"),
                ("userId", "u")
            ])),
            Some(RefusalCode::BadSign)
        );
        assert_eq!(
            code(&signed(&[("timestamp", "1"), ("userId", "u")], &key)),
            Some(RefusalCode::StaleTimestamp)
        );
        assert_eq!(
            code(&signed(&[("timestamp", "1e3"), ("userId", "u")], &key)),
            Some(RefusalCode::BadTimestamp)
        );
        assert_eq!(
            check_signed(
                &signed(&[("timestamp", &now), ("userId", "u")], &key),
                &["timestamp", "userId"],
                &key,
                NOW,
                window
            ),
            Ok("u")
        );
    }

    #[test]
    fn furigana_refusals_name_a_position_not_a_value() {
        let refusal = check_apply(
            &fields(&[
                ("userId", "u"),
                ("callBackUrl", "https://m.example/cb"),
                ("usernameFurigana", "テすト"),
            ]),
            false,
        )
        .unwrap_err();
        assert_eq!(refusal.code, RefusalCode::BadFurigana);
        assert!(!refusal.message().contains('す'));
        let blank = check_apply(
            &fields(&[
                ("userId", "u"),
                ("callBackUrl", "https://m.example/cb"),
                ("usernameFurigana", "   "),
            ]),
            false,
        )
        .unwrap_err();
        assert_eq!(blank.code, RefusalCode::BadFurigana);
    }
}
