//! Prometheus metrics. Handles are resolved once (per ruleset when it is
//! loaded, per route at start), so counting a decision is one atomic add,
//! and timing a request two (never a lock: see [`Durations`]).

use std::iter::once;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use callassign::DecidedBy;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RulesetStep {
    ruleset: String,
    step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RulesetLabel {
    ruleset: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RulesetResult {
    ruleset: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RulesetHash {
    ruleset: String,
    hash: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

/// The routes requests are timed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Assign,
    Rulesets,
    Plan,
    Check,
    Status,
    Healthz,
    Readyz,
    Metrics,
    /// The workbench: its page and files, and its routes.
    Page,
    Source,
    PlanText,
    Decide,
    Diff,
    History,
    /// The live loop's: CloudTalk's events, and the decisions stored.
    Events,
    Decisions,
    /// Anything else: unknown paths, wrong methods.
    Other,
}

impl Route {
    /// In declaration order: `route as usize` is its index here.
    const ALL: [Route; 17] = [
        Route::Assign,
        Route::Rulesets,
        Route::Plan,
        Route::Check,
        Route::Status,
        Route::Healthz,
        Route::Readyz,
        Route::Metrics,
        Route::Page,
        Route::Source,
        Route::PlanText,
        Route::Decide,
        Route::Diff,
        Route::History,
        Route::Events,
        Route::Decisions,
        Route::Other,
    ];

    /// The label, as the route is written in the router.
    pub fn label(self) -> &'static str {
        match self {
            Route::Assign => "/v1/rulesets/{name}/assign",
            Route::Rulesets => "/v1/rulesets",
            Route::Plan => "/v1/rulesets/{name}/plan",
            Route::Check => "/v1/check",
            Route::Status => "/v1/status",
            Route::Healthz => "/healthz",
            Route::Readyz => "/readyz",
            Route::Metrics => "/metrics",
            Route::Page => "/",
            Route::Source => "/v1/rulesets/{name}/source",
            Route::PlanText => "/v1/plan",
            Route::Decide => "/v1/decide",
            Route::Diff => "/v1/diff",
            Route::History => "/v1/history",
            Route::Events => "/v1/cloudtalk/{ruleset}/events",
            Route::Decisions => "/v1/decisions/{call_id}",
            Route::Other => "other",
        }
    }
}

/// Request durations from 50 µs (a decision over loopback) to 30 s (the
/// request timeout).
const DURATION_BUCKETS: [f64; 17] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0, 30.0,
];

/// The duration histogram of one route, counted without a lock: one
/// atomic add for the bucket and one for the sum. (prometheus-client's
/// `Histogram` takes a mutex on every observation, which every request of
/// a route would share.) Exported exactly as that histogram is: the same
/// buckets, `+Inf` last, the count being the sum of the buckets.
#[derive(Debug, Clone, Default)]
pub struct Durations(Arc<DurationCounts>);

#[derive(Debug, Default)]
struct DurationCounts {
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
    /// The sum of the observations, in nanoseconds.
    sum_nanos: AtomicU64,
}

impl Durations {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|&upper| seconds <= upper)
            .unwrap_or(DURATION_BUCKETS.len());
        self.0.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.0.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl TypedMetric for Durations {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Durations {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let buckets: Vec<(f64, u64)> = DURATION_BUCKETS
            .iter()
            .copied()
            .chain(once(f64::INFINITY))
            .zip(&self.0.buckets)
            .map(|(upper, count)| (upper, count.load(Ordering::Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, count)| count).sum();
        let sum = self.0.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    decisions: Family<RulesetStep, Counter>,
    refused: Family<RulesetLabel, Counter>,
    unknown_keys: Family<RulesetLabel, Counter>,
    reloads: Family<RulesetResult, Counter>,
    info: Family<RulesetHash, Gauge>,
    /// By `Route as usize`.
    routes: Vec<Durations>,
    pub connections: Gauge,
    pub connections_refused: Counter,
    pub log_lines: Counter,
    pub log_lost: Counter,
    pub token_reloads_refused: Counter,
}

/// What a ruleset's requests count, resolved once per loaded version.
#[derive(Debug)]
pub struct RulesetMetrics {
    /// By [`DecidedBy::index`].
    decisions: Vec<Counter>,
    pub refused: Counter,
    pub unknown_keys: Counter,
}

impl RulesetMetrics {
    /// Counts one decision.
    pub fn decided(&self, step: DecidedBy<'_>) {
        self.decisions[step.index()].inc();
    }
}

impl Metrics {
    /// The registry, for metrics registered beside the service's (the
    /// live loop's) before the service starts.
    #[cfg(feature = "live")]
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let decisions = Family::<RulesetStep, Counter>::default();
        let refused = Family::<RulesetLabel, Counter>::default();
        let unknown_keys = Family::<RulesetLabel, Counter>::default();
        let reloads = Family::<RulesetResult, Counter>::default();
        let info = Family::<RulesetHash, Gauge>::default();
        let durations = Family::<RouteLabel, Durations>::default();
        let connections = Gauge::default();
        let connections_refused = Counter::default();
        let log_lines = Counter::default();
        let log_lost = Counter::default();
        let token_reloads_refused = Counter::default();
        // Counters are registered without `_total`: the encoder adds it.
        registry.register(
            "callassign_decisions",
            "Calls decided, by ruleset and by the step that decided",
            decisions.clone(),
        );
        registry.register(
            "callassign_refused_calls",
            "Calls that could not be read (answered 422, or an error line in a stream)",
            refused.clone(),
        );
        registry.register(
            "callassign_unknown_key_calls",
            "Decided calls that had keys callassign does not read",
            unknown_keys.clone(),
        );
        registry.register(
            "callassign_http_request_duration_seconds",
            "Time from a request's headers to the end of its answer, by route",
            durations.clone(),
        );
        registry.register(
            "callassign_reloads",
            "Reloads of a ruleset: applied, or refused (the last good version keeps serving)",
            reloads.clone(),
        );
        registry.register(
            "callassign_ruleset_info",
            "The version served of each ruleset: 1 for its current hash",
            info.clone(),
        );
        registry.register(
            "callassign_open_connections",
            "Connections open now",
            connections.clone(),
        );
        registry.register(
            "callassign_refused_connections",
            "Connections refused past --max-connections",
            connections_refused.clone(),
        );
        registry.register(
            "callassign_decision_log_lines",
            "Lines written to the decision log",
            log_lines.clone(),
        );
        registry.register(
            "callassign_decision_log_lost_lines",
            "Decision log lines that could not be written (a full disk, a slow one)",
            log_lost.clone(),
        );
        registry.register(
            "callassign_token_reloads_refused",
            "Changes to the token file that were not applied (empty, unreadable)",
            token_reloads_refused.clone(),
        );
        let routes = Route::ALL
            .iter()
            .map(|route| {
                durations.get_or_create_owned(&RouteLabel {
                    route: route.label().to_string(),
                })
            })
            .collect();
        Metrics {
            registry,
            decisions,
            refused,
            unknown_keys,
            reloads,
            info,
            routes,
            connections,
            connections_refused,
            log_lines,
            log_lost,
            token_reloads_refused,
        }
    }

    /// The handles of one ruleset, every step present from the start.
    pub fn ruleset(&self, name: &str) -> RulesetMetrics {
        let decisions = DecidedBy::all()
            .map(|step| {
                self.decisions.get_or_create_owned(&RulesetStep {
                    ruleset: name.to_string(),
                    step: step.name().to_string(),
                })
            })
            .collect();
        for result in ["applied", "refused"] {
            // Present from the start, so that a rate over them works.
            drop(self.reloads.get_or_create(&RulesetResult {
                ruleset: name.to_string(),
                result: result.to_string(),
            }));
        }
        let label = RulesetLabel {
            ruleset: name.to_string(),
        };
        RulesetMetrics {
            decisions,
            refused: self.refused.get_or_create_owned(&label),
            unknown_keys: self.unknown_keys.get_or_create_owned(&label),
        }
    }

    /// A reload attempt of `ruleset`.
    pub fn reloaded(&self, ruleset: &str, applied: bool) {
        self.reloads
            .get_or_create(&RulesetResult {
                ruleset: ruleset.to_string(),
                result: if applied { "applied" } else { "refused" }.to_string(),
            })
            .inc();
    }

    /// `ruleset` now serves `hash` (and no longer `previous`).
    pub fn serving(&self, ruleset: &str, previous: Option<&str>, hash: &str) {
        if let Some(previous) = previous {
            self.info.remove(&RulesetHash {
                ruleset: ruleset.to_string(),
                hash: previous.to_string(),
            });
        }
        self.info
            .get_or_create(&RulesetHash {
                ruleset: ruleset.to_string(),
                hash: hash.to_string(),
            })
            .set(1);
    }

    /// Starts timing a request on `route`; the time is taken when the
    /// returned guard is dropped.
    pub fn time(&self, route: Route) -> Timer<'_> {
        Timer {
            durations: &self.routes[route as usize],
            start: Instant::now(),
        }
    }

    /// The metrics in the Prometheus text format, or in OpenMetrics.
    pub fn render(&self, openmetrics: bool) -> String {
        let mut out = String::with_capacity(8192);
        let rendered = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        };
        rendered.expect("writing to a String cannot fail");
        out
    }
}

