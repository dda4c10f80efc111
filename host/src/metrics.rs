//! What the node counts, for `GET /metrics` in the Prometheus text format (OpenMetrics 1.0).
//!
//! Every label takes a few fixed values (an outcome, a kind); none is a machine id, so the number
//! of series a scrape returns does not grow with what clients upload.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One label and its value.
type Label = [(&'static str, &'static str); 1];

/// A member's index, the `member` label of the federation's partial-signature counters: at
/// most the federation's size.
type MemberLabel = [(&'static str, u32); 1];

/// How an activation ended, the `outcome` label of `carol_activations_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It returned, and not a WIT `result`'s `err`.
    Ok,
    /// It returned a WIT `result`'s `err`.
    Err,
    /// The guest trapped.
    Trap,
    /// It ran past its time limit.
    Timeout,
    /// It hit the memory limit.
    Memory,
    /// It ran but the node could not finish it: its state could not be stored, its result was
    /// too large, a signature could not be made.
    Failed,
    /// It was refused a turn: the node was at its concurrency limits.
    Refused,
}

impl Outcome {
    fn label(self) -> Label {
        [("outcome", self.as_str())]
    }

    /// Its name, as the `outcome` label and log field write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Err => "err",
            Self::Trap => "trap",
            Self::Timeout => "timeout",
            Self::Memory => "memory",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }
}

/// What a scrape reads from the node at that moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Activations running.
    pub running: usize,
    /// Activations waiting for a turn.
    pub waiting: usize,
    /// Binaries served.
    pub binaries: usize,
    /// Machines served.
    pub machines: usize,
    /// Bytes of the node's database file.
    pub store_bytes: u64,
    /// Whether this node is a federation member holding its share of the federation key.
    pub federation_ready: bool,
}

/// The node's counters, gauges and histograms.
pub struct Metrics {
    registry: Registry,
    activations: Family<Label, Counter>,
    activation_seconds: Family<Label, Histogram, fn() -> Histogram>,
    compiles: Counter,
    compile_seconds: Histogram,
    cache_loads: Counter,
    cache_load_seconds: Histogram,
    uploads: Counter,
    creations: Counter,
    outbound: Family<Label, Counter>,
    rate_limited: Family<Label, Counter>,
    partials_sent: Family<MemberLabel, Counter>,
    partials_received: Family<MemberLabel, Counter>,
    partials_rejected: Family<MemberLabel, Counter>,
    federation_ready: Gauge,
    running: Gauge,
    waiting: Gauge,
    binaries: Gauge,
    machines: Gauge,
    store_bytes: Gauge,
}

/// From 50 µs to about 52 s, doubling: a hello activation takes tens of microseconds, one
/// that fetches a price over the internet up to seconds, and the default time limit is 30 s.
fn activation_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 21))
}

