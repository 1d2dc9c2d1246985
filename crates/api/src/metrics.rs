//! Request metrics in Prometheus text format: counts by gRPC code and latency histograms per
//! RPC, plus database pool figures.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

const BUCKETS_MS: [f64; 12] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0,
];

#[derive(Default)]
struct Series {
    codes: [AtomicU64; 17],
    buckets: [AtomicU64; 12],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// Per-RPC request metrics.
#[derive(Default)]
pub struct Metrics {
    series: RwLock<HashMap<String, std::sync::Arc<Series>>>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one call of `method` that ended with gRPC `code` after `micros`.
    pub fn record(&self, method: &str, code: usize, micros: u64) {
        let s = {
            let r = self.series.read().unwrap_or_else(|e| e.into_inner());
            r.get(method).cloned()
        };
        let s = match s {
            Some(s) => s,
            None => self
                .series
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(method.to_string())
                .or_default()
                .clone(),
        };
        s.codes[code.min(16)].fetch_add(1, Ordering::Relaxed);
        let ms = micros as f64 / 1000.0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                s.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        s.sum_micros.fetch_add(micros, Ordering::Relaxed);
        s.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders every series plus the given extra gauges.
    pub fn render(&self, extra: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&String> = series.keys().collect();
        names.sort();
        out.push_str("# HELP castellan_requests_total Requests per RPC and gRPC code.\n# TYPE castellan_requests_total counter\n");
        for n in &names {
            for (code, c) in series[*n].codes.iter().enumerate() {
                let v = c.load(Ordering::Relaxed);
                if v > 0 {
                    let _ = writeln!(
                        out,
                        "castellan_requests_total{{method=\"{n}\",code=\"{code}\"}} {v}"
                    );
                }
            }
        }
        out.push_str("# HELP castellan_request_duration_seconds Latency per RPC.\n# TYPE castellan_request_duration_seconds histogram\n");
        for n in &names {
            let s = &series[*n];
            for (i, b) in BUCKETS_MS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "castellan_request_duration_seconds_bucket{{method=\"{n}\",le=\"{}\"}} {}",
                    b / 1000.0,
                    s.buckets[i].load(Ordering::Relaxed)
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "castellan_request_duration_seconds_bucket{{method=\"{n}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "castellan_request_duration_seconds_sum{{method=\"{n}\"}} {}",
                s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "castellan_request_duration_seconds_count{{method=\"{n}\"}} {count}"
            );
        }
        for (name, help, v) in extra {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
