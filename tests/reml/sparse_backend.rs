//! The sparse (mixed-model-equations) backend equals the dense one: the
//! REML log-likelihood, score, AI matrix and β at random points of random
//! models whose `G`s have sparse inverses (crossed and nested incidence
//! terms, random slopes, AR1 and unstructured covariances, diagonal and
//! heterogeneous residuals), whole fits on john.alpha and crossed_2000, and
//! clear errors where the sparse backend cannot go.

use covreml::data::{Incidence, SparseDesign, Table};
use covreml::datasets::{crossed_model, john_alpha, john_alpha_model};
use covreml::reml::{Backend, MixedModel, RemlError, RemlOptions};
use covreml::{Covariance, CovarianceModel, Diagonal, Identity, Kron, Scalar, Unconstrained, AR1};
use nalgebra::DMatrix;
use proptest::prelude::*;

fn rel(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(1e-300)
}

/// A random mixed model from a seed: `n` rows, an intercept and a
/// covariate, up to three random terms of random kinds, and a residual that
/// is either `σ²I` or a variance per half of the data.
fn random_model(seed: u64, n: usize, kinds: &[u8], hetero: bool) -> MixedModel {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut unif = || (next() % 1_000_000) as f64 / 1e6;
    let xcov: Vec<f64> = (0..n).map(|_| unif() * 4.0 - 2.0).collect();
    let y: Vec<f64> = (0..n).map(|i| 3.0 + xcov[i] + 2.0 * unif()).collect();
    let x = DMatrix::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { xcov[i] });
    let residual: Box<dyn CovarianceModel> = if hetero {
        Box::new(Covariance::<Kron<Diagonal, Identity>>::new((2, n / 2)).unwrap())
    } else {
        Box::new(Covariance::<Scalar>::new(n).unwrap())
    };
    let mut m = MixedModel::new(&y, &x, residual).unwrap();
    for (t, &kind) in kinds.iter().enumerate() {
        let q = 2 + (next() % 6) as usize;
        // The first q rows visit every level (an empty level is refused as
        // unidentified, rightly: not what this test is about).
        let levels: Vec<usize> = (0..n)
            .map(|i| {
                if i < q {
                    i
                } else {
                    (i * (t + 1) + (next() % 3) as usize) % q
                }
            })
            .collect();
        let inc = Incidence::new(levels, q).unwrap();
        let name = format!("t{t}");
        m = match kind % 4 {
            0 => m.random(&name, inc, Box::new(Covariance::<Scalar>::new(q).unwrap())),
            1 => m.random(
                &name,
                inc,
                Box::new(Covariance::<Diagonal>::new(q).unwrap()),
            ),
            2 => m.random(&name, inc, Box::new(Covariance::<AR1>::new(q).unwrap())),
            _ => {
                let z = SparseDesign::random_slopes(&inc, true, &[("x", &xcov)]).unwrap();
                let g = Covariance::<Kron<Unconstrained, Identity>>::new((2, q)).unwrap();
                m.random(&name, z, Box::new(g))
            }
        }
        .unwrap();
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn sparse_equals_dense_at_random_points(
        seed in any::<u64>(),
        n in 40usize..90,
        kinds in proptest::collection::vec(0u8..4, 1..4),
        hetero in any::<bool>(),
        point in proptest::collection::vec(-1.5..1.5f64, 32),
    ) {
        let n = n & !1; // even, for the two residual halves
        let m = random_model(seed, n, &kinds, hetero);
        let k = m.param_names().len();
        // Unstructured 2 × 2: a correlation below 0.5 (positive definite).
        let mut free = point[..k].to_vec();
        for (i, name) in m.param_names().iter().enumerate() {
            if name.ends_with("sigma^2_1_0") {
                free[i] = 0.5 * point[i].tanh() * (point[i - 1] + point[i + 1]).exp();
            }
        }
        prop_assert_eq!(free.len(), k);
        let s = m.evaluate(&free, &RemlOptions::default().backend(Backend::Sparse)).unwrap();
        let d = m.evaluate(&free, &RemlOptions::default().backend(Backend::Dense)).unwrap();
        prop_assert!(s.backend.starts_with("sparse"));
        prop_assert!(rel(s.loglik, d.loglik, d.loglik.abs()) < 1e-10, "{} vs {}", s.loglik, d.loglik);
        let smax = d.score.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        for (a, b) in s.score.iter().zip(&d.score) {
            prop_assert!(rel(*a, *b, smax) < 1e-8, "score {} vs {}", a, b);
        }
        let amax = d.ai.iter().fold(1e-12f64, |a, v| a.max(v.abs()));
        for (a, b) in s.ai.iter().zip(d.ai.iter()) {
            prop_assert!(rel(*a, *b, amax) < 1e-8, "AI {} vs {}", a, b);
        }
        for (a, b) in s.beta.iter().zip(&d.beta) {
            prop_assert!(rel(*a, *b, 1.0 + b.abs()) < 1e-8, "beta {} vs {}", a, b);
        }
    }
}

