//! `cargo bench --bench multi_trait`: multi-trait animal models on the
//! simulated 100,000-animal pedigree of `benches/common/animal.rs`, 80,000
//! animals with records (a random sample), 10 % of each trait missing
//! (independently, so ~1 % of records have no trait and are dropped).
//! Breeding values simulated down the pedigree with
//! `G0 = [[1, .5, .3], [.5, 2, .4], [.3, .4, 1.5]]`, residuals with
//! `R0 = [[2, .6, .2], [.6, 3, .5], [.2, .5, 2.5]]` (the first two or three
//! traits). One fit each (a large fit takes tens of seconds): a single-trait
//! baseline on trait 1, the two-trait model (target ≤ 60 s, ≤ 4 GB) and the
//! three-trait model; wall time of build and fit, iterations, estimates,
//! and the peak resident memory (VmHWM) after each.

mod common;
use common::animal::{pedigree_100k, Rng};
use common::peak_rss_mb;
use covreml::multi_trait::{MultiTrait, TraitCovariance};
use covreml::reml::{Backend, RemlOptions};
use std::time::Instant;

fn main() {
    let p = pedigree_100k();
    let n = p.len();
    let mut rng = Rng(0x5eed_0022_0000_0001);
    let mut normal = move || {
        let u1 = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 + 1e-300;
        let u2 = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let chol = |m: [[f64; 3]; 3]| {
        let mut l = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
                l[i][j] = if i == j {
                    (m[i][i] - s).sqrt()
                } else {
                    (m[i][j] - s) / l[j][j]
                };
            }
        }
        l
    };
    let lg = chol([[1.0, 0.5, 0.3], [0.5, 2.0, 0.4], [0.3, 0.4, 1.5]]);
    let lr = chol([[2.0, 0.6, 0.2], [0.6, 3.0, 0.5], [0.2, 0.5, 2.5]]);
    let d = p.mendelian_variances();
    let mut a = vec![[0.0; 3]; n];
    for i in 0..n {
        let z = [normal(), normal(), normal()];
        for k in 0..3 {
            let parent = |x: Option<usize>| x.map_or(0.0, |j| a[j][k]);
            let m = (0..3).map(|j| lg[k][j] * z[j]).sum::<f64>();
            a[i][k] = 0.5 * (parent(p.sire(i)) + parent(p.dam(i))) + d[i].sqrt() * m;
        }
    }
    // 80,000 distinct animals with records
    let mut order: Vec<usize> = (0..n).collect();
    let mut pick = Rng(0x5eed_0022_0000_0002);
    for i in (1..n).rev() {
        let j = pick.below(i + 1);
        order.swap(i, j);
    }
    let recs = &order[..80_000];
    let animals: Vec<String> = recs.iter().map(|&i| p.ids()[i].clone()).collect();
    let mut y: Vec<Vec<f64>> = (0..3).map(|_| Vec::with_capacity(recs.len())).collect();
    let mut miss = Rng(0x5eed_0022_0000_0003);
    for &i in recs {
        let z = [normal(), normal(), normal()];
        for k in 0..3 {
            let e = (0..3).map(|j| lr[k][j] * z[j]).sum::<f64>();
            let v = 10.0 * (k + 1) as f64 + a[i][k] + e;
            y[k].push(if miss.below(10) == 0 { f64::NAN } else { v });
        }
    }
    println!(
        "pedigree {n} animals, {} records, 10 % missing per trait; peak RSS so far {:.0} MB \
         (the machine is shared with other sessions: timings are indicative)",
        recs.len(),
        peak_rss_mb()
    );
    for t in 1..=3 {
        let names = ["y1", "y2", "y3"];
        let start = Instant::now();
        let m = MultiTrait::new(&names[..t], y[..t].to_vec())
            .and_then(|m| m.animal("animal", &animals, &p, TraitCovariance::Unstructured))
            .and_then(|m| m.build())
            .expect("model");
        let build = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let fit = m
            .fit(&RemlOptions::default().backend(Backend::Sparse))
            .expect("fit");
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{t} trait(s): {} observations ({} records dropped), build {build:.2} s, fit {secs:.1} s, \
             {} iterations, {}; {}",
            m.n_obs(),
            m.dropped_records(),
            fit.fit.iterations,
            fit.fit.termination,
            fit.fit.backend
        );
        println!("  G0 = {:.3?}", fit.g[0].covariance.as_slice());
        println!("  R0 = {:.3?}", fit.r.covariance.as_slice());
        let h: Vec<String> = fit
            .heritabilities
            .iter()
            .map(|h| format!("{} {:.3} ± {:.3}", h.trait_name, h.value, h.se))
            .collect();
        println!("  h² {}; peak RSS {:.0} MB", h.join(", "), peak_rss_mb());
    }
}
