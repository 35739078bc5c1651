//! Static evaluation (`StaticStructure`): no heap allocation, and the same
//! numbers as the dynamic path.
//!
//! - A counting global allocator (per thread) asserts that the static value,
//!   the closed-form Jacobian and the one-pass dual-number Jacobian allocate
//!   nothing, for nested compositions.
//! - Every static structure is compared with the dynamic `Structure` and
//!   `Covariance` paths entry by entry: bit for bit, except for the operators
//!   that multiply matrices (`Product`, `Propagate`, `Gram`, `Inverse`), whose
//!   static and dynamic matrix products may round differently; those are held
//!   to a few ulps of the largest entry (see `PRODUCT_ULPS`).
//! - One macro stamps the suite for `f32`, `f64` and `Dual64`.
//! - The one-pass dual Jacobian is checked against the closed form (an
//!   independent computation).

use covreml::ops::{Gram, Label, Named, Outer};
use covreml::static_structure::{Allocates, StaticValue};
use covreml::{
    Augment, BlockDiag, CompoundSymmetric, Const, Covariance, Diagonal, EqualEntry,
    Equicorrelation, Hadamard, Identity, Inverse, Kron, Product, Propagate, Real, Scalar, Stack,
    StaticStructure, Structure, Sum, Transpose, Unconstrained, AR1,
};
use nalgebra::{DMatrix, DefaultAllocator, Dim, DimName, Matrix, RawStorage, SMatrix};
use num_dual::Dual64;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

// ---------------------------------------------------------------- allocator

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting allocations per thread.
struct Counting;

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the number of heap allocations it made.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = black_box(f());
    let after = ALLOCATIONS.with(Cell::get);
    (r, after - before)
}

#[test]
fn the_counter_sees_heap_allocations() {
    let (v, n) = allocations(|| vec![1.0f64; 6]);
    assert_eq!(v.len(), 6);
    assert_eq!(n, 1);
    let (_, n) = allocations(|| DMatrix::<f64>::zeros(6, 6));
    assert_eq!(n, 1);
}

// ---------------------------------------------------------------- scalars

/// Scalars the suite is stamped for: how to make one from an `f64` (duals get
/// a nonzero derivative part, so that it is compared too) and its bits.
trait TestScalar: Real {
    fn at(x: f64, i: usize) -> Self;
    /// Bit patterns of the parts (one for floats, two for `Dual64`).
    fn parts(self) -> Vec<f64>;
    /// The precision of one part, for ulp distances.
    fn precision() -> f64;
}

impl TestScalar for f32 {
    fn at(x: f64, _: usize) -> Self {
        x as f32
    }
    fn parts(self) -> Vec<f64> {
        vec![self as f64]
    }
    fn precision() -> f64 {
        f32::EPSILON as f64
    }
}

impl TestScalar for f64 {
    fn at(x: f64, _: usize) -> Self {
        x
    }
    fn parts(self) -> Vec<f64> {
        vec![self]
    }
    fn precision() -> f64 {
        f64::EPSILON
    }
}

impl TestScalar for Dual64 {
    fn at(x: f64, i: usize) -> Self {
        Dual64::new(x, 0.25 + 0.5 * i as f64)
    }
    fn parts(self) -> Vec<f64> {
        vec![self.re, self.eps]
    }
    fn precision() -> f64 {
        f64::EPSILON
    }
}

/// Tolerance of the matrix-product operators, in units of the scalar's
/// epsilon times the largest entry (per part).
const PRODUCT_ULPS: f64 = 8.0;

