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
