#!/bin/sh
# The iterative backend against the exact sparse one, same run, each fit in
# its own process (peak memory per backend):
#   sh benches/iterative.sh [ml1m|insteval|ml32m] [runs]
# Prints each run's JSON line (wall time, VmHWM) and /usr/bin/time's maximum
# resident set, then the agreement: |iterative − exact| / SE and / MC SE.
set -e
shape=${1:-ml1m}
runs=${2:-1}
cargo build --release --example iterative >/dev/null 2>&1
bin=target/release/examples/iterative
out=$(mktemp -d)
for r in $(seq "$runs"); do
  for b in sparse iterative; do
    /usr/bin/time -f "$b run $r: %e s wall, %M KB max RSS" "$bin" "$shape" "$b" \
      >"$out/$b.$r.json" 2>"$out/$b.$r.err" || true
    tail -1 "$out/$b.$r.err"
    cat "$out/$b.$r.json"
  done
done
python3 - "$out" "$runs" <<'PY'
import json, sys
d, runs = sys.argv[1], int(sys.argv[2])
for r in range(1, runs + 1):
    e = json.load(open(f"{d}/sparse.{r}.json"))
    i = json.load(open(f"{d}/iterative.{r}.json"))
    for k, name in enumerate(e["names"]):
        diff = i["natural"][k] - e["natural"][k]
        print(f"run {r} {name}: exact {e['natural'][k]:.6g} (SE {e['standard_errors'][k]:.3g}), "
              f"iterative {i['natural'][k]:.6g} (MC SE {i['mc_standard_errors'][k]:.3g}); "
              f"diff/SE {diff / e['standard_errors'][k]:+.3f}, diff/MC SE {diff / i['mc_standard_errors'][k]:+.2f}")
    print(f"run {r} exact: {e['fit_seconds']:.1f} s fit, {e['iterations']} iterations, {e['peak_rss_mb']:.0f} MB; "
          f"iterative: {i['fit_seconds']:.1f} s fit, {i['iterations']} iterations, {i['peak_rss_mb']:.0f} MB")
PY
