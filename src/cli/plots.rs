//! `fit --plots DIR`: SVG figures of a fit, drawn with `plotters`' SVG
//! backend (text as SVG `<text>` elements: no fonts needed).
//!
//! - `residuals_fitted.svg`: conditional residuals against fitted values,
//!   one point per observation, a line at 0;
//! - `qq.svg`: normal QQ plot of the standardised residuals (sorted
//!   against the normal quantiles of R's `ppoints`), one point per
//!   observation, the line `y = x`;
//! - `loglik.svg`: the log-likelihood at each iteration of the fit, one
//!   point per iteration;
//! - `blups_TERM_COEF.svg`, one per random term and coefficient: a
//!   caterpillar plot, the BLUPs in increasing order, each with its 95 %
//!   interval `û ± 1.96 √PEV`, one point per level;
//! - `semivariogram.svg` (and the numbers in `semivariogram.csv`), for a
//!   spatial residual `exp/gau/sph(x + y[, nugget][ | g])` only: the
//!   empirical semivariogram of the **conditional** residuals
//!   `y − Xβ̂ − Zû` (half the mean squared difference over the pairs of
//!   observations, within the same level of `g`, whose distance falls in
//!   each of 20 equal-width bins over `(0, max distance]`; empty bins
//!   skipped), one point per bin at the mean distance of its pairs, and
//!   the fitted model `σ²ν + σ²(1 − ν)(1 − k(d/r))` (nugget `σ²ν` at
//!   distance 0+, tending to the sill `σ²`) as a line of 200 points over
//!   `(0, max distance]`. The CSV has columns `kind,distance,pairs,semivariance`
//!   with `kind` `empirical` (one row per bin) or `model` (the line).

use super::tables::post_failure;
use super::{data_error, Failure};
use crate::data::Table;
use crate::formula::{FittedValues, FormulaModel, Residual, SpatialKernel};
use crate::inference::Z_975;
use crate::reml::RemlFit;
use plotters::prelude::*;
use std::path::Path;

const SIZE: (u32, u32) = (720, 540);

/// A random term and coefficient.
type Key = (String, String);
/// A level, its BLUP and standard error.
type Row = (String, f64, f64);

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Failure {
    data_error(format!("cannot draw `{}`: {e}", path.display()))
}

/// A tick label: at most 6 significant digits, no trailing zeros
/// (`100`, `-2.5`, `0.001`), exponent notation outside 1e-4 ≤ |x| < 1e6.
pub(crate) fn tick(x: &f64) -> String {
    let a = x.abs();
    if a < 1e-12 {
        return "0".into();
    }
    let s = if (1e-4..1e6).contains(&a) {
        let decimals = (5 - a.log10().floor() as i64).clamp(0, 10) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// A tick label for a whole-number axis (iterations): blank between.
fn whole_tick(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

/// A padded range holding every value (a unit one around a single value).
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return -1.0..1.0;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    (lo - pad)..(hi + pad)
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9: enough for a plot).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// A scatter plot of `points` with a reference line through `line`;
/// `[title, x_desc, y_desc]` its texts.
fn scatter(
    path: &Path,
    [title, x_desc, y_desc]: [&str; 3],
    points: &[(f64, f64)],
    line: [(f64, f64); 2],
    ranges: Option<(std::ops::Range<f64>, std::ops::Range<f64>)>,
    whole_x: bool,
) -> Result<(), Failure> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (xr, yr) = ranges.unwrap_or_else(|| {
        (
            range(points.iter().map(|p| p.0)),
            range(points.iter().map(|p| p.1)),
        )
    });
    let (xr_start, xr_end) = (xr.start, xr.end);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xr, yr)
        .map_err(|e| err(&e))?;
    let x_ticks = if whole_x {
        // One tick per whole number up to 12, fewer beyond.
        let span = (xr_end - xr_start).round().max(1.0) as usize;
        span.min(12) + 1
    } else {
        10
    };
    chart
        .configure_mesh()
        .max_light_lines(1)
        .x_labels(x_ticks)
        .x_label_formatter(if whole_x { &whole_tick } else { &tick })
        .y_label_formatter(&tick)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(line, RED.stroke_width(1)))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3, BLUE.mix(0.7).filled())),
        )
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// A file name made of `s`: letters, digits, `-` and `_` kept, the rest `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the figures of `fit` into `dir` (created if missing); returns
/// the files written.
pub(crate) fn write_plots(
    dir: &str,
    model: &FormulaModel,
    fit: &RemlFit,
    table: &Table,
) -> Result<Vec<String>, Failure> {
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| data_error(format!("cannot create `{}`: {e}", dir.display())))?;
    let mut written = Vec::new();
    let f = model.fitted_values(fit).map_err(post_failure)?;
    plot_residuals_fitted(dir, &f, &mut written)?;
    plot_qq(dir, &f.residuals, &mut written)?;
    plot_loglik(dir, fit, &mut written)?;
    plot_blups(dir, model, fit, &mut written)?;
    plot_semivariogram(dir, model, fit, table, &f.residuals, &mut written)?;
    Ok(written)
}

