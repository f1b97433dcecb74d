"""Tests for the EM stepper: its update function over the whole slider range, and the front end's wiring."""

import ipywidgets as widgets
import numpy as np
import pytest

from lvmlib.examples import three_cluster_mixture
from lvmlib.mixtures import fit_em
from lvmlib.widgets import em_stepper as es


def _find(widget, cls):
    """All descendants of ``widget`` (itself included) that are instances of ``cls``."""
    found = [widget] if isinstance(widget, cls) else []
    for child in getattr(widget, "children", ()):
        found += _find(child, cls)
    return found


def test_default_fit_converges_in_a_handful_of_iterations():
    fit = es.default_fit()
    assert fit.result.converged and 5 <= fit.result.n_iter <= 40
    assert fit.X.shape == (272, 2) and np.allclose(fit.X.mean(0), 0) and np.allclose(fit.X.std(0), 1)


@pytest.mark.parametrize("fit", ["default", "abc"])
def test_update_over_the_whole_range(fit):
    if fit == "default":
        fit = es.default_fit()
    else:
        X = three_cluster_mixture().sample(150, np.random.default_rng(0))[1]
        fit = es.StepperFit(X, fit_em(X, 3, rng=np.random.default_rng(1), max_iter=8, tol=1e-3))
    K = len(fit.result.weights)
    states = [es.em_stepper_update(s, fit) for s in range(fit.n_steps + 1)]
    for st in states:
        numbers = [st.log_lik, st.elbo, *st.curve_log_lik, *st.curve_elbo]
        assert np.all(np.isfinite(numbers)) and np.all(np.isfinite(st.resp))
        assert st.resp.shape == (len(fit.X), K) and np.allclose(st.resp.sum(1), 1.0)
        assert st.elbo <= st.log_lik + 1e-12
        assert len(st.curve_steps) == st.step + 1
    assert states[0].phase == "init" and np.allclose(states[0].resp, 1 / K)
    for st in states[1::2]:
        assert st.phase == "E" and abs(st.gap) < 1e-10  # the E-step closes the gap
    for st in states[2::2]:
        assert st.phase == "M"
    assert all(st.gap >= 0.0 for st in states)  # a KL: rounding never shows as -0.0000
    # the caption's promise: an E-step changes only q (the colours), an M-step only theta (the ellipses)
    for before, after in zip(states[:-1], states[1:], strict=True):
        same_params = np.array_equal(before.means, after.means) and np.array_equal(before.covs, after.covs)
        same_q = np.array_equal(before.resp, after.resp)
        assert (same_params, same_q) == ((True, False) if after.phase == "E" else (False, True)), after.step
    log_liks = [st.log_lik for st in states]
    assert np.all(np.diff(log_liks) >= -1e-12)  # never decreases, half-step by half-step
    # the numbers computed from the parameters agree with the history fit_em recorded
    assert np.allclose(log_liks[1:], [h[1] for h in fit.result.half_steps], atol=1e-12)
    assert np.allclose([st.elbo for st in states[1:]], [h[2] for h in fit.result.half_steps], atol=1e-10)
    assert np.allclose(states[-1].curve_log_lik, log_liks)


@pytest.mark.parametrize("step", [-1, 0.5, True, 10_000])
def test_update_rejects_steps_outside_the_slider(step):
    with pytest.raises(ValueError, match="step must be a whole number in"):
        es.em_stepper_update(step)


def test_front_end_wiring():
    box = es.em_stepper()
    (step_s,) = [s for s in _find(box, widgets.IntSlider) if s.description == "iteration"]
    (play,) = _find(box, widgets.Play)
    fit = es.default_fit()
    assert step_s.max == play.max == fit.n_steps and step_s.min == 0
    readout = [h for h in _find(box, widgets.HTML) if "lvm-readout" in h.value][0]
    for name in ("log_lik", "elbo", "gap"):
        assert f"data-name='{name}'" in readout.value
    image = _find(box, widgets.Image)[0]
    before = image.value
    step_s.value = 3
    st = es.em_stepper_update(3)
    assert f"data-name='log_lik'>{st.log_lik:.4f}<" in readout.value
    assert f"data-name='elbo'>{st.elbo:.4f}<" in readout.value
    assert image.value != before
    assert any("iteration 2, after the E-step" in h.value for h in _find(box, widgets.HTML))
    (reset,) = [b for b in _find(box, widgets.Button) if b.description == "reset"]
    reset.click()
    assert step_s.value == 0
    assert f"data-name='elbo'>{es.em_stepper_update(0).elbo:.4f}<" in readout.value


def test_figure_fits_a_900_px_notebook_and_zooms_on_the_gap():
    import io

    from PIL import Image

    box = es.em_stepper()
    image = _find(box, widgets.Image)[0]
    width, height = Image.open(io.BytesIO(image.value)).size
    assert width <= 880 and height <= 400  # a 1280-px window with the file browser open leaves ~900 px
    fit = es.default_fit()
    lls, elbos = es._curves(fit)
    gaps = lls - elbos
    # the gap the explorer exists to show is tiny on the log-likelihood axis...
    assert gaps[2::2].max() < 0.1 * (lls.max() - elbos.min())


def test_try_this_answers_are_computed_by_the_update_code():
    fit = es.default_fit()
    answers = es.try_this_answers(fit)
    assert set(answers) == {"1", "2", "3"}
    states = [es.em_stepper_update(s, fit) for s in range(fit.n_steps + 1)]
    max_e_gap = max(st.gap for st in states if st.phase == "E")
    assert f"{max_e_gap:.1e}" in answers["1"]()
    m_gaps = [st.gap for st in states if st.phase == "M"]
    assert f"{max(m_gaps):.4f}" in answers["2"]() and f"{fit.result.n_iter} of {fit.result.n_iter}" in answers["2"]()
    text = answers["3"]()
    assert f"{fit.result.log_lik_history[-1]:.4f}" in text and "iteration" in text


def test_default_fit_uses_the_exact_m_step():
    # the stepper promises that log p(x) never decreases: that needs reg_covar = 0
    fit = es.default_fit()
    X = fit.X
    w, m, c = fit.result.params_history[0]
    from lvmlib.distributions import cholesky
    from lvmlib.mixtures import e_step, m_step
    resp = np.exp(e_step(X, w, m, cholesky(c))[0])
    assert all(np.allclose(a, b) for a, b in zip(m_step(X, resp, reg_covar=0.0), fit.result.params_history[1],
                                                 strict=True))


def test_each_stored_frame_is_rendered_from_its_own_half_step(monkeypatch):
    """The frames are rendered up front: each PNG must be drawn after its step's artists were set (not the previous
    step's), and a move must show the frame of the slider's step. The middle panel's title names the step's numbers."""
    from lvmlib.widgets import LiveFigure

    titles, original = [], LiveFigure.render

    def render(self, *args, **kwargs):
        png = original(self, *args, **kwargs)
        titles.append((self.fig.axes[1].get_title(), png))
        return png

    monkeypatch.setattr(LiveFigure, "render", render)
    box = es.em_stepper()
    fit = es.default_fit()
    frames = titles[-(fit.n_steps + 1):]  # the constructor's first full draw comes before them
    for step, (title, _) in enumerate(frames):
        st = es.em_stepper_update(step, fit)
        assert title == f"log p(x) {st.log_lik:.4f}, ELBO {st.elbo:.4f}", step
    (step_s,) = [s for s in _find(box, widgets.IntSlider) if s.description == "iteration"]
    image = _find(box, widgets.Image)[0]
    for step in (5, 2, 0):
        step_s.value = step
        assert image.value == frames[step][1]
