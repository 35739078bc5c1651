//! The john.alpha alpha-lattice trial (agridat), embedded in the crate.

use crate::data::Table;

/// The CSV text of john.alpha: 72 plots, columns
/// `plot,rep,block,gen,yield,row,col` (3 replicates × 6 incomplete blocks
/// of 4 plots, 24 genotypes).
pub const JOHN_ALPHA_CSV: &str = include_str!("john_alpha.csv");

/// john.alpha as a [`Table`].
///
/// ```
/// let t = covreml::datasets::john_alpha();
/// assert_eq!(t.n_rows(), 72);
/// assert_eq!(t.numeric("yield").unwrap()[0], 4.1172);
/// ```
pub fn john_alpha() -> Table {
    Table::parse(JOHN_ALPHA_CSV).expect("the embedded john.alpha CSV is well formed")
}
