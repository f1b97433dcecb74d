"""The latent traversal explorer: update logic over every slider's full range, and the front end's wiring."""

import itertools

import numpy as np
import pytest
import torch
from scipy.stats import norm

from lvmlib import vae
from lvmlib.widgets import latent_traversal as lt


def sigmoid_decoder(d_z=2, d_x=64, seed=0):
    W = np.random.default_rng(seed).normal(size=(d_z, d_x)) * 3
    return lambda z: 1 / (1 + np.exp(-(z @ W)))


def test_update_over_the_full_slider_range_is_finite():
    decode = sigmoid_decoder()
    values = np.arange(-lt.Z_LIMIT, lt.Z_LIMIT + 1e-9, 0.5)
    for z in itertools.product(values, values):
        view = lt.traversal_update(decode, z, (8, 8))
        assert view.image.shape == (8, 8) and np.all(np.isfinite(view.image))
        assert 0.0 <= view.pixel_mean <= 1.0
        assert np.isclose(view.log_p_z, norm.logpdf(z).sum())  # log N(z; 0, I), from scipy
        assert np.isclose(view.pixel_mean, decode(np.array(z)[None])[0].mean())


def test_update_with_a_real_vae_decoder_at_the_extremes():
    model = vae.VAE(vae.VAEConfig(d_x=784, d_z=3, d_hidden=32), torch.Generator().manual_seed(0))
    for z in itertools.product([-lt.Z_LIMIT, 0.0, lt.Z_LIMIT], repeat=3):
        view = lt.traversal_update(model.decode_numpy, z, (28, 28))
        assert np.all((view.image >= 0) & (view.image <= 1)) and np.isfinite(view.log_p_z)


def test_update_rejects_bad_input():
    with pytest.raises(ValueError, match="image_shape"):
        lt.traversal_update(sigmoid_decoder(), [0.0, 0.0], (28, 28))
    with pytest.raises(ValueError, match="z must be finite"):
        lt.traversal_update(sigmoid_decoder(), [np.nan, 0.0], (8, 8))
    with pytest.raises(ValueError, match="z0 must hold d_z = 2 finite values"):
        lt.traversal_explorer(sigmoid_decoder(), 2, (8, 8), z0=np.zeros(3))
    with pytest.raises(ValueError, match="n_sliders must be between 1 and d_z = 2"):
        lt.traversal_explorer(sigmoid_decoder(), 2, (8, 8), n_sliders=3)


def test_front_end_wiring_and_speed():
    decode = sigmoid_decoder(d_z=5)
    box = lt.traversal_explorer(decode, 5, (8, 8), z0=np.full(5, 0.5),
                                z_points=np.zeros((10, 5)), point_colors=["k"] * 10)
    sliders = [w for w in box.children[1].children[0].children if hasattr(w, "description") and
               w.description.startswith("z")]
    assert [s.description for s in sliders] == ["z1", "z2", "z3", "z4"]  # at most four sliders
    readout = box.children[1].children[0].children[-1]
    sliders[0].value = lt.Z_LIMIT
    expected = lt.traversal_update(decode, [lt.Z_LIMIT, 0.5, 0.5, 0.5, 0.5], (8, 8))
    assert f"data-name='pixel_mean'>{expected.pixel_mean:.4f}<" in readout.value
    assert f"data-name='log_p_z'>{expected.log_p_z:.4f}<" in readout.value
    assert box.update_ms < 500  # ~30 ms on a 2-core CPU; generous for a loaded machine


def test_sliders_start_on_their_grid_so_log_p_z_follows_from_their_readouts():
    box = lt.traversal_explorer(sigmoid_decoder(), 2, (8, 8), z0=np.array([1.2345, -7.0]))
    sliders = box.children[1].children[0].children[:2]
    assert [s.value for s in sliders] == [1.2, -3.0]
    sliders[1].value = -2.9
    readout = box.children[1].children[0].children[-1].value
    assert f"data-name='log_p_z'>{-0.5 * (1.2**2 + 2.9**2 + 2 * np.log(2 * np.pi)):.4f}<" in readout


def test_slider_range_comes_from_the_data():
    z = np.random.default_rng(0).normal(size=(1000, 2)) * 2.5  # many points beyond +-3
    limit = lt.z_limit_from_data(z)
    assert limit % 0.5 == 0 and limit >= 3.0
    assert np.mean(np.abs(z).max(axis=1) <= limit) >= 0.99  # the range holds 99% of the points
    assert np.mean(np.abs(z).max(axis=1) <= limit - 0.5) < 0.99  # and is no wider than needed
    assert lt.z_limit_from_data(np.zeros((5, 2))) == lt.Z_LIMIT  # never narrower than the prior's +-3
    box = lt.traversal_explorer(sigmoid_decoder(), 2, (8, 8), z_points=z)
    sliders = box.children[1].children[0].children[:2]
    assert box.z_limit == limit and all(s.min == -limit and s.max == limit for s in sliders)
    with pytest.raises(ValueError, match="z_points must be a finite"):
        lt.z_limit_from_data(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="z_limit must be a positive number"):
        lt.traversal_explorer(sigmoid_decoder(), 2, (8, 8), z_limit=0.0)
