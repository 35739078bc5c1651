//! Every case of `tests/data/structures.json` (torch-openreml float64 values
//! and autodiff Jacobians): names, natural parameters, values, closed-form and
//! dual-number Jacobians in `f64`, and values and closed-form Jacobians in
//! `f32` with a looser tolerance. No case is silently skipped: the set of ids
//! handled must equal the set in the file.

use crate::common::{assert_close_entries, assert_close_scaled, assert_jacobians_close};
use covreml::ops::{Gram, Label, Named, Outer};
use covreml::{
    Augment, BlockDiag, CompoundSymmetric, Covariance, Diagonal, Equicorrelation, Fixed, Hadamard,
    Identity, Inverse, Kron, LowerTriangular, Product, Propagate, Scalar, Stack, Structure, Sum,
    Transpose, Unconstrained, AR1,
};
use nalgebra::{dmatrix, DMatrix};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

macro_rules! label {
    ($($t:ident = $s:literal),* $(,)?) => {$(
        #[derive(Clone, Copy, Default, Debug)]
        struct $t;
        impl Label for $t {
            const NAME: &'static str = $s;
        }
    )*};
}
label!(LabA = "a", LabB = "b", LabX = "x", LabY = "y");

const VALUE_TOL: f64 = 1e-12;
const JAC_TOL: f64 = 1e-10;
const F32_RTOL: f64 = 1e-4;

fn matrix(v: &Value) -> DMatrix<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .expect("matrix: array of rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row: array")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect()
        })
        .collect();
    let nr = rows.len();
    let nc = rows.first().map_or(0, |r| r.len());
    assert!(rows.iter().all(|r| r.len() == nc), "ragged matrix");
    DMatrix::from_fn(nr, nc, |i, j| rows[i][j])
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_owned())
        .collect()
}

fn to_f64(m: &DMatrix<f32>) -> DMatrix<f64> {
    m.map(f64::from)
}

struct Runner {
    cases: BTreeMap<String, Value>,
    handled: BTreeSet<String>,
}

