//! `Adapter`: a structure re-parameterised by a map of its parameters.
//!
//! - the value equals the adaptee's at the expanded parameter vector, built
//!   by hand;
//! - the closed-form (chain-rule) Jacobian equals the dual-number Jacobian at
//!   the default start, at edge points and at random points, for the typed
//!   maps (`TieAll`, `Tie`) and the runtime one (`Linear` from names); the
//!   diagonal and the sparse inverse agree with the dense value and Jacobian;
//! - a REML fit with one variance shared by two blocks (Penicillin, plate and
//!   sample stacked in one term) equals the fit of the model written without
//!   an Adapter (`Scalar` over the 30 stacked levels), on the sparse and the
//!   dense backends, by names (`Linear`) and by type (`TieAll`); and
//!   `diag(I ⊗ AR1, I ⊗ AR1)` with σ² and ρ tied (`Tie`) fits as the
//!   ar1_repeated model `I ⊗ AR1`;
//! - bad maps are errors naming the parameter.

use covreml::data::{SparseDesign, Table};
use covreml::ops::{Adapter, Linear, ParamMap, Source, Target, Tie, TieAll, TieTable};
use covreml::reml::{Backend, MixedModel, RemlOptions};
use covreml::{
    BlockDiag, Const, CovError, Covariance, Diagonal, Kron, ParamSpec, Real, Scalar, SparseInverse,
    Structure, Transform, AR1,
};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// One correlation for both AR(1)s of `AR1 ⊗ AR1`, the second variance 1.
#[derive(Clone, Copy, Default, Debug)]
struct SharedRho;
impl TieTable for SharedRho {
    const NAMES: &'static [&'static str] = &["sigma^2", "rho"];
    const SOURCES: &'static [Source] = &[
        Source::Param(0),
        Source::Param(1),
        Source::Natural(1.0),
        Source::Param(1),
    ];
    type NParams = Const<2>;
}

type Shared3 = Adapter<BlockDiag<(Scalar, Scalar, Scalar)>, TieAll>;
type KronShared = Adapter<Kron<AR1, AR1>, Tie<SharedRho>>;

fn shared3() -> Covariance<Shared3> {
    Covariance::new(((2, 3, 1), ())).unwrap()
}

fn kron_shared() -> Covariance<KronShared> {
    Covariance::new(((3, 2), ())).unwrap()
}

/// `AR1 ⊗ AR1` with operands `time` and `space`, adapted by names:
/// `time/sigma^2 = s`, `space/sigma^2 = 1`, both ρ = `r`, and a diagonal
/// scaled by `2s` beside it in a block-diagonal matrix.
type ByNames = Adapter<BlockDiag<(Kron<AR1, AR1>, Diagonal)>, Linear>;

fn by_names() -> Covariance<ByNames> {
    let g = Covariance::<BlockDiag<(Kron<AR1, AR1>, Diagonal)>>::new(((2, 2), 2))
        .unwrap()
        .with_operand_names(&["k", "d"])
        .unwrap();
    g.adapt(
        vec![
            ParamSpec::variance("s"),
            ParamSpec::new("r", 0.2, Transform::correlation(-1.0, 1.0)),
        ],
        &[
            ("k/op_0/sigma^2", "s".into()),
            ("k/op_0/rho", "r".into()),
            ("k/op_1/sigma^2", 1.0.into()),
            ("k/op_1/rho", "r".into()),
            ("d/sigma^2_0", Target::Scaled("s".into(), 2.0)),
            ("d/sigma^2_1", Target::Param("s".into())),
        ],
    )
    .unwrap()
}

fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, rtol: f64) {
    let scale = 1.0 + b.amax();
    assert!((a - b).amax() <= rtol * scale, "{a}\nvs\n{b}");
}

/// The dense symmetric matrix of a lower-triangular sparse pattern.
fn dense_of(inv: &SparseInverse<f64>, values: &[f64]) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(inv.n, inv.n);
    for j in 0..inv.n {
        let (from, to) = (inv.col_ptr[j], inv.col_ptr[j + 1]);
        for (&i, &x) in inv.row_idx[from..to].iter().zip(&values[from..to]) {
            m[(i, j)] = x;
            m[(j, i)] = x;
        }
    }
    m
}

