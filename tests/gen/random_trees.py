#!/usr/bin/env python3
"""Random well-formed covariance operator trees for tests/compositions.rs.

Prints Rust source: one `tree!` line per tree, giving a test name, the
structure type and its shape expression. Sizes are kept compatible by building
each tree top-down from its target dimensions:

  Sum / Hadamard   operands of the target size
  Kron             target sizes factored into the operands' sizes
  BlockDiag        target sizes split between the operands
  Propagate        Z n x q (any tree), G q x q
  Gram             X k x n (XᵀX) or n x k (XXᵀ), usually LowerTriangular/Fixed
  Augment / Stack  columns / rows split, operands often non-square
  Product          A r x k, B k x c
  Inverse          only of SPD-ish operands (AR1, Scalar, CS, Diagonal,
                   Equicorrelation, and Sum/Kron/BlockDiag/Hadamard/Inverse of them)
  Transpose        of a c x r tree (usually LowerTriangular/Fixed)
  Named            operand labels La/Lb/Lc (one label per operand position)

Deterministic (fixed seed). Regenerate the committed file with:

    python3 tests/gen/random_trees.py > tests/gen/compositions_generated.rs
"""

import random

SEED = 20240611
N_TREES = 40
MAX_DIM = 6

rng = random.Random(SEED)

SQUARE_LEAVES = ["Identity", "Scalar", "Diagonal", "AR1", "Unconstrained",
                 "Equicorrelation", "CompoundSymmetric"]
SPD_LEAVES = ["Scalar", "Diagonal", "AR1", "Equicorrelation", "CompoundSymmetric"]
LABELS = ["La", "Lb", "Lc"]
OPERATORS = ["Sum", "Kron", "Hadamard", "BlockDiag", "Propagate", "Gram", "Augment",
             "Stack", "Product", "Inverse", "Transpose", "Named"]
LINES = []


def fixed(r, c):
    vals = ", ".join(f"{rng.choice([-1, 1]) * rng.randint(1, 12) / 8:.3f}"
                     for _ in range(r * c))
    return f"fx({r}, {c}, &[{vals}])"


def leaf(r, c, spd=False):
    """A leaf of size r x c: (type, shape)."""
    if r == c:
        choices = list(SPD_LEAVES if spd else SQUARE_LEAVES)
        if r < 2:
            choices = [x for x in choices if x not in ("Equicorrelation", "CompoundSymmetric")]
        if not spd and rng.random() < 0.3:
            choices = ["EqualEntry", "LowerTriangular", "Fixed"]
    else:
        choices = ["EqualEntry", "LowerTriangular", "Fixed"]
    t = rng.choice(choices)
    if t in ("EqualEntry", "LowerTriangular"):
        return t, f"({r}, {c})"
    if t == "Fixed":
        return t, fixed(r, c)
    return t, str(r)


