//! When to try again: exponential delays with jitter, so retries of many
//! calls spread out instead of arriving together.

use std::time::Duration;

/// A schedule of delays: `first`, then each `factor` times the last, at
/// most `max`; each drawn at random between the delay and half as much
/// again.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub factor: f64,
    pub max: Duration,
}

/// A server error, a timeout, a refused connection: soon, then less often.
pub const TRANSIENT: Backoff = Backoff {
    first: Duration::from_secs(1),
    factor: 2.0,
    max: Duration::from_secs(300),
};

/// A call CloudTalk does not have yet (its records are written after
/// wrap-up): the first retries within 10 to 30 seconds.
pub const NOT_YET: Backoff = Backoff {
    first: Duration::from_secs(10),
    factor: 1.5,
    max: Duration::from_secs(600),
};

/// CloudTalk refused the API key: fixed by an operator, or a passing
/// fault of theirs; either way not worth asking every second.
pub const REFUSED: Backoff = Backoff {
    first: Duration::from_secs(5),
    factor: 2.0,
    max: Duration::from_secs(900),
};

/// A delivery target that did not take a decision.
pub const DELIVERY: Backoff = Backoff {
    first: Duration::from_secs(1),
    factor: 2.0,
    max: Duration::from_secs(300),
};

impl Backoff {
    /// The delay before attempt `attempts + 1`, without jitter.
    pub fn base(self, attempts: i64) -> Duration {
        let exponent = attempts.clamp(0, 64) as i32;
        let seconds = self.first.as_secs_f64() * self.factor.powi(exponent);
        Duration::from_secs_f64(seconds.min(self.max.as_secs_f64()))
    }

    /// The delay before attempt `attempts + 1`: the base delay, plus up
    /// to half of it at random.
    pub fn delay(self, attempts: i64) -> Duration {
        let base = self.base(attempts);
        base + base.mul_f64(fastrand::f64() / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_not_yet_written_is_retried_within_10_to_30_seconds_at_first() {
        for _ in 0..1000 {
            for attempts in 0..2 {
                let delay = NOT_YET.delay(attempts);
                assert!(
                    delay >= Duration::from_secs(10) && delay <= Duration::from_secs(30),
                    "{delay:?}"
                );
            }
        }
    }

    #[test]
    fn delays_grow_up_to_their_cap_and_stay_there() {
        let bases: Vec<u64> = (0..12).map(|n| TRANSIENT.base(n).as_secs()).collect();
        assert_eq!(bases, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(TRANSIENT.base(i64::MAX), Duration::from_secs(300));
        assert_eq!(TRANSIENT.base(-3), Duration::from_secs(1));
        for attempts in [0, 5, 40] {
            let delay = TRANSIENT.delay(attempts);
            let base = TRANSIENT.base(attempts);
            assert!(delay >= base && delay <= base.mul_f64(1.5));
        }
    }
}
