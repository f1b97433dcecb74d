"""Tests for lvmlib.widgets.jensen: log E[f] >= E[log f] over the full range of every slider, equality cases,
validation, and the front end's readouts."""

import re

import numpy as np
import pytest

from lvmlib.widgets import jensen as J


def test_chord_full_range():
    for f1 in np.linspace(*J.F_RANGE, 12):
        for f2 in np.linspace(*J.F_RANGE, 12):
            for w in np.linspace(0, 1, 11):
                st = J.chord_update(f1, f2, w)
                assert np.all(np.isfinite([st.mean_f, st.log_mean, st.mean_log, st.gap]))
                assert st.gap >= -1e-15
                assert np.isclose(st.log_mean, np.log(w * f1 + (1 - w) * f2))
                assert np.isclose(st.mean_log, w * np.log(f1) + (1 - w) * np.log(f2))


@pytest.mark.parametrize("f1, f2, w", [(2.0, 2.0, 0.3), (0.5, 4.0, 0.0), (0.5, 4.0, 1.0)])
def test_chord_equality_cases(f1, f2, w):
    assert abs(J.chord_update(f1, f2, w).gap) < 1e-15


def test_many_points_full_range():
    for n in [J.N_RANGE[0], 17, J.N_RANGE[1]]:
        for s in np.linspace(*J.SPREAD_RANGE, 7):
            st = J.many_update(n, s, seed=5)
            assert np.all(np.isfinite([st.mean_f, st.log_mean, st.mean_log])) and st.gap >= -1e-15
    assert abs(J.many_update(50, 0.0).gap) < 1e-15
    # for log-normal f the gap tends to s^2 / 2: with 200 points it is within 0.15 of 0.32 for s = 0.8
    assert abs(J.many_update(200, 0.8, seed=0).gap - 0.32) < 0.15


def test_validation():
    with pytest.raises(ValueError, match="w must lie in"):
        J.chord_update(1.0, 2.0, 1.5)
    with pytest.raises(ValueError, match="must be > 0"):
        J.chord_update(0.0, 2.0, 0.5)
    with pytest.raises(ValueError, match="spread must be >= 0"):
        J.many_update(10, -1.0)


def test_front_end_readouts():
    box = J.jensen_explorer()
    left = box.children[1].children[0]
    mode, f1, f2, w = left.children[:4]
    readout = left.children[-1]
    f1.value, f2.value, w.value = 1.0, 5.0, 0.25
    st = J.chord_update(1.0, 5.0, 0.25)
    found = dict(re.findall(r"data-name='(\w+)'>(-?[\d.]+)<", readout.value))
    assert float(found["gap"]) == round(st.gap, 4) and float(found["log_mean"]) == round(st.log_mean, 4)
    mode.value = "many points"
    found = dict(re.findall(r"data-name='(\w+)'>(-?[\d.]+)<", readout.value))
    assert float(found["gap"]) == round(J.many_update(20, 0.8, 0).gap, 4)


def test_curve_spans_every_point_the_sliders_can_produce():
    # the widest setting (n = 200, s = 1.5) over 50 draws: every (f_i, log f_i) lies on the drawn part of log f
    for seed in range(50):
        f = J.many_update(J.N_RANGE[1], J.SPREAD_RANGE[1], seed).f
        assert J.CURVE_RANGE[0] < f.min() and f.max() < J.CURVE_RANGE[1]
    assert J.CURVE_RANGE[0] < J.F_RANGE[0] and J.F_RANGE[1] < J.CURVE_RANGE[1]


def test_many_points_gap_scatters_around_s2_over_2_and_averages_below_it():
    # Try this 3 says: one finite draw may land above or below s^2/2, but E[gap] <= s^2/2 (Jensen on the mean of f).
    # Independent reference: the delta-method mean s^2/2 - (e^{s^2} - 1) / (2n) for log f ~ N(0, s^2).
    n, s = 200, 1.5
    gaps = np.array([J.many_update(n, s, seed).gap for seed in range(1000)])
    assert 0.2 < np.mean(gaps > s**2 / 2) < 0.6  # single draws fall on both sides
    se = gaps.std() / np.sqrt(gaps.size)
    assert gaps.mean() < s**2 / 2 - 3 * se  # ... but the average is below
    assert abs(gaps.mean() - (s**2 / 2 - np.expm1(s**2) / (2 * n))) < 4 * se
