//! This process's resident memory, from `/proc/self`: what the servers the benchmarks run in
//! this process hold.

/// Resets this process's peak resident memory (VmHWM) to its current size; whether it could.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A memory figure of this process from `/proc/self/status` (`VmHWM:` the peak since start or
/// the last [`reset_peak`], `VmRSS:` now), in KiB.
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// What a piece of work added to this process's peak resident memory, in MiB: the peak while
/// `work` ran, less the resident memory before it (what the benchmark itself holds, such as
/// its rows); `None` where the peak cannot be reset.
pub async fn growth_mib<T>(work: impl std::future::Future<Output = T>) -> (T, Option<f64>) {
    let reset = reset_peak();
    let before = status_kib("VmRSS:");
    let out = work.await;
    let peak = status_kib("VmHWM:").filter(|_| reset);
    let grown = peak
        .zip(before)
        .map(|(peak, before)| peak.saturating_sub(before) as f64 / 1024.0);
    (out, grown)
}