/// Residuals against fitted values.
fn plot_residuals_fitted(
    dir: &Path,
    f: &FittedValues,
    written: &mut Vec<String>,
) -> Result<(), Failure> {
    let points: Vec<(f64, f64)> = f
        .fitted
        .iter()
        .copied()
        .zip(f.residuals.iter().copied())
        .collect();
    let xr = range(f.fitted.iter().copied());
    let path = dir.join("residuals_fitted.svg");
    scatter(
        &path,
        [
            "Residuals against fitted values",
            "fitted (conditional)",
            "residual",
        ],
        &points,
        [(xr.start, 0.0), (xr.end, 0.0)],
        None,
        false,
    )?;
    written.push(path.display().to_string());

    Ok(())
}

/// The normal QQ plot of the standardised `residuals`.
fn plot_qq(dir: &Path, residuals: &[f64], written: &mut Vec<String>) -> Result<(), Failure> {
    let n = residuals.len();
    let mean = residuals.iter().sum::<f64>() / n.max(1) as f64;
    let sd =
        (residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64).sqrt();
    let mut std_res: Vec<f64> = residuals
        .iter()
        .map(|r| if sd > 0.0 { (r - mean) / sd } else { 0.0 })
        .collect();
    std_res.sort_by(f64::total_cmp);
    let a = if n <= 10 { 3.0 / 8.0 } else { 0.5 };
    let qq: Vec<(f64, f64)> = std_res
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let p = (i as f64 + 1.0 - a) / (n as f64 + 1.0 - 2.0 * a);
            (normal_quantile(p), r)
        })
        .collect();
    // Each axis its own range; the line y = x over the part of it inside.
    let (qx, qy) = (range(qq.iter().map(|p| p.0)), range(qq.iter().map(|p| p.1)));
    let (lo, hi) = (qx.start.max(qy.start), qx.end.min(qy.end));
    let path = dir.join("qq.svg");
    scatter(
        &path,
        [
            "Normal QQ plot of the standardised residuals",
            "normal quantile",
            "standardised residual",
        ],
        &qq,
        [(lo, lo), (hi, hi)],
        Some((qx, qy)),
        false,
    )?;
    written.push(path.display().to_string());

    Ok(())
}

/// The log-likelihood by iteration (none without a history).
fn plot_loglik(dir: &Path, fit: &RemlFit, written: &mut Vec<String>) -> Result<(), Failure> {
    let ll: Vec<(f64, f64)> = fit
        .history
        .iter()
        .map(|it| (it.iter as f64, it.loglik))
        .collect();
    if !ll.is_empty() {
        let path = dir.join("loglik.svg");
        let last = ll[ll.len() - 1];
        let xr = (ll[0].0 - 0.5)..(last.0 + 0.5);
        let yr = range(ll.iter().map(|p| p.1));
        scatter(
            &path,
            [
                &format!(
                    "{} log-likelihood by iteration (line: the final value)",
                    fit.method
                ),
                "iteration",
                "log-likelihood",
            ],
            &ll,
            [(xr.start, last.1), (xr.end, last.1)],
            Some((xr, yr)),
            true,
        )?;
        written.push(path.display().to_string());
    }

    Ok(())
}

