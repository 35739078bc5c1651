"""Independent dense REML references for random terms with several
coefficients over a pedigree relationship matrix (issue 21): G = Sigma (x) A
for `diag(0 + sex | animal)` and `(0 + sex | animal)` on
tests/data/animal_records.csv with tests/data/animal_pedigree.csv, A by the
tabular method (the pedigree read in its file order, parents placed first).

Run from the repository root: python3 tests/independent/animal_sex_terms_reml.py
Writes tests/data/animal_sex_terms.json.
"""
import json
import sys

import numpy as np

sys.path.insert(0, "tests/independent")
from random_structures_reml_lib import fit, read  # noqa: E402

OUT = "tests/data/"
ped = read(OUT + "animal_pedigree.csv")
parents = {p["animal"]: (p["sire"], p["dam"]) for p in ped}
unknown = {"0", "NA", ""}
order, seen = [], set()


def place(a):
    if a in seen or a in unknown:
        return
    for p in parents.get(a, ("0", "0")):
        place(p)
    seen.add(a)
    order.append(a)


for p in ped:
    place(p["animal"])
ix = {a: i for i, a in enumerate(order)}
n = len(order)
A = np.zeros((n, n))
for i, a in enumerate(order):
    s, d = parents.get(a, ("0", "0"))
    si, di = ix.get(s), ix.get(d)
    for j in range(i):
        A[i, j] = A[j, i] = 0.5 * ((A[j, si] if si is not None else 0) + (A[j, di] if di is not None else 0))
    A[i, i] = 1 + (0.5 * A[si, di] if si is not None and di is not None else 0)

r = read(OUT + "animal_records.csv")
y = np.array([float(x["y"]) for x in r])
male = np.array([x["sex"] == "M" for x in r])
X = np.column_stack([np.ones(len(y)), male.astype(float)])
Z = np.zeros((len(y), 2 * n))  # coefficient-major: sexF animals, then sexM animals
Z[np.arange(len(y)), male * n + np.array([ix[x["animal"]] for x in r])] = 1
I = np.eye(len(y))


def v_diag(t):
    return Z @ np.kron(np.diag(np.exp(t[:2])), A) @ Z.T + np.exp(t[2]) * I


def v_us(t):
    C = np.array([[np.exp(t[0]), 0], [t[1], np.exp(t[2])]])
    return Z @ np.kron(C @ C.T, A) @ Z.T + np.exp(t[3]) * I


out = {"source": "tests/independent/animal_sex_terms_reml.py", "fits": []}
t, ll, b = fit(v_diag, np.zeros(3), X, y)
out["fits"].append({"name": "animal_diag_sex", "formula": "y ~ sex + diag(0 + sex | animal)", "loglik": ll,
                    "beta": list(b), "sexF": float(np.exp(t[0])), "sexM": float(np.exp(t[1])),
                    "residual": float(np.exp(t[2]))})
t, ll, b = fit(v_us, np.array([0.0, 0.5, 0.0, 0.0]), X, y)
C = np.array([[np.exp(t[0]), 0], [t[1], np.exp(t[2])]])
S = C @ C.T
out["fits"].append({"name": "animal_us_sex", "formula": "y ~ sex + (0 + sex | animal)", "loglik": ll,
                    "beta": list(b), "sexF": S[0, 0], "sexM": S[1, 1], "cov": S[1, 0],
                    "residual": float(np.exp(t[3]))})
with open(OUT + "animal_sex_terms.json", "w") as fh:
    json.dump(out, fh, indent=1)
for f in out["fits"]:
    print(f)
