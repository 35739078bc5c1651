//! The sparse backend with a non-diagonal residual (issue 9): the residual
//! enters the mixed-model equations through its sparse inverse `Q = R⁻¹`.
//!
//! - every new `Structure::sparse_inverse` (grouped structures, `FA(k)`,
//!   complete-grid `AR1xAR1`) equals the dense inverse of the structure's
//!   value, its log-determinant the dense one, and its Jacobians the
//!   dual-number derivatives — at defaults and boundary-like points, with
//!   rows in no particular order and missed visits;
//! - the sparse backend equals the dense one (an independent algorithm: the
//!   `n × n` `V`, its Cholesky factor and `P`) to 1e-8: log-likelihood,
//!   score, AI matrix and β at fixed points, REML and ML, and whole fits;
//!   after shuffling rows too;
//! - nlme's fits (`tests/data/nlme/fits_nlme.json`) on the sparse backend.

use crate::common::SplitMix;
use covreml::data::{Incidence, Table};
use covreml::datasets::{bodyweight_car1_model, orthodont_car1_model, orthodont_us_model};
use covreml::reml::{Backend, Method, MixedModel, RemlError, RemlFit, RemlOptions};
use covreml::structures::grouped::{
    CorGH, GroupedTimes, Levels, RepeatedAR1, RepeatedCS, RepeatedUnstructured, VarIdent, ARH,
    CAR1, CSH,
};
use covreml::structures::spatial::{AR1xAR1, Grid};
use covreml::{Covariance, CovarianceModel, Identity, Kron, Scalar, Structure, FA};
use nalgebra::DMatrix;
use num_dual::{Dual64, DualNum};
use proptest::prelude::*;
use serde_json::Value;

const ORTHODONT: &str = include_str!("../data/nlme/Orthodont.csv");
const BODYWEIGHT: &str = include_str!("../data/nlme/BodyWeight.csv");
const FITS: &str = include_str!("../data/nlme/fits_nlme.json");

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, v| a.max(v.abs()))
}

// ---- sparse inverses against the dense inverse and dual numbers -------------

/// `S::sparse_inverse` at the free point `free` (default transforms): the
/// dense inverse of `S::value`, its log-determinant, and dual-number
/// derivatives of both along every natural parameter.
fn check_inverse<S: Structure>(shape: S::Shape, free: &[f64]) {
    let specs = S::param_specs(&shape);
    let k = specs.len();
    let theta: Vec<f64> = specs
        .iter()
        .zip(free)
        .map(|(s, &x)| s.transform.forward(x))
        .collect();
    let inv = S::sparse_inverse(&shape, &theta)
        .unwrap_or_else(|| panic!("{} has no sparse inverse at θ = {theta:?}", S::NAME));
    // a valid lower-triangular CSC
    assert_eq!(inv.col_ptr.len(), inv.n + 1);
    for j in 0..inv.n {
        let rows = &inv.row_idx[inv.col_ptr[j]..inv.col_ptr[j + 1]];
        assert_eq!(rows.first(), Some(&j), "{}: diagonal first", S::NAME);
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "{}: sorted", S::NAME);
    }
    let v = S::value(&shape, &theta);
    let chol = v.clone().cholesky().expect("SPD");
    let dense = chol.inverse();
    let scale = max_abs(&dense);
    let d = (inv.to_dense() - &dense).abs().max();
    assert!(d <= 1e-9 * scale, "{}: inverse off by {d:e}", S::NAME);
    let logdet = 2.0 * chol.l().diagonal().iter().map(|x| x.ln()).sum::<f64>();
    assert!(
        (inv.logdet - logdet).abs() <= 1e-10 * (1.0 + logdet.abs()),
        "{}: logdet {} vs {logdet}",
        S::NAME,
        inv.logdet
    );
    assert_eq!(inv.jacobian.len(), k);
    for p in 0..k {
        let td: Vec<Dual64> = theta
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                if i == p {
                    Dual64::new(t, 1.0)
                } else {
                    Dual64::from_re(t)
                }
            })
            .collect();
        // the dual derivative of the dense inverse of the value
        let vd = S::value(&shape, &td);
        let vd_re = vd.map(|x| x.re);
        let vd_eps = vd.map(|x| x.eps);
        let vi = vd_re.cholesky().unwrap().inverse();
        let want = -(&vi * &vd_eps * &vi);
        let got = inv.jacobian_dense(p);
        let jscale = max_abs(&want).max(scale);
        let d = (&got - &want).abs().max();
        assert!(d <= 1e-8 * jscale, "{}: ∂V⁻¹/∂θ_{p} off by {d:e}", S::NAME);
        let dl = (&vi * &vd_eps).trace();
        assert!(
            (inv.logdet_jacobian[p] - dl).abs() <= 1e-9 * (1.0 + dl.abs()),
            "{}: ∂log|V|/∂θ_{p}: {} vs dual {dl}",
            S::NAME,
            inv.logdet_jacobian[p]
        );
        // the dual evaluation of sparse_inverse itself: same pattern, and its
        // values' derivatives are the closed-form Jacobian
        let dinv = S::sparse_inverse(&shape, &td).unwrap();
        assert_eq!(dinv.row_idx, inv.row_idx, "pattern must not depend on θ");
        for (a, b) in inv.jacobian[p].iter().zip(&dinv.values) {
            assert!((a - b.eps).abs() <= 1e-9 * jscale, "{}", S::NAME);
        }
    }
}

