"""A check must be able to fail: plant an error into each of chapter 04's key checks and see the check fail.

The notebook's code cells (without figures, the explorer and the exercises) run once into a namespace; each planted
error then edits one cell's source (a wrong log p(x), a missing log |Z|, a flipped sign ...) and re-runs it, which
must raise the cell's AssertionError with its claim in the message. The unedited cell re-run passes (so the failure
comes from the planted error, not from the re-run).
"""

import ast
import contextlib
import copy
import io
import pathlib
import re
import warnings

import matplotlib
import nbformat
import pytest

NOTEBOOK = pathlib.Path(__file__).parents[1] / "notebooks" / "04_monte_carlo_importance_sampling.ipynb"
SKIP = ("plt.subplots", "proposal_explorer(", ".check(", "TryThis(", "Capstone(")


def _code_cells():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code" or any(marker in cell.source for marker in SKIP):
            continue
        cells.append("\n".join(line for line in cell.source.splitlines() if not line.startswith("%")))
    return cells


def _run(source, namespace):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        exec(compile(ast.parse(source), "cell", "exec"), namespace)


@pytest.fixture(scope="module")
def chapter():
    matplotlib.use("Agg")
    cells = _code_cells()
    namespace = {}
    for source in cells:
        _run(source, namespace)
    return cells, namespace


# (a line of the cell to edit, the text replaced in it, its replacement, a line of the cell holding the check (None:
# the same cell), a fragment of the claim that must fail)
PLANTED = [
    ("ratio_uniform = {k: np.exp(log_p_x_hat(lw)[:, 0] - log_px_bin)", "log_p_x_hat(lw)",
     "log_p_x_hat(lw - np.log(2**binary.d))", "r = ratio_uniform[1000]",
     "uniform sampling is unbiased"),  # log |Z| forgotten in the weights
    ("ess_frac_prior = effective_sample_size(", "/ K_PRIOR", "/ (0.8 * K_PRIOR)", "rel_dev = np.abs(",
     "within 15%"),  # ESS divided by the wrong k
    ("ratio_is = np.exp(log_p_x_hat(log_w_is)[:, 0] - log_px2)", "- log_px2)", "- log_px2 + 0.1)", None,
     "importance sampling is unbiased"),  # a wrong log p(x): 0.1 nats too low
    ("ratio_is = np.exp(log_p_x_hat(log_w_is)[:, 0] - log_px2)", "log_p_x_hat(log_w_is)[:, 0]",
     "log_w_is.mean(axis=1)[:, 0]", None,
     "importance sampling is unbiased"),  # the mean of log-weights (a geometric mean of weights) for the estimate
    ("log_w_post = log_weights_gaussian(linear, x_lin, mean_post, sd_post", "mean_post, sd_post,",
     "mean_post, 1.01 * sd_post,", None, "zero variance"),  # q is 1% off the posterior
    ("ess_check[name] = (effective_sample_size(lw)[:, 0].mean() / 1000", ".mean() / 1000", ".mean() / 100", None,
     "small ESS/k"),  # ESS/k with the wrong k
    ("lw_12 = log_weights_gaussian(linear, x_lin, mean_post, 1.2 * sd_post", "1.2 * sd_post", "1.3 * sd_post", None,
     "1 + chi^2 = 1.0502"),  # sampled at another width than the closed form assumes
    ("bias = np.array([log_est[k].mean() - log_px2", "log_est[k].mean() - log_px2",
     "log_est[k].mean() - log_px2 + 0.03", "ratio_300 = bias[-1]",
     "E[log p_hat_k] < log p(x)"),  # log p(x) 0.03 nats too low: the large-k biases turn positive
    ("ratio_300 = bias[-1]", "ratio_300 = bias[-1] / (-chi2_a", "ratio_300 = bias[-1] / (-3 * chi2_a", None,
     "within 60%"),  # a wrong chi^2
    ("lw = log_weights_gaussian(model_d, x_d, m_d + SHIFT * s_d", "SCALE * s_d, K_DIM", "1.1 * SCALE * s_d, K_DIM",
     "c_quad = np.trapezoid(", "ESS/k is 1/(1 + chi^2) within 10%"),  # sampled at a width the closed form does not use
    ("lw = log_weights_mixture(nonlinear, x2, means, sds, weights, K_MIX", "bias=est.mean() - log_px2",
     "bias=est.mean() - log_px2 + 0.05", None, "the bias is -chi^2/(2k)"),  # log p(x) 0.05 nats off
    ("coverage[name] = np.mean(", "1.96 * rse", "1.0 * rse", None,
     "covers p(x) 95% of the time"),  # the wrong quantile: a 68% interval
    ("grad_f = lambda z:", "- B_DEC * z) * z", "+ B_DEC * z) * z", None,
     "chapter 03's identity"),  # a sign error in d/db log p(x, z): quadrature and finite differences disagree
    ("K_GRAD = ", "self_normalized_expectation(lw,", "self_normalized_expectation(0 * lw,", None,
     "SNIS estimates the gradient"),  # the weights forgotten: a plain average of f under q
    ("post_sorted = np.sort(", "np.exp(log_post))[::-1]", "np.exp(log_post) / 3)[::-1]", "hits = {k:",
     "the hit count below needs"),  # a posterior that is not normalized: no configuration above 1/2
    ("lw = log_weights_mixture(nonlinear, x2, means, sds, weights, K_MIX", "log1p_chi2(x2, log_q_mix)[0]",
     "log1p_chi2(x2, log_q_grid(1.25, 0.3))[0]", None,
     "the two-Gaussian mixture is smallest"),  # chi^2 of the wrong proposal
    ("joint = minimize(", "log_q_grid(p[0], np.exp(p[1]))", "log_q_grid(p[0] + 1.0, np.exp(p[1]))", None,
     "the best Gaussian sits near the posterior mean"),  # a proposal shifted against the one the optimizer reports
    ("K_GRAD = ", "q_two = np.exp(", "q_two = 1e-6 * np.exp(", None,
     "SNIS bias is negligible"),  # an unnormalized q: the first-order constant 10^6 times too large
]


def _one_cell(cells, anchor):
    matches = [source for source in cells if anchor in source]
    assert len(matches) == 1, f"the notebook has {len(matches)} cells containing {anchor!r}"
    return matches[0]


@pytest.mark.parametrize("anchor, old, new, check_anchor, claim", PLANTED,
                         ids=[f"{p[4][:28]}: {p[2][:28]}" for p in PLANTED])
def test_planted_error_makes_the_check_fail(chapter, anchor, old, new, check_anchor, claim):
    cells, namespace = chapter
    source = _one_cell(cells, anchor)
    check = _one_cell(cells, check_anchor) if check_anchor else ""
    assert old in source
    _run(source + "\n" + check, copy.copy(namespace))  # unedited: passes
    with pytest.raises(AssertionError, match=re.escape(claim)):
        _run(source.replace(old, new) + "\n" + check, copy.copy(namespace))
