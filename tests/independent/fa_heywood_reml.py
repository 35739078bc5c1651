#!/usr/bin/env python3
"""Independent dense REML for factor-analytic and unstructured G on
Heywood data (issue 19): FA(1), FA(2) and unstructured Sigma in
y = X beta + Z u + e, u ~ N(0, I_40 (x) Sigma), e ~ N(0, sigma^2 I).

Data: 40 genotypes x 5 environments x 2 plots, u_g = lambda f_g + delta_g
with the first specific variance 0 (a Heywood case), drawn with a port of
the tests' SplitMix generator (tests/common/mod.rs) from the seeds
"heywood-1" and "heywood-2"; written to tests/data/boundaries/heywood_*.csv.

REML log-likelihood in lme4's convention (as covreml's):
  l = -1/2 [ (n - p) log 2 pi + log|V| + log|X' V^-1 X| + y' P y ].
Parameterised so that every boundary is reachable: Sigma = Lambda Lambda' +
diag(s^2) (loadings free, FA(2) with Lambda[0,1] = 0), Sigma = L L' (L lower
triangular, free) for the unstructured model, sigma^2 = t^2. Many random starts (8 for FA(1), 30 for FA(2), 10 unstructured),
L-BFGS with the analytic gradient, then Newton steps on a finite-difference
Hessian of the analytic gradient (least-squares solve, backtracking). Writes
tests/data/boundaries/heywood.json.

Run from the repository root: python3 tests/independent/fa_heywood_reml.py
"""
import json
import math
import os

import numpy as np
from scipy.optimize import minimize

MASK = (1 << 64) - 1


class SplitMix:
    def __init__(self, state):
        self.s = state & MASK

    @staticmethod
    def from_name(name):
        h = 0xCBF29CE484222325
        for b in name.encode():
            h = ((h ^ b) * 0x0100000001B3) & MASK
        return SplitMix(h)

    def next_u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self, lo, hi):
        u = (self.next_u64() >> 11) / float(1 << 53)
        return lo + (hi - lo) * u


EPS = 2.220446049250313e-16


def normal(rng):
    u1 = rng.uniform(EPS, 1.0)
    u2 = rng.uniform(0.0, 1.0)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


G, E, REPS = 40, 5, 2
LAMBDA = [1.2, 0.9, 0.7, 1.0, 0.5]
PSI = [0.0, 0.3, 0.5, 0.2, 0.6]


def heywood(seed):
    rng = SplitMix.from_name(seed)
    y, env, gen = [], [], []
    for g in range(G):
        f = normal(rng)
        for e in range(E):
            u = LAMBDA[e] * f + math.sqrt(PSI[e]) * normal(rng)
            for _ in range(REPS):
                y.append(10.0 + e + u + 0.5 * normal(rng))
                env.append(e)
                gen.append(g)
    return np.array(y), np.array(env), np.array(gen)


