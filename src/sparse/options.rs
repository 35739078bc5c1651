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
    /// Supernodal when the factorization costs at least 10 flops per
    /// nonzero of `L` (faer's own default is 40): with the narrow-supernode
    /// kernels of the selected inverse, crossed_2000 fits 20 % faster
    /// supernodal, and a 100,000-animal pedigree fits in 1.10 s against
    /// 1.20 s simplicial; sleepstudy and Penicillin stay simplicial.
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
    /// `1` is sequential. Kernels of fewer than `2e9` flops always run
    /// sequentially.
    pub threads: usize,
}
