"""Tests for lvmlib.widgets.flow_explorer: the update function against direct computation, and the wiring."""

import numpy as np
import pytest
from scipy.stats import norm

from lvmlib.widgets.flow_explorer import flow_explorer, flow_update

GRID = np.linspace(-4, 4, 8001)
PANELS = {0: (norm.pdf(GRID, 1.0, 0.3), -2.7), 2: (0.4 * norm.pdf(GRID, -1.5, 0.2) + 0.6 * norm.pdf(GRID, 1.2, 0.2),
                                                    -2.2)}


def test_update_returns_the_gap_and_the_mass_left_of_zero():
    st = flow_update(GRID, PANELS, -2.1784, 2)
    assert abs(st.gap - (-2.1784 + 2.2)) < 1e-12
    assert abs(st.mass_left - 0.4) < 1e-6  # the left component's mass
    assert abs(flow_update(GRID, PANELS, -2.1784, 0).mass_left - norm.cdf(0, 1.0, 0.3)) < 1e-6


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match=r"K must be one of the fitted numbers of layers \[0, 2\]"):
        flow_update(GRID, PANELS, 0.0, 3)
    with pytest.raises(ValueError, match=r"panels\[0\] must hold q on the grid"):
        flow_update(GRID[:10], PANELS, 0.0, 0)


def test_the_slider_moves_the_readout():
    box = flow_explorer(GRID, PANELS[2][0], PANELS, -2.1784)
    row = box.children[1]
    k_slider, readout = row.children[0].children[0], row.children[0].children[-1]
    before = readout.value
    assert "data-name='gap'>0.5216</span>" in before
    k_slider.value = 2
    assert readout.value != before and "data-name='gap'>0.0216</span>" in readout.value
