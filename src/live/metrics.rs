//! What the live loop counts, for `/metrics`: events received, fetches
//! and their outcomes, retries by reason, decisions, deliveries by
//! target, and how far behind the loop is (the oldest pending event and
//! delivery).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::store::{now, Backlog};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RulesetOutcome {
    ruleset: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiOutcome {
    api: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RulesetStep {
    ruleset: String,
    step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetOutcome {
    target: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

/// The live loop's metrics, registered beside the service's.
#[derive(Debug, Default)]
pub struct LiveMetrics {
    events: Family<RulesetOutcome, Counter>,
    fetches: Family<ApiOutcome, Counter>,
    retries: Family<Reason, Counter>,
    decisions: Family<RulesetStep, Counter>,
    deliveries: Family<TargetOutcome, Counter>,
    pending: Family<Kind, Gauge>,
    oldest: Family<Kind, Gauge>,
    store_errors: Counter,
}

impl LiveMetrics {
    /// The metrics, registered in `registry`.
    pub fn register(registry: &mut Registry) -> LiveMetrics {
        let metrics = LiveMetrics::default();
        registry.register(
            "callassign_cloudtalk_events",
            "CloudTalk events received, by ruleset and outcome (accepted, repeated, refused, unavailable)",
            metrics.events.clone(),
        );
        registry.register(
            "callassign_cloudtalk_fetches",
            "Requests to CloudTalk's APIs, by API (history, detail) and outcome (answered, not_found: a 404, rate_limited: a 429, refused: a 401 or 403, error)",
            metrics.fetches.clone(),
        );
        registry.register(
            "callassign_live_retries",
            "Retries scheduled, by reason (not_yet, rate_limited, refused, error, not_served, delivery)",
            metrics.retries.clone(),
        );
        registry.register(
            "callassign_live_decisions",
            "Calls decided by the live loop, by ruleset and step (unreadable: the records could not be read; gave_up: no decision in time)",
            metrics.decisions.clone(),
        );
        registry.register(
            "callassign_deliveries",
            "Delivery attempts, by target and outcome (delivered, retry, failed)",
            metrics.deliveries.clone(),
        );
        registry.register(
            "callassign_live_pending",
            "Events not decided yet (kind=event) and deliveries not made yet (kind=delivery)",
            metrics.pending.clone(),
        );
        registry.register(
            "callassign_live_oldest_pending_seconds",
            "Age of the oldest event not decided yet (kind=event) and of the oldest delivery not made yet (kind=delivery); 0 when none",
            metrics.oldest.clone(),
        );
        registry.register(
            "callassign_live_store_errors",
            "Store operations that failed (a full disk, a lost database)",
            metrics.store_errors.clone(),
        );
        metrics
    }

    /// Every series an alert watches, at 0, before the first event: an
    /// `increase(…) > 0` alert sees a series only once it exists, so the
    /// first failure would otherwise go unseen. Rulesets are those served
    /// at start (one served later gets its series as it is used).
    pub fn start_at_zero(&self, rulesets: &[String], targets: &[String]) {
        for ruleset in rulesets {
            for outcome in ["accepted", "repeated", "refused", "unavailable"] {
                drop(self.events.get_or_create(&RulesetOutcome {
                    ruleset: ruleset.clone(),
                    outcome: outcome.to_string(),
                }));
            }
            for step in ["unreadable", "gave_up"] {
                drop(self.decisions.get_or_create(&RulesetStep {
                    ruleset: ruleset.clone(),
                    step: step.to_string(),
                }));
            }
        }
        for api in ["history", "detail"] {
            for outcome in ["answered", "not_found", "rate_limited", "refused", "error"] {
                drop(self.fetches.get_or_create(&ApiOutcome {
                    api: api.to_string(),
                    outcome: outcome.to_string(),
                }));
            }
        }
        for reason in [
            "not_yet",
            "rate_limited",
            "refused",
            "error",
            "not_served",
            "delivery",
        ] {
            drop(self.retries.get_or_create(&Reason {
                reason: reason.to_string(),
            }));
        }
        for target in targets {
            for outcome in ["delivered", "retry", "failed"] {
                drop(self.deliveries.get_or_create(&TargetOutcome {
                    target: super::shown_target(target),
                    outcome: outcome.to_string(),
                }));
            }
        }
    }

    pub fn event(&self, ruleset: &str, outcome: &str) {
        self.events
            .get_or_create(&RulesetOutcome {
                ruleset: ruleset.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn fetch(&self, api: &str, outcome: &str) {
        self.fetches
            .get_or_create(&ApiOutcome {
                api: api.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn retry(&self, reason: &str) {
        self.retries
            .get_or_create(&Reason {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn decided(&self, ruleset: &str, step: &str) {
        self.decisions
            .get_or_create(&RulesetStep {
                ruleset: ruleset.to_string(),
                step: step.to_string(),
            })
            .inc();
    }

    pub fn delivery(&self, target: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&TargetOutcome {
                target: target.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn store_error(&self) {
        self.store_errors.inc();
    }

    /// Sets the backlog gauges.
    pub fn backlog(&self, backlog: &Backlog) {
        let now = now();
        let age = |since: Option<i64>| since.map_or(0, |since| (now - since).max(0) / 1000);
        for (kind, pending, oldest) in [
            ("event", backlog.events_pending, backlog.oldest_event),
            (
                "delivery",
                backlog.deliveries_pending,
                backlog.oldest_delivery,
            ),
        ] {
            let kind = Kind {
                kind: kind.to_string(),
            };
            self.pending.get_or_create(&kind).set(pending);
            self.oldest.get_or_create(&kind).set(age(oldest));
        }
    }
}