/// From 1 ms to about 65 s, doubling: compiling a large component takes seconds.
fn compile_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            registry: Registry::default(),
            activations: Family::default(),
            activation_seconds: Family::new_with_constructor(activation_buckets),
            compiles: Counter::default(),
            compile_seconds: compile_buckets(),
            cache_loads: Counter::default(),
            cache_load_seconds: compile_buckets(),
            uploads: Counter::default(),
            creations: Counter::default(),
            outbound: Family::default(),
            rate_limited: Family::default(),
            partials_sent: Family::default(),
            partials_received: Family::default(),
            partials_rejected: Family::default(),
            federation_ready: Gauge::default(),
            running: Gauge::default(),
            waiting: Gauge::default(),
            binaries: Gauge::default(),
            machines: Gauge::default(),
            store_bytes: Gauge::default(),
        };
        let r = &mut metrics.registry;
        r.register(
            "carol_activations",
            "Activations by outcome: ok, err (a WIT result's err), trap, timeout, memory, failed \
             (the node could not finish it), refused (no turn)",
            metrics.activations.clone(),
        );
        r.register(
            "carol_activation_duration_seconds",
            "Time from an activation's turn to its result, by outcome",
            metrics.activation_seconds.clone(),
        );
        r.register(
            "carol_activations_running",
            "Activations running now",
            metrics.running.clone(),
        );
        r.register(
            "carol_activations_waiting",
            "Activations waiting for a turn now (the admission queue)",
            metrics.waiting.clone(),
        );
        r.register(
            "carol_compiles",
            "Components compiled to machine code",
            metrics.compiles.clone(),
        );
        r.register(
            "carol_compile_duration_seconds",
            "Time to compile a component",
            metrics.compile_seconds.clone(),
        );
        r.register(
            "carol_cache_loads",
            "Components loaded from the compiled-code cache",
            metrics.cache_loads.clone(),
        );
        r.register(
            "carol_cache_load_duration_seconds",
            "Time to load a component from the compiled-code cache",
            metrics.cache_load_seconds.clone(),
        );
        r.register(
            "carol_uploads",
            "Binaries uploaded and stored (not counting ones already held)",
            metrics.uploads.clone(),
        );
        r.register(
            "carol_machine_creations",
            "Machines created and stored (not counting ones already held)",
            metrics.creations.clone(),
        );
        r.register(
            "carol_outbound_requests",
            "Machines' outbound HTTP requests by outcome: ok, denied, timeout, too_large, failed",
            metrics.outbound.clone(),
        );
        r.register(
            "carol_rate_limited",
            "Requests refused with 429 for their client's rate, by kind: upload, machine, \
             activation",
            metrics.rate_limited.clone(),
        );
        r.register(
            "carol_federation_partials_sent",
            "Partial signatures this member sent, by the member they went to",
            metrics.partials_sent.clone(),
        );
        r.register(
            "carol_federation_partials_received",
            "Partial signatures this member took from others, by the member that sent them",
            metrics.partials_received.clone(),
        );
        r.register(
            "carol_federation_partials_rejected",
            "Partial signatures refused (a tag not the member's) or dropped (not verifying under \
             the member's public shares), by the member named as sending them",
            metrics.partials_rejected.clone(),
        );
        r.register(
            "carol_federation_key_ready",
            "1 once this node holds its share of the federation key (key generation done), 0 \
             while it is being made or on a node that is no member",
            metrics.federation_ready.clone(),
        );
        r.register(
            "carol_binaries",
            "Binaries served",
            metrics.binaries.clone(),
        );
        r.register(
            "carol_machines",
            "Machines served",
            metrics.machines.clone(),
        );
        r.register(
            "carol_store_bytes",
            "Size of the node's database file",
            metrics.store_bytes.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// An activation ended with `outcome`, `took` after its turn began (zero when refused).
    pub fn activation(&self, outcome: Outcome, took: Duration) {
        let label = outcome.label();
        self.activations.get_or_create(&label).inc();
        if outcome != Outcome::Refused {
            self.activation_seconds
                .get_or_create(&label)
                .observe(took.as_secs_f64());
        }
    }

    /// A component was compiled in `took`.
    pub fn compiled(&self, took: Duration) {
        self.compiles.inc();
        self.compile_seconds.observe(took.as_secs_f64());
    }

    /// A component was loaded from the compiled-code cache in `took`.
    pub fn cache_loaded(&self, took: Duration) {
        self.cache_loads.inc();
        self.cache_load_seconds.observe(took.as_secs_f64());
    }

    /// Components compiled and loaded from the cache since the node started.
    pub fn compile_counts(&self) -> (u64, u64) {
        (self.compiles.get(), self.cache_loads.get())
    }

    /// A new binary was stored.
    pub fn uploaded(&self) {
        self.uploads.inc();
    }

    /// A new machine was stored.
    pub fn created(&self) {
        self.creations.inc();
    }

    /// A machine's outbound request ended with `outcome` (`ok`, `denied`, `timeout`,
    /// `too_large`, `failed`).
    pub fn outbound(&self, outcome: &'static str) {
        self.outbound.get_or_create(&[("outcome", outcome)]).inc();
    }

    /// A request of `kind` was refused for its client's rate.
    pub fn rate_limited(&self, kind: crate::rates::Kind) {
        self.rate_limited
            .get_or_create(&[("kind", kind.as_str())])
            .inc();
    }

    /// A partial signature was sent to member `to`.
    pub fn partial_sent(&self, to: u32) {
        self.partials_sent.get_or_create(&[("member", to)]).inc();
    }

    /// A partial signature from member `from` was taken.
    pub fn partial_received(&self, from: u32) {
        self.partials_received
            .get_or_create(&[("member", from)])
            .inc();
    }

    /// A partial signature said to be member `from`'s was refused or dropped.
    pub fn partial_rejected(&self, from: u32) {
        self.partials_rejected
            .get_or_create(&[("member", from)])
            .inc();
    }

    /// Everything, in the OpenMetrics text format, with `now`'s gauges.
    pub fn render(&self, now: Snapshot) -> String {
        let gauge = |gauge: &Gauge, value: u64| gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        gauge(&self.running, now.running as u64);
        gauge(&self.waiting, now.waiting as u64);
        gauge(&self.binaries, now.binaries as u64);
        gauge(&self.machines, now.machines as u64);
        gauge(&self.store_bytes, now.store_bytes);
        gauge(&self.federation_ready, u64::from(now.federation_ready));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_outcome_and_the_gauges_it_is_given() {
        let metrics = Metrics::default();
        metrics.activation(Outcome::Ok, Duration::from_micros(80));
        metrics.activation(Outcome::Ok, Duration::from_micros(80));
        metrics.activation(Outcome::Refused, Duration::ZERO);
        metrics.outbound("denied");
        let text = metrics.render(Snapshot {
            machines: 3,
            ..Snapshot::default()
        });
        assert!(
            text.contains("carol_activations_total{outcome=\"ok\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("carol_activations_total{outcome=\"refused\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("carol_activation_duration_seconds_count{outcome=\"ok\"} 2\n"),
            "{text}"
        );
        assert!(
            !text.contains("carol_activation_duration_seconds_count{outcome=\"refused\"}"),
            "a refused activation did not run: {text}"
        );
        assert!(
            text.contains("carol_outbound_requests_total{outcome=\"denied\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("carol_machines 3\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