/// The sparse inverse and its derivatives against the dense value and
/// (closed-form) Jacobian: `V⁻¹`, `−V⁻¹ V̇_k V⁻¹`, `log|V|`, `tr(V⁻¹ V̇_k)`.
fn check_sparse_inverse<S: Structure>(c: &Covariance<S>, free: &[f64]) {
    let inv = c
        .sparse_inverse(free)
        .expect("has a sparse inverse")
        .unwrap();
    let (v, dv) = c.value_and_jacobian(free).unwrap();
    let vinv = v.clone().try_inverse().unwrap();
    close(&dense_of(&inv, &inv.values), &vinv, 1e-9);
    let logdet = v.determinant().ln();
    assert!((inv.logdet - logdet).abs() < 1e-9 * (1.0 + logdet.abs()));
    for (k, d) in dv.iter().enumerate() {
        let expected = -(&vinv * d * &vinv);
        close(&dense_of(&inv, &inv.jacobian[k]), &expected, 1e-8);
        let tr = (&vinv * d).trace();
        assert!((inv.logdet_jacobian[k] - tr).abs() < 1e-8 * (1.0 + tr.abs()));
    }
}

#[test]
fn names_defaults_and_static_counts() {
    assert_eq!(shared3().names(), ["sigma^2"]);
    assert_eq!(shared3().free_defaults(), [0.0]);
    assert_eq!(<Shared3>::static_param_count(), Some(1));
    assert_eq!(kron_shared().names(), ["sigma^2", "rho"]);
    assert_eq!(<KronShared>::static_param_count(), Some(2));
    let b = by_names();
    assert_eq!(b.names(), ["s", "r"]);
    assert_eq!(b.free_defaults(), [0.0, 0.2]);
    assert_eq!(b.dims(), (6, 6));
    assert_eq!(
        <Adapter<Kron<AR1, AR1>, Linear>>::static_param_count(),
        None
    );
}

/// The adapted value against the adaptee built at the expanded free vector
/// by hand (the same transforms, so the free values expand as the natural
/// ones do).
fn check_values(x: f64, y: f64) {
    let plain = Covariance::<BlockDiag<(Scalar, Scalar, Scalar)>>::new((2, 3, 1)).unwrap();
    assert_eq!(
        shared3().value(&[x]).unwrap(),
        plain.value(&[x, x, x]).unwrap()
    );

    let plain = Covariance::<Kron<AR1, AR1>>::new((3, 2)).unwrap();
    // σ²_b = 1 is free value 0 under e^{2x}
    assert_eq!(
        kron_shared().value(&[x, y]).unwrap(),
        plain.value(&[x, y, 0.0, y]).unwrap()
    );

    // by names: s = e^{2x}, r = tanh-like transform of y; diagonal (2s, s)
    let s = (2.0 * x).exp();
    let r = Transform::correlation(-1.0, 1.0).forward(y);
    let mut expected = DMatrix::zeros(6, 6);
    let a = DMatrix::from_row_slice(2, 2, &[1.0, r, r, 1.0]);
    expected
        .view_mut((0, 0), (4, 4))
        .copy_from(&(a.kronecker(&a) * s));
    expected[(4, 4)] = 2.0 * s;
    expected[(5, 5)] = s;
    close(&by_names().value(&[x, y]).unwrap(), &expected, 1e-14);
}

#[test]
fn value_is_the_adaptee_at_the_mapped_parameters() {
    check_values(0.0, 0.0);
    check_values(0.3, -0.7);
    check_values(-2.0, 3.0);
}

/// Closed form against dual numbers, and the diagonal and sparse inverse
/// against the dense value and Jacobian, at one point.
fn check_gradients_at(x: f64, y: f64) {
    let rtol = 1e-10;
    let c = shared3().check_gradients(&[x]).unwrap();
    assert!(c.passes(1e-300, rtol), "{c}");
    let c = kron_shared().check_gradients(&[x, y]).unwrap();
    assert!(c.passes(1e-300, rtol), "{c}");
    let c = by_names().check_gradients(&[x, y]).unwrap();
    assert!(c.passes(1e-300, rtol), "{c}");

    // the diagonal of a diagonal adaptee passes through the chain rule
    let g = shared3();
    let (d, dd) = g.diagonal(&[x]).expect("diagonal by type").unwrap();
    let (v, dv) = g.value_and_jacobian(&[x]).unwrap();
    assert_eq!(d, v.diagonal().as_slice());
    assert_eq!(dd[0], dv[0].diagonal().as_slice());
}