fn fits_agree(m: &MixedModel) {
    let opts = RemlOptions::default().tolerance(1e-9);
    let s = m.fit(&opts.clone().backend(Backend::Sparse)).unwrap();
    let d = m.fit(&opts.backend(Backend::Dense)).unwrap();
    assert_eq!(s.termination, d.termination);
    for (a, b) in s.natural.iter().zip(&d.natural) {
        assert!(rel(*a, *b, b.abs()) < 1e-8, "{a} vs {b}");
    }
    for (a, b) in s.natural_se.iter().zip(&d.natural_se) {
        assert!(rel(*a, *b, b.abs()) < 1e-6, "se {a} vs {b}");
    }
    assert!(rel(s.loglik, d.loglik, d.loglik.abs()) < 1e-10);
    assert!(rel(s.loglik_no_constant, d.loglik_no_constant, d.loglik.abs()) < 1e-10);
}

#[test]
fn john_alpha_sparse_equals_dense() {
    fits_agree(&john_alpha_model(&john_alpha()).unwrap());
}

#[test]
fn crossed_2000_sparse_equals_dense() {
    let t = Table::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/crossed_2000.csv"
    ))
    .unwrap();
    fits_agree(&crossed_model(&t).unwrap());
}

#[test]
fn auto_picks_sparse_when_it_can_and_dense_otherwise() {
    let m = john_alpha_model(&john_alpha()).unwrap();
    assert_eq!(m.resolve_backend(Backend::Auto).unwrap(), Backend::Sparse);
    // A G without a sparse inverse (a sum of structures): Auto is dense,
    // forcing Sparse is an error naming the term.
    let t = john_alpha();
    let n = t.n_rows();
    let gen = Incidence::from_columns(&[t.column("gen").unwrap()]).unwrap();
    let g = Covariance::<covreml::Sum<(AR1, Scalar)>>::new((24, 24)).unwrap();
    let x = DMatrix::from_element(n, 1, 1.0);
    let m = MixedModel::with_iid_residual(&t.numeric("yield").unwrap(), &x)
        .unwrap()
        .random("gen", gen, Box::new(g))
        .unwrap();
    assert_eq!(m.resolve_backend(Backend::Auto).unwrap(), Backend::Dense);
    let e = m
        .fit(&RemlOptions::default().backend(Backend::Sparse))
        .unwrap_err();
    assert!(matches!(e, RemlError::BackendUnavailable { .. }), "{e}");
    assert!(e.to_string().contains("`gen`"), "{e}");
    // A residual without a sparse inverse (an isotropic spatial kernel:
    // its inverse is dense).
    let pos: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let xy = covreml::structures::spatial::Coordinates::new(&[&pos, &vec![0.0; n]]).unwrap();
    let r = Covariance::<
        covreml::structures::spatial::Isotropic<covreml::structures::spatial::Exponential>,
    >::new(xy)
    .unwrap();
    let m = MixedModel::new(&t.numeric("yield").unwrap(), &x, Box::new(r)).unwrap();
    let e = m
        .fit(&RemlOptions::default().backend(Backend::Sparse))
        .unwrap_err();
    assert!(e.to_string().contains("residual"), "{e}");
}

