"""Tests for lvmlib.flows: log-determinants against autograd Jacobians, invertibility, normalization by quadrature."""

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from lvmlib import flows
from lvmlib.examples import NonlinearModel1D


def _layers(d_z, n_models=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    iaf = flows.IAFLayer(max(d_z, 2), 8, n_models, reverse=True, generator=g)
    with torch.no_grad():  # a new IAF layer is the identity: perturb it so the test sees a real Jacobian
        for p in iaf.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=g))
    affine = flows.AffineLayer(d_z, n_models, torch.randn(n_models, d_z, generator=g),
                               torch.randn(n_models, d_z, generator=g))
    planar = flows.PlanarLayer(d_z, n_models, g, scale=1.5)
    return [affine, planar, iaf] if d_z > 1 else [affine, planar]  # an autoregressive layer needs d_z >= 2


def _log_det_by_autograd(layer, z):
    """log|det J| of one point's map, J from torch.autograd.functional.jacobian (independent of the layer's formula)."""
    jac = jacobian(lambda v: layer(v[None])[0][0], z)  # one point, as a batch of one
    return torch.linalg.slogdet(jac)[1]


@pytest.mark.parametrize("d_z", [1, 3, 8])
def test_every_layers_log_det_matches_the_autograd_jacobian(d_z):
    for layer in _layers(d_z):
        layer.double()
        for z in torch.randn(10, d_z, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2:
            _, log_det = layer(z[None])
            assert abs(log_det.item() - _log_det_by_autograd(layer, z).item()) < 1e-6, type(layer).__name__


def test_a_whole_flow_log_det_matches_the_autograd_jacobian():
    flow = flows.Flow(_layers(4)).double()
    for eps in torch.randn(10, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64):
        jac = jacobian(lambda v: flow(v[None])[0][0], eps)
        assert abs(flow(eps[None])[1].item() - torch.linalg.slogdet(jac)[1].item()) < 1e-6


def test_per_point_parameters_act_on_their_own_point():
    """n_models = 3: point i of a batch (s, 3, d_z) goes through network i only (same as a one-model layer)."""
    layers = _layers(5, n_models=3)
    z = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(3))
    for layer in layers:
        out, log_det = layer(z)
        for i in range(3):
            one_out, one_log_det = _slice_model(layer, i)(z[:, i])
            assert torch.allclose(out[:, i], one_out, atol=1e-6) and torch.allclose(log_det[:, i], one_log_det,
                                                                                       atol=1e-6)


def _slice_model(layer, i):
    import copy

    one = copy.deepcopy(layer)
    with torch.no_grad():
        for name, p in list(one.named_parameters()):
            module_name, _, attr = name.rpartition(".")
            module = one.get_submodule(module_name) if module_name else one
            setattr(module, attr, torch.nn.Parameter(p[i:i + 1].clone()))
    return one


