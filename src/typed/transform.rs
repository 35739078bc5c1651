//! Transforms from the free (optimisation) scale to the natural scale.
//!
//! A parameter lives on the free scale `x ∈ ℝ` during a fit and enters its
//! structure on the natural scale `θ = t(x)`. Each transform has its inverse
//! and its derivative `dθ/dx`, all generic over the [`Real`].

use crate::Real;
use std::fmt;

/// A map from the free value `x` to the natural value `θ`.
///
/// | variant | `θ = t(x)` | used for |
/// |---|---|---|
/// | `Identity` | `x` | correlations of Unconstrained, `L_i_j` |
/// | `Exp` | `eˣ` | |
/// | `Exp2` | `2ˣ` | |
/// | `Exp10` | `10ˣ` | |
/// | `ExpPow2` | `e^{2x}` | every variance `sigma^2` |
/// | `Sigmoid` | `1 / (1 + e^{−x})` | |
/// | `ScaleShift { a, b }` | `a x + b` | |
/// | `Pow(p)` | `xᵖ` | |
/// | `Chain(ts)` | `ts[k−1](… ts[0](x))` | correlations: sigmoid then scale-shift |
///
/// ```
/// use covreml::Transform;
/// let rho = Transform::correlation(-1.0, 1.0); // 2·sigmoid(x) − 1, as AR1 uses
/// assert_eq!(rho.forward(0.0f64), 0.0);
/// assert!((rho.derivative(0.0f64) - 0.5).abs() < 1e-15);
/// assert!((rho.inverse(rho.forward(0.3f64)) - 0.3).abs() < 1e-14);
/// assert_eq!(Transform::ExpPow2.forward(0.5f64), 1f64.exp());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Transform {
    /// `θ = x`.
    Identity,
    /// `θ = eˣ`.
    Exp,
    /// `θ = 2ˣ`.
    Exp2,
    /// `θ = 10ˣ`.
    Exp10,
    /// `θ = e^{2x}`: the default for variances (`x` is the log standard deviation).
    ExpPow2,
    /// `θ = 1 / (1 + e^{−x})`.
    Sigmoid,
    /// `θ = a x + b`.
    ScaleShift {
        /// Scale `a` (must not be 0 for the inverse to exist).
        a: f64,
        /// Shift `b`.
        b: f64,
    },
    /// `θ = xᵖ`.
    Pow(f64),
    /// Composition: applies the transforms in order, first to last.
    Chain(Vec<Transform>),
}

impl Transform {
    /// Sigmoid followed by a scale-shift onto the open interval `(lo, hi)`.
    pub fn correlation(lo: f64, hi: f64) -> Self {
        Transform::Chain(vec![
            Transform::Sigmoid,
            Transform::ScaleShift { a: hi - lo, b: lo },
        ])
    }

    /// Whether the transform maps ℝ onto `(0, ∞)` exponentially, as a
    /// variance or a scale: the natural boundary 0 lies at `x → −∞` on the
    /// free scale. `Exp`, `Exp2`, `Exp10`, `ExpPow2`, and a `Chain` of one of
    /// them followed by scalings `ScaleShift { a > 0, b = 0 }`.
    ///
    /// ```
    /// use covreml::Transform;
    /// assert!(Transform::ExpPow2.is_positive());
    /// let scaled = Transform::Chain(vec![Transform::Exp, Transform::ScaleShift { a: 3.0, b: 0.0 }]);
    /// assert!(scaled.is_positive());
    /// assert!(!Transform::correlation(-1.0, 1.0).is_positive());
    /// assert!(!Transform::Pow(2.0).is_positive());
    /// ```
    pub fn is_positive(&self) -> bool {
        match self {
            Transform::Exp | Transform::Exp2 | Transform::Exp10 | Transform::ExpPow2 => true,
            Transform::Chain(ts) => match ts.split_first() {
                Some((first, rest)) => first.is_positive()
                    && rest.iter().all(
                        |t| matches!(t, Transform::ScaleShift { a, b } if *a > 0.0 && *b == 0.0),
                    ),
                None => false,
            },
            _ => false,
        }
    }

    /// The largest free-scale move of a parameter with this transform in
    /// one iteration of the REML driver: 2 for the exponentials (a factor
    /// e⁴ ≈ 55 for a variance on the log scale), 4 logits for a sigmoid,
    /// unlimited for the others (natural scale); a `Chain`, its first
    /// transform's.
    ///
    /// ```
    /// use covreml::Transform;
    /// assert_eq!(Transform::ExpPow2.step_limit(), 2.0);
    /// assert_eq!(Transform::correlation(-1.0, 1.0).step_limit(), 4.0);
    /// assert_eq!(Transform::Identity.step_limit(), f64::INFINITY);
    /// ```
    pub fn step_limit(&self) -> f64 {
        match self {
            Transform::Exp | Transform::Exp2 | Transform::Exp10 | Transform::ExpPow2 => 2.0,
            Transform::Sigmoid => 4.0,
            Transform::Chain(ts) => ts.first().map_or(f64::INFINITY, Transform::step_limit),
            _ => f64::INFINITY,
        }
    }