/// `a` and `b` have one shape and equal entries: bit for bit when `ulps` is
/// `None`, else within `ulps · ε · max|entry|` (per part).
fn assert_same<T: TestScalar, R: Dim, C: Dim, S: RawStorage<T, R, C>>(
    what: &str,
    a: &Matrix<T, R, C, S>,
    b: &DMatrix<T>,
    ulps: Option<f64>,
) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let scale = |m: Vec<Vec<f64>>| -> Vec<f64> {
        let parts = m.first().map_or(0, Vec::len);
        (0..parts)
            .map(|p| m.iter().map(|x| x[p].abs()).fold(0.0, f64::max))
            .collect()
    };
    let pa: Vec<Vec<f64>> = a.iter().map(|x| x.parts()).collect();
    let pb: Vec<Vec<f64>> = b.iter().map(|x| x.parts()).collect();
    let s = scale(pb.clone());
    for (k, (x, y)) in pa.iter().zip(&pb).enumerate() {
        for p in 0..x.len() {
            match ulps {
                None => assert_eq!(
                    x[p].to_bits(),
                    y[p].to_bits(),
                    "{what}: entry {k} part {p}: static {} dynamic {}",
                    x[p],
                    y[p]
                ),
                Some(u) => assert!(
                    (x[p] - y[p]).abs() <= u * T::precision() * s[p],
                    "{what}: entry {k} part {p}: static {} dynamic {}",
                    x[p],
                    y[p]
                ),
            }
        }
    }
}

// ---------------------------------------------------------------- the checks

/// Static against dynamic at the free values `free`, over `T`:
/// natural-scale value and Jacobian against `Structure::value`/`jacobian`,
/// free-scale value and Jacobian against `Covariance`.
macro_rules! static_equals_dynamic {
    ($s:ty, $t:ty, $n:literal, $free:expr, $ulps:expr $(,)?) => {{
        type S = $s;
        type T = $t;
        const N: usize = $n;
        let free: [f64; N] = $free;
        let ulps: Option<f64> = $ulps;
        let name = std::any::type_name::<S>();
        let shape = <S as Structure>::Shape::default();
        let x: [T; N] = std::array::from_fn(|i| T::at(free[i], i));

        // natural scale
        let theta = S::natural_s(x);
        let theta: [T; N] = std::array::from_fn(|i| theta[i]);
        assert_same(
            &format!("{name} value_s"),
            &S::value_s(theta),
            &S::value(&shape, &theta),
            ulps,
        );
        let js = S::jacobian_s(theta);
        let jd = S::jacobian(&shape, &theta).expect("a closed form");
        assert_eq!(js.len(), jd.len());
        for (k, (s, d)) in js.iter().zip(&jd).enumerate() {
            assert_same(&format!("{name} jacobian_s[{k}]"), s, d, ulps);
        }
        let (v2, j2) = S::value_and_jacobian_s(theta);
        assert_eq!(v2, S::value_s(theta));
        assert_eq!(j2, js);

        // free scale, default transforms, against the runtime layer
        let cov = Covariance::<S>::new(shape).expect("a valid shape");
        assert_same(
            &format!("{name} value_free_s"),
            &S::value_free_s(x),
            &cov.value_in(&x).expect("finite"),
            ulps,
        );
        let (vs, js) = S::jacobian_free_s(x);
        let (vd, jd) = cov.value_and_jacobian_in(&x).expect("finite");
        assert_same(&format!("{name} jacobian_free_s value"), &vs, &vd, ulps);
        for (k, (s, d)) in js.iter().zip(&jd).enumerate() {
            assert_same(&format!("{name} jacobian_free_s[{k}]"), s, d, ulps);
        }
    }};
}

/// The one-pass dual Jacobian (f64): bit for bit the runtime layer's one-pass
/// Jacobian, and within rounding of the closed form.
macro_rules! one_pass_dual {
    ($s:ty, $n:literal, $free:expr $(,)?) => {{
        type S = $s;
        const N: usize = $n;
        let free: [f64; N] = $free;
        let name = std::any::type_name::<S>();
        let (v, dual) = S::dual_jacobian_free_s(free);
        let cov = Covariance::<S>::new(<S as Structure>::Shape::default()).unwrap();
        let reference = cov.dual_jacobian_one_pass(free).unwrap();
        assert_same(
            &format!("{name} dual value"),
            &v,
            &cov.value(&free).unwrap(),
            None,
        );
        let (_, closed) = S::jacobian_free_s(free);
        for k in 0..N {
            assert_same(&format!("{name} dual[{k}]"), &dual[k], &reference[k], None);
            let scale = closed[k].abs().max().max(1.0);
            assert!(
                (&dual[k] - &closed[k]).abs().max() <= 1e-13 * scale,
                "{name} dual vs closed form [{k}]"
            );
        }
    }};
}

