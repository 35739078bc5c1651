//! Tied parameters given by a type: [`TieAll`] (one new parameter feeds
//! every adaptee parameter) and [`Tie`] (an index table, `θ_k = φ_{idx[k]}`
//! or a constant), the maps of an [`Adapter`](super::Adapter) known at
//! compile time.

use super::adapter::ParamMap;
use crate::{CovError, ParamSpec, Real};
use nalgebra::{Const, DMatrix, Dim};
use std::marker::PhantomData;

/// One new parameter feeds every adaptee parameter: `θ_k = φ` for all `k`.
///
/// The new parameter takes the local name, default and transform of the
/// adaptee's first parameter (`sigma^2` for blocks of [`Scalar`](crate::Scalar)).
/// See [`Adapter`](super::Adapter) for an example.
#[derive(Clone, Copy, Default, Debug)]
pub struct TieAll;

impl ParamMap for TieAll {
    type NParams = Const<1>;
    type Shape = ();
    const NAME: &'static str = "TieAll";

    fn check(_: &(), adaptee: &[ParamSpec]) -> Result<(), CovError> {
        if adaptee.is_empty() {
            return Err(CovError::InvalidMap {
                adaptee: "TieAll",
                details: "the adaptee has no parameters to tie".into(),
            });
        }
        Ok(())
    }
    fn param_specs(_: &(), adaptee: &[ParamSpec]) -> Vec<ParamSpec> {
        let first = &adaptee[0];
        vec![ParamSpec::new(
            first.name.local().to_owned(),
            first.default,
            first.transform.clone(),
        )
        .kind(first.kind)]
    }
    fn param_count(_: &(), _: usize) -> usize {
        1
    }
    fn map<T: Real>(_: &(), phi: &[T], theta: &mut [T]) {
        theta.fill(phi[0]);
    }
    fn jacobian<T: Real>(_: &(), _: &[T], n_theta: usize) -> DMatrix<T> {
        DMatrix::from_element(n_theta, 1, T::one())
    }
    fn nonzeros(_: &(), n_theta: usize) -> Vec<(usize, usize)> {
        (0..n_theta).map(|k| (k, 0)).collect()
    }
}

/// Where an adaptee parameter takes its value from, in a [`TieTable`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// The new parameter at this position: `θ_k = φ_j`.
    Param(usize),
    /// A constant on the natural scale: `θ_k = c` (the parameter is fixed).
    Natural(f64),
}

/// The table of a [`Tie`] map: the new parameter names and, for each
/// adaptee parameter in order, its [`Source`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tie table",
    note = "implement `covreml::ops::TieTable` with `NAMES`, `SOURCES` and `type NParams = Const<N>`"
)]
pub trait TieTable: Copy + Default + std::fmt::Debug + Send + Sync + 'static {
    /// The new parameters' local names, in order.
    const NAMES: &'static [&'static str];
    /// For each adaptee parameter (in its table order), where it comes from.
    const SOURCES: &'static [Source];
    /// The number of new parameters as a type: `Const<{NAMES.len()}>`.
    type NParams: Dim;
}

/// Tied parameters by an index table in a type: `θ_k = φ_{idx[k]}`, or a
/// natural constant. Each new parameter takes the default and transform of
/// the first adaptee parameter it feeds.
///
/// One correlation shared by both AR(1)s of `AR1 ⊗ AR1`, with the second
/// variance fixed at 1 (the Kronecker product only identifies their product):
///
/// ```
/// use covreml::ops::{Adapter, Kron, Source, Tie, TieTable};
/// use covreml::{Const, Covariance, AR1};
///
/// #[derive(Clone, Copy, Default, Debug)]
/// struct SharedRho;
/// impl TieTable for SharedRho {
///     const NAMES: &'static [&'static str] = &["sigma^2", "rho"];
///     // op_0/sigma^2, op_0/rho, op_1/sigma^2, op_1/rho
///     const SOURCES: &'static [Source] =
///         &[Source::Param(0), Source::Param(1), Source::Natural(1.0), Source::Param(1)];
///     type NParams = Const<2>;
/// }
///
/// let g = Covariance::<Adapter<Kron<AR1, AR1>, Tie<SharedRho>>>::new(((2, 2), ())).unwrap();
/// assert_eq!(g.names(), ["sigma^2", "rho"]);
/// let rho = 0.5f64;
/// let v = g.value(&[0.0, g.specs()[1].transform.inverse(rho)]).unwrap(); // σ² = 1, ρ = 0.5
/// // V = [[1, ρ], [ρ, 1]] ⊗ [[1, ρ], [ρ, 1]]: the corner is ρ·ρ
/// assert!((v[(0, 3)] - 0.25).abs() < 1e-15);
/// assert!((v[(0, 1)] - 0.5).abs() < 1e-15);
/// ```
pub struct Tie<Table>(PhantomData<Table>);