impl Runner {
    fn load() -> Self {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/structures.json"
        ))
        .expect("read structures.json");
        let json: Value = serde_json::from_str(&text).expect("parse structures.json");
        let mut cases = BTreeMap::new();
        for c in json["cases"].as_array().expect("cases array") {
            let id = c["id"].as_str().expect("id").to_owned();
            assert!(
                cases.insert(id.clone(), c.clone()).is_none(),
                "duplicate id {id}"
            );
        }
        assert!(!cases.is_empty());
        Runner {
            cases,
            handled: BTreeSet::new(),
        }
    }

    /// Builds `S` at `shape`, names its outer operands, applies the case's
    /// fixed parameters and compares everything the case records.
    fn case<S: Structure>(&mut self, id: &str, shape: S::Shape, operand_names: &[&str]) {
        let case = self
            .cases
            .get(id)
            .unwrap_or_else(|| panic!("no case `{id}` in structures.json"));
        assert!(
            self.handled.insert(id.to_owned()),
            "case {id} handled twice"
        );
        let expr = case["expr"].as_str().unwrap_or("?");
        let what = format!("{id} [{expr}] as {}", std::any::type_name::<S>());

        let mut cov = Covariance::<S>::new(shape).unwrap_or_else(|e| panic!("{what}: {e}"));
        if !operand_names.is_empty() {
            cov = cov
                .with_operand_names(operand_names)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        for (name, v) in case["fixed"].as_object().expect("fixed: object") {
            cov.fix(name, v.as_f64().expect("fixed value"))
                .unwrap_or_else(|e| panic!("{what}: fix {name}: {e}"));
        }

        // Names and dimensions.
        assert_eq!(
            cov.names(),
            strings(&case["param_names"]),
            "{what}: param_names"
        );
        assert_eq!(
            cov.free_names(),
            strings(&case["free_param_names"]),
            "{what}: free_param_names"
        );
        // A case without free parameters (identity) records no Jacobian.
        let has_grad = case.get("grad").is_some();
        assert!(has_grad || case["free_params"].as_array().is_some_and(|a| a.is_empty()));
        if has_grad {
            assert_eq!(
                cov.free_names(),
                strings(&case["grad_names"]),
                "{what}: grad_names"
            );
        }
        let dims: Vec<usize> = floats(&case["shape"]).iter().map(|&x| x as usize).collect();
        assert_eq!(vec![cov.dims().0, cov.dims().1], dims, "{what}: shape");

        let free = floats(&case["free_params"]);
        assert_eq!(free.len(), cov.n_free(), "{what}: free parameter count");

        // Natural parameters (fixed ones included, in table order).
        let natural = cov.params(&free, true, true).unwrap();
        let expected_natural = floats(&case["natural_params"]);
        assert_eq!(
            natural.len(),
            expected_natural.len(),
            "{what}: natural count"
        );
        for (k, (a, b)) in natural.iter().zip(&expected_natural).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                "{what}: natural parameter {k}: {a} vs {b}"
            );
        }

        // Value, f64.
        let expected_value = matrix(&case["value"]);
        let value = cov.value(&free).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_close_entries(
            &value,
            &expected_value,
            VALUE_TOL,
            VALUE_TOL,
            &format!("{what}: value"),
        );

        // Jacobians, f64: closed form and dual numbers.
        let expected_grad: Vec<DMatrix<f64>> = if has_grad {
            case["grad"]
                .as_array()
                .expect("grad: array")
                .iter()
                .map(matrix)
                .collect()
        } else {
            Vec::new()
        };
        let names = cov.free_names();
        let (v2, closed) = cov
            .value_and_jacobian(&free)
            .unwrap_or_else(|e| panic!("{what}: closed form: {e}"));
        assert_close_entries(
            &v2,
            &expected_value,
            VALUE_TOL,
            VALUE_TOL,
            &format!("{what}: value_and_jacobian value"),
        );
        assert_eq!(closed.len(), expected_grad.len(), "{what}: Jacobian length");
        for (k, (g, e)) in closed.iter().zip(&expected_grad).enumerate() {
            assert_close_entries(
                g,
                e,
                JAC_TOL,
                JAC_TOL,
                &format!("{what}: closed-form ∂V/∂{}", names[k]),
            );
        }
        let dual = cov.dual_jacobian(&free).unwrap();
        assert_eq!(
            dual.len(),
            expected_grad.len(),
            "{what}: dual Jacobian length"
        );
        for (k, (g, e)) in dual.iter().zip(&expected_grad).enumerate() {
            assert_close_entries(
                g,
                e,
                JAC_TOL,
                JAC_TOL,
                &format!("{what}: dual ∂V/∂{}", names[k]),
            );
        }
        let check = cov.check_gradients(&free).unwrap();
        assert!(check.passes(1e-12, 1e-12), "{what}:\n{check}");

        // f32: value and closed-form Jacobian, relative to the matrix's magnitude.
        let free32: Vec<f32> = free.iter().map(|&x| x as f32).collect();
        let value32 = cov.value_in::<f32>(&free32).unwrap();
        assert_close_scaled(
            &to_f64(&value32),
            &expected_value,
            F32_RTOL,
            1e-6,
            &format!("{what}: f32 value"),
        );
        let closed32: Vec<DMatrix<f64>> = cov
            .jacobian_in::<f32>(&free32)
            .unwrap()
            .iter()
            .map(to_f64)
            .collect();
        assert_jacobians_close(
            &closed32,
            &expected_grad,
            &names,
            F32_RTOL,
            1e-6,
            &format!("{what}: f32"),
        );
        let dual32: Vec<DMatrix<f64>> = cov
            .dual_jacobian::<f32>(&free32)
            .unwrap()
            .iter()
            .map(to_f64)
            .collect();
        assert_jacobians_close(
            &dual32,
            &expected_grad,
            &names,
            F32_RTOL,
            1e-6,
            &format!("{what}: f32 dual"),
        );
    }
}