/// Zero heap allocations for the static value, closed-form Jacobian and
/// one-pass dual Jacobian, natural and free scale, over `T`.
macro_rules! no_allocation {
    ($s:ty, $t:ty, $n:literal, $free:expr $(,)?) => {{
        type S = $s;
        type T = $t;
        const N: usize = $n;
        let free: [f64; N] = $free;
        let name = std::any::type_name::<S>();
        let x: [T; N] = std::array::from_fn(|i| T::at(free[i], i));
        let (_, n) = allocations(|| S::value_s(black_box(x)));
        assert_eq!(n, 0, "{name} value_s allocates");
        let (_, n) = allocations(|| S::jacobian_s(black_box(x)));
        assert_eq!(n, 0, "{name} jacobian_s allocates");
        let (_, n) = allocations(|| S::value_and_jacobian_s(black_box(x)));
        assert_eq!(n, 0, "{name} value_and_jacobian_s allocates");
        let (_, n) = allocations(|| S::natural_s(black_box(x)));
        assert_eq!(n, 0, "{name} natural_s allocates");
        let (_, n) = allocations(|| S::value_free_s(black_box(x)));
        assert_eq!(n, 0, "{name} value_free_s allocates");
        let (_, n) = allocations(|| S::jacobian_free_s(black_box(x)));
        assert_eq!(n, 0, "{name} jacobian_free_s allocates");
        let (_, n) = allocations(|| S::dual_jacobian_free_s(black_box(free)));
        assert_eq!(n, 0, "{name} dual_jacobian_free_s allocates");
    }};
}

// ---------------------------------------------------------------- the cases

#[derive(Clone, Copy, Default, Debug, covreml::Label)]
#[label("time")]
struct Time;
#[derive(Clone, Copy, Default, Debug)]
struct Subject;
impl Label for Subject {
    const NAME: &'static str = "subject";
}

type K32 = Kron<AR1<Const<3>>, Scalar<Const<2>>>;
/// The composition the issue names.
type Nested = Sum<(K32, Diagonal<Const<6>>)>;
type Deep = Kron<
    Sum<(AR1<Const<2>>, Scalar<Const<2>>)>,
    BlockDiag<(
        Named<Scalar<Const<1>>, Time>,
        Hadamard<Equicorrelation<Const<2>>, Scalar<Const<2>>>,
    )>,
>;

/// Free points: the default start, interior points, and boundary-like ones
/// (correlations near ±1, large and small variances).
const P3: [[f64; 3]; 4] = [
    [0.0, 0.0, 0.0],
    [0.2, 0.4, -0.1],
    [-1.3, 3.5, 0.9],
    [2.0, -6.0, -2.5],
];

