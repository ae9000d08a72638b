//! How an application picks its fate: the `userId` prefix rule.

/// What the sandbox does with an application, read from the start of its `userId`.
///
/// # The rule
///
/// The `userId` is split at every `-` and `_`. Leading pieces that name a scenario are read in
/// order; the first piece that does not ends the prefix (it and the rest are just the id).
///
/// - **Faults**, any number, each optionally followed by `x` and a count `N` (1 to 1000):
///   - `fault500`: HTTP 500 with a plain-text body (not the envelope);
///   - `fault8000`: HTTP 200, envelope `success: false`, code `8000` (system error);
///   - `fault5000`: the same with code `5000` (system exception);
///   - `slow`: the normal answer, after the configured slow delay;
///   - `drop`: the connection is closed without an answer.
///
///   Faults are counted per merchant, `userId` and endpoint (apply and status query count
///   separately), over requests that passed every check. A fault with a count covers that many
///   attempts, then the next fault in the list takes over; a fault without a count covers every
///   remaining attempt. When the list is used up, the request is answered normally. So
///   `fault500x2-u1` fails twice then succeeds, and `dropx1-fault8000x1-u1` drops the first
///   attempt, answers `8000` to the second and succeeds from the third on.
/// - **Callback delivery**, at most one, among the faults (before the outcome):
///   - `lost`: the callback is never delivered: every attempt of the retry schedule is logged as
///     [`CallbackOutcome::Lost`](crate::CallbackOutcome::Lost) and nothing reaches the
///     `callBackUrl`, so the merchant must reconcile by status query;
///   - `twice`: once delivered, the same body is delivered a second time;
///   - `late`: the callback waits until a status query has shown the final status (or the
///     configured late delay has passed), then is delivered.
/// - **Outcome**, at most one, after the faults:
///   - `approve` (also the default, when no outcome piece is given): pending, under review,
///     then approved (`2`);
///   - `reject`: pending, under review, then rejected (`3`) with a `failReason`;
///   - `review`: pending, then under review forever (no callback);
///   - `pending`: pending forever (no callback);
///   - `hold`: pending, then under review until decided on demand
///     ([`Running::decide`](crate::Running::decide)).
///
/// Pieces are case-sensitive. A `userId` such as `abc_100008` names no outcome: it gets the
/// configured default ([`SandboxBuilder::default_outcome`](crate::SandboxBuilder::default_outcome),
/// approved unless set).
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{Fault, Outcome, Scenario};
///
/// let scenario = Scenario::parse("fault500x2-reject-u1");
/// assert_eq!(scenario.outcome(), Outcome::Reject);
/// assert_eq!(scenario.fault_for_attempt(1), Some(Fault::Http500));
/// assert_eq!(scenario.fault_for_attempt(2), Some(Fault::Http500));
/// assert_eq!(scenario.fault_for_attempt(3), None);
///
/// let plain = Scenario::parse("abc_100008");
/// assert_eq!(plain.outcome(), Outcome::Approve);
/// assert_eq!(plain.fault_for_attempt(1), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    faults: Vec<(Fault, Option<u32>)>,
    callback: CallbackMode,
    outcome: Outcome,
}

/// How the callback of a decided application travels (the `lost`, `twice` and `late` pieces).
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{CallbackMode, Scenario};
///
/// assert_eq!(Scenario::parse("lost-reject-u1").callback(), CallbackMode::Lost);
/// assert_eq!(Scenario::parse("u1").callback(), CallbackMode::Normal);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CallbackMode {
    /// Delivered at once, retried on the schedule until `OK`.
    #[default]
    Normal,
    /// Never delivered: every attempt fails without reaching the receiver.
    Lost,
    /// Delivered, then the same body delivered again.
    Twice,
    /// Delivered only after a status query showed the result (or after the late delay).
    Late,
}

impl CallbackMode {
    /// The wire name used in the rule and in the dashboard (`normal` for no piece).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::CallbackMode::Late.as_str(), "late");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Lost => "lost",
            Self::Twice => "twice",
            Self::Late => "late",
        }
    }
}

