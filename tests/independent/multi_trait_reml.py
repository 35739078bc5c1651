#!/usr/bin/env python3
"""Independent dense REML for multi-trait mixed models (reference for covreml).

Simulates the data sets of tests/data/multi_trait/ and fits each by a plain
dense REML written here from the textbook formulas, independent of covreml:

  long format: one observation per (record, observed trait), record-major;
  V = Z (G0 (x) K) Z' + R,  K = I (levels of g) or A (pedigree, tabular method),
  R block diagonal over records, block R0[o, o] for the record's observed traits o;
  l = -1/2 [(n - p) log 2 pi + log|V| + log|X' V^-1 X| + y' P y]   (lme4's REML).

G0 and R0 are Cholesky-parameterised (Sigma = L L'); the maximum is found by
L-BFGS from moments, then polished by Newton steps (analytic gradient, Hessian
by central differences of it) until the gradient is below 1e-8. At the
boundary case (genetic correlation 1) L_G[1,1] is held at 0 and the rest
polished the same way (the gradient there is 0 by symmetry in L_G[1,1]).

Run:  python3 tests/independent/multi_trait_reml.py   (writes the CSVs and
tests/data/multi_trait/reference.json; numpy + scipy only, ~1 minute).
"""

import json
import os

import numpy as np
from scipy.optimize import minimize

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "multi_trait")


# ---------------------------------------------------------------- simulation

def tabular_a(sire, dam):
    """Numerator relationship matrix by the tabular method (parents before offspring)."""
    n = len(sire)
    a = np.zeros((n, n))
    for i in range(n):
        s, d = sire[i], dam[i]
        for j in range(i):
            v = 0.0
            if s >= 0:
                v += 0.5 * a[j, s]
            if d >= 0:
                v += 0.5 * a[j, d]
            a[i, j] = a[j, i] = v
        a[i, i] = 1.0 + (0.5 * a[s, d] if s >= 0 and d >= 0 else 0.0)
    return a


def fmt(v):
    return "NA" if np.isnan(v) else repr(float(np.round(v, 4)))


def punch_missing(rng, y, frac, both_missing=0):
    """Sets about `frac` of each trait missing; keeps at least one trait per
    record except for `both_missing` records that lose every trait."""
    n, t = y.shape
    y = y.copy()
    for k in range(t):
        for i in rng.choice(n, int(round(frac * n)), replace=False):
            y[i, k] = np.nan
    for i in range(n):
        if np.all(np.isnan(y[i])):
            y[i, rng.integers(t)] = 0.0  # placeholder, overwritten below
    return y


def simulate_groups(seed, n_groups, n_rec, g0, r0, beta, frac, dropped):
    rng = np.random.default_rng(seed)
    t = g0.shape[0]
    g = rng.integers(n_groups, size=n_rec)
    g[:n_groups] = np.arange(n_groups)  # every level occurs
    x = np.round(rng.normal(size=n_rec), 3)
    u = rng.multivariate_normal(np.zeros(t), g0, size=n_groups)
    e = rng.multivariate_normal(np.zeros(t), r0, size=n_rec)
    y = np.empty((n_rec, t))
    for k in range(t):
        y[:, k] = beta[k][0] + beta[k][1] * x + u[g, k] + e[:, k]
    full = y.copy()
    y = punch_missing(rng, y, frac)
    for i in range(n_rec):  # restore the placeholders
        for k in range(t):
            if not np.isnan(y[i, k]):
                y[i, k] = full[i, k]
    for i in rng.choice(n_rec, dropped, replace=False):
        y[i, :] = np.nan
    return g, x, y


def write_groups_csv(path, g, x, y, names):
    with open(path, "w") as f:
        f.write("g,x," + ",".join(names) + "\n")
        for i in range(len(g)):
            f.write("G%02d,%s,%s\n" % (g[i] + 1, fmt(x[i]), ",".join(fmt(v) for v in y[i])))