/// Stamps every case for one scalar type; `$bits` is `None` (bit for bit)
/// or the ulp tolerance of the matrix-product operators.
macro_rules! suite {
    ($($module:ident: $t:ty),+ $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn leaves_equal_dynamic_bit_for_bit() {
                for p in P3 {
                    static_equals_dynamic!(AR1<Const<4>>, $t, 2, [p[0], p[1]], None);
                    static_equals_dynamic!(CompoundSymmetric<Const<3>>, $t, 2, [p[0], p[1]], None);
                    static_equals_dynamic!(Equicorrelation<Const<4>>, $t, 1, [p[1]], None);
                    static_equals_dynamic!(Scalar<Const<3>>, $t, 1, [p[2]], None);
                    static_equals_dynamic!(EqualEntry<Const<2>, Const<3>>, $t, 1, [p[0]], None);
                    static_equals_dynamic!(Diagonal<Const<3>>, $t, 3, p, None);
                    static_equals_dynamic!(Identity<Const<3>>, $t, 0, [], None);
                    static_equals_dynamic!(Unconstrained<Const<3>>, $t, 6,
                        [p[0], p[1], p[2], -p[2], 0.5 * p[1], p[0] - 0.2],
                        None,
                    );
                }
            }

            #[test]
            fn operators_equal_dynamic_bit_for_bit() {
                for p in P3 {
                    static_equals_dynamic!(K32, $t, 3, p, None);
                    static_equals_dynamic!(Nested, $t, 9,
                        [p[0], p[1], p[2], 0.1, -0.2, 0.3, p[2], p[1], -0.5],
                        None,
                    );
                    static_equals_dynamic!(Sum<(AR1<Const<4>>, Scalar<Const<4>>)>, $t, 3, p, None);
                    static_equals_dynamic!(
                        Hadamard<Equicorrelation<Const<4>>, CompoundSymmetric<Const<4>>>, $t, 3, p, None);
                    static_equals_dynamic!(
                        BlockDiag<(AR1<Const<2>>, CompoundSymmetric<Const<3>>, Identity<Const<1>>)>, $t, 4, [p[0], p[1], p[2], -p[1]], None);
                    static_equals_dynamic!(
                        Kron<Named<AR1<Const<2>>, Time>, Named<Scalar<Const<2>>, Subject>>, $t, 3, p, None);
                    static_equals_dynamic!(Transpose<EqualEntry<Const<2>, Const<3>>>, $t, 1,
                        [p[1]],
                        None,
                    );
                    static_equals_dynamic!(
                        Augment<(EqualEntry<Const<2>, Const<3>>, Scalar<Const<2>>)>, $t, 2, [p[0], p[2]], None);
                    static_equals_dynamic!(
                        Stack<(EqualEntry<Const<2>, Const<3>>, Scalar<Const<3>>)>, $t, 2, [p[0], p[2]], None);
                    static_equals_dynamic!(Deep, $t, 6, [p[0], p[1], p[2], -p[0], p[1], 0.3], None);
                }
            }

            #[test]
            fn matrix_product_operators_equal_dynamic_to_a_few_ulps() {
                let u = Some(PRODUCT_ULPS);
                for p in P3 {
                    static_equals_dynamic!(Product<AR1<Const<3>>, CompoundSymmetric<Const<3>>>, $t, 4,
                        [p[0], p[1], p[2], -p[0]],
                        u,
                    );
                    static_equals_dynamic!(
                        Propagate<EqualEntry<Const<4>, Const<2>>, Unconstrained<Const<2>>>, $t, 4, [p[0], p[1], p[2], -p[1]], u);
                    static_equals_dynamic!(Gram<Unconstrained<Const<2>>>, $t, 3, p, u);
                    static_equals_dynamic!(Gram<Transpose<EqualEntry<Const<3>, Const<2>>>, Outer>, $t, 1,
                        [p[1]],
                        u,
                    );
                    static_equals_dynamic!(Inverse<AR1<Const<3>>>, $t, 2, [p[0], 0.3 * p[1]], u);
                }
            }

            #[test]
            fn nothing_allocates() {
                no_allocation!(Nested, $t, 9, [0.2, 0.4, -0.1, 0.1, -0.2, 0.3, 0.0, 0.5, -0.5]);
                no_allocation!(K32, $t, 3, [0.2, 0.4, -0.1]);
                no_allocation!(Deep, $t, 6, [0.2, 0.4, -0.1, 0.3, 0.1, -0.2]);
                no_allocation!(Unconstrained<Const<3>>, $t, 6, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
                no_allocation!(Hadamard<Equicorrelation<Const<4>>, CompoundSymmetric<Const<4>>>, $t, 3,
                    [0.2, 0.4, -0.1],
                );
                no_allocation!(
                    Augment<(Stack<(EqualEntry<Const<2>, Const<3>>, Scalar<Const<3>>)>, Transpose<EqualEntry<Const<3>, Const<5>>>)>, $t, 3, [0.2, 0.4, -0.1]);
                no_allocation!(Propagate<EqualEntry<Const<4>, Const<2>>, Unconstrained<Const<2>>>, $t, 4,
                    [0.2, 0.4, -0.1, 0.3],
                );
                no_allocation!(Inverse<Gram<Unconstrained<Const<2>>, Outer>>, $t, 3, [0.2, 0.4, -0.1]);
                no_allocation!(Product<AR1<Const<3>>, CompoundSymmetric<Const<3>>>, $t, 4,
                    [0.2, 0.4, -0.1, 0.3],
                );
            }
        }
    )+};
}