/// A nonlinear map written by hand: `θ = (φ₀, φ₀·φ₁)` for the two
/// variances of `diag(σ²₀ I, σ²₁ I)`, `φ₁` a ratio (transform `eˣ`).
#[derive(Clone, Copy, Default, Debug)]
struct Ratio;
impl ParamMap for Ratio {
    type NParams = Const<2>;
    type Shape = ();
    const NAME: &'static str = "Ratio";
    fn check(_: &(), adaptee: &[ParamSpec]) -> Result<(), CovError> {
        assert_eq!(adaptee.len(), 2);
        Ok(())
    }
    fn param_specs(_: &(), _: &[ParamSpec]) -> Vec<ParamSpec> {
        vec![
            ParamSpec::variance("s2"),
            ParamSpec::new("ratio", 0.0, Transform::Exp),
        ]
    }
    fn param_count(_: &(), _: usize) -> usize {
        2
    }
    fn map<T: Real>(_: &(), phi: &[T], theta: &mut [T]) {
        theta[0] = phi[0];
        theta[1] = phi[0] * phi[1];
    }
    fn jacobian<T: Real>(_: &(), phi: &[T], _: usize) -> DMatrix<T> {
        DMatrix::from_row_slice(2, 2, &[T::one(), T::zero(), phi[1], phi[0]])
    }
}

type RatioBlocks = Adapter<BlockDiag<(Scalar, Scalar)>, Ratio>;

/// The nonlinear map and an Adapter nested in an operator, against dual
/// numbers and by hand.
fn check_nonlinear_at(x: f64, y: f64) {
    let g = Covariance::<RatioBlocks>::new(((2, 1), ())).unwrap();
    let c = g.check_gradients(&[x, y]).unwrap();
    assert!(c.passes(1e-300, 1e-10), "{c}");
    let (s2, ratio) = ((2.0 * x).exp(), y.exp());
    let v = g.value(&[x, y]).unwrap();
    assert!((v[(1, 1)] - s2).abs() <= 1e-14 * s2);
    assert!((v[(2, 2)] - s2 * ratio).abs() <= 1e-14 * s2 * ratio);
    // Kron<Adapter, AR1>: the adapter's parameters under op_0
    let k = Covariance::<Kron<Shared3, AR1>>::new((((1, 1, 1), ()), 2)).unwrap();
    assert_eq!(k.names(), ["op_0/sigma^2", "op_1/sigma^2", "op_1/rho"]);
    let c = k.check_gradients(&[x, 0.1, y]).unwrap();
    assert!(c.passes(1e-300, 1e-10), "{c}");
}

#[test]
fn jacobian_at_the_default_start_and_edges() {
    check_gradients_at(0.0, 0.0);
    check_nonlinear_at(0.0, 0.0);
    for &x in &[-12.0, 12.0, -6.0, 6.0] {
        for &y in &[-12.0, 12.0, 0.0] {
            check_gradients_at(x, y);
            check_nonlinear_at(x, y);
        }
    }
}

