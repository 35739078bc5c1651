"""Independent dense REML references for random-term structures that R's
installed packages do not fit (issue 21): ar1 and fa random terms, and the
animal model with a pedigree relationship matrix A (built here by the
tabular method) or a given matrix.

Run from the repository root: python3 tests/independent/random_structures_reml.py
Writes tests/data/met_fa.csv, tests/data/animal_pedigree.csv,
tests/data/animal_records.csv, tests/data/animal_grm.csv and
tests/data/random_structures_independent.json.

REML log-likelihood in lme4/nlme's convention:
  -1/2 [(n - p) log 2pi + log|V| + log|X'V^-1 X| + r'V^-1 r],
maximised over unconstrained parameters with scipy L-BFGS-B, then BFGS
polish from there (numerical gradients of an exact dense likelihood).
"""
import csv
import json
import numpy as np
from scipy.optimize import minimize

OUT = "tests/data/"


def reml_loglik(V, X, y):
    n, p = X.shape
    L = np.linalg.cholesky(V)
    Xi = np.linalg.solve(L, X)
    yi = np.linalg.solve(L, y)
    XtViX = Xi.T @ Xi
    b = np.linalg.solve(XtViX, Xi.T @ yi)
    r = yi - Xi @ b
    ld = 2 * np.sum(np.log(np.diag(L)))
    return -0.5 * ((n - p) * np.log(2 * np.pi) + ld + np.linalg.slogdet(XtViX)[1] + r @ r), b


def fit(vfun, x0, X, y):
    def f(t):
        try:
            return -reml_loglik(vfun(t), X, y)[0]
        except np.linalg.LinAlgError:
            return 1e10
    best = minimize(f, x0, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000})
    for _ in range(3):
        o = minimize(f, best.x, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
        if o.fun <= best.fun:
            best = o
    ll, b = reml_loglik(vfun(best.x), X, y)
    return best.x, ll, b


def dummies(codes, k, drop_first=False):
    D = np.zeros((len(codes), k))
    D[np.arange(len(codes)), codes] = 1
    return D[:, 1:] if drop_first else D


def codes_of(values):
    levels = sorted(set(values), key=lambda s: (float(s) if _num(s) else 0, s))
    idx = {l: i for i, l in enumerate(levels)}
    return np.array([idx[v] for v in values]), levels


def _num(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return rows


out = {"source": "tests/independent/random_structures_reml.py", "fits": []}

# ---- ar1(0 + factor(age) | Subject) on Orthodont ----------------------------
o = read(OUT + "nlme/Orthodont.csv")
y = np.array([float(r["distance"]) for r in o])
age, ages = codes_of([r["age"] for r in o])
subj, subjects = codes_of([r["Subject"] for r in o])
sex = np.array([1.0 if r["Sex"] == "Male" else 0.0 for r in o])
X = np.column_stack([np.ones(len(y)), sex, dummies(age, 4, drop_first=True)])
k, q = 4, len(subjects)
# Z coefficient-major: column a*q + l = indicator(age == a) on rows of subject l
Z = np.zeros((len(y), k * q))
Z[np.arange(len(y)), age * q + subj] = 1
lag = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))


def v_ar1(t):
    s2, rho, e2 = np.exp(t[0]), np.tanh(t[1]), np.exp(t[2])
    G = np.kron(s2 * rho ** lag, np.eye(q))
    return Z @ G @ Z.T + e2 * np.eye(len(y))


t, ll, b = fit(v_ar1, np.array([np.log(3.0), 0.5, np.log(2.0)]), X, y)
out["fits"].append({
    "name": "orthodont_ar1_term", "data": "nlme/Orthodont.csv",
    "formula": "distance ~ Sex + factor(age) + ar1(0 + factor(age) | Subject)",
    "loglik": ll, "beta": list(b), "sigma2": float(np.exp(t[0])), "rho": float(np.tanh(t[1])),
    "residual": float(np.exp(t[2]))})