    /// `θ = t(x)`.
    pub fn forward<T: Real>(&self, x: T) -> T {
        match self {
            Transform::Identity => x,
            Transform::Exp => x.exp(),
            Transform::Exp2 => x.exp2(),
            Transform::Exp10 => (x * T::ln_10()).exp(),
            Transform::ExpPow2 => (x + x).exp(),
            Transform::Sigmoid => sigmoid(x),
            Transform::ScaleShift { a, b } => x * T::c(*a) + T::c(*b),
            Transform::Pow(p) => power(x, *p),
            Transform::Chain(ts) => ts.iter().fold(x, |v, t| t.forward(v)),
        }
    }

    /// `x = t⁻¹(θ)`: the free value that maps onto `theta`.
    pub fn inverse<T: Real>(&self, theta: T) -> T {
        match self {
            Transform::Identity => theta,
            Transform::Exp => theta.ln(),
            Transform::Exp2 => theta.log2(),
            Transform::Exp10 => theta.log10(),
            Transform::ExpPow2 => theta.ln() * T::c(0.5),
            Transform::Sigmoid => (theta / (T::one() - theta)).ln(),
            Transform::ScaleShift { a, b } => (theta - T::c(*b)) / T::c(*a),
            Transform::Pow(p) => theta.powf(T::c(1.0 / *p)),
            Transform::Chain(ts) => ts.iter().rev().fold(theta, |v, t| t.inverse(v)),
        }
    }

    /// The natural values the transform reaches as `x` runs over ℝ, as an
    /// interval `(lo, hi)` (endpoints are limits, not reached, except the 0 of
    /// an even integer power): `(0, ∞)` for the exponentials, `(0, 1)` for the
    /// sigmoid.
    pub(crate) fn range(&self) -> (f64, f64) {
        self.image((f64::NEG_INFINITY, f64::INFINITY))
    }

    /// The image of the open interval `(lo, hi)`.
    fn image(&self, (lo, hi): (f64, f64)) -> (f64, f64) {
        let sorted = |a: f64, b: f64| if a <= b { (a, b) } else { (b, a) };
        match self {
            Transform::Identity => (lo, hi),
            Transform::Exp | Transform::Exp2 | Transform::Exp10 | Transform::ExpPow2 => {
                (self.forward(lo), self.forward(hi))
            }
            Transform::Sigmoid => (sigmoid(lo), sigmoid(hi)),
            Transform::ScaleShift { a, b } if *a == 0.0 => (*b, *b),
            Transform::ScaleShift { a, b } => sorted(a * lo + b, a * hi + b),
            Transform::Pow(p) if *p == 0.0 => (1.0, 1.0),
            Transform::Pow(p) if p.fract() == 0.0 && p.abs() < i32::MAX as f64 => {
                let (a, b) = sorted(power(lo, *p), power(hi, *p));
                if *p as i64 % 2 == 0 && lo < 0.0 && hi > 0.0 {
                    // an even power folds the interval at 0
                    if *p > 0.0 {
                        (0.0, power(lo, *p).max(power(hi, *p)))
                    } else {
                        (power(lo, *p).min(power(hi, *p)), f64::INFINITY)
                    }
                } else {
                    (a, b)
                }
            }
            Transform::Pow(p) => sorted(lo.max(0.0).powf(*p), hi.max(0.0).powf(*p)),
            Transform::Chain(ts) => ts.iter().fold((lo, hi), |r, t| t.image(r)),
        }
    }

    /// `dθ/dx` at the free value `x`.
    pub fn derivative<T: Real>(&self, x: T) -> T {
        match self {
            Transform::Identity => T::one(),
            Transform::Exp => x.exp(),
            Transform::Exp2 => x.exp2() * T::ln_2(),
            Transform::Exp10 => (x * T::ln_10()).exp() * T::ln_10(),
            Transform::ExpPow2 => (x + x).exp() * T::c(2.0),
            Transform::Sigmoid => {
                // σ(x)(1 − σ(x)) = e / (1 + e)² with e = e^{−|x|}: forming
                // 1 − σ(x) directly cancels for large x (relative error
                // ~1e-8 at x = 20, and 0 instead of e^{−x} beyond x ≈ 37).
                let e = (-x.abs()).exp();
                let d = T::one() + e;
                e / (d * d)
            }
            Transform::ScaleShift { a, .. } => T::c(*a),
            Transform::Pow(p) => {
                if *p == 0.0 {
                    T::zero()
                } else {
                    power(x, *p - 1.0) * T::c(*p)
                }
            }
            Transform::Chain(ts) => {
                let mut v = x;
                let mut d = T::one();
                for t in ts {
                    d *= t.derivative(v);
                    v = t.forward(v);
                }
                d
            }
        }
    }
}

impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transform::Identity => f.write_str("identity"),
            Transform::Exp => f.write_str("exp"),
            Transform::Exp2 => f.write_str("exp2"),
            Transform::Exp10 => f.write_str("exp10"),
            Transform::ExpPow2 => f.write_str("exp(2x)"),
            Transform::Sigmoid => f.write_str("sigmoid"),
            Transform::ScaleShift { a, b } => write!(f, "{a}x{b:+}"),
            Transform::Pow(p) => write!(f, "x^{p}"),
            Transform::Chain(ts) => {
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" then ")?;
                    }
                    write!(f, "{t}")?;
                }
                Ok(())
            }
        }
    }
}

/// `xᵖ`: by repeated multiplication for an integer `p` (exact for every
/// `x`, including `x ≤ 0`, and for dual numbers, whose `powf` goes through
/// `exp(p ln x)`), else `powf` (defined for `x > 0`).
fn power<T: Real>(x: T, p: f64) -> T {
    if p.fract() == 0.0 && p.abs() < i32::MAX as f64 {
        x.powi(p as i32)
    } else {
        x.powf(T::c(p))
    }
}

/// Numerically stable logistic function (no overflow for large |x|).
fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::Dual64;

    fn all() -> Vec<Transform> {
        vec![
            Transform::Identity,
            Transform::Exp,
            Transform::Exp2,
            Transform::Exp10,
            Transform::ExpPow2,
            Transform::Sigmoid,
            Transform::ScaleShift { a: 1.5, b: -0.5 },
            Transform::Pow(3.0),
            Transform::Pow(2.0),
            Transform::Pow(0.5),
            Transform::correlation(-1.0 / 3.0, 1.0),
        ]
    }

    #[test]
    fn derivative_matches_dual_numbers_and_inverse_round_trips() {
        for t in all() {
            for &x in &[-2.5, -0.3, 0.0, 0.4, 1.7, 3.0] {
                let integer_power = matches!(t, Transform::Pow(p) if p.fract() == 0.0);
                if matches!(t, Transform::Pow(_)) && !integer_power && x <= 0.0 {
                    continue; // a fractional power is defined for x > 0 only
                }
                let d = t.forward(Dual64::new(x, 1.0));
                let closed = t.derivative(x);
                assert!(
                    (d.eps - closed).abs() <= 1e-13 * (1.0 + closed.abs()),
                    "{t} at {x}"
                );
                assert!(
                    (d.re - t.forward(x)).abs() <= 1e-13 * (1.0 + d.re.abs()),
                    "{t} at {x}"
                );
                if matches!(t, Transform::Pow(_)) && x <= 0.0 {
                    continue; // the inverse (a root) is defined for θ > 0 only
                }
                let back = t.inverse(t.forward(x));
                assert!(
                    (back - x).abs() < 1e-9 * (1.0 + x.abs()),
                    "{t} inverse at {x}"
                );
            }
        }
    }

    #[test]
    fn ranges_are_the_images_of_the_real_line() {
        let inf = f64::INFINITY;
        assert_eq!(Transform::ExpPow2.range(), (0.0, inf));
        assert_eq!(Transform::Sigmoid.range(), (0.0, 1.0));
        assert_eq!(Transform::correlation(-1.0, 1.0).range(), (-1.0, 1.0));
        assert_eq!(Transform::correlation(-0.25, 1.0).range(), (-0.25, 1.0));
        assert_eq!(Transform::Pow(2.0).range(), (0.0, inf));
        assert_eq!(Transform::Pow(3.0).range(), (-inf, inf));
        assert_eq!(Transform::Pow(0.5).range(), (0.0, inf));
        assert_eq!(Transform::Identity.range(), (-inf, inf));
    }

    #[test]
    fn sigmoid_is_stable_in_the_tails() {
        assert_eq!(Transform::Sigmoid.forward(-800.0f64), 0.0);
        assert_eq!(Transform::Sigmoid.forward(800.0f64), 1.0);
        assert!(Transform::Sigmoid.derivative(-800.0f64).is_finite());
    }

    #[test]
    fn sigmoid_derivative_is_accurate_in_both_tails() {
        for &x in &[-40.0, -20.0, -12.0, 12.0, 20.0, 40.0] {
            let exact = Transform::Sigmoid.forward(Dual64::new(x, 1.0)).eps;
            let closed = Transform::Sigmoid.derivative(x);
            assert!(
                (closed - exact).abs() <= 1e-14 * exact.abs(),
                "x = {x}: {closed:e} vs {exact:e}"
            );
        }
    }
}
