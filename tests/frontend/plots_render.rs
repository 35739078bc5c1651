//! Every figure `covreml fit --plots` writes is rendered with `resvg` (an
//! independent SVG renderer): it must parse, have the size written
//! (720 × 540), and show what it claims — enough blue data points spread
//! over the plot area, and the red reference line (`y = 0`, `y = x`, the
//! final log-likelihood, BLUP 0, the fitted semivariogram). `resvg` is
//! built without its text feature: the pixels counted are the marks.

use covreml::cli::run;
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Pixel counts of a rendered figure.
struct Render {
    width: u32,
    height: u32,
    /// Pixels that are not the white background.
    ink: usize,
    /// Blue pixels (the data points), and their bounding box.
    blue: usize,
    blue_box: (u32, u32, u32, u32),
    /// Red pixels (the reference or model line).
    red: usize,
}

fn render(path: &Path) -> Render {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let tree = resvg::usvg::Tree::from_str(&text, &resvg::usvg::Options::default())
        .unwrap_or_else(|e| panic!("{path:?} does not parse: {e}"));
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    let (w, h) = (pixmap.width(), pixmap.height());
    let mut r = Render {
        width: w,
        height: h,
        ink: 0,
        blue: 0,
        blue_box: (u32::MAX, u32::MAX, 0, 0),
        red: 0,
    };
    for (i, p) in pixmap.pixels().iter().enumerate() {
        let c = p.demultiply();
        let (pr, pg, pb, pa) = (c.red() as i32, c.green() as i32, c.blue() as i32, c.alpha());
        if pa < 128 {
            continue;
        }
        if pr < 245 || pg < 245 || pb < 245 {
            r.ink += 1;
        }
        let (x, y) = (i as u32 % w, i as u32 / w);
        if pb > 150 && pb - pr > 80 && pb - pg > 80 {
            r.blue += 1;
            let b = &mut r.blue_box;
            *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
        if pr > 150 && pr - pg > 80 && pr - pb > 80 {
            r.red += 1;
        }
    }
    r
}

/// The figure at `dir/file` renders at 720 × 540 with at least
/// `min_blue` blue pixels spread over at least `spread` of the plot's
/// width and height, and at least `min_red` red ones.
fn check(dir: &Path, file: &str, min_blue: usize, spread: f64, min_red: usize) {
    let r = render(&dir.join(file));
    assert_eq!((r.width, r.height), (720, 540), "{file}");
    assert!(r.ink > 5_000, "{file}: {} pixels drawn", r.ink);
    assert!(r.blue >= min_blue, "{file}: {} blue pixels", r.blue);
    let (x0, y0, x1, y1) = r.blue_box;
    let (fx, fy) = (
        f64::from(x1 - x0) / f64::from(r.width),
        f64::from(y1 - y0) / f64::from(r.height),
    );
    assert!(
        fx >= spread && fy >= spread,
        "{file}: the points span {fx:.2} × {fy:.2} of the figure"
    );
    // Inside the figure's margins (the axes' label areas are not data).
    assert!(
        x0 >= 60 && y0 >= 20 && x1 < r.width - 5 && y1 < r.height - 40,
        "{file}: {:?}",
        r.blue_box
    );
    assert!(r.red >= min_red, "{file}: {} red pixels", r.red);
}

#[test]
fn every_figure_renders_and_shows_its_marks() {
    let dir = std::env::temp_dir().join(format!("covreml_render_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let d = dir.join("sleepstudy");
    let out = run(&argv(&[
        "fit",
        &format!("{DATA}/sleepstudy.csv"),
        "--formula",
        "Reaction ~ Days + (Days | Subject)",
        "--plots",
        d.to_str().unwrap(),
    ]));
    assert_eq!(out.status, 0, "{}", out.stderr);
    // 180 points of radius 3 (about 25 pixels each, overlapping).
    check(&d, "residuals_fitted.svg", 1500, 0.6, 400);
    check(&d, "qq.svg", 1500, 0.6, 400);
    // 6 iterations, one point each.
    check(&d, "loglik.svg", 6 * 15, 0.6, 400);
    // 18 subjects: one point per level, from the bottom to the top.
    check(&d, "blups_Subject__Intercept_.svg", 18 * 15, 0.3, 300);
    check(&d, "blups_Subject_Days.svg", 18 * 15, 0.3, 300);

    let w = dir.join("wheat2");
    let out = run(&argv(&[
        "fit",
        &format!("{DATA}/Wheat2.csv"),
        "--formula",
        "yield ~ variety - 1",
        "--residual",
        "gau(latitude + longitude, nugget)",
        "--plots",
        w.to_str().unwrap(),
    ]));
    assert_eq!(out.status, 0, "{}", out.stderr);
    // The 20 distance bins (points of radius 4) and the fitted line across.
    check(&w, "semivariogram.svg", 15 * 40, 0.5, 800);
    let _ = std::fs::remove_dir_all(&dir);
}
