#!/usr/bin/python3
"""Coefficients of gelu_f32x4 (assembly/activation.ts); not needed to build or test.

GELU's lower tail h(a) = Phi(-a) = erfc(a/sqrt 2)/2 is computed as 2^(-a^2 log2(e)/2) * R(a):
  R(a) = erfcx(a/sqrt 2)/2 on [0, 5.55]: a (3,4) rational with monic denominator, near-minimax in
         relative error (Lawson's iteratively reweighted least squares on the linearised problem);
  2^f on [-1/2, 1/2]: 1 + c1 f + ... + c5 f^5, near-minimax in relative error.
Prints the f32-rounded coefficients (as in the table GELU_K) and the fits' errors in float64.
Run with /usr/bin/python3 (numpy, mpmath).
"""
import numpy as np
import mpmath as mp

mp.mp.dps = 40
CLAMP = 5.55


def lawson(solve, points, iters):
    """Near-minimax fit: weighted least squares, weights multiplied by |error| each round."""
    w = np.ones(points) / points
    best = None
    for _ in range(iters):
        coef, err = solve(w)
        e = np.abs(err).max()
        if best is None or e < best[0]:
            best = (e, coef)
        w = w * np.abs(err)
        w /= w.sum()
    return best


def fit_r(n=3, m=4, nodes=3000, iters=2000):
    t = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)
    a = np.concatenate([(t + 1) / 2 * CLAMP, [0.0, CLAMP]])
    r = np.array([float(mp.erfc(mp.mpf(x) / mp.sqrt(2)) * mp.exp(mp.mpf(x) ** 2 / 2) / 2) for x in a])
    s = a / CLAMP  # scaled variable for conditioning
    v = np.vander(s, max(n, m) + 1, increasing=True)
    state = {'q': np.ones(len(a))}

    def solve(w):
        # P(s) - r Q(s) = 0 with Q monic, rows scaled by 1/(r Q_prev): relative error.
        lhs = np.hstack([v[:, :n + 1], -r[:, None] * v[:, :m]])
        rhs = r * v[:, m]
        sc = np.sqrt(w) / (r * np.abs(state['q']))
        c, *_ = np.linalg.lstsq(lhs * sc[:, None], rhs * sc, rcond=None)
        p, q = c[:n + 1], np.concatenate([c[n + 1:], [1.0]])
        pv, qv = v[:, :n + 1] @ p, v[:, :m + 1] @ q
        state['q'] = qv
        return (p, q), (pv / qv - r) / r

    err, (p, q) = lawson(solve, len(a), iters)
    p = p / CLAMP ** np.arange(n + 1)
    q = q / CLAMP ** np.arange(m + 1)
    return err, p / q[-1], q / q[-1]


def fit_exp2(deg=5, nodes=4000, iters=500):
    f = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes) * 0.5
    y = 2.0 ** f
    a = np.stack([f ** k for k in range(1, deg + 1)], 1)

    def solve(w):
        sc = np.sqrt(w) / y
        c, *_ = np.linalg.lstsq(a * sc[:, None], (y - 1) * sc, rcond=None)
        return c, (1 + a @ c - y) / y

    err, c = lawson(solve, len(f), iters)
    return err, np.concatenate([[1.0], c])


def f32(xs):
    return ', '.join(repr(float(np.float32(x))) for x in xs)


if __name__ == '__main__':
    e, c = fit_exp2()
    print(f'2^f, f^0..f^5 (relative error {e:.2e}):', f32(c))
    e, p, q = fit_r()
    print(f'R numerator a^0..a^3 (relative error {e:.2e}):', f32(p))
    print('R denominator a^0..a^4:', f32(q))
    print('-log2(e)/2:', f32([-np.log2(np.e) / 2]))
