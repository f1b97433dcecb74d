"""Chapter 02 exercises and capstone: independent right answers (scipy, written here), every named mistake with its
own diagnosis, untouched stubs, hints in steps, and a capstone solution with one bug per step."""

import numpy as np
import pytest
from scipy.special import logsumexp, xlogy
from scipy.stats import multivariate_normal

from lvmlib.exercises import ch02


def _log_joint(X, weights, means, covs):
    return np.stack([np.log(w) + multivariate_normal(m, c).logpdf(X)
                     for w, m, c in zip(weights, means, covs, strict=True)], axis=1)


def _stub(*args):
    ...


def _verdict(exercise, answer, capsys):
    capsys.readouterr()
    ok = exercise.check(answer)
    return ok, capsys.readouterr().out


# ---- a right capstone, written here (not copied from lvmlib) ------------------------------------------------------
def right_e_step(X, weights, means, covs):
    log_joint = _log_joint(X, weights, means, covs)
    log_px = logsumexp(log_joint, axis=1)
    return log_joint - log_px[:, None], log_px


def right_m_step(X, resp):
    Nk = resp.sum(axis=0)
    means = np.stack([np.average(X, axis=0, weights=resp[:, k]) for k in range(resp.shape[1])])
    covs = np.stack([np.cov(X.T, aweights=resp[:, k], bias=True) for k in range(resp.shape[1])])
    return Nk / Nk.sum(), means, covs


def make_fit(e_step, m_step, record=lambda log_px: log_px.mean()):
    def fit_gmm(X, init, n_iter):
        w, m, c = init["weights"], init["means"], init["covs"]
        trace = [record(e_step(X, w, m, c)[1])]
        for _ in range(n_iter):
            log_r, _ = e_step(X, w, m, c)
            w, m, c = m_step(X, np.exp(log_r))
            trace.append(record(e_step(X, w, m, c)[1]))
        return w, m, c, np.array(trace)
    return fit_gmm


