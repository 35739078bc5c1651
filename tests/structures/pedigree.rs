//! Pedigrees and relationship matrices: a textbook pedigree with inbreeding
//! against the values printed in the literature; random pedigrees with
//! inbreeding (property tests): the direct sparse `A⁻¹` equals the dense
//! inverse of the tabular `A`, and Meuwissen–Luo `F` equals the tabular
//! diagonal − 1; loops and sex-role conflicts are errors naming the
//! animals; VanRaden's genomic relationship matrix against a hand-worked
//! case.

use crate::common::{assert_close_entries, SplitMix};
use covreml::data::Table;
use covreml::pedigree::{genomic_relationship, Pedigree, PedigreeError};
use nalgebra::{dmatrix, DMatrix};
use proptest::prelude::*;

/// Mrode, R.A. (2005) *Linear Models for the Prediction of Animal Breeding
/// Values*, 2nd ed., CABI, chapter 2: the pedigree of Table 2.1 (animals
/// 1–6; 5 and 6 inbred), its relationship matrix `A` (tabular method) and
/// the inverse of `A` with inbreeding, as printed (3 decimals). The same
/// pedigree is the example of R's pedigreemm (`inbreeding`, `getAInv`).
const MRODE_ANIMAL: [&str; 6] = ["1", "2", "3", "4", "5", "6"];
const MRODE_SIRE: [&str; 6] = ["0", "0", "1", "1", "4", "5"];
const MRODE_DAM: [&str; 6] = ["0", "0", "2", "0", "3", "2"];

fn mrode_a() -> DMatrix<f64> {
    dmatrix![
        1.000, 0.000, 0.500, 0.500, 0.500, 0.250;
        0.000, 1.000, 0.500, 0.000, 0.250, 0.625;
        0.500, 0.500, 1.000, 0.250, 0.625, 0.563;
        0.500, 0.000, 0.250, 1.000, 0.625, 0.313;
        0.500, 0.250, 0.625, 0.625, 1.125, 0.688;
        0.250, 0.625, 0.563, 0.313, 0.688, 1.125
    ]
}

fn mrode_a_inverse() -> DMatrix<f64> {
    dmatrix![
         1.833,  0.500, -1.000, -0.667,  0.000,  0.000;
         0.500,  2.033, -1.000,  0.000,  0.533, -1.067;
        -1.000, -1.000,  2.500,  0.500, -1.000,  0.000;
        -0.667,  0.000,  0.500,  1.833, -1.000,  0.000;
         0.000,  0.533, -1.000, -1.000,  2.533, -1.067;
         0.000, -1.067,  0.000,  0.000, -1.067,  2.133
    ]
}

/// Half a unit of the last printed decimal.
const PRINTED: f64 = 0.0005 + 1e-12;

/// `M` with rows and columns in the order of `ids` as seen by `p`.
fn in_order(m: &DMatrix<f64>, p: &Pedigree, ids: &[&str]) -> DMatrix<f64> {
    let idx: Vec<usize> = ids.iter().map(|id| p.index_of(id).unwrap()).collect();
    DMatrix::from_fn(ids.len(), ids.len(), |i, j| m[(idx[i], idx[j])])
}

#[test]
fn mrode_table_2_1_printed_values() {
    let p = Pedigree::from_columns(&MRODE_ANIMAL, &MRODE_SIRE, &MRODE_DAM).unwrap();
    assert_eq!(p.ids(), MRODE_ANIMAL);
    let a = p.a_matrix().unwrap();
    assert_close_entries(&a, &mrode_a(), PRINTED, 0.0, "A (Mrode Table 2.1)");
    let ainv = p.a_inverse();
    assert_close_entries(
        &ainv.to_dense(),
        &mrode_a_inverse(),
        PRINTED,
        0.0,
        "A⁻¹ (Mrode)",
    );
    // F₅ = ½ A₃₄ = 1/8, F₆ = ½ A₂₅ = 1/8 (printed as 0.125)
    let f = p.inbreeding();
    assert_eq!(f, [0.0, 0.0, 0.0, 0.0, 0.125, 0.125]);
    // d_i by hand: founders 1, both parents 1/2, one parent 3/4, and for 6
    // (5 × 2) ½ − ¼ F₅ = 15/32; A⁻¹₆₆ = 32/15 = 2.1333…
    assert_eq!(
        p.mendelian_variances(),
        [1.0, 1.0, 0.5, 0.75, 0.5, 15.0 / 32.0]
    );
    assert!((ainv.get(5, 5) - 32.0 / 15.0).abs() < 1e-15);
    assert!((ainv.get(4, 1) - 8.0 / 15.0).abs() < 1e-15);
    // the exact values behind the rounded ones: A₃₆ = 9/16, A₅₆ = 11/16
    assert_eq!(a[(2, 5)], 0.5625);
    assert_eq!(a[(4, 5)], 0.6875);
    // A⁻¹ has one lower-triangle entry per nonzero printed in the lower triangle
    let printed_nnz = (0..6)
        .flat_map(|j| (j..6).map(move |i| (i, j)))
        .filter(|&(i, j)| mrode_a_inverse()[(i, j)] != 0.0)
        .count();
    assert_eq!(ainv.nnz(), printed_nnz);
}