#[test]
fn sparse_inverse_passes_through() {
    // well-conditioned points: the dense reference inverts V
    for &(x, y) in &[(0.0, 0.0), (0.4, -0.8), (-1.0, 1.5)] {
        check_sparse_inverse(&shared3(), &[x]);
        check_sparse_inverse(&kron_shared(), &[x, y]);
        check_sparse_inverse(&by_names(), &[x, y]);
        check_sparse_inverse(
            &Covariance::<RatioBlocks>::new(((2, 1), ())).unwrap(),
            &[x, y],
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn jacobian_matches_dual_numbers(x in -4.0..4.0f64, y in -4.0..4.0f64) {
        check_gradients_at(x, y);
        check_nonlinear_at(x, y);
        check_values(x, y);
    }
}

/// Penicillin's plate (24 levels) and sample (6 levels) stacked into one
/// random term with design `[Z_plate Z_sample]`.
fn penicillin() -> (Vec<f64>, SparseDesign) {
    let t = Table::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/Penicillin.csv"
    ))
    .unwrap();
    let y = t.numeric("diameter").unwrap();
    let codes = |col: &str| {
        let c = t.column(col).unwrap();
        let mut levels = c.to_vec();
        levels.sort();
        levels.dedup();
        let idx: Vec<usize> = c.iter().map(|v| levels.binary_search(v).unwrap()).collect();
        (idx, levels)
    };
    let (plate, plates) = codes("plate");
    let (sample, samples) = codes("sample");
    assert_eq!((plates.len(), samples.len()), (24, 6));
    let rows: Vec<Vec<(usize, f64)>> = plate
        .iter()
        .zip(&sample)
        .map(|(&p, &s)| vec![(p, 1.0), (24 + s, 1.0)])
        .collect();
    let names = plates.iter().chain(&samples).cloned().collect();
    (y, SparseDesign::from_rows(30, &rows, names).unwrap())
}

#[test]
fn shared_variance_fit_equals_the_model_without_adapter() {
    let (y, z) = penicillin();
    let x = DMatrix::from_element(y.len(), 1, 1.0);
    let g = Covariance::<BlockDiag<(Scalar, Scalar)>>::new((24, 6))
        .unwrap()
        .with_operand_names(&["plate", "sample"])
        .unwrap()
        .adapt(
            vec![ParamSpec::variance("s2")],
            &[
                ("plate/sigma^2", "s2".into()),
                ("sample/sigma^2", "s2".into()),
            ],
        )
        .unwrap();
    let adapted = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random("ps", z.clone(), Box::new(g))
        .unwrap();
    let typed = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random(
            "ps",
            z.clone(),
            Box::new(
                Covariance::<Adapter<BlockDiag<(Scalar, Scalar)>, TieAll>>::new(((24, 6), ()))
                    .unwrap(),
            ),
        )
        .unwrap();
    let plain = MixedModel::with_iid_residual(&y, &x)
        .unwrap()
        .random("ps", z, Box::new(Covariance::<Scalar>::new(30).unwrap()))
        .unwrap();
    assert!(adapted.sparse_support().is_ok() && typed.sparse_support().is_ok());
    let mut fits = Vec::new();
    for backend in [Backend::Sparse, Backend::Dense] {
        let opts = RemlOptions::default().tolerance(1e-10).backend(backend);
        let a = adapted.fit(&opts).unwrap();
        let p = plain.fit(&opts).unwrap();
        assert!(a.termination.is_converged() && p.termination.is_converged());
        assert_eq!(a.names, ["ps/s2", "residual/sigma^2"]);
        for (u, v) in a.natural.iter().zip(&p.natural) {
            assert!((u - v).abs() < 1e-6 * v.abs(), "{backend:?}: {u} vs {v}");
        }
        assert!(
            (a.loglik - p.loglik).abs() < 1e-8,
            "{} vs {}",
            a.loglik,
            p.loglik
        );
        assert!((a.beta[0] - p.beta[0]).abs() < 1e-8);
        assert!((a.beta_se[0] - p.beta_se[0]).abs() < 1e-6 * p.beta_se[0]);
        // the typed form (TieAll) gives the same fit
        let t = typed.fit(&opts).unwrap();
        assert_eq!(t.names, ["ps/sigma^2", "residual/sigma^2"]);
        assert!(
            (t.loglik - p.loglik).abs() < 1e-8,
            "{} vs {}",
            t.loglik,
            p.loglik
        );
        assert!((t.natural[0] - p.natural[0]).abs() < 1e-6 * p.natural[0]);
        fits.push(a);
    }
    assert!((fits[0].loglik - fits[1].loglik).abs() < 1e-8);
}

