//! The printed trace of a fit, like torch-openreml's: iteration, score norm,
//! step norm, log-likelihood and its change.

use super::Iteration;

pub(crate) fn print_trace_header() {
    eprintln!(
        "{:>5} {:>13} {:>13} {:>18} {:>13}",
        "iter", "|score|", "|step|", "loglik", "change"
    );
}

pub(crate) fn print_trace_line(it: &Iteration) {
    eprintln!(
        "{:>5} {:>13.6e} {:>13.6e} {:>18.9} {:>13.6e}",
        it.iter, it.score_norm, it.step_norm, it.loglik, it.loglik_change
    );
}
