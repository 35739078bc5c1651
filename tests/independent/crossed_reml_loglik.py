#!/usr/bin/env python3
# Not run by CI (needs numpy). Run from the repository root:
#   python3 tests/independent/crossed_reml_loglik.py
# Independent REML log-likelihood on crossed_2000 (numpy, dense), at lme4's
# estimate and at covreml's, plus a 1-D scan in sigma2_f2.
import csv, numpy as np
rows = list(csv.DictReader(open('tests/data/crossed_2000.csv')))
n = len(rows)
y = np.array([float(r['y']) for r in rows]); x1 = np.array([float(r['x1']) for r in rows])
X = np.column_stack([np.ones(n), x1])
def onehot(col):
    lv = sorted(set(r[col] for r in rows)); idx = {l:i for i,l in enumerate(lv)}
    Z = np.zeros((n, len(lv)))
    for i, r in enumerate(rows): Z[i, idx[r[col]]] = 1
    return Z
Z1, Z2 = onehot('f1'), onehot('f2')
K1, K2 = Z1 @ Z1.T, Z2 @ Z2.T
def ll(s1, s2, se):
    V = s1*K1 + s2*K2 + se*np.eye(n)
    L = np.linalg.cholesky(V)
    ld = 2*np.log(np.diag(L)).sum()
    Vi = np.linalg.inv(V)
    C = X.T @ Vi @ X
    b = np.linalg.solve(C, X.T @ Vi @ y)
    r = y - X @ b
    p = X.shape[1]
    return -0.5*((n-p)*np.log(2*np.pi) + ld + np.linalg.slogdet(C)[1] + r @ Vi @ r)
lme4 = (0.5447874065, 0.1770398465, 1.0139698342)
ours = (0.5447877756, 0.1770419540, 1.0139693423)
a, b = ll(*lme4), ll(*ours)
print(f"lme4 {a:.12f}\nours {b:.12f}\nours - lme4 = {b-a:.3e}")
for d in (-4e-6, -2e-6, 0, 2e-6, 4e-6):
    print(d, f"{ll(ours[0], ours[1]+d, ours[2]) - b:.3e}")