/// A provider fault that a scenario injects into an answer.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{Fault, Scenario};
///
/// assert_eq!(Scenario::parse("drop-x").fault_for_attempt(7), Some(Fault::Drop));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// HTTP 500, plain-text body.
    Http500,
    /// HTTP 200, envelope code `8000`.
    Code8000,
    /// HTTP 200, envelope code `5000`.
    Code5000,
    /// The normal answer after the slow delay.
    Slow,
    /// The connection is closed without an answer.
    Drop,
}

/// How the review of an application ends.
///
/// # Examples
///
/// ```
/// use kyc_sandbox::{Outcome, Scenario};
///
/// assert_eq!(Scenario::parse("review-7").outcome(), Outcome::Review);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Approved (`2`) at the end of the schedule.
    Approve,
    /// Rejected (`3`) with a `failReason` at the end of the schedule.
    Reject,
    /// Under review (`1`) forever.
    Review,
    /// Pending (`0`) forever.
    Pending,
    /// Under review (`1`) on the schedule, then waits for a decision on demand.
    Hold,
}

impl Outcome {
    /// The wire name used in the rule and in the log.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::Outcome::Reject.as_str(), "reject");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Review => "review",
            Self::Pending => "pending",
            Self::Hold => "hold",
        }
    }
}

impl Fault {
    /// The wire name used in the rule and in the log.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(kyc_sandbox::Fault::Code8000.as_str(), "fault8000");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Http500 => "fault500",
            Self::Code8000 => "fault8000",
            Self::Code5000 => "fault5000",
            Self::Slow => "slow",
            Self::Drop => "drop",
        }
    }
}

/// The largest fault count a piece may carry.
const MAX_COUNT: u32 = 1000;

impl Scenario {
    /// Reads the scenario from a `userId`; never fails (no outcome piece means approved).
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{Fault, Outcome, Scenario};
    ///
    /// let scenario = Scenario::parse("slowx1_review_42");
    /// assert_eq!(scenario.fault_for_attempt(1), Some(Fault::Slow));
    /// assert_eq!(scenario.fault_for_attempt(2), None);
    /// assert_eq!(scenario.outcome(), Outcome::Review);
    /// ```
    #[must_use]
    pub fn parse(user_id: &str) -> Self {
        Self::parse_with_default(user_id, Outcome::Approve)
    }

    /// Reads the scenario from a `userId`, with `default` as the outcome when it names none.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{Outcome, Scenario};
    ///
    /// assert_eq!(Scenario::parse_with_default("abc_100008", Outcome::Hold).outcome(), Outcome::Hold);
    /// assert_eq!(Scenario::parse_with_default("reject-u1", Outcome::Hold).outcome(), Outcome::Reject);
    /// ```
    #[must_use]
    pub fn parse_with_default(user_id: &str, default: Outcome) -> Self {
        let mut faults = Vec::new();
        let mut callback = None;
        let mut outcome = None;
        for piece in user_id.split(['-', '_']) {
            if outcome.is_none() {
                if let Some(fault) = parse_fault(piece) {
                    faults.push(fault);
                    continue;
                }
                let mode = match piece {
                    "lost" => Some(CallbackMode::Lost),
                    "twice" => Some(CallbackMode::Twice),
                    "late" => Some(CallbackMode::Late),
                    _ => None,
                };
                if mode.is_some() && callback.is_none() {
                    callback = mode;
                    continue;
                }
                outcome = match piece {
                    "approve" => Some(Outcome::Approve),
                    "reject" => Some(Outcome::Reject),
                    "review" => Some(Outcome::Review),
                    "pending" => Some(Outcome::Pending),
                    "hold" => Some(Outcome::Hold),
                    _ => None,
                };
                if outcome.is_some() {
                    continue;
                }
            }
            break;
        }
        Self {
            faults,
            callback: callback.unwrap_or_default(),
            outcome: outcome.unwrap_or(default),
        }
    }

    /// Whether any fault is named (only then are attempts counted).
    pub(crate) fn has_faults(&self) -> bool {
        !self.faults.is_empty()
    }

    /// How the callback travels.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{CallbackMode, Scenario};
    ///
    /// assert_eq!(Scenario::parse("twice-u1").callback(), CallbackMode::Twice);
    /// ```
    #[must_use]
    pub fn callback(&self) -> CallbackMode {
        self.callback
    }

