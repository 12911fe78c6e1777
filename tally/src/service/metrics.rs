//! Prometheus metrics of the service, served at `GET /metrics` (text exposition format).

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// `kind` label: `cast` or `spoiled` (ballots); `election`, `checkpoint` or `result` (anchors).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

/// `reason` label: the API error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

/// Labels of an anchoring transaction: what it anchors and how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnchorLabels {
    kind: String,
    outcome: String,
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
    anchor_lag: Gauge<f64, AtomicU64>,
    anchor_transactions: Family<AnchorLabels, Counter>,
    anchor_gas: Family<KindLabel, Counter>,
    anchor_checkpoint_size: Gauge,
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
        let anchor_lag = Gauge::<f64, AtomicU64>::default();
        let anchor_transactions = Family::<AnchorLabels, Counter>::default();
        let anchor_gas = Family::<KindLabel, Counter>::default();
        let anchor_checkpoint_size = Gauge::default();
        registry.register(
            "tabella_anchor_lag_seconds",
            "Age of the oldest item not anchored on chain yet (0 when none)",
            anchor_lag.clone(),
        );
        registry.register(
            "tabella_anchor_transactions",
            "Anchoring transactions, by kind (deploy, election, checkpoint, result) and outcome \
             (confirmed, reverted, failed, found: already on chain)",
            anchor_transactions.clone(),
        );
        registry.register(
            "tabella_anchor_gas_used",
            "Gas used by the anchoring transactions, by kind",
            anchor_gas.clone(),
        );
        registry.register(
            "tabella_anchor_last_checkpoint_size",
            "The board size of the last checkpoint anchored on chain",
            anchor_checkpoint_size.clone(),
        );
        Self {
            registry: Arc::new(registry),
            accepted,
            rejected,
            verification,
            board_size,
            requests,
            latency,
            anchor_lag,
            anchor_transactions,
            anchor_gas,
            anchor_checkpoint_size,
        }
    }

    /// The oldest item not anchored yet is `seconds` old (0: none).
    pub fn anchor_lag(&self, seconds: f64) {
        self.anchor_lag.set(seconds);
    }

    /// An anchoring transaction of `kind` ended with `outcome`, using `gas` if it was mined.
    pub fn anchor_transaction(&self, kind: &str, outcome: &str, gas: Option<u64>) {
        self.anchor_transactions
            .get_or_create(&AnchorLabels {
                kind: kind.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        if let Some(gas) = gas {
            self.anchor_gas
                .get_or_create(&KindLabel {
                    kind: kind.to_string(),
                })
                .inc_by(gas);
        }
    }

    /// A checkpoint of `size` entries is anchored.
    pub fn anchor_checkpoint_size(&self, size: u64) {
        self.anchor_checkpoint_size
            .set(i64::try_from(size).unwrap_or(i64::MAX));
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