def factor(n):
    """A random factorisation n = a * b."""
    pairs = [(a, n // a) for a in range(1, n + 1) if n % a == 0]
    nontrivial = [p for p in pairs if 1 not in p]
    return rng.choice(nontrivial if nontrivial and rng.random() < 0.8 else pairs)


def split(n):
    a = rng.randint(1, n - 1)
    if n >= 4 and a in (1, n - 1) and rng.random() < 0.7:
        a = rng.randint(2, n - 2)
    return a, n - a


def named(t, i):
    if rng.random() < 0.15:
        return f"Named<{t}, {LABELS[i]}>"
    return t


def sub_depths(d, k):
    """Depths of k operands of a node of depth d: the first reaches d - 1."""
    ds = [d - 1] + [rng.randint(0, d - 1) for _ in range(k - 1)]
    rng.shuffle(ds)
    return ds


def gen(d, r, c, spd=False):
    """A tree of operator depth d (0 = a leaf) and size r x c."""
    if d == 0:
        return leaf(r, c, spd)
    composite = lambda n: any(n % a == 0 for a in range(2, n))
    ops = []
    if spd:
        ops = ["Sum", "Hadamard", "Kron", "Inverse"]
        if r >= 2:
            ops.append("BlockDiag")
        if composite(r):
            ops.append("Kron")
    else:
        ops = ["Sum", "Hadamard", "Product", "Augment", "Stack", "Transpose"]
        ops += ["Kron"] * (1 + 2 * (composite(r) or composite(c)))
        if r == c:
            ops += ["Propagate", "Gram", "Inverse"]
            if r >= 2:
                ops.append("BlockDiag")
        if c < 2:
            ops.remove("Augment")
        if r < 2:
            ops.remove("Stack")
    op = rng.choice(ops)

    if op in ("Sum", "Hadamard"):
        k = rng.choice([2, 2, 3]) if op == "Sum" else 2
        ds = sub_depths(d, k)
        kids = [gen(x, r, c, spd) for x in ds]
        # now and then a broadcasting 1 x 1 Fixed in a non-SPD Sum/Hadamard,
        # added to a Sum or replacing a Hadamard operand that is not deepest
        if not spd and (r, c) != (1, 1) and rng.random() < 0.25:
            scalar = ("Fixed", f"Fixed::scalar({rng.randint(1, 8) / 4})")
            if op == "Sum":
                kids.append(scalar)
            elif ds[0] < d - 1 or ds[1] < d - 1:
                kids[0 if ds[0] < d - 1 else 1] = scalar
        types = [named(t, i) for i, (t, _) in enumerate(kids)]
        shapes = [s for _, s in kids]
        if op == "Sum":
            return f"Sum<({', '.join(types)})>", f"({', '.join(shapes)})"
        return f"Hadamard<{types[0]}, {types[1]}>", f"({shapes[0]}, {shapes[1]})"

    if op == "Kron":
        ra, rb = factor(r)
        if r == c:
            ca, cb = ra, rb
        else:
            ca, cb = factor(c)
        da, db = sub_depths(d, 2)
        (ta, sa), (tb, sb) = gen(da, ra, ca, spd), gen(db, rb, cb, spd)
        return f"Kron<{named(ta, 0)}, {named(tb, 1)}>", f"({sa}, {sb})"

    if op == "BlockDiag":
        k = 2 if r < 3 or rng.random() < 0.7 else 3
        sizes = []
        rest = r
        for i in range(k - 1):
            a = rng.randint(1, rest - (k - 1 - i))
            sizes.append(a)
            rest -= a
        sizes.append(rest)
        ds = sub_depths(d, k)
        kids = [gen(x, n, n, spd) for x, n in zip(ds, sizes)]
        types = [named(t, i) for i, (t, _) in enumerate(kids)]
        return f"BlockDiag<({', '.join(types)})>", f"({', '.join(s for _, s in kids)})"

    if op == "Inverse":
        (t, s) = gen(d - 1, r, r, True)
        return f"Inverse<{t}>", s

    if op == "Propagate":
        q = rng.randint(2, 3)
        dz, dg = sub_depths(d, 2)
        if rng.random() < 0.6:
            dz, dg = 0, d - 1  # Z usually a leaf (design or factor)
        (tz, sz), (tg, sg) = gen(dz, r, q), gen(dg, q, q)
        return f"Propagate<{named(tz, 0)}, {named(tg, 1)}>", f"({sz}, {sg})"

    if op == "Gram":
        k = rng.randint(2, 4)
        outer = rng.random() < 0.5
        xr, xc = (r, k) if outer else (k, r)
        (t, s) = gen(d - 1, xr, xc)
        return (f"Gram<{t}, Outer>" if outer else f"Gram<{t}>"), s

    if op in ("Augment", "Stack"):
        n = c if op == "Augment" else r
        a, b = split(n)
        da, db = sub_depths(d, 2)
        if op == "Augment":
            (ta, sa), (tb, sb) = gen(da, r, a), gen(db, r, b)
        else:
            (ta, sa), (tb, sb) = gen(da, a, c), gen(db, b, c)
        return f"{op}<({named(ta, 0)}, {named(tb, 1)})>", f"({sa}, {sb})"

    if op == "Product":
        k = rng.randint(2, 4)
        da, db = sub_depths(d, 2)
        (ta, sa), (tb, sb) = gen(da, r, k), gen(db, k, c)
        return f"Product<{named(ta, 0)}, {named(tb, 1)}>", f"({sa}, {sb})"

    if op == "Transpose":
        (t, s) = gen(d - 1, c, r)
        return f"Transpose<{t}>", s

    raise AssertionError(op)


def depth(t):
    """Operator depth of a Rust type expression (Named does not count)."""
    import re
    tokens = re.findall(r"[A-Za-z0-9]+|[<>(),]", t)
    pos = 0

    def parse():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            ds = [parse()]
            while tokens[pos] == ",":
                pos += 1
                ds.append(parse())
            pos += 1  # ')'
            return max(ds)
        kids = []
        if pos < len(tokens) and tokens[pos] == "<":
            pos += 1
            kids.append(parse())
            while tokens[pos] == ",":
                pos += 1
                kids.append(parse())
            pos += 1  # '>'
        inner = max(kids, default=0)
        return inner + (tok in OPERATORS and tok != "Named")

    return parse()


def main():
    print("// @generated by tests/gen/random_trees.py (seed %d): do not edit." % SEED)
    print("// Regenerate with: python3 tests/gen/random_trees.py > tests/gen/compositions_generated.rs")
    print("// Each line: test name, structure type (depth 1-4), shape expression.")
    print("trees! {")
    depths = [1 + i % 4 for i in range(N_TREES)]
    for i, d in enumerate(depths):
        r = rng.randint(3, MAX_DIM)
        c = r if rng.random() < 0.7 else rng.randint(2, MAX_DIM)
        t, s = gen(d, r, c)
        assert depth(t) == d, (t, d, depth(t))
        LINES.append(t)
        print(f"    tree_{i:02}_depth{d}: {t} = {s};")
    print("}")
    import sys
    counts = {op: sum(op + "<" in line for line in LINES) for op in OPERATORS}
    print(f"// operator counts: {counts}", file=sys.stderr)
    missing = [op for op, n in counts.items() if n == 0]
    assert not missing, missing


if __name__ == "__main__":
    main()