# ---- fa(0 + env | gen, 1) on a simulated multi-environment trial -------------
rng = np.random.default_rng(21)
ng, ne, nr = 40, 4, 2
lam = np.array([3.0, 2.0, 2.5, 1.0])
psi = np.array([1.0, 0.5, 1.0, 0.8])
f = rng.normal(size=ng)
g = np.outer(f, lam) + rng.normal(size=(ng, ne)) * np.sqrt(psi)
envs = ["E1", "E2", "E3", "E4"]
mu = np.array([10.0, 12.0, 8.0, 11.0])
rows = []
for gi in range(ng):
    for ei in range(ne):
        for r in range(nr):
            if rng.random() < 0.08:  # a few missing plots: unbalanced
                continue
            rows.append((f"G{gi + 1:02d}", envs[ei], r + 1, mu[ei] + g[gi, ei] + rng.normal()))
with open(OUT + "met_fa.csv", "w") as fh:
    fh.write("gen,env,rep,y\n")
    for gen, env, rep, val in rows:
        fh.write(f"{gen},{env},{rep},{val:.6f}\n")
m = read(OUT + "met_fa.csv")
y = np.array([float(r["y"]) for r in m])
env, _ = codes_of([r["env"] for r in m])
gen, gens = codes_of([r["gen"] for r in m])
X = np.column_stack([np.ones(len(y)), dummies(env, ne, drop_first=True)])
q = len(gens)
Z = np.zeros((len(y), ne * q))
Z[np.arange(len(y)), env * q + gen] = 1


def v_fa(t):
    L = t[:ne]
    P = np.exp(t[ne:2 * ne])
    e2 = np.exp(t[2 * ne])
    S = np.outer(L, L) + np.diag(P)
    return Z @ np.kron(S, np.eye(q)) @ Z.T + e2 * np.eye(len(y))


t, ll, b = fit(v_fa, np.concatenate([np.ones(ne), np.zeros(ne), [0.0]]), X, y)
L, P = t[:ne], np.exp(t[ne:2 * ne])
if L[0] < 0:
    L = -L
S = np.outer(L, L) + np.diag(P)
out["fits"].append({
    "name": "met_fa1", "data": "met_fa.csv", "formula": "y ~ env + fa(0 + env | gen, 1)",
    "loglik": ll, "beta": list(b), "lambda": list(L), "psi": list(P), "sigma_env": S.tolist(),
    "residual": float(np.exp(t[2 * ne]))})
# the same data, unstructured (6 more parameters): for comparison only
def v_us(t):
    C = np.zeros((ne, ne))
    C[np.tril_indices(ne)] = t[:10]
    C[np.diag_indices(ne)] = np.exp(C[np.diag_indices(ne)])
    S = C @ C.T
    return Z @ np.kron(S, np.eye(q)) @ Z.T + np.exp(t[10]) * np.eye(len(y))


t, ll, b = fit(v_us, np.zeros(11), X, y)
out["fits"].append({"name": "met_us", "data": "met_fa.csv", "formula": "y ~ env + (0 + env | gen)",
                    "loglik": ll, "beta": list(b)})

# ---- animal model with a pedigree: A by the tabular method -------------------
rng = np.random.default_rng(2021)
ped = []  # (id, sire, dam) with "0" unknown
sires = [f"S{i}" for i in range(1, 9)]
dams = [f"D{i}" for i in range(1, 21)]
for a in sires + dams:
    ped.append((a, "0", "0"))
prev_s, prev_d = sires[:], dams[:]
nid = 1
for gen_no in range(3):
    new_s, new_d = [], []
    for _ in range(58):
        a = f"A{nid}"
        nid += 1
        s = rng.choice(prev_s) if rng.random() > 0.08 else "0"
        d = rng.choice(prev_d) if rng.random() > 0.12 else "0"
        ped.append((a, s, d))
        (new_s if rng.random() < 0.3 else new_d).append(a)
    prev_s, prev_d = prev_s + new_s, prev_d + new_d
