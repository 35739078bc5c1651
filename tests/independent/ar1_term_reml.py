"""Independent dense REML reference for an ar1 random term (issue 21):
y ~ factor(time) + ar1(0 + factor(time) | subject) on simulated repeated
measures with two replicates per subject and time (some missing), so that
each (subject, time) effect has several records.

Run from the repository root: python3 tests/independent/ar1_term_reml.py
Writes tests/data/ar1_term.csv and tests/data/ar1_term.json.
REML log-likelihood in lme4/nlme's convention (see random_structures_reml.py,
whose functions this reuses).
"""
import json
import sys

import numpy as np

sys.path.insert(0, "tests/independent")
from random_structures_reml_lib import codes_of, dummies, fit, read  # noqa: E402

OUT = "tests/data/"
rng = np.random.default_rng(7)
ns, nt = 30, 5
lag = np.abs(np.subtract.outer(np.arange(nt), np.arange(nt)))
C = np.linalg.cholesky(4.0 * 0.6 ** lag)
with open(OUT + "ar1_term.csv", "w") as fh:
    fh.write("y,time,subject\n")
    for s in range(ns):
        u = C @ rng.normal(size=nt)
        for t in range(nt):
            for _ in range(2):
                if rng.random() < 0.1:
                    continue
                fh.write(f"{10 + 0.5 * t + u[t] + rng.normal():.6f},{t + 1},S{s + 1:02d}\n")
r = read(OUT + "ar1_term.csv")
y = np.array([float(x["y"]) for x in r])
time, _ = codes_of([x["time"] for x in r])
subj, subjects = codes_of([x["subject"] for x in r])
X = np.column_stack([np.ones(len(y)), dummies(time, nt, drop_first=True)])
q = len(subjects)
Z = np.zeros((len(y), nt * q))
Z[np.arange(len(y)), time * q + subj] = 1


def v(t):
    G = np.kron(np.exp(t[0]) * np.tanh(t[1]) ** lag, np.eye(q))
    return Z @ G @ Z.T + np.exp(t[2]) * np.eye(len(y))


t, ll, b = fit(v, np.array([np.log(3.0), 0.5, 0.0]), X, y)
out = {"source": "tests/independent/ar1_term_reml.py", "name": "ar1_term", "data": "ar1_term.csv",
       "formula": "y ~ factor(time) + ar1(0 + factor(time) | subject)", "loglik": ll, "beta": list(b),
       "sigma2": float(np.exp(t[0])), "rho": float(np.tanh(t[1])), "residual": float(np.exp(t[2]))}
with open(OUT + "ar1_term.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(out["loglik"], out["sigma2"], out["rho"], out["residual"])

# One record per subject and time (issue 21: the identifiability check had
# refused this, taking the AR1 term for a copy of the iid residual). The AR1
# correlation separates the two variances when there are at least 3 times.
rng = np.random.default_rng(11)
ns, nt = 40, 5
with open(OUT + "ar1_term_single.csv", "w") as fh:
    fh.write("y,time,subject\n")
    for s in range(ns):
        u = C @ rng.normal(size=nt)
        for t in range(nt):
            fh.write(f"{10 + 0.5 * t + u[t] + rng.normal():.6f},{t + 1},S{s + 1:02d}\n")
r = read(OUT + "ar1_term_single.csv")
y = np.array([float(x["y"]) for x in r])
time, _ = codes_of([x["time"] for x in r])
subj, subjects = codes_of([x["subject"] for x in r])
X = np.column_stack([np.ones(len(y)), dummies(time, nt, drop_first=True)])
q = len(subjects)
Z = np.zeros((len(y), nt * q))
Z[np.arange(len(y)), time * q + subj] = 1
t, ll, b = fit(v, np.array([np.log(3.0), 0.5, 0.0]), X, y)
out = {"source": "tests/independent/ar1_term_reml.py", "name": "ar1_term_single",
       "data": "ar1_term_single.csv",
       "formula": "y ~ factor(time) + ar1(0 + factor(time) | subject)", "loglik": ll, "beta": list(b),
       "sigma2": float(np.exp(t[0])), "rho": float(np.tanh(t[1])), "residual": float(np.exp(t[2]))}
with open(OUT + "ar1_term_single.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(out["loglik"], out["sigma2"], out["rho"], out["residual"])