# ---- exercise 1: the ELBO --------------------------------------------------------------------------------------
def test_ex1_elbo(capsys):
    def right(X, r, w, m, c):
        return np.mean(np.sum(r * np.where(r > 0, _log_joint(X, w, m, c), 0), axis=1) - np.sum(xlogy(r, r), axis=1))

    assert _verdict(ch02.ex1, right, capsys)[0] is True
    no_entropy = lambda X, r, w, m, c: np.mean(np.sum(xlogy(r, np.exp(_log_joint(X, w, m, c))), axis=1))
    ok, out = _verdict(ch02.ex1, no_entropy, capsys)
    assert ok is False and "the ELBO also has the entropy H(q)" in out
    sign = lambda X, r, w, m, c: right(X, r, w, m, c) + 2 * np.mean(np.sum(xlogy(r, r), axis=1))
    ok, out = _verdict(ch02.ex1, sign, capsys)
    assert ok is False and "the entropy is minus that" in out
    nan_0log0 = lambda X, r, w, m, c: np.mean(np.sum(r * (_log_joint(X, w, m, c) - np.log(r)), axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ok, out = _verdict(ch02.ex1, nan_0log0, capsys)
    assert ok is False and "one-hot" in out  # the failing case is named: 0 log 0 must be 0
    densities = lambda X, r, w, m, c: np.mean(np.sum(r * np.exp(_log_joint(X, w, m, c)), axis=1)
                                              - np.sum(xlogy(r, r), axis=1))
    ok, out = _verdict(ch02.ex1, densities, capsys)
    assert ok is False and "the ELBO weights their logs" in out
    assert _verdict(ch02.ex1, _stub, capsys)[0] is None
    assert len(ch02.ex1.hints) >= 2


# ---- exercise 2: parameter counts ------------------------------------------------------------------------------
def test_ex2_parameter_counts(capsys):
    def right(K, D, covariance_type):
        sym = D * (D + 1) // 2
        return K - 1 + K * D + {"full": K * sym, "diag": K * D, "tied": sym, "spherical": K}[covariance_type]

    assert _verdict(ch02.ex2, right, capsys)[0] is True
    ok, out = _verdict(ch02.ex2, lambda K, D, t: right(K, D, t) + 1, capsys)
    assert ok is False and "only K - 1 of them are free" in out
    square = lambda K, D, t: right(K, D, t) + {"full": K * D * (D - 1) // 2, "tied": D * (D - 1) // 2}.get(t, 0)
    ok, out = _verdict(ch02.ex2, square, capsys)
    assert ok is False and "only D (D + 1) / 2 are free" in out
    tied_per_k = lambda K, D, t: right(K, D, t) + ((K - 1) * D * (D + 1) // 2 if t == "tied" else 0)
    ok, out = _verdict(ch02.ex2, tied_per_k, capsys)
    assert ok is False and "share ONE matrix" in out
    assert _verdict(ch02.ex2, _stub, capsys)[0] is None
    assert len(ch02.ex2.hints) >= 2


# ---- capstone step by step -------------------------------------------------------------------------------------
def test_capstone_e_step_mistakes(capsys):
    cap = ch02.capstone
    assert _verdict(cap.e_step, right_e_step, capsys)[0] is True

    def unnormalized(X, w, m, c):
        lj = _log_joint(X, w, m, c)
        return lj, logsumexp(lj, axis=1)

    ok, out = _verdict(cap.e_step, unnormalized, capsys)
    assert ok is False and "subtract log p(x_i) from every row" in out

    def probabilities(X, w, m, c):
        lr, lp = right_e_step(X, w, m, c)
        return np.exp(lr), lp

    ok, out = _verdict(cap.e_step, probabilities, capsys)
    assert ok is False and "this step returns their logs" in out

    def over_points(X, w, m, c):  # normalized down each column (over i) instead of along each row (over k)
        lj = _log_joint(X, w, m, c)
        return lj - logsumexp(lj, axis=0), logsumexp(lj, axis=1)

    ok, out = _verdict(cap.e_step, over_points, capsys)
    assert ok is False and "you normalized over the points i" in out

    def naive(X, w, m, c):  # exponentiates first: 0/0 for the far point
        p = np.exp(_log_joint(X, w, m, c))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(p / p.sum(axis=1, keepdims=True)), np.log(p.sum(axis=1))

    ok, out = _verdict(cap.e_step, naive, capsys)
    assert ok is False and "(40, -30)" in out and ("underflow" in out or "nan" in out.lower())
    assert _verdict(cap.e_step, _stub, capsys)[0] is None
    assert len(cap.e_step.hints) >= 2


@pytest.mark.parametrize("mistake, words", [
    ("means_over_n", "divide by N_k"),
    ("means_unscaled", "divide each by N_k"),
    ("uncentred", "subtract the new mean first"),
    ("weights_nk", "must sum to one"),
    ("covs_over_n", "like the means, divide by N_k"),
])
def test_capstone_m_step_mistakes(mistake, words, capsys):
    def wrong(X, resp):
        w, m, c = right_m_step(X, resp)
        Nk = resp.sum(0)
        if mistake == "means_over_n":
            m = resp.T @ X / len(X)
        elif mistake == "means_unscaled":
            m = resp.T @ X
        elif mistake == "uncentred":
            c = np.stack([(resp[:, k, None] * X).T @ X / Nk[k] for k in range(len(Nk))])
        elif mistake == "covs_over_n":
            c = c * Nk[:, None, None] / len(X)
        else:
            w = Nk
        return w, m, c

    assert _verdict(ch02.capstone.m_step, right_m_step, capsys)[0] is True
    ok, out = _verdict(ch02.capstone.m_step, wrong, capsys)
    assert ok is False and words in out
    assert _verdict(ch02.capstone.m_step, _stub, capsys)[0] is None


def test_capstone_fit_catches_a_trace_that_goes_down_and_a_wrong_log_likelihood(capsys):
    cap = ch02.capstone
    assert _verdict(cap.fit, make_fit(right_e_step, right_m_step), capsys)[0] is True

    def m_step_with_heuristic(X, resp):  # planted: a reg_covar-like M-step that is not the exact maximizer
        w, m, c = right_m_step(X, resp)
        return w, m, c + 0.05 * np.eye(X.shape[1])

    ok, out = _verdict(cap.fit, make_fit(right_e_step, m_step_with_heuristic), capsys)
    assert ok is False and "your trace goes down at iteration" in out

    def uncentred(X, resp):  # planted: covariance without centring
        w, m, _ = right_m_step(X, resp)
        Nk = resp.sum(0)
        return w, m, np.stack([(resp[:, k, None] * X).T @ X / Nk[k] for k in range(len(Nk))])

    ok, out = _verdict(cap.fit, make_fit(right_e_step, uncentred), capsys)
    assert ok is False and ("goes down" in out or "ends elsewhere" in out)
    ok, out = _verdict(cap.fit, make_fit(right_e_step, right_m_step, record=np.sum), capsys)  # a total, not a mean
    assert ok is False and "trace[0] should be the mean log-likelihood per point" in out

    def one_iteration_short(X, init, n_iter):
        return make_fit(right_e_step, right_m_step)(X, init, n_iter - 1)

    def lagged(X, init, n_iter):  # records the E-step's log p(x) from BEFORE each M-step
        w, m, c = init["weights"], init["means"], init["covs"]
        trace = [right_e_step(X, w, m, c)[1].mean()]
        for _ in range(n_iter):
            log_r, log_px = right_e_step(X, w, m, c)
            w, m, c = right_m_step(X, np.exp(log_r))
            trace.append(log_px.mean())
        return w, m, c, np.array(trace)

    ok, out = _verdict(cap.fit, lagged, capsys)
    assert ok is False and "your trace lags one iteration behind" in out

    def trace_from_second_iteration_wrong(X, init, n_iter):  # final parameters right, one recorded value wrong
        w, m, c, trace = make_fit(right_e_step, right_m_step)(X, init, n_iter)
        trace[1] = trace[0] + 0.5 * (trace[1] - trace[0])  # still monotone
        return w, m, c, trace

    ok, out = _verdict(cap.fit, trace_from_second_iteration_wrong, capsys)
    assert ok is False and "look at what you record" in out
    ok, out = _verdict(cap.fit, one_iteration_short, capsys)
    assert ok is False and "numbers; got shape" in out
    assert _verdict(cap.fit, _stub, capsys)[0] is None
    assert len(cap.fit.hints) >= 2


def test_capstone_a_bug_in_one_step_fails_only_that_step(capsys):
    cap = ch02.capstone
    right = {"e_step": right_e_step, "m_step": right_m_step, "fit": make_fit(right_e_step, right_m_step)}
    assert cap.check(**right) == {"e_step": True, "m_step": True, "fit": True}

    def e_probabilities(X, w, m, c):
        lr, lp = right_e_step(X, w, m, c)
        return np.exp(lr), lp

    def m_weights_nk(X, resp):
        _, m, c = right_m_step(X, resp)
        return resp.sum(0), m, c

    def fit_skips_the_e_step(X, init, n_iter):  # reuses the first responsibilities: not EM
        w, m, c = init["weights"], init["means"], init["covs"]
        trace = [right_e_step(X, w, m, c)[1].mean()]
        resp = np.exp(right_e_step(X, w, m, c)[0])
        for _ in range(n_iter):
            w, m, c = right_m_step(X, resp)
            trace.append(right_e_step(X, w, m, c)[1].mean())
        return w, m, c, np.array(trace)

    for name, buggy in (("e_step", e_probabilities), ("m_step", m_weights_nk), ("fit", fit_skips_the_e_step)):
        verdicts = cap.check(**{**right, name: buggy})
        assert verdicts == {step: step != name for step in right}, (name, verdicts)
    out = capsys.readouterr().out
    assert "2 of 3 steps correct" in out


def test_printed_solutions_run_with_the_notebooks_imports_and_pass(capsys):
    # a learner pastes solution() into the notebook, where np, multivariate_normal and logsumexp are imported
    namespace = {"np": np, "multivariate_normal": multivariate_normal, "logsumexp": logsumexp}
    for ex, name in ((ch02.ex1, "elbo_per_point"), (ch02.ex2, "n_params"), (ch02.capstone.e_step, "e_step"),
                     (ch02.capstone.m_step, "m_step"), (ch02.capstone.fit, "fit_gmm")):
        capsys.readouterr()
        ex.solution()
        out = capsys.readouterr().out
        code = out[out.index("\ndef ") if "\ndef " in out else out.index("\nfrom "):]
        code = out[out.index("\nfrom "):] if "\nfrom " in out else code
        exec(code, namespace)
        assert ex.check(namespace[name]) is True, ex.title