#[test]
fn bad_maps_are_errors_naming_the_parameter() {
    let g = Covariance::<BlockDiag<(Scalar, AR1)>>::new((2, 3))
        .unwrap()
        .with_operand_names(&["A", "B"])
        .unwrap();
    let specs = || vec![ParamSpec::variance("s2")];
    let err = |map: &[(&str, Target)], specs: Vec<ParamSpec>| g.adapt(specs, map).unwrap_err();

    // an unknown adaptee name
    let e = err(
        &[
            ("A/sigma2", "s2".into()),
            ("B/sigma^2", "s2".into()),
            ("B/rho", 0.5.into()),
        ],
        specs(),
    );
    assert!(
        matches!(&e, CovError::UnknownParam { name, .. } if name == "A/sigma2"),
        "{e}"
    );
    assert!(e.to_string().contains("A/sigma^2, B/sigma^2, B/rho"), "{e}");

    // an unknown new name
    let e = err(
        &[
            ("A/sigma^2", "s".into()),
            ("B/sigma^2", "s2".into()),
            ("B/rho", 0.5.into()),
        ],
        specs(),
    );
    assert!(
        matches!(&e, CovError::UnknownParam { name, known } if name == "s" && known == "s2"),
        "{e}"
    );

    // an adaptee parameter left unmapped, without a constant
    let e = err(
        &[("A/sigma^2", "s2".into()), ("B/sigma^2", "s2".into())],
        specs(),
    );
    assert_eq!(
        e,
        CovError::UnmappedParam {
            name: "B/rho".into()
        }
    );
    assert!(e.to_string().contains("`B/rho`"));

    // … unless it is fixed in the adaptee: then it keeps its value
    let mut fixed = g.clone();
    fixed.fix_natural("B/rho", 0.5).unwrap();
    let ok = fixed
        .adapt(
            specs(),
            &[("A/sigma^2", "s2".into()), ("B/sigma^2", "s2".into())],
        )
        .unwrap();
    let v = ok.value(&[0.0]).unwrap();
    assert!((v[(2, 3)] - 0.5).abs() < 1e-12 && (v[(2, 4)] - 0.25).abs() < 1e-12);

    // a new parameter never used
    let e = err(
        &[
            ("A/sigma^2", "s2".into()),
            ("B/sigma^2", "s2".into()),
            ("B/rho", 0.5.into()),
        ],
        vec![ParamSpec::variance("s2"), ParamSpec::variance("t2")],
    );
    assert_eq!(
        e,
        CovError::UnusedParam {
            name: "t2".into(),
            used: "s2".into()
        }
    );

    // an adaptee parameter mapped twice
    let e = err(
        &[
            ("A/sigma^2", "s2".into()),
            ("A/sigma^2", "s2".into()),
            ("B/sigma^2", "s2".into()),
            ("B/rho", 0.5.into()),
        ],
        specs(),
    );
    assert!(
        matches!(&e, CovError::InvalidMap { .. }) && e.to_string().contains("`A/sigma^2`"),
        "{e}"
    );

    // two new parameters with one name
    let e = err(
        &[
            ("A/sigma^2", "s2".into()),
            ("B/sigma^2", "s2".into()),
            ("B/rho", 0.5.into()),
        ],
        vec![ParamSpec::variance("s2"), ParamSpec::variance("s2")],
    );
    assert_eq!(e, CovError::DuplicateParam { name: "s2".into() });

    // a non-finite constant
    let e = err(
        &[
            ("A/sigma^2", "s2".into()),
            ("B/sigma^2", "s2".into()),
            ("B/rho", f64::NAN.into()),
        ],
        specs(),
    );
    assert!(
        matches!(&e, CovError::NotFinite { name, .. } if name == "B/rho"),
        "{e}"
    );
}

/// A tie table that does not fit its adaptee.
#[derive(Clone, Copy, Default, Debug)]
struct TooShort;
impl TieTable for TooShort {
    const NAMES: &'static [&'static str] = &["sigma^2"];
    const SOURCES: &'static [Source] = &[Source::Param(0), Source::Param(0)];
    type NParams = Const<1>;
}

#[derive(Clone, Copy, Default, Debug)]
struct Unused;
impl TieTable for Unused {
    const NAMES: &'static [&'static str] = &["a", "b", "c"];
    const SOURCES: &'static [Source] = &[
        Source::Param(0),
        Source::Param(1),
        Source::Natural(1.0),
        Source::Param(1),
    ];
    type NParams = Const<3>;
}