/// Unbalanced groups in shuffled row order, with missed visits.
fn ragged_shape(seed: &str) -> GroupedTimes {
    let mut rows = Vec::new();
    for (g, visits) in [
        ("c", &[1.0, 2.0, 3.0, 4.0][..]),
        ("a", &[1.0, 3.0, 4.0]),
        ("b", &[2.0]),
        ("d", &[1.0, 2.0, 4.0]),
    ] {
        for &t in visits {
            rows.push((g, t));
        }
    }
    let mut rng = SplitMix::from_name(seed);
    for i in (1..rows.len()).rev() {
        rows.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    let (g, t): (Vec<&str>, Vec<f64>) = rows.into_iter().unzip();
    GroupedTimes::new(&g, &t).unwrap()
}

/// Default, interior and boundary-like free points (correlations near ±1,
/// small and large variances), long enough for any structure here.
fn points() -> Vec<Vec<f64>> {
    let mut rng = SplitMix::from_name("points");
    let mut out = vec![vec![0.0; 24]];
    out.push((0..24).map(|_| rng.uniform(-1.0, 1.0)).collect());
    out.push(
        (0..24)
            .map(|i| if i % 2 == 0 { 3.5 } else { -2.0 })
            .collect(),
    );
    out.push(
        (0..24)
            .map(|i| if i % 3 == 0 { -3.0 } else { 0.1 })
            .collect(),
    );
    out
}

#[test]
fn grouped_sparse_inverses_equal_the_dense_inverse_and_dual_derivatives() {
    let shape = ragged_shape("ragged");
    for free in points() {
        check_inverse::<RepeatedAR1>(shape.clone(), &free);
        check_inverse::<CAR1>(shape.clone(), &free);
        check_inverse::<ARH>(shape.clone(), &free);
        // default (and small random) correlations only: the unstructured
        // matrices are not positive definite at every point
        if free.iter().all(|x| x.abs() <= 1.0) {
            check_inverse::<RepeatedCS>(shape.clone(), &free);
            check_inverse::<CSH>(shape.clone(), &free);
            check_inverse::<CorGH>(shape.clone(), &free[..10]);
            // Σ (lower triangle by rows) with a dominant diagonal: variances
            // e at the diagonal positions 0, 2, 5, 9, covariances small
            let us: Vec<f64> = (0..10)
                .map(|i| {
                    if [0, 2, 5, 9].contains(&i) {
                        0.5
                    } else {
                        0.3 * free[i]
                    }
                })
                .collect();
            check_inverse::<RepeatedUnstructured>(shape.clone(), &us);
        }
    }
    // CAR1 with unequal, real-valued times
    let t = GroupedTimes::new(&["x", "y", "x", "x", "y"], &[0.3, 1.0, 2.5, 0.0, 7.0]).unwrap();
    check_inverse::<CAR1>(t.clone(), &[0.2, 1.5]);
    check_inverse::<CAR1>(t, &[-1.0, -0.5]);
    // VarIdent: diagonal
    let l = Levels::new(&["m", "f", "m", "m", "f"]).unwrap();
    check_inverse::<VarIdent>(l, &[0.3, -2.0]);
}

#[test]
fn factor_analytic_and_field_sparse_inverses_equal_the_dense_inverse() {
    for free in points() {
        check_inverse::<FA<1>>(4, &free[..8]);
        check_inverse::<FA<2>>(4, &free[..11]);
        // a complete 4 × 3 grid, plots in shuffled order
        let (r, c) = shuffled_grid(4, 3, &[], "grid inverse");
        check_inverse::<AR1xAR1>(Grid::new(&r, &c).unwrap(), &free[..3]);
    }
    // with a missing plot the inverse on the observed plots is dense: none
    let (r, c) = shuffled_grid(4, 3, &[5], "grid inverse");
    let g = Grid::new(&r, &c).unwrap();
    assert!(AR1xAR1::sparse_inverse(&g, &[1.0, 0.3, 0.2]).is_none());
}

fn shuffled_grid(nr: usize, nc: usize, missing: &[usize], seed: &str) -> (Vec<f64>, Vec<f64>) {
    let mut cells: Vec<usize> = (0..nr * nc).filter(|k| !missing.contains(k)).collect();
    let mut rng = SplitMix::from_name(seed);
    for i in (1..cells.len()).rev() {
        cells.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    cells
        .iter()
        .map(|&k| ((k / nc + 1) as f64, (k % nc + 1) as f64))
        .unzip()
}

// ---- sparse = dense ------------------------------------------------------

fn opts(b: Backend) -> RemlOptions {
    RemlOptions::default()
        .tolerance(1e-10)
        .max_iter(500)
        .backend(b)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / (1.0 + b.abs())
}

/// At the points `xs`: log-likelihood (REML and ML), score, AI and β of
/// the sparse backend equal the dense backend's to `tol` (relative to the
/// largest entry of each).
fn same_evaluations(m: &MixedModel, xs: &[Vec<f64>], tol: f64, what: &str) {
    for x in xs {
        for method in [Method::Reml, Method::Ml] {
            let s = m
                .evaluate(x, &opts(Backend::Sparse).method(method))
                .unwrap();
            let d = m.evaluate(x, &opts(Backend::Dense).method(method)).unwrap();
            let w = format!("{what} at {x:?}, {method:?}");
            assert!(
                rel(s.loglik, d.loglik) < tol,
                "{w}: loglik {} vs {}",
                s.loglik,
                d.loglik
            );
            let sc = d.score.iter().fold(1.0f64, |a, v| a.max(v.abs()));
            for (k, (a, b)) in s.score.iter().zip(&d.score).enumerate() {
                assert!((a - b).abs() < tol * sc, "{w}: score {k}: {a} vs {b}");
            }
            let ai = max_abs(&d.ai).max(1.0);
            let dai = (&s.ai - &d.ai).abs().max();
            assert!(dai < tol * ai, "{w}: AI off by {dai:e}\n{}\n{}", s.ai, d.ai);
            for (a, b) in s.beta.iter().zip(&d.beta) {
                assert!(rel(*a, *b) < tol, "{w}: β {a} vs {b}");
            }
            let bc = max_abs(&d.beta_cov);
            assert!(
                (&s.beta_cov - &d.beta_cov).abs().max() < tol * bc,
                "{w}: cov β"
            );
        }
    }
}

/// Whole fits, sparse and dense: estimates, β, log-likelihoods.
fn same_fits(m: &MixedModel, tol: f64, what: &str) -> RemlFit {
    assert_eq!(
        m.resolve_backend(Backend::Auto).unwrap(),
        Backend::Sparse,
        "{what}"
    );
    let s = m.fit(&opts(Backend::Sparse)).unwrap();
    let d = m.fit(&opts(Backend::Dense)).unwrap();
    assert!(s.backend.starts_with("sparse") && !d.backend.starts_with("sparse"));
    assert!(
        s.termination.is_converged() && d.termination.is_converged(),
        "{what}: {} / {}",
        s.termination,
        d.termination
    );
    assert!(rel(s.loglik, d.loglik) < tol, "{what}: loglik");
    assert!(
        rel(s.loglik_no_constant, d.loglik_no_constant) < tol,
        "{what}: loglik"
    );
    for (k, (a, b)) in s.natural.iter().zip(&d.natural).enumerate() {
        assert!(rel(*a, *b) < tol, "{what}: {}: {a} vs {b}", s.names[k]);
    }
    for (a, b) in s.beta.iter().zip(&d.beta) {
        assert!(rel(*a, *b) < tol, "{what}: β {a} vs {b}");
    }
    s
}

/// Orthodont with the data lines shuffled (or not, for the empty seed).
fn orthodont(seed: &str) -> Table {
    Table::parse(&shuffled(ORTHODONT, seed)).unwrap()
}

fn shuffled(csv: &str, seed: &str) -> String {
    let mut lines: Vec<&str> = csv.lines().filter(|l| !l.trim().is_empty()).collect();
    if seed.is_empty() {
        return lines.join("\n");
    }
    let header = lines.remove(0);
    let mut rng = SplitMix::from_name(seed);
    for i in (1..lines.len()).rev() {
        lines.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    let mut out = vec![header];
    out.extend(lines);
    out.join("\n")
}

/// `distance ~ age + Sex` on Orthodont with residual `r`, and a random
/// intercept per Subject if `intercept`.
fn orthodont_model(t: &Table, r: Box<dyn CovarianceModel>, intercept: bool) -> MixedModel {
    let n = t.n_rows();
    let age = t.numeric("age").unwrap();
    let sex = t.column("Sex").unwrap();
    let x = DMatrix::from_fn(n, 3, |i, j| match j {
        0 => 1.0,
        1 => age[i],
        _ => f64::from(u8::from(sex[i] == "Female")),
    });
    let m = MixedModel::new(&t.numeric("distance").unwrap(), &x, r).unwrap();
    if !intercept {
        return m;
    }
    let z = Incidence::from_columns(&[t.column("Subject").unwrap()]).unwrap();
    let q = z.n_levels();
    m.random(
        "Subject",
        z,
        Box::new(Covariance::<Scalar>::new(q).unwrap()),
    )
    .unwrap()
}

/// Subject and visit index (age / 2) of every row.
fn visits(t: &Table) -> GroupedTimes {
    let v: Vec<f64> = t.numeric("age").unwrap().iter().map(|a| a / 2.0).collect();
    GroupedTimes::new(t.column("Subject").unwrap(), &v).unwrap()
}

fn grouped_models(t: &Table) -> Vec<(&'static str, MixedModel)> {
    let g = visits(t);
    let ages = GroupedTimes::from_columns(t, "Subject", "age").unwrap();
    let sex = Levels::from_column(t, "Sex").unwrap();
    fn b<S: Structure + 'static>(s: S::Shape) -> Box<dyn CovarianceModel>
    where
        S::Shape: 'static,
    {
        Box::new(Covariance::<S>::new(s).unwrap())
    }
    vec![
        ("AR1", orthodont_model(t, b::<RepeatedAR1>(g.clone()), true)),
        ("CAR1", orthodont_model(t, b::<CAR1>(ages.clone()), true)),
        ("CS", orthodont_model(t, b::<RepeatedCS>(g.clone()), false)),
        ("CSH", orthodont_model(t, b::<CSH>(g.clone()), false)),
        ("ARH", orthodont_model(t, b::<ARH>(g.clone()), true)),
        (
            "US",
            orthodont_model(t, b::<RepeatedUnstructured>(g.clone()), false),
        ),
        ("CorGH", orthodont_model(t, b::<CorGH>(ages), false)),
        ("VarIdent", orthodont_model(t, b::<VarIdent>(sex), true)),
    ]
}

#[test]
fn grouped_residuals_on_orthodont_sparse_equals_dense_in_any_row_order() {
    let mut fits: Vec<Vec<RemlFit>> = Vec::new();
    for seed in ["", "orthodont sparse"] {
        let t = orthodont(seed);
        let mut row = Vec::new();
        for (name, m) in grouped_models(&t) {
            let what = format!("Orthodont {name} (seed `{seed}`)");
            let k = m.param_names().len();
            let mut rng = SplitMix::from_name(name);
            let xs = vec![
                vec![0.0; k],
                (0..k).map(|_| rng.uniform(-0.4, 0.4)).collect(),
            ];
            same_evaluations(&m, &xs, 1e-9, &what);
            row.push(same_fits(&m, 1e-8, &what));
        }
        fits.push(row);
    }
    // row order irrelevant
    for (a, b) in fits[0].iter().zip(&fits[1]) {
        assert!(rel(a.loglik, b.loglik) < 1e-8);
        for (x, y) in a.natural.iter().zip(&b.natural) {
            assert!(rel(*x, *y) < 1e-7, "{} vs {}", a.natural[0], b.natural[0]);
        }
    }
}

#[test]
fn bodyweight_car1_sparse_equals_dense_and_the_nlme_fits_hold_on_the_sparse_backend() {
    let all: Value = serde_json::from_str(FITS).unwrap();
    let reference = |name: &str| -> Value {
        all["fits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    // (orthodont_us has a flat direction: its β agree with nlme's to 1e-4,
    // as on the dense backend in tests/reml/grouped.rs)
    let cases: Vec<(&str, MixedModel, f64)> = vec![
        (
            "orthodont_car1",
            orthodont_car1_model(&orthodont("nlme a")).unwrap(),
            1e-6,
        ),
        (
            "bodyweight_car1",
            bodyweight_car1_model(&Table::parse(&shuffled(BODYWEIGHT, "nlme b")).unwrap()).unwrap(),
            1e-6,
        ),
        (
            "orthodont_us",
            orthodont_us_model(&orthodont("nlme c")).unwrap(),
            1e-4,
        ),
    ];
    for (name, m, btol) in cases {
        let r = reference(name);
        let fit = same_fits(&m, 1e-8, name);
        let ll = r["loglik_reml"].as_f64().unwrap();
        assert!(
            rel(fit.loglik, ll) < 1e-6,
            "{name}: {} vs nlme {ll}",
            fit.loglik
        );
        for (b, v) in r["beta"].as_object().unwrap() {
            let j = fit.beta_names.iter().position(|n| n == b).unwrap();
            let want = v.as_f64().unwrap();
            assert!(
                (fit.beta[j] - want).abs() < btol * want.abs().max(1.0),
                "{name}: β {b}: {} vs nlme {want}",
                fit.beta[j]
            );
        }
    }
}

// ---- a field trial -------------------------------------------------------

/// A 12 × 10 trial, 60 genotypes in two replicates (random), residual
/// `σ² AR1(0.5) ⊗ AR1(0.3)` with σ² = 1.5, simulated with a fixed seed;
/// plots as (row, column, genotype, yield), row-major, minus `missing`.
fn field_trial(missing: &[usize]) -> Vec<(usize, usize, usize, f64)> {
    let (nr, nc) = (12, 10);
    let n = nr * nc;
    let v = DMatrix::from_fn(n, n, |i, j| {
        let (ri, ci, rj, cj) = (i / nc, i % nc, j / nc, j % nc);
        1.5 * 0.5f64.powi(ri.abs_diff(rj) as i32) * 0.3f64.powi(ci.abs_diff(cj) as i32)
    });
    let l = v.cholesky().unwrap().unpack();
    let mut rng = SplitMix::from_name("sparse field trial");
    let mut normal = || {
        let (u1, u2) = (rng.uniform(1e-12, 1.0), rng.uniform(0.0, 1.0));
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let genetic: Vec<f64> = (0..60).map(|_| 0.8 * normal()).collect();
    let e = l * nalgebra::DVector::from_fn(n, |_, _| normal());
    (0..n)
        .filter(|k| !missing.contains(k))
        .map(|k| {
            // replicate 1 in rows 1–6, replicate 2 in rows 7–12, genotypes
            // in a different order in each
            let g = if k < 60 { k } else { (k * 37) % 60 };
            (k / nc + 1, k % nc + 1, g, 5.0 + genetic[g] + e[k])
        })
        .collect()
}

fn trial_model(plots: &[(usize, usize, usize, f64)]) -> MixedModel {
    let n = plots.len();
    let y: Vec<f64> = plots.iter().map(|p| p.3).collect();
    // intercept and a replicate effect
    let x = DMatrix::from_fn(
        n,
        2,
        |i, j| {
            if j == 0 || plots[i].0 > 6 {
                1.0
            } else {
                0.0
            }
        },
    );
    let r: Vec<f64> = plots.iter().map(|p| p.0 as f64).collect();
    let c: Vec<f64> = plots.iter().map(|p| p.1 as f64).collect();
    let res = Covariance::<AR1xAR1>::new(Grid::new(&r, &c).unwrap()).unwrap();
    let z = Incidence::new(plots.iter().map(|p| p.2).collect(), 60).unwrap();
    MixedModel::new(&y, &x, Box::new(res))
        .unwrap()
        .random(
            "genotype",
            z,
            Box::new(Covariance::<Scalar>::new(60).unwrap()),
        )
        .unwrap()
}

fn shuffle<T>(v: &mut [T], seed: &str) {
    let mut rng = SplitMix::from_name(seed);
    for i in (1..v.len()).rev() {
        v.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
}

#[test]
fn field_trial_ar1xar1_complete_grid_sparse_equals_dense_in_any_row_order() {
    let plots = field_trial(&[]);
    let m = trial_model(&plots);
    same_evaluations(
        &m,
        &[vec![0.0; 4], vec![-0.3, 0.2, 0.6, -0.4]],
        1e-9,
        "field",
    );
    let a = same_fits(&m, 1e-8, "field trial");
    let mut sh = plots.clone();
    shuffle(&mut sh, "field rows");
    let b = same_fits(&trial_model(&sh), 1e-8, "field trial, shuffled");
    assert!(rel(a.loglik, b.loglik) < 1e-9);
    for (x, y) in a.natural.iter().zip(&b.natural) {
        assert!(rel(*x, *y) < 1e-7);
    }
    // near the simulated values
    assert!(
        (a.natural("residual/rho_row").unwrap() - 0.5).abs() < 0.3,
        "{a}"
    );
}

#[test]
fn field_trial_with_missing_plots_sparse_equals_dense_in_any_row_order() {
    // ~8 % of the plots missing: R on the observed plots has a dense
    // inverse; the sparse backend completes the grid with one fixed effect
    // per missing plot, which leaves REML, β, its covariance and the BLUPs
    // exactly those of the observed data.
    let missing = [3, 17, 18, 40, 55, 61, 77, 90, 102, 119];
    let plots = field_trial(&missing);
    let m = trial_model(&plots);
    assert_eq!(m.resolve_backend(Backend::Auto).unwrap(), Backend::Sparse);
    for x in [vec![0.0; 4], vec![-0.3, 0.2, 0.6, -0.4]] {
        let s = m.evaluate(&x, &opts(Backend::Sparse)).unwrap();
        let d = m.evaluate(&x, &opts(Backend::Dense)).unwrap();
        let w = format!("missing plots at {x:?}");
        assert!(
            rel(s.loglik, d.loglik) < 1e-10,
            "{w}: {} vs {}",
            s.loglik,
            d.loglik
        );
        let sc = d.score.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        for (a, b) in s.score.iter().zip(&d.score) {
            assert!((a - b).abs() < 1e-9 * sc, "{w}: score {a} vs {b}");
        }
        let ai = max_abs(&d.ai).max(1.0);
        assert!((&s.ai - &d.ai).abs().max() < 1e-9 * ai, "{w}: AI");
        for (a, b) in s.beta.iter().zip(&d.beta) {
            assert!(rel(*a, *b) < 1e-10, "{w}: β {a} vs {b}");
        }
        assert!((&s.beta_cov - &d.beta_cov).abs().max() < 1e-10 * max_abs(&d.beta_cov));
    }
    let a = same_fits(&m, 1e-8, "field trial, missing plots");
    let mut sh = plots.clone();
    shuffle(&mut sh, "field rows, missing");
    let shuffled = trial_model(&sh);
    let b = same_fits(&shuffled, 1e-8, "field trial, missing plots, shuffled");
    assert!(rel(a.loglik, b.loglik) < 1e-9);
    // BLUPs and PEV at the estimate, sparse = dense.
    let ps = m.post_at(&a.free, Backend::Sparse).unwrap();
    let pd = m.post_at(&a.free, Backend::Dense).unwrap();
    for (bs, bd) in ps.blups.iter().zip(&pd.blups) {
        for (u, v) in bs.values.iter().zip(&bd.values) {
            assert!((u - v).abs() < 1e-9, "BLUP {u} vs {v}");
        }
        let full = bd.pev.diagonal().iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(bs.pev.nnz() >= bs.pev.len());
        for (i, j, v) in bs.pev.entries() {
            let d = bd.pev.get(i, j).unwrap();
            assert!((v - d).abs() < 1e-9 * full, "PEV ({i}, {j}) {v} vs {d}");
        }
        assert!((bs.pev.sum() - bd.pev.sum()).abs() < 1e-9 * full * bs.pev.len() as f64);
    }
    for (u, v) in ps.conditional_fitted.iter().zip(&pd.conditional_fitted) {
        assert!((u - v).abs() < 1e-9);
    }
    // ML is not invariant under the completion: Auto fits it densely and
    // forcing the sparse backend says why.
    let ml = m
        .evaluate(&[0.0; 4], &opts(Backend::Auto).method(Method::Ml))
        .unwrap();
    assert!(!ml.backend.starts_with("sparse"), "{}", ml.backend);
    let e = m
        .fit(&opts(Backend::Sparse).method(Method::Ml))
        .unwrap_err();
    assert!(matches!(e, RemlError::BackendUnavailable { .. }), "{e}");
    assert!(e.to_string().contains("missing plots"), "{e}");
}

// ---- factor-analytic G ------------------------------------------------------

/// Genotype × environment: 4 environments × 50 genotypes × 2 replicates,
/// environment means fixed, `G = FA(k) ⊗ I₅₀` (environment-major), iid
/// residual; simulated with a fixed seed from a one-factor model with
/// specific variances 0.49 and residual variance 0.25.
fn gxe_model<const K: usize>() -> MixedModel {
    let (ne, ng, nrep) = (4, 50, 2);
    let mut rng = SplitMix::from_name("gxe");
    let mut normal = || {
        let (u1, u2) = (rng.uniform(1e-12, 1.0), rng.uniform(0.0, 1.0));
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let load = [1.0, 0.8, 1.2, 0.5];
    let f: Vec<f64> = (0..ng).map(|_| normal()).collect();
    let mut y = Vec::new();
    let mut env = Vec::new();
    let mut level = Vec::new();
    for (e, &le) in load.iter().enumerate() {
        for (g, &fg) in f.iter().enumerate() {
            let specific = 0.7 * normal();
            for _ in 0..nrep {
                y.push(10.0 + e as f64 + le * fg + specific + 0.5 * normal());
                env.push(e);
                level.push(e * ng + g);
            }
        }
    }
    let n = y.len();
    let x = DMatrix::from_fn(n, ne, |i, j| f64::from(u8::from(env[i] == j)));
    let z = Incidence::new(level, ne * ng).unwrap();
    let g = Covariance::<Kron<FA<K>, Identity>>::new((ne, ng)).unwrap();
    MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random("gxe", z, Box::new(g))
        .unwrap()
}

#[test]
fn factor_analytic_g_sparse_equals_dense() {
    let m1 = gxe_model::<1>();
    let k1 = m1.param_names().len();
    let mut rng = SplitMix::from_name("fa points");
    let x1: Vec<f64> = m1
        .param_names()
        .iter()
        .map(|_| rng.uniform(-0.3, 0.3) + 0.5)
        .collect();
    same_evaluations(&m1, &[vec![0.5; k1], x1], 1e-9, "FA(1) ⊗ I");
    same_fits(&m1, 1e-7, "FA(1) ⊗ I");
    let m2 = gxe_model::<2>();
    let k2 = m2.param_names().len();
    let x2: Vec<f64> = (0..k2).map(|_| rng.uniform(-0.3, 0.3) + 0.5).collect();
    same_evaluations(&m2, &[x2], 1e-9, "FA(2) ⊗ I");
}

// ---- property test -----------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Random grouped data (group sizes 1–5, missed visits, any row order),
    /// AR1 residual and a random intercept: sparse = dense at random points.
    #[test]
    fn random_grouped_data_sparse_equals_dense(
        sizes in prop::collection::vec(1usize..6, 3..9),
        seed in any::<u64>(),
        x in prop::collection::vec(-1.5..1.5f64, 4),
    ) {
        let mut rng = SplitMix(seed);
        let mut rows = Vec::new();
        for (g, &s) in sizes.iter().enumerate() {
            let mut t = 0.0;
            for _ in 0..s {
                t += 1.0 + (rng.next_u64() % 2) as f64; // missed visits
                rows.push((g, t));
            }
        }
        shuffle(&mut rows, &seed.to_string());
        let n = rows.len();
        let labels: Vec<String> = rows.iter().map(|r| format!("g{}", r.0)).collect();
        let times: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let y: Vec<f64> = (0..n).map(|_| rng.uniform(-2.0, 2.0) + 0.3 * times[0]).collect();
        let xm = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { times[i] });
        let shape = GroupedTimes::new(&labels, &times).unwrap();
        let r = Covariance::<RepeatedAR1>::new(shape).unwrap();
        let z = Incidence::new(rows.iter().map(|r| r.0).collect(), sizes.len()).unwrap();
        let m = MixedModel::new(&y, &xm, Box::new(r))
            .unwrap()
            .random("g", z, Box::new(Covariance::<Scalar>::new(sizes.len()).unwrap()));
        // a design the identifiability check refuses is not this test's
        // concern: rejected, so proptest still runs its 12 accepted cases
        // (and fails if it cannot find them)
        prop_assume!(m.is_ok());
        same_evaluations(&m.unwrap(), &[x[..3].to_vec()], 1e-8, "random grouped");
    }
}

#[test]
fn post_estimation_with_a_grouped_residual_sparse_equals_dense() {
    // BLUPs, their prediction-error variances and the conditional fit with
    // an AR1 residual: the sparse MME against the dense V
    let t = orthodont("post");
    let m = orthodont_model(
        &t,
        Box::new(Covariance::<RepeatedAR1>::new(visits(&t)).unwrap()),
        true,
    );
    let fit = m.fit(&opts(Backend::Dense)).unwrap();
    let s = m.post_with(&fit, Backend::Sparse).unwrap();
    let d = m.post_with(&fit, Backend::Dense).unwrap();
    let (bs, bd) = (&s.blups[0], &d.blups[0]);
    let scale = bd.values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (a, b) in bs.values.iter().zip(&bd.values) {
        assert!((a - b).abs() < 1e-8 * scale, "BLUP {a} vs {b}");
    }
    let full = bd.pev.diagonal().iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (i, j, v) in bs.pev.entries() {
        let d = bd.pev.get(i, j).unwrap();
        assert!((v - d).abs() < 1e-8 * full, "PEV ({i}, {j}) {v} vs {d}");
    }
    let ds = (bs.pev.sum() - bd.pev.sum()).abs();
    assert!(
        ds < 1e-8 * full * bs.pev.len() as f64,
        "PEV sum off by {ds:e}"
    );
    for (a, b) in s.conditional_fitted.iter().zip(&d.conditional_fitted) {
        assert!(rel(*a, *b) < 1e-9, "conditional fit {a} vs {b}");
    }
}
