//! When each open review next moves: a due-time index, so a review tick touches only the
//! reviews that are due instead of reading every stored application.

use std::collections::{BTreeSet, HashMap};

/// A review's key: merchant number and `userId`.
pub(crate) type Key = (String, String);

/// Open reviews by the clock time (epoch milliseconds) of their next transition.
///
/// Each open review appears at most once: `next` maps it to the one entry of `due`. Final
/// reviews, and reviews that will never move by themselves (`review`, `pending`, `hold`), are
/// not in it at all, so its size is the number of reviews still on their schedule.
#[derive(Default)]
pub(crate) struct Schedule {
    due: BTreeSet<(u64, Key)>,
    next: HashMap<Key, u64>,
}

impl Schedule {
    /// Puts `key` at `at`, or takes it out with `None`; replaces any earlier entry.
    pub(crate) fn set(&mut self, key: &Key, at: Option<u64>) {
        match at {
            Some(at) => {
                if let Some(old) = self.next.insert(key.clone(), at) {
                    if old == at {
                        return;
                    }
                    self.due.remove(&(old, key.clone()));
                }
                self.due.insert((at, key.clone()));
            }
            None => {
                if let Some(old) = self.next.remove(key) {
                    self.due.remove(&(old, key.clone()));
                }
            }
        }
    }

    /// Takes out and returns the earliest review due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Key> {
        let first = self.due.first()?;
        if first.0 > now {
            return None;
        }
        let (_, key) = self.due.pop_first()?;
        self.next.remove(&key);
        Some(key)
    }

    /// How many reviews are waiting for a transition.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.next.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: &str) -> Key {
        ("m".to_owned(), user.to_owned())
    }

    #[test]
    fn pops_in_due_order_and_only_when_due() {
        let mut schedule = Schedule::default();
        schedule.set(&key("b"), Some(20));
        schedule.set(&key("a"), Some(10));
        schedule.set(&key("c"), Some(30));
        assert_eq!(schedule.pop_due(5), None);
        assert_eq!(schedule.pop_due(25), Some(key("a")));
        assert_eq!(schedule.pop_due(25), Some(key("b")));
        assert_eq!(schedule.pop_due(25), None);
        assert_eq!(schedule.len(), 1);
    }

    #[test]
    fn setting_again_moves_or_removes_the_one_entry() {
        let mut schedule = Schedule::default();
        schedule.set(&key("a"), Some(10));
        schedule.set(&key("a"), Some(40));
        schedule.set(&key("a"), Some(40));
        assert_eq!(schedule.len(), 1);
        assert_eq!(schedule.pop_due(30), None);
        schedule.set(&key("a"), None);
        assert_eq!(schedule.pop_due(u64::MAX), None);
        assert_eq!(schedule.len(), 0);
    }
}
