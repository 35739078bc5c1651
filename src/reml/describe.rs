//! A parameter point as messages show it: every parameter when there are
//! few, else the ones farthest from the default start (0 on the free scale
//! for every built-in structure) and a summary of the rest.

use crate::typed::display::num;
use crate::Transform;

/// At most this many parameters are listed one by one.
const LISTED: usize = 6;

/// `name = free (natural …)` for each parameter when there are at most
/// [`LISTED`]; otherwise the [`LISTED`] largest in `|free|` and a summary
/// (`… and 54 more with |free| ≤ 0.3`).
pub(crate) fn describe_point(names: &[String], tr: &[Transform], x: &[f64]) -> String {
    let one = |i: usize| {
        format!(
            "{} = {} (natural {})",
            names[i],
            num(x[i]),
            num(tr[i].forward(x[i]))
        )
    };
    let k = names.len().min(tr.len()).min(x.len());
    if k <= LISTED {
        return (0..k).map(one).collect::<Vec<_>>().join(", ");
    }
    let mut order: Vec<usize> = (0..k).collect();
    // NaN first: it is what matters most.
    order.sort_by(|&a, &b| {
        let key = |i: usize| {
            if x[i].is_nan() {
                f64::INFINITY
            } else {
                x[i].abs()
            }
        };
        key(b).total_cmp(&key(a)).then(a.cmp(&b))
    });
    let (shown, rest) = order.split_at(LISTED);
    let mut shown = shown.to_vec();
    shown.sort_unstable();
    let rest_max = rest.iter().map(|&i| x[i].abs()).fold(0.0, f64::max);
    format!(
        "{} parameters; the {LISTED} farthest from 0 on the free scale: {}; the other {} have |free| ≤ {}",
        k,
        shown.iter().map(|&i| one(i)).collect::<Vec<_>>().join(", "),
        rest.len(),
        num(rest_max)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_parameters_are_all_listed_many_are_summarised() {
        let t = vec![Transform::ExpPow2; 2];
        let names: Vec<String> = vec!["a".into(), "b".into()];
        assert_eq!(
            describe_point(&names, &t, &[0.0, 200.0]),
            "a = 0 (natural 1), b = 200 (natural 5.221469689764144e173)"
        );
        let names: Vec<String> = (0..60).map(|i| format!("p{i}")).collect();
        let mut x = vec![0.1; 60];
        x[42] = -3.0;
        let t = vec![Transform::Identity; 60];
        let s = describe_point(&names, &t, &x);
        assert!(s.starts_with("60 parameters; the 6 farthest"), "{s}");
        assert!(s.contains("p42 = -3 (natural -3)"), "{s}");
        assert!(s.ends_with("the other 54 have |free| ≤ 0.1"), "{s}");
    }
}