suite!(f32_suite: f32, f64_suite: f64, dual64_suite: Dual64);

#[test]
fn one_pass_dual_jacobians_match_the_runtime_layer_and_the_closed_form() {
    for p in P3 {
        one_pass_dual!(K32, 3, p);
        one_pass_dual!(
            Nested,
            9,
            [p[0], p[1], p[2], 0.1, -0.2, 0.3, p[2], p[1], -0.5]
        );
        one_pass_dual!(Deep, 6, [p[0], p[1], p[2], -p[0], p[1], 0.3]);
        one_pass_dual!(
            Hadamard<Equicorrelation<Const<4>>, CompoundSymmetric<Const<4>>>,
            3,
            p
        );
        one_pass_dual!(
            Unconstrained<Const<3>>,
            6,
            [p[0], p[1], p[2], -p[2], 0.5, 0.1]
        );
    }
}

#[test]
fn known_numbers() {
    // Kron<AR1(3), Scalar(2)> at σ² = 2, ρ = 0.5, s = 3: block (i, j) is
    // 2 · 0.5^|i−j| · 3 · I₂.
    let v: SMatrix<f64, 6, 6> = K32::value_s([2.0, 0.5, 3.0]);
    let expected = SMatrix::<f64, 6, 6>::from_fn(|r, c| {
        let (i, j) = (r / 2, c / 2);
        if r % 2 == c % 2 {
            6.0 * 0.5f64.powi(i.abs_diff(j) as i32)
        } else {
            0.0
        }
    });
    assert_eq!(v, expected);
    // ∂/∂ρ of the (0, 4) entry: σ² · 2ρ · s = 2 · 1 · 3
    assert_eq!(K32::jacobian_s([2.0, 0.5, 3.0])[1][(0, 4)], 6.0);
    // the free scale: x = (½ ln 2, 0, ½ ln 3) gives σ² = 2, ρ = 0, s = 3
    let v = K32::value_free_s([0.5 * 2f64.ln(), 0.0, 0.5 * 3f64.ln()]);
    assert!((v[(0, 0)] - 6.0).abs() < 1e-14);
    assert_eq!(v[(0, 2)], 0.0);
}

#[test]
fn static_sizes_match_the_runtime_dims() {
    fn dims<S: StaticStructure>() -> (usize, usize)
    where
        DefaultAllocator: Allocates<S::SRows, S::SCols, S::NParams>,
    {
        let v: StaticValue<f64, S> =
            StaticValue::<f64, S>::zeros_generic(S::SRows::name(), S::SCols::name());
        assert_eq!(v.shape(), S::dims(&<S as Structure>::Shape::default()));
        v.shape()
    }
    assert_eq!(dims::<Nested>(), (6, 6));
    assert_eq!(dims::<Deep>(), (6, 6));
    assert_eq!(
        dims::<
            BlockDiag<(
                AR1<Const<2>>,
                CompoundSymmetric<Const<3>>,
                Identity<Const<1>>
            )>,
        >(),
        (6, 6)
    );
    assert_eq!(
        dims::<Augment<(EqualEntry<Const<2>, Const<3>>, Scalar<Const<2>>)>>(),
        (2, 5)
    );
    assert_eq!(dims::<Gram<EqualEntry<Const<3>, Const<2>>>>(), (2, 2));
    assert_eq!(
        dims::<Gram<EqualEntry<Const<3>, Const<2>>, Outer>>(),
        (3, 3)
    );
}

#[test]
fn value_static_builds_no_parameter_table() {
    // `Structure::value_static` allocates the θ vector and what
    // `Structure::value` allocates, nothing for names.
    let shape = Default::default();
    let (v, n) = allocations(|| <Nested as Structure>::value_static(&shape, [0.0; 9]));
    let theta = vec![1.0f64; 9];
    let (_, value_alone) = allocations(|| <Nested as Structure>::value(&shape, &theta));
    assert_eq!(n, value_alone + 1, "value_static");
    assert_eq!(v[(0, 0)], 2.0);
}
