//! `V = σ² J` (n × m, every entry σ²). Parameter `sigma^2`, transform `e^{2x}`.
//!
//! `∂V/∂σ² = J`.

use super::zero_sized;
use crate::structure::Size;
use crate::{ParamSpec, ParamTable, Real, Structure};
use nalgebra::DMatrix;

zero_sized! {
    /// Every entry equal to one variance: `σ² J_{n×m}`. Shape `(n, m)`.
    ///
    /// ```
    /// use covreml::{Covariance, EqualEntry};
    /// let e = Covariance::<EqualEntry>::new((2, 3)).unwrap();
    /// let v = e.value(&[0.5]).unwrap(); // σ² = e
    /// assert_eq!(v.shape(), (2, 3));
    /// assert!((v[(1, 2)] - std::f64::consts::E).abs() < 1e-15);
    /// ```
    #[derive(crate::ParamTable)]
    #[params("sigma^2")]
    EqualEntry<N, M>
}

impl<N: Size, M: Size> Structure for EqualEntry<N, M> {
    type Rows = N;
    type Cols = M;
    type NParams = <Self as ParamTable>::Count;
    type Shape = (N::Shape, M::Shape);
    const NAME: &'static str = "EqualEntry";

    fn default_transforms<T: Real>(
        _: &Self::Shape,
        free: &[T],
        theta: &mut [T],
        dtheta: Option<&mut [T]>,
    ) {
        super::apply_transforms(free, theta, dtheta, |_| super::LeafTransform::Variance);
    }

    fn dims(shape: &Self::Shape) -> (usize, usize) {
        (N::get(&shape.0), M::get(&shape.1))
    }
    fn param_count(_: &Self::Shape) -> usize {
        Self::PARAM_NAMES.len()
    }
    fn param_specs(_: &Self::Shape) -> Vec<ParamSpec> {
        vec![ParamSpec::variance(Self::PARAM_NAMES[0])]
    }
    fn value<T: Real>(shape: &Self::Shape, theta: &[T]) -> DMatrix<T> {
        let (r, c) = Self::dims(shape);
        DMatrix::from_element(r, c, theta[0])
    }
    fn jacobian<T: Real>(shape: &Self::Shape, _: &[T]) -> Option<Vec<DMatrix<T>>> {
        let (r, c) = Self::dims(shape);
        Some(vec![super::ones(r, c)])
    }
}

/// Static evaluation (`EqualEntry<Const<N>, Const<M>>`): the same formulas into stack-allocated
/// matrices; see [`StaticStructure`](crate::StaticStructure).
impl<const N: usize, const M: usize> crate::StaticStructure
    for EqualEntry<nalgebra::Const<N>, nalgebra::Const<M>>
{
    type SRows = nalgebra::Const<N>;
    type SCols = nalgebra::Const<M>;
    #[inline]
    fn value_slice<T: Real>(theta: &[T]) -> nalgebra::SMatrix<T, N, M> {
        nalgebra::SMatrix::from_element(theta[0])
    }
    #[inline]
    fn jacobian_slice<T: Real>(_: &[T]) -> crate::static_structure::StaticJacobian<T, Self> {
        crate::static_structure::jacobian_from_fn(|_| nalgebra::SMatrix::from_element(T::one()))
    }
}
