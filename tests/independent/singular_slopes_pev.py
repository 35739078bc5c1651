"""Independent marginal-form check of the singular random-slopes reference
(tests/data/singular_slopes): at lme4's REML and ML estimates (lme4.json),
the log-likelihood, BLUPs u = G Z'Py and prediction-error variances
PEV = G - G Z'PZ G (P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1, which counts
the estimation of beta, as covreml's C^uu does) for the first three levels,
and lme4's condVar G - G Z'V^-1 Z G as a check on the reading of lme4.
No inverse of the singular G is used. Writes
tests/data/singular_slopes/independent.json.
Run from the repository root: python3 tests/independent/singular_slopes_pev.py
"""
import json
import numpy as np

root = "tests/data/singular_slopes"
d = np.genfromtxt(f"{root}/slopes.csv", delimiter=",", names=True, dtype=None, encoding=None)
y = d["y"].astype(float)
x = d["x"].astype(float)
g = d["g"]
levels = sorted(set(g))
n = len(y)
X = np.column_stack([np.ones(n), x])
ref = json.load(open(f"{root}/lme4.json"))
out = {}
for method in ("reml", "ml"):
    r = ref[method]
    S = np.array([[r["var_intercept"], r["cov"]], [r["cov"], r["var_slope"]]])
    s2 = r["sigma2"]
    parts = []
    logdet = 0.0
    xtvx = np.zeros((2, 2))
    xtvy = np.zeros(2)
    for lv in levels:
        i = g == lv
        Z = np.column_stack([np.ones(i.sum()), x[i]])
        V = Z @ S @ Z.T + s2 * np.eye(i.sum())
        c = np.linalg.cholesky(V)
        logdet += 2 * np.log(np.diag(c)).sum()
        vx = np.linalg.solve(V, X[i])
        xtvx += X[i].T @ vx
        xtvy += vx.T @ y[i]
        parts.append((i, Z, V, vx))
    beta = np.linalg.solve(xtvx, xtvy)
    cb = np.linalg.inv(xtvx)
    r_ = y - X @ beta
    quad = 0.0
    blup, pev, condvar = [], [], []
    for k, (i, Z, V, vx) in enumerate(parts):
        vr = np.linalg.solve(V, r_[i])
        quad += r_[i] @ vr
        if k < 3:
            GZt = S @ Z.T
            blup.append(list(GZt @ vr))
            vz = np.linalg.solve(V, Z)
            zvz = Z.T @ vz
            # Z'PZ within the level: Z'V^-1 Z - Z'V^-1 X cb X'V^-1 Z
            a = vx.T @ Z
            zpz = zvz - a.T @ cb @ a
            pev.append((S - S @ zpz @ S).tolist())
            condvar.append((S - S @ zvz @ S).tolist())
    p = 2
    if method == "reml":
        ll = -0.5 * ((n - p) * np.log(2 * np.pi) + logdet + np.linalg.slogdet(xtvx)[1] + quad)
    else:
        ll = -0.5 * (n * np.log(2 * np.pi) + logdet + quad)
    out[method] = {
        "loglik_at_lme4": ll,
        "levels": levels[:3],
        "blup": blup,
        "pev": pev,
        "condvar": condvar,
    }
    cv = np.array([[c[0][0], c[1][0], c[1][1]] for c in condvar])
    lm = np.array([r["condvar_11"], r["condvar_21"], r["condvar_22"]]).T
    print(method, "ll", ll, "lme4", r["loglik"], "condVar max rel diff", np.abs(cv / lm - 1).max())
    print(" blup diff", np.abs(np.array(blup)[:, 0] - r["ranef_intercept"]).max())
json.dump(out, open(f"{root}/independent.json", "w"), indent=1)