def simulate_pedigree(seed):
    """Three generations: 20 founders (10 sires, 10 dams), then 60 and 80
    offspring of random parents of the generation before (some unknown)."""
    rng = np.random.default_rng(seed)
    sire, dam = [], []
    gens = [20, 60, 80]
    prev = []
    for gi, size in enumerate(gens):
        first = len(sire)
        for i in range(size):
            if gi == 0:
                sire.append(-1)
                dam.append(-1)
            else:
                males = prev[: len(prev) // 2]
                females = prev[len(prev) // 2:]
                s = males[rng.integers(len(males))] if rng.random() > 0.05 else -1
                d = females[rng.integers(len(females))] if rng.random() > 0.05 else -1
                sire.append(s)
                dam.append(d)
        prev = list(range(first, first + size))
    return np.array(sire), np.array(dam)


# ------------------------------------------------------------------- the REML

class Model:
    def __init__(self, y, x_cols, levels, k, t, r_diag=False):
        """y: n_rec x t with NaN; x_cols: function(record, trait) -> row of X;
        levels: level of each record for the one random term; k: K matrix."""
        self.t = t
        rec, trait, yy, xr = [], [], [], []
        keep = ~np.all(np.isnan(y), axis=1)
        self.dropped = int((~keep).sum())
        for i in np.where(keep)[0]:
            for j in range(t):
                if not np.isnan(y[i, j]):
                    rec.append(i)
                    trait.append(j)
                    yy.append(y[i, j])
                    xr.append(x_cols(i, j))
        self.rec, self.trait = np.array(rec), np.array(trait)
        self.y, self.x = np.array(yy), np.array(xr, dtype=float)
        self.n, self.p = self.x.shape
        q = k.shape[0]
        self.z = np.zeros((self.n, t * q))
        self.z[np.arange(self.n), self.trait * q + levels[self.rec]] = 1.0
        self.k = k
        self.r_diag = r_diag
        nt = t * (t + 1) // 2
        self.idx = [(a, b) for a in range(t) for b in range(a + 1)]
        self.n_g = nt
        self.n_r = t if r_diag else nt
        # blocks of R: same record
        self.same = self.rec[:, None] == self.rec[None, :]
        # E_ab for the traits of each observation pair
        self.ta, self.tb = self.trait[:, None], self.trait[None, :]
        self.zkz = {}
        for a in range(t):
            for b in range(t):
                za = self.z[:, a * q:(a + 1) * q]
                zb = self.z[:, b * q:(b + 1) * q]
                self.zkz[(a, b)] = za @ k @ zb.T

    def sigmas(self, th):
        t = self.t
        lg = np.zeros((t, t))
        for v, (a, b) in zip(th[: self.n_g], self.idx):
            lg[a, b] = v
        lr = np.zeros((t, t))
        if self.r_diag:
            lr[np.arange(t), np.arange(t)] = th[self.n_g:]
        else:
            for v, (a, b) in zip(th[self.n_g:], self.idx):
                lr[a, b] = v
        return lg, lr

    def dsig(self, l, a, b):
        e = np.zeros_like(l)
        e[a, b] = 1.0
        return e @ l.T + l @ e.T

    def v_of(self, g0, r0):
        t = self.t
        v = np.zeros((self.n, self.n))
        for a in range(t):
            for b in range(t):
                if g0[a, b] != 0.0:
                    v += g0[a, b] * self.zkz[(a, b)]
        v += np.where(self.same, r0[self.ta, self.tb], 0.0)
        return v

    def dv(self, th):
        lg, lr = self.sigmas(th)
        out = []
        for (a, b) in self.idx:
            out.append(self.v_of(self.dsig(lg, a, b), np.zeros_like(lr)))
        ridx = [(a, a) for a in range(self.t)] if self.r_diag else self.idx
        for (a, b) in ridx:
            out.append(self.v_of(np.zeros_like(lg), self.dsig(lr, a, b)))
        return out

    def pieces(self, th):
        lg, lr = self.sigmas(th)
        g0, r0 = lg @ lg.T, lr @ lr.T
        v = self.v_of(g0, r0)
        c = np.linalg.cholesky(v)
        vi = np.linalg.inv(v)
        xvx = self.x.T @ vi @ self.x
        cx = np.linalg.cholesky(xvx)
        beta = np.linalg.solve(xvx, self.x.T @ vi @ self.y)
        p = vi - vi @ self.x @ np.linalg.solve(xvx, self.x.T @ vi)
        py = p @ self.y
        ll = -0.5 * ((self.n - self.p) * np.log(2 * np.pi)
                     + 2 * np.log(np.diag(c)).sum()
                     + 2 * np.log(np.diag(cx)).sum() + self.y @ py)
        return ll, p, py, beta, g0, r0

    def loglik(self, th):
        try:
            return self.pieces(th)[0]
        except np.linalg.LinAlgError:
            return -1e300

    def grad(self, th):
        ll, p, py, *_ = self.pieces(th)
        return np.array([-0.5 * (np.sum(p * d) - py @ d @ py) for d in self.dv(th)])

    def start(self):
        t = self.t
        var = np.array([np.var(self.y[self.trait == j]) for j in range(t)])
        th = []
        for (a, b) in self.idx:
            th.append(np.sqrt(var[a] / 2) if a == b else 0.0)
        ridx = [(a, a) for a in range(t)] if self.r_diag else self.idx
        for (a, b) in ridx:
            th.append(np.sqrt(var[a] / 2) if a == b else 0.0)
        return np.array(th)

    def fit(self, fixed_zero=()):
        free = [i for i in range(self.n_g + self.n_r) if i not in fixed_zero]
        th = self.start()
        for i in fixed_zero:
            th[i] = 0.0

        def full(z):
            f = th.copy()
            f[free] = z
            return f

        res = minimize(lambda z: -self.loglik(full(z)), th[free],
                       jac=lambda z: -self.grad(full(z))[free],
                       method="L-BFGS-B", options=dict(maxiter=5000, gtol=1e-10, ftol=1e-15))
        z = res.x
        for _ in range(50):
            g = self.grad(full(z))[free]
            if np.max(np.abs(g)) < 1e-10:
                break
            h = np.zeros((len(z), len(z)))
            for j in range(len(z)):
                e = np.zeros(len(z))
                e[j] = 1e-5
                h[:, j] = (self.grad(full(z + e))[free] - self.grad(full(z - e))[free]) / 2e-5
            h = 0.5 * (h + h.T)
            step = np.linalg.solve(h, -g)
            # step halving on the log-likelihood
            ll0, s = self.loglik(full(z)), 1.0
            while self.loglik(full(z + s * step)) < ll0 - 1e-12 and s > 1e-4:
                s /= 2
            z = z + s * step
        th = full(z)
        ll, p, py, beta, g0, r0 = self.pieces(th)
        gmax = float(np.max(np.abs(self.grad(th)[free])))
        assert gmax < 1e-8, gmax
        return dict(loglik=float(ll), beta=beta.tolist(), G0=g0.tolist(), R0=r0.tolist(),
                    n_obs=int(self.n), n_fixed=int(self.p), dropped_records=self.dropped,
                    max_abs_gradient=gmax, cholesky_G=self.sigmas(th)[0].tolist())


# ------------------------------------------------------------------- the cases

def trait_x(x, t, common=False):
    """X row: one intercept per trait, then a slope per trait (or one common)."""
    def row(i, j):
        r = [1.0 if k == j else 0.0 for k in range(t)]
        if common:
            r.append(x[i])
        else:
            r += [x[i] if k == j else 0.0 for k in range(t)]
        return r
    return row


def main():
    os.makedirs(OUT, exist_ok=True)
    ref = {}

    # 1. bivariate, 30 groups, 240 records, 15 % of each trait missing, 3 records empty
    g0 = np.array([[1.0, 0.5], [0.5, 2.0]])
    r0 = np.array([[2.0, 0.8], [0.8, 3.0]])
    g, x, y = simulate_groups(2201, 30, 240, g0, r0, [(10, 1.0), (20, -0.5)], 0.15, 3)
    write_groups_csv(os.path.join(OUT, "bivariate.csv"), g, x, y, ["y1", "y2"])
    y = np.genfromtxt(os.path.join(OUT, "bivariate.csv"), delimiter=",", skip_header=1,
                      usecols=(2, 3), missing_values="NA", filling_values=np.nan)
    x = np.genfromtxt(os.path.join(OUT, "bivariate.csv"), delimiter=",", skip_header=1, usecols=1)
    k = np.eye(30)
    m = Model(y, trait_x(x, 2), g, k, 2)
    ref["bivariate"] = dict(formula="cbind(y1, y2) ~ trait + trait:x + (0 + trait | g)",
                            beta_names=["y1", "y2", "y1:x", "y2:x"], **m.fit())
    m = Model(y, trait_x(x, 2, common=True), g, k, 2)
    ref["common_slope"] = dict(formula="cbind(y1, y2) ~ trait + x + (0 + trait | g)",
                               beta_names=["y1", "y2", "x"], **m.fit())
    m = Model(y, trait_x(x, 2), g, k, 2, r_diag=True)
    ref["diag_residual"] = dict(formula="cbind(y1, y2) ~ trait + trait:x + (0 + trait | g)",
                                residual="diag(trait)",
                                beta_names=["y1", "y2", "y1:x", "y2:x"], **m.fit())

    # 2. pedigree: 160 animals, 140 with records (the last 140), 12 % missing per trait
    sire, dam = simulate_pedigree(2202)
    n_an = len(sire)
    a = tabular_a(sire, dam)
    rng = np.random.default_rng(2203)
    g0 = np.array([[1.0, 0.6], [0.6, 1.5]])
    r0 = np.array([[1.5, 0.3], [0.3, 2.0]])
    u = np.linalg.cholesky(np.kron(g0, a)) @ rng.normal(size=2 * n_an)
    u = u.reshape(2, n_an).T
    recs = np.arange(20, n_an)
    xr = np.round(rng.normal(size=len(recs)), 3)
    e = rng.multivariate_normal(np.zeros(2), r0, size=len(recs))
    yp = np.column_stack([5 + 0.5 * xr + u[recs, 0] + e[:, 0], 8 + u[recs, 1] + e[:, 1]])
    for kk in range(2):
        yp[rng.choice(len(recs), 17, replace=False), kk] = np.nan
    both = np.all(np.isnan(yp), axis=1)
    yp[both, 0] = 5 + u[recs[both], 0]  # keep every record
    ids = ["A%03d" % (i + 1) for i in range(n_an)]
    with open(os.path.join(OUT, "pedigree.csv"), "w") as f:
        f.write("animal,sire,dam\n")
        for i in range(n_an):
            f.write("%s,%s,%s\n" % (ids[i], ids[sire[i]] if sire[i] >= 0 else "0",
                                      ids[dam[i]] if dam[i] >= 0 else "0"))
    with open(os.path.join(OUT, "animal.csv"), "w") as f:
        f.write("animal,x,y1,y2\n")
        for j, i in enumerate(recs):
            f.write("%s,%s,%s,%s\n" % (ids[i], fmt(xr[j]), fmt(yp[j, 0]), fmt(yp[j, 1])))
    d = np.genfromtxt(os.path.join(OUT, "animal.csv"), delimiter=",", skip_header=1,
                      usecols=(1, 2, 3), missing_values="NA", filling_values=np.nan)
    m = Model(d[:, 1:], trait_x(d[:, 0], 2), recs, a, 2)
    fit = m.fit()
    gg, rr = np.array(fit["G0"]), np.array(fit["R0"])
    fit["h2"] = [gg[i, i] / (gg[i, i] + rr[i, i]) for i in range(2)]
    fit["r_g"] = gg[0, 1] / np.sqrt(gg[0, 0] * gg[1, 1])
    ref["pedigree"] = dict(formula="cbind(y1, y2) ~ trait + trait:x + (0 + trait | animal)",
                           pedigree="animal=pedigree.csv",
                           beta_names=["y1", "y2", "y1:x", "y2:x"], **fit)

    # 3. boundary: genetic correlation 1 (u2 = 1.5 u1), 12 groups
    for seed in range(2210, 2300):
        g0 = np.array([[1.0, 1.5], [1.5, 2.25]])
        r0 = np.array([[1.0, 0.2], [0.2, 1.0]])
        gb, xb, yb = simulate_groups(seed, 12, 150, g0, r0, [(3, 0.5), (4, 0.2)], 0.12, 0)
        # unconstrained REML: does it leave the cone? (free L_G[1,1] goes to 0)
        m = Model(yb, trait_x(xb, 2), gb, np.eye(12), 2)
        f = m.fit(fixed_zero=(2,))
        gg = np.array(f["G0"])
        # the free fit's optimum is at the boundary when the Hessian in
        # L_G[1,1] at 0 is not negative definite direction-wise: check that
        # the score of Sigma_G[1,1] (with L_G[1,1] = 0) is negative
        th = np.array([f["cholesky_G"][0][0], f["cholesky_G"][1][0], 0.0])
        lr = np.linalg.cholesky(np.array(f["R0"]))
        th = np.concatenate([th, [lr[0, 0], lr[1, 0], lr[1, 1]]])
        lg_, lr_ = m.sigmas(th)
        _, p, py, *_ = m.pieces(th)
        dvv = m.v_of(np.array([[0.0, 0.0], [0.0, 1.0]]), np.zeros((2, 2)))
        s22 = -0.5 * (np.sum(p * dvv) - py @ dvv @ py)
        if s22 < -1e-3:
            break
    write_groups_csv(os.path.join(OUT, "boundary.csv"), gb, xb, yb, ["y1", "y2"])
    yb = np.genfromtxt(os.path.join(OUT, "boundary.csv"), delimiter=",", skip_header=1,
                       usecols=(2, 3), missing_values="NA", filling_values=np.nan)
    xb = np.genfromtxt(os.path.join(OUT, "boundary.csv"), delimiter=",", skip_header=1, usecols=1)
    m = Model(yb, trait_x(xb, 2), gb, np.eye(12), 2)
    f = m.fit(fixed_zero=(2,))
    f["score_sigma_G_1_1_at_boundary"] = float(s22)
    ref["boundary"] = dict(formula="cbind(y1, y2) ~ trait + trait:x + (0 + trait | g)",
                           seed=seed, beta_names=["y1", "y2", "y1:x", "y2:x"], **f)

    # 4. trivariate, 25 groups, 250 records, 15 % missing per trait, 2 records empty
    g0 = np.array([[1.0, 0.4, -0.3], [0.4, 1.5, 0.2], [-0.3, 0.2, 0.8]])
    r0 = np.array([[2.0, 0.5, 0.3], [0.5, 1.5, -0.4], [0.3, -0.4, 2.5]])
    g3, x3, y3 = simulate_groups(2204, 25, 250, g0, r0, [(1, 0.5), (2, 0.0), (3, -1.0)], 0.15, 2)
    write_groups_csv(os.path.join(OUT, "trivariate.csv"), g3, x3, y3, ["y1", "y2", "y3"])
    y3 = np.genfromtxt(os.path.join(OUT, "trivariate.csv"), delimiter=",", skip_header=1,
                       usecols=(2, 3, 4), missing_values="NA", filling_values=np.nan)
    x3 = np.genfromtxt(os.path.join(OUT, "trivariate.csv"), delimiter=",", skip_header=1, usecols=1)
    m = Model(y3, trait_x(x3, 3), g3, np.eye(25), 3)
    ref["trivariate"] = dict(formula="cbind(y1, y2, y3) ~ trait + trait:x + (0 + trait | g)",
                             beta_names=["y1", "y2", "y3", "y1:x", "y2:x", "y3:x"], **m.fit())

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    for kk, v in ref.items():
        print(kk, v["loglik"], v["max_abs_gradient"], v["dropped_records"], v["G0"])


if __name__ == "__main__":
    main()