/// Every row meeting every one of 3,000 columns makes the pattern of the
/// mixed-model equations `1,000 × 3,000² / 2 = 4.5e9` entries (over 100 GB):
/// an error naming it, checked before any of it is allocated, never an
/// abort (issue 20: a 3,000-level fixed factor aborted on 108 GB in
/// `Pattern::new`).
#[test]
fn a_pattern_too_large_for_memory_is_an_error_naming_it() {
    let (n, q) = (1_000, 3_000);
    let rows: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| (0..q).map(|c| (c, ((i + c) % 7) as f64 + 1.0)).collect())
        .collect();
    let names = (0..q).map(|c| c.to_string()).collect();
    let z = SparseDesign::from_rows(q, &rows, names).unwrap();
    drop(rows);
    let y: Vec<f64> = (0..n).map(|i| (i % 13) as f64).collect();
    let x = DMatrix::from_element(n, 1, 1.0);
    let m = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random("wide", z, Box::new(Covariance::<Scalar>::new(q).unwrap()))
        .unwrap();
    let e = m
        .fit(&RemlOptions::default().backend(Backend::Sparse))
        .unwrap_err();
    assert!(matches!(e, RemlError::OutOfMemory { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("the pattern of the mixed-model equations"),
        "{text}"
    );
    assert!(text.contains("GB"), "{text}");
    assert!(text.contains("group the levels"), "{text}");
}

#[test]
fn a_hundred_thousand_rows_fit_sparse_and_dense_says_how_much_memory_it_needs() {
    let n = 100_000;
    let q = 50;
    let levels: Vec<usize> = (0..n).map(|i| (i * 7919) % q).collect();
    let effect: Vec<f64> = (0..q)
        .map(|l| ((l * 37) % 11) as f64 / 10.0 - 0.5)
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 2.0 + effect[levels[i]] + (((i * 104_729) % 997) as f64 / 997.0 - 0.5))
        .collect();
    let x = DMatrix::from_element(n, 1, 1.0);
    let m = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random(
            "g",
            Incidence::new(levels, q).unwrap(),
            Box::new(Covariance::<Scalar>::new(q).unwrap()),
        )
        .unwrap();
    let e = m
        .fit(&RemlOptions::default().backend(Backend::Dense))
        .unwrap_err();
    assert!(matches!(e, RemlError::OutOfMemory { .. }), "{e}");
    assert!(e.to_string().contains("160.0 GB"), "{e}");
    let fit = m.fit(&RemlOptions::default()).unwrap();
    assert!(fit.backend.starts_with("sparse"), "{}", fit.backend);
    assert!(fit.termination.is_converged(), "{}", fit.termination);
    // The residual is uniform on (−½, ½) over a full period: variance 1/12.
    let s2e = fit.natural("residual/sigma^2").unwrap();
    assert!((s2e - 1.0 / 12.0).abs() < 2e-3, "{s2e}");
}

#[test]
fn an_aliased_random_term_is_not_identified_on_the_sparse_backend() {
    // `gen` twice: C would stay positive definite (each G⁻¹ is added), but
    // the split of the genetic variance between the two copies is arbitrary;
    // the design shows it, so the second term is refused with its name.
    let t = john_alpha();
    let gen = Incidence::from_columns(&[t.column("gen").unwrap()]).unwrap();
    let x = DMatrix::from_element(t.n_rows(), 1, 1.0);
    let e = MixedModel::with_iid_residual(&t.numeric("yield").unwrap(), &x)
        .unwrap()
        .random(
            "gen",
            gen.clone(),
            Box::new(Covariance::<Scalar>::new(24).unwrap()),
        )
        .unwrap()
        .random(
            "gen_again",
            gen,
            Box::new(Covariance::<Scalar>::new(24).unwrap()),
        )
        .unwrap_err();
    assert!(matches!(e, RemlError::NotIdentified { .. }), "{e}");
    assert!(e.to_string().contains("gen_again"), "{e}");
}

#[test]
fn a_relationship_matrix_known_by_its_sparse_inverse() {
    use covreml::structures::{FixedInverse, InverseData};
    use covreml::Fixed;
    // A⁻¹ tridiagonal (2 on the diagonal, −0.9 beside it) for 24 genotypes.
    let q = 24;
    let (mut col_ptr, mut row_idx, mut values) = (vec![0], Vec::new(), Vec::new());
    for j in 0..q {
        row_idx.push(j);
        values.push(2.0);
        if j + 1 < q {
            row_idx.push(j + 1);
            values.push(-0.9);
        }
        col_ptr.push(row_idx.len());
    }
    let data = InverseData::new(q, col_ptr, row_idx, values).unwrap();
    let a = data.inverse_dense().cholesky().unwrap().inverse();
    let t = john_alpha();
    let gen = Incidence::from_columns(&[t.column("gen").unwrap()]).unwrap();
    let x = DMatrix::from_element(t.n_rows(), 1, 1.0);
    let y = t.numeric("yield").unwrap();
    let sparse = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random(
            "gen",
            gen.clone(),
            Box::new(Covariance::<Kron<Scalar, FixedInverse>>::new((1, data)).unwrap()),
        )
        .unwrap();
    let dense = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random(
            "gen",
            gen,
            Box::new(Covariance::<Kron<Scalar, Fixed>>::new((1, a)).unwrap()),
        )
        .unwrap();
    assert_eq!(
        sparse.resolve_backend(Backend::Auto).unwrap(),
        Backend::Sparse
    );
    assert_eq!(
        dense.resolve_backend(Backend::Auto).unwrap(),
        Backend::Dense
    );
    let opts = RemlOptions::default().tolerance(1e-9);
    let fs = sparse.fit(&opts).unwrap();
    let fd = dense.fit(&opts).unwrap();
    assert!(fs.termination.is_converged(), "{}", fs.termination);
    for (a, b) in fs.natural.iter().zip(&fd.natural) {
        assert!(rel(*a, *b, b.abs()) < 1e-8, "{a} vs {b}");
    }
    assert!(rel(fs.loglik, fd.loglik, fd.loglik.abs()) < 1e-10);
}