/// Times one request; see [`Metrics::time`].
pub struct Timer<'m> {
    durations: &'m Durations,
    start: Instant,
}

impl Timer<'_> {
    /// The same timer, for an answer that outlives the handler (a
    /// stream's body).
    pub fn detach(self) -> DetachedTimer {
        let timer = ManuallyDrop::new(self);
        DetachedTimer {
            durations: timer.durations.clone(),
            start: timer.start,
        }
    }
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        self.durations.observe(self.start.elapsed());
    }
}

/// A [`Timer`] that owns its histogram.
pub struct DetachedTimer {
    durations: Durations,
    start: Instant,
}

impl Drop for DetachedTimer {
    fn drop(&mut self) {
        self.durations.observe(self.start.elapsed());
    }
}

/// A count kept outside the registry (for `/v1/status`).
#[derive(Debug, Default)]
pub struct Count(AtomicU64);

impl Count {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_indexed_in_declaration_order() {
        for (index, route) in Route::ALL.iter().enumerate() {
            assert_eq!(*route as usize, index, "{route:?}");
        }
    }

    #[test]
    fn durations_export_as_a_histogram() {
        let metrics = Metrics::new();
        metrics.routes[Route::Check as usize].observe(Duration::from_micros(50));
        metrics.routes[Route::Check as usize].observe(Duration::from_millis(3));
        metrics.routes[Route::Check as usize].observe(Duration::from_secs(40));
        metrics.time(Route::Other).detach();
        let text = metrics.render(false);
        for line in [
            "# TYPE callassign_http_request_duration_seconds histogram",
            "callassign_http_request_duration_seconds_sum{route=\"/v1/check\"} 40.00305",
            "callassign_http_request_duration_seconds_count{route=\"/v1/check\"} 3",
            "callassign_http_request_duration_seconds_bucket{route=\"/v1/check\",le=\"5e-05\"} 1",
            "callassign_http_request_duration_seconds_bucket{route=\"/v1/check\",le=\"0.0025\"} 1",
            "callassign_http_request_duration_seconds_bucket{route=\"/v1/check\",le=\"0.005\"} 2",
            "callassign_http_request_duration_seconds_bucket{route=\"/v1/check\",le=\"30\"} 2",
            "callassign_http_request_duration_seconds_bucket{route=\"/v1/check\",le=\"+Inf\"} 3",
            "callassign_http_request_duration_seconds_count{route=\"other\"} 1",
            "callassign_http_request_duration_seconds_count{route=\"/healthz\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }

    #[test]
    fn names_are_the_documented_ones() {
        let metrics = Metrics::new();
        let hubspot = metrics.ruleset("hubspot");
        hubspot.decided(DecidedBy::IntegrationFallback);
        hubspot.refused.inc();
        metrics.reloaded("hubspot", false);
        metrics.serving("hubspot", None, "aa");
        metrics.serving("hubspot", Some("aa"), "bb");
        drop(metrics.time(Route::Assign));
        let text = metrics.render(false);
        for line in [
            "callassign_decisions_total{ruleset=\"hubspot\",step=\"integration_fallback\"} 1",
            "callassign_decisions_total{ruleset=\"hubspot\",step=\"call_agent\"} 0",
            "callassign_refused_calls_total{ruleset=\"hubspot\"} 1",
            "callassign_reloads_total{ruleset=\"hubspot\",result=\"refused\"} 1",
            "callassign_ruleset_info{ruleset=\"hubspot\",hash=\"bb\"} 1",
            "callassign_http_request_duration_seconds_count{route=\"/v1/rulesets/{name}/assign\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!text.contains("hash=\"aa\""), "{text}");
        assert!(metrics.render(true).ends_with("# EOF\n"));
    }
}
