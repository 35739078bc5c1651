//! Tails of Student's t and Fisher's F distributions through the
//! regularized incomplete beta function `I_x(a, b)` (its continued
//! fraction, evaluated by the modified Lentz method, on the side of
//! `x = a/(a+b)` where it converges fast), and the 97.5 % normal quantile.
//!
//! `P(F > f) = I_{d₂/(d₂ + d₁f)}(d₂/2, d₁/2)` for `F ~ F(d₁, d₂)`;
//! `P(|T| > t) = I_{ν/(ν + t²)}(ν/2, 1/2)` for `T ~ t(ν)`.

use super::chi_square::ln_gamma;

/// The 97.5 % quantile of the standard normal (R's `qnorm(0.975)`): the
/// multiplier of 95 % Wald intervals.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// The continued fraction of `I_x(a, b)` (Numerical Recipes' `betacf`
/// form), for `x < (a + 1)/(a + b + 2)`.
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function `I_x(a, b)`, `a, b > 0`.
pub(crate) fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// `P(F > f)` for `F ~ F(d1, d2)` (R's `pf(f, d1, d2, lower.tail = FALSE)`);
/// NaN when a degree of freedom is not positive or an input is NaN.
///
/// ```
/// use covreml::inference::f_sf;
/// // F(2, 2): P(F > f) = 1/(1 + f)
/// assert!((f_sf(3.0, 2.0, 2.0) - 0.25).abs() < 1e-14);
/// ```
pub fn f_sf(f: f64, d1: f64, d2: f64) -> f64 {
    if d1.is_nan() || d2.is_nan() || d1 <= 0.0 || d2 <= 0.0 || f.is_nan() {
        return f64::NAN;
    }
    if f <= 0.0 {
        return 1.0;
    }
    if f.is_infinite() {
        return 0.0;
    }
    beta_inc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))
}

/// `P(|T| > |t|)` for `T ~ t(df)`: the two-sided p-value of a t test (R's
/// `2 * pt(abs(t), df, lower.tail = FALSE)`).
///
/// ```
/// use covreml::inference::t_two_sided;
/// // t(1) is Cauchy: P(|T| > 1) = 1/2
/// assert!((t_two_sided(1.0, 1.0) - 0.5).abs() < 1e-14);
/// ```
pub fn t_two_sided(t: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 || t.is_nan() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    beta_inc(df / 2.0, 0.5, df / (df + t * t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // t(2): P(|T| > t) = 1 − t/√(2 + t²)
        for t in [0.1f64, 1.0, 2.5, 10.0] {
            let exact = 1.0 - t / (2.0 + t * t).sqrt();
            assert!((t_two_sided(t, 2.0) / exact - 1.0).abs() < 1e-12, "{t}");
        }
        // F(2, d2): P(F > f) = (1 + 2f/d2)^{−d2/2}
        for (f, d2) in [(0.5, 3.0), (4.0, 7.5), (20.0, 30.0)] {
            let exact = (1.0f64 + 2.0 * f / d2).powf(-d2 / 2.0);
            assert!((f_sf(f, 2.0, d2) / exact - 1.0).abs() < 1e-12, "{f} {d2}");
        }
        // F(1, ν) is t(ν)²
        assert!((f_sf(4.0, 1.0, 9.0) - t_two_sided(2.0, 9.0)).abs() < 1e-14);
    }
}