/// One caterpillar plot of BLUPs per term and coefficient.
fn plot_blups(
    dir: &Path,
    model: &FormulaModel,
    fit: &RemlFit,
    written: &mut Vec<String>,
) -> Result<(), Failure> {
    let effects = model.random_effects(fit).map_err(post_failure)?;
    let mut groups: Vec<(Key, Vec<Row>)> = Vec::new();
    for e in effects {
        let key = (e.term.clone(), e.coefficient.clone());
        let row = (e.level, e.blup, e.standard_error);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    for ((term, coef), mut rows) in groups {
        rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        let path = dir.join(format!(
            "blups_{}_{}.svg",
            file_part(&term),
            file_part(&coef)
        ));
        caterpillar(&path, &term, &coef, &rows)?;
        written.push(path.display().to_string());
    }
    Ok(())
}

/// The empirical semivariogram of the `residuals` against the fitted one,
/// for a spatial residual (nothing otherwise).
fn plot_semivariogram(
    dir: &Path,
    model: &FormulaModel,
    fit: &RemlFit,
    table: &Table,
    residuals: &[f64],
    written: &mut Vec<String>,
) -> Result<(), Failure> {
    if let Residual::Spatial {
        kernel,
        coords,
        group,
        ..
    } = model.residual()
    {
        let dropped = model.dropped_lines();
        let keep: Vec<bool> = table.lines().iter().map(|l| !dropped.contains(l)).collect();
        let used = |v: Vec<f64>| -> Vec<f64> {
            v.into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| x)
                .collect()
        };
        let mut xy = Vec::new();
        for c in coords {
            xy.push(used(
                table
                    .numeric(&c.name)
                    .map_err(|e| data_error(e.to_string()))?,
            ));
        }
        let groups: Vec<String> = match group {
            Some(g) => table
                .column(&g.name)
                .map_err(|e| data_error(e.to_string()))?
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| x.clone())
                .collect(),
            None => vec![String::new(); residuals.len()],
        };
        let comps = model.variance_components(fit);
        let param = |name: Option<&str>| {
            comps
                .iter()
                .find(|c| c.group == "Residual" && c.var1.as_deref() == name)
                .map(|c| c.value)
        };
        let sigma2 = param(None).unwrap_or(f64::NAN);
        let r = param(Some("range")).unwrap_or(f64::NAN);
        let nu = param(Some("nugget")).unwrap_or(0.0);
        let v = Variogram {
            kernel: *kernel,
            sigma2,
            range: r,
            nugget: nu,
        };
        let path = dir.join("semivariogram.svg");
        semivariogram(&path, &xy, &groups, residuals, &v)?;
        written.push(path.display().to_string());
        written.push(dir.join("semivariogram.csv").display().to_string());
    }
    Ok(())
}

/// A fitted isotropic spatial residual: `σ² ((1 − ν) k(d/r) + ν δ)`.
struct Variogram {
    kernel: SpatialKernel,
    sigma2: f64,
    range: f64,
    nugget: f64,
}

impl Variogram {
    /// The model semivariogram at distance `d > 0`.
    fn at(&self, d: f64) -> f64 {
        let u = d / self.range;
        let k = match self.kernel {
            SpatialKernel::Exponential => (-u).exp(),
            SpatialKernel::Gaussian => (-u * u).exp(),
            SpatialKernel::Spherical => {
                if u < 1.0 {
                    1.0 - 1.5 * u + 0.5 * u.powi(3)
                } else {
                    0.0
                }
            }
        };
        self.sigma2 * (self.nugget + (1.0 - self.nugget) * (1.0 - k))
    }
}

/// Bins of the semivariogram.
const BINS: usize = 20;
/// Points of the model line.
const LINE_POINTS: usize = 200;