#[test]
fn mrode_in_any_order_with_other_unknown_codes() {
    // shuffled rows, unknown parents as NA / . / empty, founder 2 not listed
    let animal = ["6", "5", "3", "4", "1"];
    let sire = ["5", "4", "1", "1", "NA"];
    let dam = ["2", "3", "2", "", "."];
    let p = Pedigree::from_columns(&animal, &sire, &dam).unwrap();
    assert_eq!(p.len(), 6);
    for i in 0..p.len() {
        for parent in [p.sire(i), p.dam(i)].into_iter().flatten() {
            assert!(parent < i, "parents precede offspring");
        }
    }
    let a = in_order(&p.a_matrix().unwrap(), &p, &MRODE_ANIMAL);
    assert_close_entries(&a, &mrode_a(), PRINTED, 0.0, "A (shuffled)");
    let ainv = in_order(&p.a_inverse().to_dense(), &p, &MRODE_ANIMAL);
    assert_close_entries(&ainv, &mrode_a_inverse(), PRINTED, 0.0, "A⁻¹ (shuffled)");
    let f = p.inbreeding();
    assert_eq!(f[p.index_of("5").unwrap()], 0.125);
    assert_eq!(f[p.index_of("6").unwrap()], 0.125);
}

#[test]
fn from_table_and_incidence() {
    let t = Table::parse("animal,sire,dam,y\n4,1,0,4.5\n5,3,2,2.9\n1,0,0,\n").unwrap();
    let p = Pedigree::from_table(&t, "animal", "sire", "dam").unwrap();
    // 4's sire 1 is listed later; 3 and 2 are added founders
    assert_eq!(p.ids(), ["1", "4", "3", "2", "5"]);
    let z = p.incidence(&["5", "4", "5"]).unwrap();
    assert_eq!(z.levels(), [4, 1, 4]);
    assert_eq!(z.n_levels(), 5);
    let e = p.incidence(&["5", "7"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "row 2 (1-based): animal `7` is not in the pedigree"
    );
    let e = Pedigree::from_table(&t, "animal", "father", "dam").unwrap_err();
    assert!(matches!(e, PedigreeError::Data(_)), "{e}");
    assert!(e.to_string().contains("father"), "{e}");
}

#[test]
fn malformed_pedigrees_are_errors_naming_the_animals() {
    let e = Pedigree::from_columns(&["a", "b"], &["0"], &["0", "0"]).unwrap_err();
    assert!(matches!(
        e,
        PedigreeError::RaggedColumns {
            animals: 2,
            sires: 1,
            dams: 2
        }
    ));
    let e = Pedigree::from_columns(&["a", "NA"], &["0", "a"], &["0", "0"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "pedigree row 2 (1-based): the animal id `NA` is a missing-value code"
    );
    // listed twice: identical rows are accepted, different parents are not
    let p = Pedigree::from_columns(&["a", "b", "b"], &["0", "a", "a"], &["0", "0", "0"]).unwrap();
    assert_eq!(p.len(), 2);
    let e =
        Pedigree::from_columns(&["a", "b", "b"], &["0", "a", "0"], &["0", "0", "0"]).unwrap_err();
    assert!(e.to_string().contains("animal `b` is listed twice"), "{e}");
    // an animal is its own parent
    let e = Pedigree::from_columns(&["a"], &["a"], &["0"]).unwrap_err();
    assert_eq!(e.to_string(), "animal `a` is its own ancestor: a → a");
    // a longer loop through a dam
    let e = Pedigree::from_columns(
        &["f", "a", "b", "c"],
        &["0", "0", "a", "b"],
        &["0", "c", "f", "f"],
    )
    .unwrap_err();
    match &e {
        PedigreeError::Cycle { animal, cycle } => {
            assert_eq!(cycle.first(), cycle.last());
            assert_eq!(cycle.first(), Some(animal));
            let mut inner: Vec<&str> = cycle[1..].iter().map(String::as_str).collect();
            inner.sort_unstable();
            assert_eq!(inner, ["a", "b", "c"], "{e}");
        }
        _ => panic!("expected a cycle, got {e}"),
    }
    // a sire used as a dam, and selfing
    let e = Pedigree::from_columns(&["x", "y"], &["s", "m"], &["m", "s"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        // rows in order: `m` is x's dam, then y's sire
        "animal `m` is used both as a sire (of `y`) and as a dam (of `x`)"
    );
    let e = Pedigree::from_columns(&["x"], &["s"], &["s"]).unwrap_err();
    assert!(
        matches!(e, PedigreeError::SexConflict { ref animal, .. } if animal == "s"),
        "{e}"
    );
}

#[test]
fn the_sparse_inverse_has_linear_fill() {
    // a chain of 2000 generations, one sire–daughter mating each: ≤ 6
    // triplets per animal, so nnz(A⁻¹) ≤ 3 per animal plus the founders
    let n = 2000;
    let animal: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let mut sire = vec!["0".to_string(); n];
    let mut dam = vec!["0".to_string(); n];
    // a0 male founder; each a_{i} (i ≥ 1) is a0 × a_{i−1}: all dams
    for i in 1..n {
        sire[i] = "a0".into();
        if i > 1 {
            dam[i] = format!("a{}", i - 1);
        }
    }
    let p = Pedigree::from_columns(&animal, &sire, &dam).unwrap();
    let ainv = p.a_inverse();
    assert!(ainv.nnz() <= 3 * n, "nnz {}", ainv.nnz());
    // F_i = ½ A(a0, a_{i−1}), A(a0, a_i) = ½ (1 + A(a0, a_{i−1})) with
    // A(a0, a1) = ½: A(a0, a_i) = 1 − 2^{−i}, F_i = ½ − 2^{−i}
    let f = p.inbreeding();
    for (i, fi) in f.iter().enumerate().take(30).skip(2) {
        let want = 0.5 - 0.5f64.powi(i as i32);
        assert!((fi - want).abs() < 1e-15, "F[{i}] = {fi}, expected {want}");
    }
    assert!(f[n - 1] <= 0.5 && f[n - 1] > 0.5 - 1e-15);
}

// ---- random pedigrees with inbreeding -------------------------------------

/// A random pedigree of `n` animals in the order parents-first: each animal
/// has a sex; each parent is unknown (probability ¼) or drawn among the
/// last `window` animals of that sex, so relatives mate and most
/// pedigrees are inbred. Returns (animal, sire, dam) ids, shuffled.
fn random_pedigree(n: usize, window: usize, seed: u64) -> [Vec<String>; 3] {
    let mut rng = SplitMix(seed);
    let mut males: Vec<usize> = Vec::new();
    let mut females: Vec<usize> = Vec::new();
    let mut rows = Vec::with_capacity(n);
    let pick = |rng: &mut SplitMix, pool: &[usize]| -> Option<usize> {
        if pool.is_empty() || rng.next_u64() % 4 == 0 {
            None
        } else {
            let w = pool.len().min(window);
            Some(pool[pool.len() - 1 - (rng.next_u64() as usize % w)])
        }
    };
    for i in 0..n {
        let s = pick(&mut rng, &males);
        let d = pick(&mut rng, &females);
        rows.push((i, s, d));
        if rng.next_u64() % 2 == 0 {
            males.push(i);
        } else {
            females.push(i);
        }
    }
    // Fisher–Yates shuffle of the rows
    for i in (1..rows.len()).rev() {
        let j = rng.next_u64() as usize % (i + 1);
        rows.swap(i, j);
    }
    let id = |x: Option<usize>| x.map_or("0".to_string(), |x| format!("id{x}"));
    [
        rows.iter().map(|r| id(Some(r.0))).collect(),
        rows.iter().map(|r| id(r.1)).collect(),
        rows.iter().map(|r| id(r.2)).collect(),
    ]
}

fn dense_inverse(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.clone().cholesky().expect("A is SPD").inverse()
}

#[test]
fn random_pedigrees_are_mostly_inbred() {
    // the generator below is worth its name: most of its pedigrees are inbred
    let inbred = (0..50u64)
        .filter(|&s| {
            let [a, si, d] = random_pedigree(30, 4, s);
            let p = Pedigree::from_columns(&a, &si, &d).unwrap();
            p.inbreeding().iter().any(|&f| f > 0.0)
        })
        .count();
    assert!(
        inbred >= 35,
        "only {inbred} of 50 random pedigrees are inbred"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn direct_inverse_equals_dense_inverse_of_tabular_a(
        n in 1usize..60, window in 1usize..6, seed in any::<u64>()
    ) {
        let [a, s, d] = random_pedigree(n, window, seed);
        let p = Pedigree::from_columns(&a, &s, &d).unwrap();
        prop_assert_eq!(p.len(), n);
        let tab = p.a_matrix().unwrap();
        let reference = dense_inverse(&tab);
        let direct = p.a_inverse().to_dense();
        let scale = reference.abs().max();
        let diff = (&direct - &reference).abs().max();
        prop_assert!(diff <= 1e-10 * scale, "max |A⁻¹ − inv(A)| = {diff:e} (scale {scale})");
        // A⁻¹ A = I from the sparse side too
        let ainv = p.a_inverse();
        for j in 0..n {
            let col: Vec<f64> = tab.column(j).iter().copied().collect();
            let e = ainv.mul_vec(&col);
            for (i, x) in e.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                prop_assert!((x - want).abs() < 1e-10, "(A⁻¹A)[{i},{j}] = {x}");
            }
        }
        // Meuwissen–Luo F equals the tabular diagonal − 1
        let f = p.inbreeding();
        for i in 0..n {
            prop_assert!((f[i] - (tab[(i, i)] - 1.0)).abs() < 1e-12, "F[{i}] = {} vs {}", f[i], tab[(i, i)] - 1.0);
        }
    }

    #[test]
    fn order_of_the_rows_does_not_matter(n in 2usize..40, seed in any::<u64>()) {
        let [a, s, d] = random_pedigree(n, 3, seed);
        let p = Pedigree::from_columns(&a, &s, &d).unwrap();
        let rev = |v: &Vec<String>| v.iter().rev().cloned().collect::<Vec<_>>();
        let q = Pedigree::from_columns(&rev(&a), &rev(&s), &rev(&d)).unwrap();
        let ids: Vec<&str> = p.ids().iter().map(String::as_str).collect();
        let (ap, aq) = (p.a_inverse().to_dense(), in_order(&q.a_inverse().to_dense(), &q, &ids));
        prop_assert!((ap - aq).abs().max() < 1e-12);
    }

    #[test]
    fn a_loop_is_an_error_naming_an_animal_on_it(n in 3usize..40, seed in any::<u64>(), pick in any::<u64>()) {
        // make an animal with a known parent the parent of one of its
        // descendants' ancestors: give the oldest ancestor on a line a
        // parent that is the youngest on that line
        let [a, mut s, d] = random_pedigree(n, 3, seed);
        let p = Pedigree::from_columns(&a, &s, &d).unwrap();
        let with_sire: Vec<usize> = (0..p.len()).filter(|&i| p.sire(i).is_some()).collect();
        prop_assume!(!with_sire.is_empty());
        let young = with_sire[pick as usize % with_sire.len()];
        // walk up sires to the founder of the line
        let mut old = young;
        while let Some(x) = p.sire(old) { old = x; }
        // the founder's sire becomes `young` (`young` is male or unused as a dam? use as
        // sire only if it is never a dam)
        let young_id = p.ids()[young].clone();
        prop_assume!(!d.contains(&young_id));
        let old_id = p.ids()[old].clone();
        let row = a.iter().position(|x| *x == old_id);
        prop_assume!(row.is_some());
        s[row.unwrap()] = young_id.clone();
        let e = Pedigree::from_columns(&a, &s, &d).unwrap_err();
        match e {
            PedigreeError::Cycle { animal, cycle } => {
                prop_assert!(cycle.contains(&young_id) && cycle.contains(&old_id), "{cycle:?}");
                prop_assert_eq!(cycle.first(), Some(&animal));
                prop_assert_eq!(cycle.last(), Some(&animal));
            }
            other => prop_assert!(false, "expected a cycle, got {other}"),
        }
    }

    #[test]
    fn a_sire_used_as_a_dam_is_an_error(n in 3usize..40, seed in any::<u64>(), pick in any::<u64>()) {
        let [a, s, mut d] = random_pedigree(n, 3, seed);
        let sires: Vec<String> = s.iter().filter(|x| x.as_str() != "0").cloned().collect();
        prop_assume!(!sires.is_empty());
        let bull = sires[pick as usize % sires.len()].clone();
        // make it the dam of an animal that is not its own ancestor… any
        // animal other than itself whose sire is not the bull
        let row = (0..a.len()).find(|&r| a[r] != bull && s[r] != bull);
        prop_assume!(row.is_some());
        d[row.unwrap()] = bull.clone();
        let e = Pedigree::from_columns(&a, &s, &d).unwrap_err();
        // a loop may be found first only if the change made one; the role
        // check comes first, so it is always the sex conflict
        match e {
            PedigreeError::SexConflict { animal, .. } => prop_assert_eq!(animal, bull),
            other => prop_assert!(false, "expected a sex conflict, got {other}"),
        }
    }
}

// ---- genomic relationships ------------------------------------------------

#[test]
fn vanraden_hand_worked() {
    // 4 individuals × 4 markers; the last is monomorphic (adds nothing).
    // p = (4/8, 4/8, 3/8, 1): Z = M − 2p,
    //   Z = [[−1, 0, 5/4], [0, 0, −3/4], [1, −1, 1/4], [0, 1, −3/4]] (last column 0)
    // 2 Σ p(1 − p) = 2 (1/4 + 1/4 + 15/64) = 47/32.
    let m = dmatrix![
        0.0, 1.0, 2.0, 2.0;
        1.0, 1.0, 0.0, 2.0;
        2.0, 0.0, 1.0, 2.0;
        1.0, 2.0, 0.0, 2.0
    ];
    // Z Zᵀ by hand (sixteenths):
    //   [0,0] = 1 + 25/16 = 41/16; [0,1] = −15/16; [0,2] = −1 + 5/16 = −11/16;
    //   [0,3] = −15/16; [1,1] = 9/16; [1,2] = −3/16; [1,3] = 9/16;
    //   [2,2] = 2 + 1/16 = 33/16; [2,3] = −1 − 3/16 = −19/16; [3,3] = 1 + 9/16 = 25/16
    let zzt = dmatrix![
        41.0, -15.0, -11.0, -15.0;
        -15.0, 9.0, -3.0, 9.0;
        -11.0, -3.0, 33.0, -19.0;
        -15.0, 9.0, -19.0, 25.0
    ] / 16.0;
    let expected = zzt * (32.0 / 47.0);
    let g = genomic_relationship(&m).unwrap();
    assert_close_entries(&g, &expected, 1e-15, 1e-15, "VanRaden G");
    assert_eq!(g, g.transpose());
    // rows of Z sum to zero over individuals: G 1 = 0
    assert!((g * DMatrix::from_element(4, 1, 1.0)).abs().max() < 1e-14);
}

#[test]
fn genomic_errors() {
    let e = genomic_relationship(&dmatrix![0.0, 1.0; 3.0, 2.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "marker matrix, individual 2, marker 1 (1-based): 3 is not a genotype 0, 1 or 2"
    );
    let e = genomic_relationship(&dmatrix![0.0, f64::NAN; 1.0, 2.0]).unwrap_err();
    assert!(
        matches!(e, PedigreeError::InvalidGenotype { row: 0, col: 1, .. }),
        "{e}"
    );
    let e = genomic_relationship(&dmatrix![2.0, 0.0; 2.0, 0.0]).unwrap_err();
    assert!(
        matches!(e, PedigreeError::NoPolymorphicMarker { rows: 2, cols: 2 }),
        "{e}"
    );
    let e = genomic_relationship(&DMatrix::zeros(0, 3)).unwrap_err();
    assert!(
        matches!(e, PedigreeError::NoPolymorphicMarker { .. }),
        "{e}"
    );
}

// ---- an animal model: the dense engine with A as a fixed operand ----------

/// Mrode (2005), Example 3.1: pre-weaning gain of five calves (animals
/// 4–8) with sex as a fixed effect and the animal effect random,
/// `σ²_a = 20`, `σ²_e = 40`. The printed solutions (3 decimals):
/// sex 4.359 (male), 3.404 (female); animals 1–8: 0.098, −0.019, −0.041,
/// −0.009, −0.186, 0.177, −0.249, 0.183.
#[test]
fn mrode_example_3_1_blup_through_dense_a_and_through_sparse_a_inverse() {
    use covreml::reml::{MixedModel, RemlOptions};
    use covreml::{Covariance, Fixed, Kron, Scalar};
    let p = Pedigree::from_columns(
        &["1", "2", "3", "4", "5", "6", "7", "8"],
        &["0", "0", "0", "1", "3", "1", "4", "3"],
        &["0", "0", "0", "0", "2", "2", "5", "6"],
    )
    .unwrap();
    let calves = ["4", "5", "6", "7", "8"];
    let y = [4.5, 2.9, 3.9, 3.5, 5.0];
    let x = dmatrix![1.0, 0.0; 0.0, 1.0; 0.0, 1.0; 1.0, 0.0; 1.0, 0.0];
    let z = p.incidence(&calves).unwrap();
    let (s2a, s2e) = (20.0, 40.0);

    // 1. Henderson's mixed-model equations with the direct sparse A⁻¹
    //    (a different algorithm from the dense engine's V = Z G Zᵀ + R).
    let ainv = p.a_inverse().to_dense();
    let zd = z.to_dense();
    let w = {
        let mut w = DMatrix::zeros(5, 10);
        w.view_mut((0, 0), (5, 2)).copy_from(&x);
        w.view_mut((0, 2), (5, 8)).copy_from(&zd);
        w
    };
    let mut c = w.transpose() * &w;
    let mut lower_right = c.view_mut((2, 2), (8, 8));
    lower_right += &ainv * (s2e / s2a);
    let rhs = w.transpose() * nalgebra::DVector::from_row_slice(&y);
    let sol = c.lu().solve(&rhs).unwrap();
    let printed = [
        4.359, 3.404, 0.098, -0.019, -0.041, -0.009, -0.186, 0.177, -0.249, 0.183,
    ];
    for (k, (s, want)) in sol.iter().zip(printed).enumerate() {
        assert!(
            (s - want).abs() <= PRINTED,
            "MME solution {k}: {s} vs printed {want}"
        );
    }

    // 2. The dense engine with G = σ²_a A as Kron<Scalar(1), Fixed(A)>.
    let g = Covariance::<Kron<Scalar, Fixed>>::new((1, p.a_matrix().unwrap())).unwrap();
    let r = Covariance::<Scalar>::new(5).unwrap();
    let model = MixedModel::new(&y, &x, Box::new(r))
        .unwrap()
        .random("animal", z, Box::new(g))
        .unwrap();
    let mut fit = model.fit(&RemlOptions::default().max_iter(1)).unwrap();
    // BLUP at the book's variances (e^{2x} transforms)
    fit.free = vec![0.5 * s2a.ln(), 0.5 * s2e.ln()];
    let post = model.post(&fit).unwrap();
    let u = &post.blup("animal").unwrap().values;
    for k in 0..2 {
        assert!((post.marginal.beta[k] - sol[k]).abs() < 1e-8, "β{k}");
    }
    for a in 0..8 {
        assert!(
            (u[a] - sol[2 + a]).abs() < 1e-8,
            "animal {}: {} vs {}",
            a + 1,
            u[a],
            sol[2 + a]
        );
    }
}