class Model:
    """The model with V = I_40 (x) V0: the rows are genotype-major and every
    genotype has the same design Z0 = X0 (environment of each of its 10
    rows), so V0 = Z0 Sigma Z0' + sigma^2 I_10 and X' V^-1 X = 40 X0' V0^-1 X0."""

    def __init__(self, y, env, gen):
        n = len(y)
        assert all(gen[i] == i // (E * REPS) for i in range(n))
        self.Y = y.reshape(G, E * REPS)
        e0 = env[:E * REPS]
        assert all(np.array_equal(env[g * E * REPS:(g + 1) * E * REPS], e0) for g in range(G))
        self.Z0 = np.zeros((E * REPS, E))
        self.Z0[np.arange(E * REPS), e0] = 1.0
        self.n = n
        self.p = E

    def grad_parts(self, sigma, s2):
        """l, dl/dSigma (entries taken independent) and dl/dsigma^2."""
        Z0 = self.Z0
        V0 = Z0 @ sigma @ Z0.T + s2 * np.eye(E * REPS)
        c = np.linalg.cholesky(V0)
        logdet_v = G * 2.0 * np.sum(np.log(np.diag(c)))
        vi = np.linalg.inv(V0)
        vi = 0.5 * (vi + vi.T)
        xvx = G * Z0.T @ vi @ Z0
        cx = np.linalg.cholesky(xvx)
        logdet_x = 2.0 * np.sum(np.log(np.diag(cx)))
        beta = np.linalg.solve(xvx, Z0.T @ vi @ self.Y.sum(axis=0))
        R = self.Y - (Z0 @ beta)[None, :]
        PY = R @ vi  # rows: V0^-1 r_g
        ypy = np.sum(PY * R)
        ll = -0.5 * ((self.n - self.p) * math.log(2 * math.pi) + logdet_v + logdet_x + ypy)
        W = vi @ Z0 @ np.linalg.solve(xvx, Z0.T @ vi)
        M = -G * (vi - W) + PY.T @ PY  # sum over g of the diagonal blocks
        D = 0.5 * Z0.T @ M @ Z0
        return ll, D, 0.5 * np.trace(M)


def fa_unpack(th, k):
    lam = np.zeros((E, k))
    pos = 0
    for i in range(E):
        for j in range(k):
            if j > i:
                continue
            lam[i, j] = th[pos]
            pos += 1
    s = th[pos:pos + E]
    t = th[pos + E]
    return lam, s, t


def fa_count(k):
    return sum(min(i + 1, k) for i in range(E)) + E + 1


def fa_objective(model, k):
    def f(th):
        lam, s, t = fa_unpack(th, k)
        sigma = lam @ lam.T + np.diag(s * s)
        try:
            ll, D, ds2 = model.grad_parts(sigma, t * t)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(th)
        glam = 2.0 * D @ lam
        gs = 2.0 * s * np.diag(D)
        gt = 2.0 * t * ds2
        g = []
        for i in range(E):
            for j in range(k):
                if j <= i:
                    g.append(glam[i, j])
        g = np.concatenate([np.array(g), gs, [gt]])
        return -ll, -g
    return f


def us_unpack(th):
    L = np.zeros((E, E))
    L[np.tril_indices(E)] = th[:E * (E + 1) // 2]
    return L, th[-1]


def us_objective(model):
    def f(th):
        L, t = us_unpack(th)
        try:
            ll, D, ds2 = model.grad_parts(L @ L.T, t * t)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(th)
        gL = (2.0 * D @ L)[np.tril_indices(E)]
        return -ll, -np.concatenate([gL, [2.0 * t * ds2]])
    return f


def newton_polish(f, th, iters=30):
    th = th.copy()
    val, g = f(th)
    for _ in range(iters):
        h = 1e-6
        H = np.zeros((len(th), len(th)))
        for i in range(len(th)):
            e = np.zeros(len(th))
            e[i] = h * max(1.0, abs(th[i]))
            H[:, i] = (f(th + e)[1] - f(th - e)[1]) / (2 * e[i])
        H = 0.5 * (H + H.T)
        w, U = np.linalg.eigh(H)
        # a Newton step on the positive curvature, gradient descent elsewhere
        winv = np.where(w > 1e-10 * max(w.max(), 1e-300), 1.0 / np.maximum(w, 1e-300), 0.0)
        step = -U @ (winv * (U.T @ g))
        a, improved = 1.0, False
        for _ in range(40):
            v2, g2 = f(th + a * step)
            if v2 <= val:
                th, val, g, improved = th + a * step, v2, g2, True
                break
            a *= 0.5
        if not improved or np.linalg.norm(a * step) < 1e-12:
            break
    return th, val, g


def fit(f, starts):
    best = None
    for th0 in starts:
        r = minimize(f, th0, jac=True, method="L-BFGS-B",
                     options={"maxiter": 5000, "maxfun": 20000, "ftol": 1e-15, "gtol": 1e-10})
        th, val, g = newton_polish(f, r.x)
        if best is None or val < best[1]:
            best = (th, val, g)
    return best


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = os.path.join(root, "tests", "data", "boundaries")
    rng = np.random.default_rng(20261203)
    result = {
        "source": "tests/independent/fa_heywood_reml.py",
        "model": "y ~ env - 1, u ~ N(0, I_40 (x) Sigma) over genotype:env, e ~ N(0, sigma^2 I); "
                 "REML log-likelihood in lme4's convention",
        "fits": {},
    }
    for seed in ["heywood-1", "heywood-2"]:
        y, env, gen = heywood(seed)
        name = seed.replace("-", "_")
        with open(os.path.join(out_dir, f"{name}.csv"), "w") as fh:
            fh.write("y,env,genotype\n")
            for a, b, c in zip(y, env, gen):
                fh.write(f"{float(a)!r},e{b},g{c}\n")
        model = Model(y, env, gen)
        fits = {}
        for k in (1, 2):
            f = fa_objective(model, k)
            m = fa_count(k)
            starts = [np.concatenate([np.full(m - E - 1, 0.5), np.full(E, 0.5), [0.5]])]
            starts += [rng.normal(0.0, 0.8, m) for _ in range(8 if k == 1 else 30)]
            th, val, g = fit(f, starts)
            lam, s, t = fa_unpack(th, k)
            fits[f"fa{k}"] = {
                "loglik": -val,
                "psi": list(s * s),
                "sigma2": t * t,
                "gradient_norm": float(np.linalg.norm(g)),
            }
        f = us_objective(model)
        m = E * (E + 1) // 2 + 1
        base = np.eye(E)[np.tril_indices(E)] * 0.8
        starts = [np.concatenate([base, [0.5]])]
        starts += [np.concatenate([base + rng.normal(0, 0.5, m - 1), [abs(rng.normal(0.6, 0.2))]])
                   for _ in range(10)]
        th, val, g = fit(f, starts)
        L, t = us_unpack(th)
        fits["us"] = {
            "loglik": -val,
            "min_eigenvalue": float(np.linalg.eigvalsh(L @ L.T).min()),
            "sigma2": t * t,
            "gradient_norm": float(np.linalg.norm(g)),
        }
        result["fits"][seed] = fits
        print(seed, json.dumps(fits, indent=1))
    with open(os.path.join(out_dir, "heywood.json"), "w") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
