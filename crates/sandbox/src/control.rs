//! Outcomes on demand: deciding an open application, resending a callback.

use std::fmt;
use std::sync::PoisonError;

use kyc_proto::AuthenticationStatus;

use crate::engine::Engine;
use crate::error::Control;
use crate::{CallbackMode, Error, Outcome, Review};

/// The longest `failReason` a decision may give, in characters.
pub const MAX_FAIL_REASON_CHARS: usize = 512;

/// A decision on an open (pending or under review) application, taken on demand with
/// [`Running::decide`](crate::Running::decide), `POST {base}/_sandbox/decide` or
/// `kyc sandbox decide`.
///
/// `Debug` leaves out the `failReason` (it is about a person).
///
/// # Examples
///
/// ```
/// use kyc_sandbox::Decision;
///
/// let decision = Decision::Reject("document expired".to_owned());
/// assert_eq!(format!("{decision:?}"), "Reject(<redacted>)");
/// ```
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approved (`2`) now; the callback goes out as for a scheduled approval.
    Approve,
    /// Rejected (`3`) now with this `failReason` (1 to 512 characters, no control
    /// characters); the callback carries it.
    Reject(String),
    /// Under review (`1`) from now until another decision; no callback.
    Hold,
}

impl fmt::Debug for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Approve => f.write_str("Approve"),
            Self::Reject(_) => f.write_str("Reject(<redacted>)"),
            Self::Hold => f.write_str("Hold"),
        }
    }
}

impl Decision {
    /// The wire name used by the HTTP control API: `approve`, `reject`, `hold`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::Decision::Hold.as_str(), "hold");
    /// ```
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject(_) => "reject",
            Self::Hold => "hold",
        }
    }
}

impl Engine {
    /// Applies `decision` to the open application of `user_id` (with `merchant_no`, or the one
    /// merchant that has it).
    pub(crate) fn decide(
        &self,
        merchant_no: Option<&str>,
        user_id: &str,
        decision: Decision,
    ) -> Result<Review, Error> {
        if let Decision::Reject(reason) = &decision {
            check_fail_reason(reason)?;
        }
        let now = self.now();
        let mut schedule = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        let mut review = self.find(merchant_no, user_id)?;
        // Bring it up to date first: a review the schedule already decided is final.
        self.progress(&mut review, now);
        if review.status.is_final() {
            self.reschedule(&mut schedule, &review);
            self.config.store.save(review.clone());
            return Err(Error::control(
                Control::Final,
                format!(
                    "the application of {} is already final (status {})",
                    review.user_id,
                    review.status.as_str()
                ),
            ));
        }
        match decision {
            Decision::Approve => {
                review.outcome = Outcome::Approve;
                review.status = AuthenticationStatus::Approved;
                review.fail_reason = None;
                self.decided(&mut review, now);
            }
            Decision::Reject(reason) => {
                review.outcome = Outcome::Reject;
                review.status = AuthenticationStatus::Rejected;
                review.fail_reason = Some(reason);
                self.decided(&mut review, now);
            }
            Decision::Hold => {
                review.outcome = Outcome::Hold;
                if review.status != AuthenticationStatus::UnderReview {
                    review.status = AuthenticationStatus::UnderReview;
                    review.changed_at_millis = now;
                }
            }
        }
        self.reschedule(&mut schedule, &review);
        self.config.store.save(review.clone());
        Ok(review)
    }

    /// Delivers the callback of the decided application of `user_id` again: the same body
    /// (same `timestamp` and `sign`), with the full retry schedule.
    pub(crate) fn resend(&self, merchant_no: Option<&str>, user_id: &str) -> Result<Review, Error> {
        let now = self.now();
        let review = {
            let mut schedule = self.write.lock().unwrap_or_else(PoisonError::into_inner);
            let mut review = self.find(merchant_no, user_id)?;
            if self.progress(&mut review, now) {
                self.reschedule(&mut schedule, &review);
                self.config.store.save(review.clone());
                // Just decided by the clock: its first callback is on its way already.
                return Ok(review);
            }
            review
        };
        if !review.status.is_final() {
            return Err(Error::control(
                Control::NotDecided,
                format!(
                    "the application of {} has no callback yet (status {})",
                    review.user_id,
                    review.status.as_str()
                ),
            ));
        }
        if let Some(key) = self.config.merchants.get(&review.merchant_no) {
            // A resend is an explicit request to deliver: not subject to the `lost` scenario.
            self.dispatcher.send(&review, key, CallbackMode::Normal);
        }
        Ok(review)
    }

    /// The stored review of `user_id` with `merchant_no`, or with the one merchant that has it.
    fn find(&self, merchant_no: Option<&str>, user_id: &str) -> Result<Review, Error> {
        let unknown_user = || {
            Error::control(
                Control::UnknownUser,
                "no application with this userId".to_owned(),
            )
        };
        if let Some(merchant_no) = merchant_no {
            if !self.config.merchants.contains_key(merchant_no) {
                return Err(Error::control(
                    Control::UnknownMerchant,
                    "merchantNo names no configured merchant",
                ));
            }
            return self
                .config
                .store
                .load(merchant_no, user_id)
                .ok_or_else(unknown_user);
        }
        let mut numbers: Vec<&String> = self.config.merchants.keys().collect();
        numbers.sort_unstable();
        let mut found = numbers
            .into_iter()
            .filter_map(|number| self.config.store.load(number, user_id));
        let first = found.next().ok_or_else(unknown_user)?;
        if found.next().is_some() {
            return Err(Error::control(
                Control::AmbiguousMerchant,
                "several merchants have an application with this userId: give merchantNo",
            ));
        }
        Ok(first)
    }
}

/// A `failReason` is shown to the merchant's user: printable text of a sensible length.
fn check_fail_reason(reason: &str) -> Result<(), Error> {
    let count = reason.chars().count();
    if reason.trim().is_empty() || count > MAX_FAIL_REASON_CHARS {
        return Err(Error::control(
            Control::Invalid,
            format!("failReason must have 1 to {MAX_FAIL_REASON_CHARS} characters"),
        ));
    }
    if reason.chars().any(char::is_control) {
        return Err(Error::control(
            Control::Invalid,
            "failReason must not contain control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_reasons_are_checked() {
        assert!(check_fail_reason("document expired").is_ok());
        assert!(check_fail_reason("書類の期限切れ").is_ok());
        for bad in ["", "   ", "a\nb", "a\u{0}"] {
            let err = check_fail_reason(bad).unwrap_err();
            assert_eq!(err.control_code(), Some("invalid_request"), "{bad:?}");
        }
        let long = "x".repeat(MAX_FAIL_REASON_CHARS + 1);
        assert!(check_fail_reason(&long).is_err());
    }
}
