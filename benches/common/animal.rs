//! The simulated pedigree of 100,000 animals in 5 generations (20,000 per
//! generation; each generation's parents are 100 sires and 10,000 dams of
//! the one before; 5% of parents unknown; rows shuffled) and the animal
//! model on it, shared by `benches/pedigree.rs` and `benches/mme.rs`.

use covreml::pedigree::{Pedigree, SymmetricCsc};
use covreml::reml::MixedModel;
use covreml::structures::FixedInverse;
use covreml::{Covariance, Kron, Scalar};

/// xorshift64*, fixed seeds: the same data on every run.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `(animal, sire, dam)` ids of the simulated pedigree, rows shuffled.
pub fn simulate(
    per_generation: usize,
    generations: usize,
    sires: usize,
    dams: usize,
) -> [Vec<String>; 3] {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rows: Vec<(usize, Option<usize>, Option<usize>)> = Vec::new();
    let mut previous: Vec<usize> = Vec::new();
    for g in 0..generations {
        let first = rows.len();
        // first half of each generation male, second half female
        let (males, females) = previous.split_at(previous.len() / 2);
        let chosen_sires: Vec<usize> = (0..sires.min(males.len()))
            .map(|_| males[rng.below(males.len())])
            .collect();
        let chosen_dams: Vec<usize> = (0..dams.min(females.len()))
            .map(|_| females[rng.below(females.len())])
            .collect();
        for i in 0..per_generation {
            let mut parent =
                |pool: &[usize]| (g > 0 && rng.below(20) != 0).then(|| pool[rng.below(pool.len())]);
            let s = parent(&chosen_sires);
            let d = parent(&chosen_dams);
            rows.push((first + i, s, d));
        }
        previous = (first..first + per_generation).collect();
    }
    for i in (1..rows.len()).rev() {
        let j = rng.below(i + 1);
        rows.swap(i, j);
    }
    let id = |x: Option<usize>| x.map_or_else(|| "0".to_string(), |x| format!("A{x:06}"));
    [
        rows.iter().map(|r| id(Some(r.0))).collect(),
        rows.iter().map(|r| id(r.1)).collect(),
        rows.iter().map(|r| id(r.2)).collect(),
    ]
}

/// The pedigree of 100,000 animals.
pub fn pedigree_100k() -> Pedigree {
    let [a, s, d] = simulate(20_000, 5, 100, 10_000);
    Pedigree::from_columns(&a, &s, &d).expect("pedigree")
}

/// An animal model on the whole pedigree: `y = μ + a + e`,
/// `a ~ N(0, σ²ₐ A)` with `A⁻¹` as a `FixedInverse`, breeding values
/// simulated down the pedigree (σ²ₐ = 1, σ²ₑ = 2).
pub fn animal_model(p: &Pedigree, ainv: &SymmetricCsc) -> MixedModel {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut normal = move || {
        // Box–Muller from two uniforms in (0, 1).
        let u1 = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 + 1e-300;
        let u2 = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let d = p.mendelian_variances();
    let n = p.len();
    let mut a = vec![0.0; n];
    for i in 0..n {
        let parent = |x: Option<usize>| x.map_or(0.0, |j| a[j]);
        a[i] = 0.5 * (parent(p.sire(i)) + parent(p.dam(i))) + d[i].sqrt() * normal();
    }
    let y: Vec<f64> = a
        .iter()
        .map(|ai| 10.0 + ai + 2f64.sqrt() * normal())
        .collect();
    let data = ainv
        .clone()
        .into_inverse_data()
        .expect("A⁻¹ is positive definite");
    let z = p.incidence(p.ids()).expect("animals");
    let g = Covariance::<Kron<Scalar, FixedInverse>>::new((1, data)).expect("σ²ₐ A");
    let x = nalgebra::DMatrix::from_element(n, 1, 1.0);
    MixedModel::with_iid_residual(&y, &x)
        .and_then(|m| m.random("animal", z, Box::new(g)))
        .expect("model")
}