    /// How the review ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{Outcome, Scenario};
    ///
    /// assert_eq!(Scenario::parse("reject-1").outcome(), Outcome::Reject);
    /// ```
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The fault injected into the `attempt`-th valid request (counting from 1) to one
    /// endpoint, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use kyc_sandbox::{Fault, Scenario};
    ///
    /// let scenario = Scenario::parse("dropx1-fault8000x1-u1");
    /// assert_eq!(scenario.fault_for_attempt(1), Some(Fault::Drop));
    /// assert_eq!(scenario.fault_for_attempt(2), Some(Fault::Code8000));
    /// assert_eq!(scenario.fault_for_attempt(3), None);
    /// ```
    #[must_use]
    pub fn fault_for_attempt(&self, attempt: u32) -> Option<Fault> {
        let mut covered: u32 = 0;
        for &(fault, count) in &self.faults {
            match count {
                None => return Some(fault),
                Some(count) => {
                    covered = covered.saturating_add(count);
                    if attempt <= covered {
                        return Some(fault);
                    }
                }
            }
        }
        None
    }
}

fn parse_fault(piece: &str) -> Option<(Fault, Option<u32>)> {
    let (name, count) = match piece.rsplit_once('x') {
        Some((name, digits))
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let count: u32 = digits
                .parse()
                .ok()
                .filter(|n| (1..=MAX_COUNT).contains(n))?;
            (name, Some(count))
        }
        _ => (piece, None),
    };
    let fault = match name {
        "fault500" => Fault::Http500,
        "fault8000" => Fault::Code8000,
        "fault5000" => Fault::Code5000,
        "slow" => Fault::Slow,
        "drop" => Fault::Drop,
        _ => return None,
    };
    Some((fault, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_pieces_end_the_prefix() {
        let scenario = Scenario::parse("u1-reject-fault500");
        assert_eq!(scenario.outcome(), Outcome::Approve);
        assert_eq!(scenario.fault_for_attempt(1), None);
    }

    #[test]
    fn outcome_ends_the_fault_list() {
        let scenario = Scenario::parse("reject-fault500-x");
        assert_eq!(scenario.outcome(), Outcome::Reject);
        assert_eq!(scenario.fault_for_attempt(1), None);
    }

    #[test]
    fn counts_out_of_range_are_not_faults() {
        assert_eq!(Scenario::parse("fault500x0-u").fault_for_attempt(1), None);
        assert_eq!(
            Scenario::parse("fault500x1001-u").fault_for_attempt(1),
            None
        );
        assert_eq!(
            Scenario::parse("fault500x99999999999999-u").fault_for_attempt(1),
            None
        );
        assert_eq!(Scenario::parse("fault500x-u").fault_for_attempt(1), None);
    }

    #[test]
    fn uncounted_fault_covers_everything_after() {
        let scenario = Scenario::parse("slowx2-drop-fault500x1");
        assert_eq!(scenario.fault_for_attempt(2), Some(Fault::Slow));
        assert_eq!(scenario.fault_for_attempt(3), Some(Fault::Drop));
        assert_eq!(scenario.fault_for_attempt(u32::MAX), Some(Fault::Drop));
    }

    #[test]
    fn callback_pieces_mix_with_faults_and_end_at_the_outcome() {
        let scenario = Scenario::parse("fault500x1-late-hold-u1");
        assert_eq!(scenario.callback(), CallbackMode::Late);
        assert_eq!(scenario.outcome(), Outcome::Hold);
        assert_eq!(scenario.fault_for_attempt(1), Some(Fault::Http500));
        // A second callback piece is not one: it ends the prefix.
        let twice = Scenario::parse("lost-twice-reject");
        assert_eq!(twice.callback(), CallbackMode::Lost);
        assert_eq!(twice.outcome(), Outcome::Approve);
        assert_eq!(
            Scenario::parse("reject-lost").callback(),
            CallbackMode::Normal
        );
    }

    #[test]
    fn empty_and_separator_only_ids_are_approved() {
        for id in ["", "-", "__", "-reject"] {
            assert_eq!(Scenario::parse(id).outcome(), Outcome::Approve, "{id:?}");
        }
    }
}
