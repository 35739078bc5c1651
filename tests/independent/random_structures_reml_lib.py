"""Shared pieces of the independent dense REML references (see
random_structures_reml.py): the REML log-likelihood in lme4/nlme's
convention, its maximisation, dummy coding and CSV reading."""
import csv

import numpy as np
from scipy.optimize import minimize


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


