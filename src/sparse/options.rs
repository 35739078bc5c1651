//! Options fixed when a sparsity pattern is analysed.

/// The fill-reducing ordering applied before factorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ordering {
    /// Approximate minimum degree (faer's AMD).
    #[default]
    Amd,
    /// No permutation: factor the matrix in the order given.
    Identity,
}

/// The storage layout of the Cholesky factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// faer's heuristic (flops per nonzero of `L`) chooses.
    #[default]
    Auto,
    /// Column by column (scalar kernels).
    Simplicial,
    /// Dense blocks per supernode (dense kernels).
    Supernodal,
}

/// Options fixed when the pattern is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SparseOptions {
    /// Fill-reducing ordering.
    pub ordering: Ordering,
    /// Factor layout.
    pub layout: Layout,
    /// Threads for the dense block kernels: `0` uses faer's global setting,
    /// `1` is sequential. Blocks smaller than 256 always run sequentially.
    pub threads: usize,
}
