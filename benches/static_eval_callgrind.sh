#!/bin/sh
# Instructions per evaluation of each cell of the static_eval table, counted
# by callgrind (stable under load, unlike times): the difference between
# runs of 2,000 and 1,000 evaluations, divided by 1,000.
# Usage: benches/static_eval_callgrind.sh <static_eval binary> [cells…]
# (build it with `cargo bench --bench static_eval --no-run`; default cells:
# the hand-written and static value and Jacobian of every row).
set -e
bin=$1
shift
cells=${*:-"0/hv 0/sv 0/hj 0/sj 1/hv 1/sv 1/hj 1/sj 2/hv 2/sv 2/hj 2/sj 3/hv 3/sv 3/hj 3/sj"}
out=$(mktemp -d)
count() {
    STATIC_EVAL_CELL=$1 STATIC_EVAL_RUNS=1 STATIC_EVAL_EVALS=$2 \
        valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" >/dev/null 2>"$out/log"
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$out/log"
}
for c in $cells; do
    a=$(count "$c" 1000)
    b=$(count "$c" 2000)
    echo "$c $(( (b - a) / 1000 ))"
done
rm -r "$out"