super::zst_impls!(Tie<Table>);

/// The first adaptee parameter fed by new parameter `j`.
fn first_fed(j: usize, sources: &[Source]) -> Option<usize> {
    sources.iter().position(|s| *s == Source::Param(j))
}

impl<Table: TieTable> ParamMap for Tie<Table> {
    type NParams = Table::NParams;
    type Shape = ();
    const NAME: &'static str = "Tie";

    fn check(_: &(), adaptee: &[ParamSpec]) -> Result<(), CovError> {
        let (names, sources) = (Table::NAMES, Table::SOURCES);
        let invalid = |details: String| CovError::InvalidMap {
            adaptee: "Tie",
            details,
        };
        if let Some(n) = <Table::NParams as Dim>::try_to_usize() {
            if n != names.len() {
                return Err(invalid(format!(
                    "NParams is {n} but NAMES has {} names",
                    names.len()
                )));
            }
        }
        if sources.len() != adaptee.len() {
            return Err(invalid(format!(
                "SOURCES has {} entries but the adaptee has {} parameters ({})",
                sources.len(),
                adaptee.len(),
                adaptee
                    .iter()
                    .map(|s| s.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for (k, s) in sources.iter().enumerate() {
            match *s {
                Source::Param(j) if j >= names.len() => {
                    return Err(invalid(format!(
                        "`{}` takes new parameter {j}, but there are {} ({})",
                        adaptee[k].name,
                        names.len(),
                        names.join(", ")
                    )))
                }
                Source::Natural(c) if !c.is_finite() => {
                    return Err(CovError::NotFinite {
                        name: adaptee[k].name.to_string(),
                        value: c,
                    })
                }
                _ => {}
            }
        }
        for (j, name) in names.iter().enumerate() {
            if first_fed(j, sources).is_none() {
                let used: Vec<&str> = (0..names.len())
                    .filter(|&i| first_fed(i, sources).is_some())
                    .map(|i| names[i])
                    .collect();
                return Err(CovError::UnusedParam {
                    name: (*name).to_owned(),
                    used: used.join(", "),
                });
            }
        }
        Ok(())
    }
    fn param_specs(_: &(), adaptee: &[ParamSpec]) -> Vec<ParamSpec> {
        Table::NAMES
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let from = &adaptee[first_fed(j, Table::SOURCES).expect("checked")];
                ParamSpec::new(*name, from.default, from.transform.clone()).kind(from.kind)
            })
            .collect()
    }
    fn param_count(_: &(), _: usize) -> usize {
        Table::NAMES.len()
    }
    fn map<T: Real>(_: &(), phi: &[T], theta: &mut [T]) {
        for (t, s) in theta.iter_mut().zip(Table::SOURCES) {
            *t = match *s {
                Source::Param(j) => phi[j],
                Source::Natural(c) => T::c(c),
            };
        }
    }
    fn jacobian<T: Real>(_: &(), _: &[T], n_theta: usize) -> DMatrix<T> {
        let mut jac = DMatrix::zeros(n_theta, Table::NAMES.len());
        for (k, s) in Table::SOURCES.iter().enumerate() {
            if let Source::Param(j) = *s {
                jac[(k, j)] = T::one();
            }
        }
        jac
    }
    fn nonzeros(_: &(), _: usize) -> Vec<(usize, usize)> {
        Table::SOURCES
            .iter()
            .enumerate()
            .filter_map(|(k, s)| match *s {
                Source::Param(j) => Some((k, j)),
                Source::Natural(_) => None,
            })
            .collect()
    }
}