n_anim = len(ped)
ids = [p[0] for p in ped]
ix = {a: i for i, a in enumerate(ids)}
A = np.zeros((n_anim, n_anim))
for i, (a, s, d) in enumerate(ped):  # parents precede offspring in this list
    si, di = ix.get(s), ix.get(d)
    for j in range(i):
        A[i, j] = A[j, i] = 0.5 * ((A[j, si] if si is not None else 0) + (A[j, di] if di is not None else 0))
    A[i, i] = 1 + (0.5 * A[si, di] if si is not None and di is not None else 0)
# breeding values and records: founders without records, later animals 1–2 records
a_true = np.linalg.cholesky(A) @ rng.normal(size=n_anim) * np.sqrt(2.0)
recs = []
for i, a in enumerate(ids):
    if i < 28:
        continue
    for _ in range(1 + (rng.random() < 0.3)):
        sx = "F" if rng.random() < 0.5 else "M"
        recs.append((a, sx, 20 + (1.5 if sx == "M" else 0) + a_true[i] + rng.normal() * np.sqrt(3.0)))
# pedigree file in shuffled order, unknown parents written as 0, NA or empty
order = rng.permutation(n_anim)
unknown = ["0", "NA", ""]
with open(OUT + "animal_pedigree.csv", "w") as fh:
    fh.write("animal,sire,dam\n")
    for k in order:
        a, s, d = ped[k]
        s = unknown[k % 3] if s == "0" else s
        d = unknown[(k + 1) % 3] if d == "0" else d
        fh.write(f"{a},{s},{d}\n")
with open(OUT + "animal_records.csv", "w") as fh:
    fh.write("y,sex,animal\n")
    for a, sx, val in recs:
        fh.write(f"{val:.6f},{sx},{a}\n")
r = read(OUT + "animal_records.csv")
y = np.array([float(x["y"]) for x in r])
X = np.column_stack([np.ones(len(y)), [1.0 if x["sex"] == "M" else 0.0 for x in r]])
Z = np.zeros((len(y), n_anim))
Z[np.arange(len(y)), [ix[x["animal"]] for x in r]] = 1


def animal_fit(K, name, formula, option):
    ZKZ = Z @ K @ Z.T
    t, ll, b = fit(lambda t: np.exp(t[0]) * ZKZ + np.exp(t[1]) * np.eye(len(y)), np.zeros(2), X, y)
    sa, se = np.exp(t[0]), np.exp(t[1])
    V = sa * ZKZ + se * np.eye(len(y))
    Vi = np.linalg.inv(V)
    u = sa * K @ Z.T @ Vi @ (y - X @ b)  # BLUPs of every animal, records or not
    out["fits"].append({"name": name, "data": "animal_records.csv", "formula": formula, "option": option,
                        "loglik": ll, "beta": list(b), "sigma2_animal": sa, "sigma2_residual": se,
                        "blup": {a: u[i] for i, a in enumerate(ids)}})


animal_fit(A, "animal_pedigree", "y ~ sex + (1 | animal)", "--pedigree animal=animal_pedigree.csv")
# a given matrix (as a genomic one would be): 0.8 A + 0.2 I, square CSV in a shuffled id order
G = 0.8 * A + 0.2 * np.eye(n_anim)
perm = rng.permutation(n_anim)
with open(OUT + "animal_grm.csv", "w") as fh:
    fh.write("id," + ",".join(ids[k] for k in perm) + "\n")
    for i in perm:
        fh.write(ids[i] + "," + ",".join(f"{G[i, j]:.17g}" for j in perm) + "\n")
animal_fit(G, "animal_grm", "y ~ sex + (1 | animal)", "--grm animal=animal_grm.csv")
out["n_animals"] = n_anim
out["n_records"] = len(y)
with open(OUT + "random_structures_independent.json", "w") as fh:
    json.dump(out, fh, indent=1)
for f in out["fits"]:
    print(f["name"], f["loglik"])