#[test]
fn bad_tie_tables_are_errors() {
    let e = Covariance::<Adapter<Kron<AR1, AR1>, Tie<TooShort>>>::new(((2, 2), ())).unwrap_err();
    assert!(matches!(e, CovError::InvalidMap { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("2 entries but the adaptee has 4 parameters"),
        "{e}"
    );
    let e = Covariance::<Adapter<Kron<AR1, AR1>, Tie<Unused>>>::new(((2, 2), ())).unwrap_err();
    assert_eq!(
        e,
        CovError::UnusedParam {
            name: "c".into(),
            used: "a, b".into()
        }
    );
}

#[test]
fn a_constant_out_of_range_is_named() {
    let g = Covariance::<BlockDiag<(Scalar, AR1)>>::new((2, 3))
        .unwrap()
        .with_operand_names(&["A", "B"])
        .unwrap();
    let e = g
        .adapt(
            vec![ParamSpec::variance("s2")],
            &[
                ("A/sigma^2", "s2".into()),
                ("B/sigma^2", "s2".into()),
                ("B/rho", 1.5.into()),
            ],
        )
        .unwrap_err();
    assert!(
        matches!(&e, CovError::NotInRange { name, .. } if name == "B/rho"),
        "{e}"
    );
}

/// σ² and ρ shared by the AR(1)s of two groups of subjects.
#[derive(Clone, Copy, Default, Debug)]
struct SharedAr1;
impl TieTable for SharedAr1 {
    const NAMES: &'static [&'static str] = &["sigma^2", "rho"];
    // op_0/op_1/sigma^2, op_0/op_1/rho, op_1/op_1/sigma^2, op_1/op_1/rho
    // (the Identity operands have no parameters)
    const SOURCES: &'static [Source] = &[
        Source::Param(0),
        Source::Param(1),
        Source::Param(0),
        Source::Param(1),
    ];
    type NParams = Const<2>;
}

/// ar1_repeated (40 subjects × 6 times): `V = diag(I₂₅ ⊗ AR1, I₁₅ ⊗ AR1)`
/// with one σ² and one ρ for both groups (`Tie`) is the model
/// `I₄₀ ⊗ AR1` of `data::ar1_repeated_model`, written without an Adapter.
#[test]
fn shared_ar1_fit_equals_the_built_in_model() {
    use covreml::datasets::ar1_repeated_model;
    use covreml::{Identity, MarginalModel};
    let t = Table::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ar1_repeated.csv"
    ))
    .unwrap();
    let y = t.numeric("y").unwrap();
    let (time, xs) = (t.numeric("time").unwrap(), t.numeric("x").unwrap());
    let x = DMatrix::from_fn(y.len(), 3, |i, j| [1.0, time[i], xs[i]][j]);
    type Groups = BlockDiag<(Kron<Identity, AR1>, Kron<Identity, AR1>)>;
    let v = Covariance::<Adapter<Groups, Tie<SharedAr1>>>::new((((25, 6), (15, 6)), ())).unwrap();
    let adapted = MarginalModel::new(&y, &x, Box::new(v)).unwrap();
    let plain = ar1_repeated_model(&t).unwrap();
    let opts = RemlOptions::default().tolerance(1e-10);
    let (a, p) = (adapted.fit(&opts).unwrap(), plain.fit(&opts).unwrap());
    assert!(a.termination.is_converged() && p.termination.is_converged());
    assert_eq!(a.names, ["sigma^2", "rho"]);
    assert_eq!(p.names, ["time/sigma^2", "time/rho"]);
    for (u, v) in a.natural.iter().zip(&p.natural) {
        assert!((u - v).abs() < 1e-6 * v.abs(), "{u} vs {v}");
    }
    assert!(
        (a.loglik - p.loglik).abs() < 1e-8,
        "{} vs {}",
        a.loglik,
        p.loglik
    );
    for (u, v) in a.beta.iter().zip(&p.beta) {
        assert!((u - v).abs() < 1e-8 * (1.0 + v.abs()), "{u} vs {v}");
    }
}
