//! Prometheus metrics of the service, served at `GET /metrics` (text exposition format).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// `kind` label: `cast` or `spoiled`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

/// `reason` label: the API error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// Labels of an HTTP request: method, matched route and status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The service's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    accepted: Family<KindLabel, Counter>,
    rejected: Family<ReasonLabel, Counter>,
    verification: Histogram,
    board_size: Gauge,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let accepted = Family::<KindLabel, Counter>::default();
        let rejected = Family::<ReasonLabel, Counter>::default();
        let verification = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let board_size = Gauge::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> _,
        );
        registry.register(
            "tabella_ballots_accepted",
            "Ballots appended to the board, by kind (cast, spoiled)",
            accepted.clone(),
        );
        registry.register(
            "tabella_ballots_rejected",
            "Ballots refused, by reason (the API error code)",
            rejected.clone(),
        );
        registry.register(
            "tabella_ballot_verification_seconds",
            "Time to verify one ballot's signature and proofs",
            verification.clone(),
        );
        registry.register(
            "tabella_board_size",
            "Entries on the bulletin board",
            board_size.clone(),
        );
        registry.register(
            "tabella_http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "tabella_http_request_duration_seconds",
            "HTTP request latency, by method, route and status",
            latency.clone(),
        );
        Self {
            registry: Arc::new(registry),
            accepted,
            rejected,
            verification,
            board_size,
            requests,
            latency,
        }
    }

    /// A ballot of `kind` was appended.
    pub fn accepted(&self, kind: &str) {
        self.accepted
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// A ballot was refused with error code `reason`.
    pub fn rejected(&self, reason: &str) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// One ballot verification took `seconds`.
    pub fn verified(&self, seconds: f64) {
        self.verification.observe(seconds);
    }

    /// The board now has `size` entries.
    pub fn board_size(&self, size: u64) {
        self.board_size.set(i64::try_from(size).unwrap_or(i64::MAX));
    }

    /// A request was answered.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels {
            method: method.to_string(),
            route: route.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