/// The empirical semivariogram of `res` at coordinates `xy` (pairs within
/// the same group) and the model line; the SVG at `path`, the numbers
/// next to it in `semivariogram.csv`.
fn semivariogram(
    path: &Path,
    xy: &[Vec<f64>],
    groups: &[String],
    res: &[f64],
    v: &Variogram,
) -> Result<(), Failure> {
    let (points, dmax) = empirical_semivariogram(xy, groups, res);
    let top = dmax.max(f64::MIN_POSITIVE);
    let line: Vec<(f64, f64)> = (0..LINE_POINTS)
        .map(|k| {
            let d = if k == 0 {
                1e-9 * top
            } else {
                top * k as f64 / (LINE_POINTS - 1) as f64
            };
            (d, v.at(d))
        })
        .collect();
    let mut csv = String::from("kind,distance,pairs,semivariance\n");
    for p in &points {
        csv.push_str(&format!("empirical,{},{},{}\n", p.0, p.2, p.1));
    }
    for p in &line {
        csv.push_str(&format!("model,{},0,{}\n", p.0, p.1));
    }
    let csv_path = path.with_file_name("semivariogram.csv");
    std::fs::write(&csv_path, csv).map_err(|e| plot_error(&csv_path, e))?;

    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let yr = range(
        points
            .iter()
            .map(|p| p.1)
            .chain(line.iter().map(|p| p.1))
            .chain([0.0]),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Semivariogram of the conditional residuals",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..top * 1.02, yr)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .max_light_lines(1)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_desc("distance")
        .y_desc("semivariance")
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(line, RED.stroke_width(2)))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.0, p.1), 4, BLUE.filled())),
        )
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The empirical semivariogram of `res` at coordinates `xy` (pairs within a
/// group only): `(mean distance, semivariance, pairs)` per nonempty bin of
/// [`BINS`] up to the largest distance, returned with it.
fn empirical_semivariogram(
    xy: &[Vec<f64>],
    groups: &[String],
    res: &[f64],
) -> (Vec<(f64, f64, usize)>, f64) {
    let n = res.len();
    let dist = |i: usize, j: usize| xy.iter().map(|c| (c[i] - c[j]).powi(2)).sum::<f64>().sqrt();
    let mut dmax: f64 = 0.0;
    for i in 0..n {
        for j in 0..i {
            if groups[i] == groups[j] {
                dmax = dmax.max(dist(i, j));
            }
        }
    }
    // (sum of distances, sum of half squared differences, pairs) per bin.
    let mut bins = vec![(0.0, 0.0, 0usize); BINS];
    if dmax > 0.0 {
        for i in 0..n {
            for j in 0..i {
                let d = dist(i, j);
                if groups[i] != groups[j] || d <= 0.0 {
                    continue;
                }
                let b = (((d / dmax) * BINS as f64).ceil() as usize).clamp(1, BINS) - 1;
                bins[b].0 += d;
                bins[b].1 += 0.5 * (res[i] - res[j]).powi(2);
                bins[b].2 += 1;
            }
        }
    }
    let points: Vec<(f64, f64, usize)> = bins
        .iter()
        .filter(|b| b.2 > 0)
        .map(|b| (b.0 / b.2 as f64, b.1 / b.2 as f64, b.2))
        .collect();
    (points, dmax)
}

/// BLUPs in increasing order with `± 1.96 √PEV` bars.
fn caterpillar(
    path: &Path,
    term: &str,
    coef: &str,
    rows: &[(String, f64, f64)],
) -> Result<(), Failure> {
    let err = |e: &dyn std::fmt::Display| plot_error(path, e);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let xr = range(
        rows.iter()
            .flat_map(|r| [r.1 - Z_975 * r.2, r.1 + Z_975 * r.2]),
    );
    let m = rows.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("BLUPs of {term}: {coef} (95% intervals)"),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xr, -0.5..(m - 0.5).max(0.5))
        .map_err(|e| err(&e))?;
    // Smaller points when there are many levels (they would overlap).
    let radius = match rows.len() {
        0..=40 => 3,
        41..=150 => 2,
        _ => 1,
    };
    // Level names on the axis when they fit (at most 40 levels).
    let label = |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < rows.len() {
            rows[i as usize].0.clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .max_light_lines(1)
        .x_label_formatter(&tick)
        .x_desc("BLUP")
        .y_desc(if rows.len() <= 40 {
            "level (ordered by BLUP)".to_string()
        } else {
            format!("{} levels, ordered by BLUP", rows.len())
        })
        .y_labels(if rows.len() <= 40 { rows.len() } else { 0 })
        .y_label_formatter(&label)
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, -0.5), (0.0, m - 0.5)],
            RED.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            PathElement::new(
                vec![(r.1 - Z_975 * r.2, i as f64), (r.1 + Z_975 * r.2, i as f64)],
                BLACK.mix(0.6).stroke_width(1),
            )
        }))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Circle::new((r.1, i as f64), radius, BLUE.filled())),
        )
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn normal_quantile_known_values() {
        use super::normal_quantile;
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!(normal_quantile(0.5).abs() < 1e-12);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813).abs() < 1e-8);
    }
}