@pytest.mark.parametrize("d_z", [1, 2, 8])
def test_flows_are_invertible(d_z):
    flow = flows.Flow(_layers(d_z, seed=4)).double()
    eps = torch.randn(200, d_z, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 2
    z, _ = flow(eps)
    assert torch.max(torch.abs(flow.inverse(z) - eps)) < 1e-6


def test_planar_layers_stay_invertible_when_u_points_against_w():
    """u = -5 w would fold the line over itself; u_hat keeps u_hat . w > -1, so f stays increasing."""
    layer = flows.PlanarLayer(1).double()
    with torch.no_grad():
        layer.w.fill_(2.0)
        layer.u.fill_(-5.0)
        layer.b.fill_(0.0)
    z = torch.linspace(-5, 5, 2001, dtype=torch.float64)[:, None]
    y, log_det = layer(z)
    assert torch.all(torch.diff(y[:, 0]) > 0) and torch.all(torch.isfinite(log_det))
    assert torch.max(torch.abs(layer.inverse(y) - z)) < 1e-6


def test_a_1d_flow_density_integrates_to_one():
    flow = flows.planar_flow(4, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        for layer in flow.layers[1:]:
            layer.w.mul_(4.0)  # sharp steps: a bimodal, far-from-Gaussian density
            layer.u.mul_(3.0)
    grid = np.linspace(-30, 30, 60001)
    density = flows.density_on_grid_1d(flow, grid)
    assert abs(np.trapezoid(density, grid) - 1.0) < 1e-6


def test_the_quadrature_elbo_of_a_gaussian_matches_chapter_05s():
    """With no planar layer q is N(mu, sigma^2): its ELBO by quadrature in eps equals lvmlib.elbo's (Gauss-Hermite)."""
    from lvmlib.elbo import elbo_gaussian

    model = NonlinearModel1D()
    flow = flows.planar_flow(0, mu=torch.tensor([[1.1947]]), log_sigma=torch.tensor([[-1.6844]]))
    ours = flows.elbo_by_quadrature_1d(flow, flows.nonlinear_1d_log_joint(model, 2.0))
    reference = elbo_gaussian(model, np.array([[2.0]]), np.array([[1.1947]]), np.exp(np.array([[-1.6844]])))
    assert abs(ours - float(np.squeeze(reference))) < 1e-6


def test_the_quadrature_elbo_equals_log_px_minus_kl_on_a_z_grid():
    """Two routes to the ELBO of a bimodal flow: quadrature in eps, and log p(x) - KL(q || p(z|x)) on a z grid."""
    model, x = NonlinearModel1D(), 2.0
    flow = flows.planar_flow(2, generator=torch.Generator().manual_seed(7))
    log_joint = flows.nonlinear_1d_log_joint(model, x)
    grid = np.linspace(-12, 12, 48001)
    q = flows.density_on_grid_1d(flow, grid)
    log_post = model.log_p_xz_on_grid(np.array([[x]]), grid)[0] - model.log_p_x(np.array([[x]]))[0]
    kl = np.trapezoid(np.where(q > 0, q * (np.log(np.maximum(q, 1e-300)) - log_post), 0.0), grid)
    assert abs(flows.elbo_by_quadrature_1d(flow, log_joint) - (model.log_p_x(np.array([[x]]))[0] - kl)) < 1e-5


def test_a_wrong_log_det_sign_is_caught_by_the_autograd_check():
    """Planted error: a planar layer that adds its log-det with the wrong sign fails the Jacobian check."""

    class WrongSign(flows.PlanarLayer):
        def forward(self, z):
            y, log_det = super().forward(z)
            return y, -log_det

    layer = WrongSign(2, generator=torch.Generator().manual_seed(8), scale=1.5).double()
    z = torch.tensor([0.3, -0.4], dtype=torch.float64)
    assert abs(layer(z[None])[1].item() - _log_det_by_autograd(layer, z).item()) > 1e-3


def test_a_wrong_log_det_sign_breaks_the_normalization():
    """The same planted error, seen through the density: it no longer integrates to 1."""
    flow = flows.planar_flow(2, generator=torch.Generator().manual_seed(9))
    for layer in flow.layers[1:]:
        layer.forward = (lambda f: lambda z: (f(z)[0], -f(z)[1]))(layer.forward)
    grid = np.linspace(-30, 30, 60001)
    assert abs(np.trapezoid(flows.density_on_grid_1d(flow, grid), grid) - 1.0) > 1e-2


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="n_layers must be a whole number >= 0"):
        flows.planar_flow(-1)
    with pytest.raises(ValueError, match="d_z must be a whole number >= 1"):
        flows.PlanarLayer(0)
    with pytest.raises(ValueError, match="layers must hold at least one layer"):
        flows.Flow([])
    with pytest.raises(ValueError, match="x must be a finite number"):
        flows.nonlinear_1d_log_joint(NonlinearModel1D(), float("nan"))
    with pytest.raises(ValueError, match="n_steps must be a whole number >= 1"):
        flows.fit_flow_1d(flows.planar_flow(1), None, torch.Generator(), n_steps=0)
    with pytest.raises(ValueError, match="n_grid must be a whole number >= 3"):
        flows.elbo_by_quadrature_1d(flows.planar_flow(1), None, n_grid=2)