#[test]
fn every_reference_case_matches() {
    let mut r = Runner::load();

    // The seed examples.
    r.case::<Hadamard<Equicorrelation, Fixed>>(
        "seed_hadamard",
        (4, Fixed::scalar(5.0)),
        &["a", "b"],
    );
    r.case::<Kron<AR1, Scalar>>("seed_kronecker", (2, 2), &["time", "subject"]);

    // Leaves.
    r.case::<Identity>("identity", 3, &[]);
    r.case::<Scalar>("scalar", 3, &[]);
    r.case::<Diagonal>("diagonal", 3, &[]);
    r.case::<Equicorrelation>("equicorrelation", 3, &[]);
    r.case::<CompoundSymmetric>("compound_symmetric", 4, &[]);
    r.case::<AR1>("ar1", 4, &[]);
    r.case::<AR1>("ar1_negative_rho", 5, &[]);
    r.case::<Unconstrained>("unconstrained", 3, &[]);
    r.case::<LowerTriangular>("lower_triangular", (3, 2), &[]);

    // Operators.
    r.case::<Sum<(Scalar, Equicorrelation, Diagonal)>>("sum", (3, 3, 3), &[]);
    r.case::<Sum<(Fixed, Scalar)>>(
        "sum_named_fixed_tensor",
        (DMatrix::identity(3, 3), 3),
        &["A", "B"],
    );
    r.case::<Kron<AR1, Unconstrained>>("kron_ar1_unconstrained", (3, 2), &["time", "trait"]);
    r.case::<Hadamard<CompoundSymmetric, AR1>>("hadamard_cs_ar1", (3, 3), &[]);
    r.case::<BlockDiag<(Scalar, AR1)>>("block_diagonal", (2, 3), &[]);
    let z = dmatrix![1.0, 0.0; 1.0, 0.0; 0.0, 1.0; 0.0, 1.0; 1.0, 1.0];
    r.case::<Propagate<Fixed, Unconstrained>>("propagation", (z, 2), &[]);
    r.case::<Propagate<LowerTriangular, Scalar>>("propagation_param_z", ((3, 2), 2), &[]);
    r.case::<Gram<LowerTriangular>>("gram_xtx", (3, 3), &[]);
    r.case::<Gram<LowerTriangular, Outer>>("gram_xxt", (3, 3), &[]);
    r.case::<Sum<(
        Kron<Named<AR1, LabA>, Named<CompoundSymmetric, LabB>>,
        Hadamard<Named<Scalar, LabX>, Named<Equicorrelation, LabY>>,
    )>>("nested", ((2, 2), (4, 4)), &[]);
    r.case::<Augment<(LowerTriangular, Scalar)>>("augment", ((3, 2), 3), &[]);
    r.case::<Stack<(LowerTriangular, Scalar)>>("stack", ((2, 3), 3), &[]);
    r.case::<Product<AR1, Scalar>>("product", (3, 3), &[]);
    r.case::<Inverse<AR1>>("inverse", 3, &[]);
    r.case::<Transpose<LowerTriangular>>("transpose", (3, 2), &[]);

    // Fixed parameters.
    r.case::<AR1>("ar1_fixed_rho", 3, &[]);
    r.case::<Kron<AR1, Scalar>>("kron_fixed_subject", (3, 2), &["time", "subject"]);

    let in_file: BTreeSet<String> = r.cases.keys().cloned().collect();
    let missing: Vec<&String> = in_file.difference(&r.handled).collect();
    assert!(
        missing.is_empty(),
        "cases in structures.json not tested: {missing:?}"
    );
    assert_eq!(r.handled, in_file);
}

/// The `fixed` field holds free-scale values: `fix_natural` at the matching
/// natural value gives the same parameters and matrix.
#[test]
fn fixing_on_the_natural_scale_agrees_with_the_reference() {
    let r = Runner::load();
    let case = &r.cases["ar1_fixed_rho"];
    let natural = floats(&case["natural_params"]);
    let mut cov = Covariance::<AR1>::new(3).unwrap();
    cov.fix_natural("rho", natural[1]).unwrap();
    let free = floats(&case["free_params"]);
    assert!((cov.params(&free, true, false).unwrap()[1] - 0.5).abs() < 1e-12);
    let v = cov.value(&free).unwrap();
    assert_close_entries(
        &v,
        &matrix(&case["value"]),
        VALUE_TOL,
        VALUE_TOL,
        "fix_natural",
    );
}
