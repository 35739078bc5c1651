//! When a dense kernel of the factorization or the selected inverse runs
//! on several threads: only above a size where rayon's hand-off pays.

use faer::Par;

/// Below this many floating-point operations a dense kernel runs on one
/// thread: on the 2-core machine, rayon's hand-off cost more than it saved
/// for every kernel of InstEval (a 1,128-level dense block), and only the
/// blocks of a million-row crossed model (3,706 levels) gained from it.
const PAR_MIN_FLOPS: f64 = 2e9;

/// The parallelism of a dense kernel of about `flops` operations under the
/// chosen setting.
pub(super) fn par_for(par: Par, flops: f64) -> Par {
    if flops < PAR_MIN_FLOPS {
        Par::Seq
    } else {
        par
    }
}

/// The operations of the dense factorization of a block of `size` rows.
pub(super) fn cube(size: usize) -> f64 {
    (size as f64).powi(3) / 3.0
}

/// Whether `COVREML_PROFILE` is set: each numeric factorization and
/// selected inverse then prints its wall and CPU time and flop rate on
/// standard error (a diagnostic for large models).
pub(super) fn profiling() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("COVREML_PROFILE").is_some())
}

/// CPU seconds of this process so far (all threads; Linux, else NaN).
pub(super) fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime, fields 14 and 15 (ticks of 1/100 s), are the 12th
    // and 13th after the command name.
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
    tick(11)
        .zip(tick(12))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

/// Runs `f`, printing its times and rate when profiling.
pub(super) fn profiled<T>(what: &str, flops: f64, f: impl FnOnce() -> T) -> T {
    if !profiling() {
        return f();
    }
    let (wall, cpu) = (std::time::Instant::now(), cpu_seconds());
    let out = f();
    let (w, c) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    eprintln!(
        "covreml profile: {what}: {w:.3} s wall, {c:.2} s CPU, {:.2e} flops, \
         {:.1} GFLOP/s per wall second, {:.1} per CPU second",
        flops,
        flops / w / 1e9,
        flops / c / 1e9
    );
    out
}
