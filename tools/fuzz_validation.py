"""Fuzz lvmlib's public API with bad inputs, one parameter at a time, and count how each call ends.

    PYTHONPATH=. python tools/fuzz_validation.py            # summary
    PYTHONPATH=. python tools/fuzz_validation.py --verbose  # every call that does not end well

Each case is a public callable with arguments that work; each parameter in turn gets each bad value, and the
call is classified: "named" (ValueError/TypeError whose message names the parameter), "unnamed" (ValueError/
TypeError without the name), "raw" (any other exception), "nan/inf" (a silent non-finite result), "accepted"
(a finite result: fine for values the function allows, e.g. mu = -1), "hang" (no answer within 5 s, SIGALRM).
"""

import argparse
import re
import signal
import time
import warnings
from collections import Counter

import numpy as np

BAD = {
    "None": None, "str": "abc", "complex": 1 + 1e-3j, "object": object(), "nan": np.nan, "inf": np.inf,
    "-inf": -np.inf, "neg": -1.0, "zero": 0, "frac": 2.5, "1e300": 1e300, "empty": np.array([]),
    "3d": np.zeros((2, 3, 4)), "nan-array": np.array([np.nan, 1.0]), "bool": True,
}


def cases():
    """(label, function, kwargs) with working keyword arguments."""
    from lvmlib import bernoulli_mixture as bm
    from lvmlib import data, envcheck, estimators, logspace, marginal, mixtures, plotting, ppca
    from lvmlib import distributions as D
    from lvmlib import elbo as E
    from lvmlib import examples as ex
    from lvmlib.widgets import readout_html, slider
    from lvmlib.widgets.elbo_explorer import continuous_update, discrete_update
    from lvmlib.widgets.grid_explorer import grid_explorer_state

    rng = lambda: np.random.default_rng(0)  # noqa: E731
    nl, lg, mix = ex.NonlinearModel1D(), ex.LinearGaussian(), ex.three_cluster_mixture()
    X = mix.sample(40, rng())[1]
    xb = (rng().random((20, 6)) < 0.5).astype(float)
    out = [
        ("log_normal", D.log_normal, {"x": 0.5, "mu": 0.0, "sigma": 1.0}),
        ("log_mvn", D.log_mvn, {"x": np.zeros((2, 2)), "mu": np.zeros(2), "chol": np.eye(2)}),
        ("log_bernoulli", D.log_bernoulli, {"x": np.array([0.0, 1.0]), "logits": np.zeros(2)}),
        ("kl_normal", D.kl_normal, {"mu_q": 0.0, "sigma_q": 1.0, "mu_p": 0.0, "sigma_p": 2.0}),
        ("kl_discrete", D.kl_discrete, {"q": np.array([0.5, 0.5]), "log_p": np.log([0.3, 0.7])}),
        ("entropy_normal", D.entropy_normal, {"sigma": 1.0}),
        ("cholesky", D.cholesky, {"cov": np.eye(2)}),
        ("log_mean_exp", logspace.log_mean_exp, {"log_w": np.zeros(3), "axis": 0}),
        ("log_trapezoid", logspace.log_trapezoid, {"log_f": np.zeros(3), "z": np.arange(3.0)}),
        ("normalize_log", logspace.normalize_log, {"log_p": np.zeros(3), "axis": -1}),
        ("NonlinearModel1D", ex.NonlinearModel1D, {"b": 0.3, "sigma_x": 0.5}),
        ("NonlinearModel1D.log_p_x", nl.log_p_x, {"x": np.array([2.0])}),
        ("NonlinearModel1D.sample", nl.sample, {"n": 3, "rng": rng()}),
        ("LinearGaussian", ex.LinearGaussian, {"W": [[1.5]], "b": [0.0], "sigma_x": 0.8}),
        ("LinearGaussian.posterior", lg.posterior, {"x": np.array([[1.0]])}),
        ("DiscreteMixture", ex.DiscreteMixture, {"weights": mix.weights, "means": mix.means, "covs": mix.covs}),
        ("DiscreteMixture.log_p_x", mix.log_p_x, {"x": np.zeros((1, 2))}),
        ("BinaryLatentModel.random", ex.BinaryLatentModel.random, {"d": 3, "d_x": 2, "rng": rng()}),
        ("SigmoidDLVM", ex.SigmoidDLVM, {"A": [1.0, -1.0], "B": [1.0, 1.0], "c": [0.0, 0.0], "d": [0.0, 0.0],
                                         "var_scale": 0.1}),
        ("elbo_gaussian", E.elbo_gaussian, {"model": nl, "x": [[2.0]], "mu": [[0.5]], "sigma": [[0.8]]}),
        ("elbo_discrete", E.elbo_discrete, {"model": mix, "x": np.zeros((1, 2)), "q": np.full(3, 1 / 3)}),
        ("elbo_monte_carlo", E.elbo_monte_carlo, {"model": nl, "x": [[2.0]], "mu": 0.5, "sigma": 0.8,
                                                  "n_samples": 10, "rng": rng()}),
        ("iwae_bound", E.iwae_bound, {"model": nl, "x": [[2.0]], "mu": 0.5, "sigma": 0.8, "k": 4, "rng": rng(),
                                      "n_repeats": 5}),
        ("fit_gaussian_q", E.fit_gaussian_q, {"model": nl, "x": [[2.0]], "mu0": 0.5, "log_sigma0": 0.0,
                                              "max_iter": 5, "tol": 1e-6, "step_size": 0.1}),
        ("log_weights_prior", estimators.log_weights_prior, {"model": nl, "x": [[2.0]], "k": 5, "rng": rng()}),
        ("log_weights_gaussian", estimators.log_weights_gaussian, {"model": nl, "x": [[2.0]], "mu_q": 0.5,
                                                                   "sigma_q": 1.0, "k": 5, "rng": rng()}),
        ("effective_sample_size", estimators.effective_sample_size, {"log_w": np.zeros((4, 1))}),
        ("enumeration_size", marginal.enumeration_size, {"d": 3, "n_data": 2}),
        ("grid_points_needed", marginal.grid_points_needed, {"m": 10, "d_z": 2}),
        ("log_p_x_grid", marginal.log_p_x_grid, {"model": nl, "x": [[2.0]], "lo": -5.0, "hi": 5.0, "m": 50}),
        ("fit_em", mixtures.fit_em, {"X": X, "n_components": 2, "rng": rng(), "max_iter": 3, "tol": 1e-6,
                                     "reg_covar": 1e-6}),
        ("m_step", mixtures.m_step, {"X": X, "resp": np.full((40, 2), 0.5), "reg_covar": 1e-6}),
        ("log_joint", mixtures.log_joint, {"X": X, "weights": mix.weights, "means": mix.means,
                                           "chols": mix.chols}),
        ("n_parameters", mixtures.n_parameters, {"n_components": 2, "d": 2}),
        ("init_from_kmeans_plusplus", mixtures.init_from_kmeans_plusplus, {"X": X, "n_components": 2,
                                                                           "rng": rng(), "reg_covar": 1e-6}),
        ("fit_bernoulli_mixture", bm.fit_bernoulli_mixture, {"x": xb, "n_components": 2, "rng": rng(),
                                                             "alpha": 1.0, "max_iter": 3, "tol": 1e-6,
                                                             "n_init": 1}),
        ("mle_sigma2", ppca.mle_sigma2, {"eigenvalues": np.array([3.0, 1.0, 0.5]), "d_z": 1}),
        ("ppca.fit", ppca.fit, {"x": X, "d_z": 1}),
        ("ellipse_points", plotting.ellipse_points, {"mean": [0.0, 0.0], "cov": np.eye(2), "n_std": 2.0,
                                                     "n_points": 10}),
        ("binarize", data.binarize, {"images": np.zeros(3), "threshold": 0.5}),
        ("check_environment", envcheck.check_environment, {"required": {"numpy": "1.0"}}),
        ("readout_html", readout_html, {"values": {"a": ("a", 1.0)}, "title": "t"}),
        ("slider", slider, {"label": "s", "min": -1.0, "max": 1.0, "value": 0.0, "step": 0.1}),
        ("grid_explorer_state", grid_explorer_state, {"x": 2.0, "m": 21, "L": 5.0}),
        ("discrete_update", discrete_update, {"w_a": 0.3, "w_b": 0.3, "w_c": 0.4, "mode": "Monte Carlo",
                                              "n_samples": 5}),
        ("continuous_update", continuous_update, {"mu": 0.5, "log_sigma": 0.0, "x": 2.0}),
    ]
    out += _more_cases(rng, nl, lg, mix, X, xb)
    try:
        import torch  # noqa: F401

        out += _vae_cases()
    except ImportError:
        pass
    return out


def _more_cases(rng, nl, lg, mix, X, xb):
    from lvmlib import bernoulli_mixture as bm
    from lvmlib import elbo as E
    from lvmlib import estimators, marginal, mixtures, ppca
    from lvmlib import examples as ex
    from lvmlib.widgets import jensen, latent_traversal, proposal_explorer
    from lvmlib.widgets.em_stepper import em_stepper_update

    binary = ex.BinaryLatentModel.random(3, 2, rng())
    dlvm = ex.SigmoidDLVM([1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0], 0.1)
    bmix = bm.BernoulliMixture(np.array([0.5, 0.5]), np.full((2, 6), 0.3))
    observed = np.array([True, True, True, False, False, True])
    return [
        ("SigmoidDLVM.log_p_x", dlvm.log_p_x, {"x": np.zeros((2, 2))}),
        ("BinaryLatentModel.log_p_x", binary.log_p_x, {"x": np.zeros((2, 2))}),
        ("BinaryLatentModel.sample", binary.sample, {"n": 3, "rng": rng()}),
        ("DiscreteMixture.posterior", mix.posterior, {"x": np.zeros((2, 2))}),
        ("NonlinearModel1D.log_p_xz", nl.log_p_xz, {"x": np.array([[1.0]]), "z": np.zeros((1, 1))}),
        ("NonlinearModel1D.posterior_on_grid", nl.posterior_on_grid, {"x": np.array([[1.0]]),
                                                                     "grid": np.linspace(-3, 3, 7)}),
        ("LinearGaussian.log_p_x", lg.log_p_x, {"x": np.array([[1.0]])}),
        ("fit_growth", marginal.fit_growth, {"ds": np.arange(3.0, 8.0), "seconds": 2.0 ** np.arange(5)}),
        ("seconds_to_years", marginal.seconds_to_years, {"seconds": 1e7}),
        ("log_posterior_enumeration", marginal.log_posterior_enumeration, {"model": binary, "x": np.zeros((1, 2))}),
        ("grad_log_p_x_W", marginal.grad_log_p_x_W, {"model": binary, "x": np.zeros((1, 2))}),
        ("finite_difference_grad", marginal.finite_difference_grad, {"f": lambda t: float(np.sum(t**2)),
                                                                     "theta": np.ones(2), "eps": 1e-5}),
        ("grid_1d", marginal.grid_1d, {"lo": -1.0, "hi": 1.0, "m": 5}),
        ("elbo_terms_discrete", E.elbo_terms_discrete, {"model": mix, "x": np.zeros((1, 2)),
                                                        "q": np.full(3, 1 / 3)}),
        ("elbo_monte_carlo_discrete", E.elbo_monte_carlo_discrete, {"model": mix, "x": np.zeros((1, 2)),
                                                                    "q": np.full(3, 1 / 3), "n_samples": 5,
                                                                    "rng": rng()}),
        ("kl_posterior_gaussian", E.kl_posterior_gaussian, {"model": nl, "x": [[2.0]], "mu": [[0.5]],
                                                            "sigma": [[0.8]]}),
        ("elbo_map", E.elbo_map, {"model": nl, "x": [[2.0]], "mu_values": np.linspace(-1, 1, 3),
                                  "log_sigma_values": np.linspace(-1, 0, 2)}),
        ("fit_gaussian_forward_kl", E.fit_gaussian_forward_kl, {"model": nl, "x": [[2.0]]}),
        ("kl_forward_gaussian", E.kl_forward_gaussian, {"model": nl, "x": [[2.0]], "mu": 0.5, "sigma": 0.8}),
        ("log_importance_weights", estimators.log_importance_weights, {"log_p_xz": np.zeros((3, 1)),
                                                                       "log_q_z": np.zeros((3, 1))}),
        ("log_p_x_hat", estimators.log_p_x_hat, {"log_w": np.zeros((3, 1))}),
        ("log_weights_uniform", estimators.log_weights_uniform, {"model": mix, "x": np.zeros((1, 2)), "k": 4,
                                                                 "rng": rng()}),
        ("check_params", mixtures.check_params, {"weights": mix.weights, "means": mix.means, "covs": mix.covs}),
        ("log_likelihood", mixtures.log_likelihood, {"X": X, "weights": mix.weights, "means": mix.means,
                                                     "covs": mix.covs}),
        ("mixtures.elbo", mixtures.elbo, {"X": X, "resp": np.full((40, 3), 1 / 3), "weights": mix.weights,
                                          "means": mix.means, "covs": mix.covs}),
        ("kmeans", mixtures.kmeans, {"X": X, "n_components": 2, "rng": rng(), "max_iter": 5}),
        ("mixtures.sample", mixtures.sample, {"n": 5, "weights": mix.weights, "means": mix.means,
                                              "covs": mix.covs, "rng": rng()}),
        ("bic", mixtures.bic, {"X": X, "weights": mix.weights, "means": mix.means, "covs": mix.covs}),
        ("smallest_eigenvalues", _opt(mixtures, "smallest_eigenvalues"), {"covs": mix.covs}),
        ("BernoulliMixture", bm.BernoulliMixture, {"weights": np.array([0.5, 0.5]), "probs": np.full((2, 6), 0.3)}),
        ("BernoulliMixture.log_p_x", bmix.log_p_x, {"x": xb[:2], "observed": None}),
        ("BernoulliMixture.pixel_probs", bmix.pixel_probs, {"x": xb[:2], "observed": None}),
        ("BernoulliMixture.sample", bmix.sample, {"n": 3, "rng": rng()}),
        ("log_p_completions", bm.log_p_completions, {"model": bmix, "x": xb[0], "observed": observed}),
        ("top_completions", _opt(bm, "top_completions"), {"model": bmix, "x": xb[0], "observed": observed, "top": 2}),
        ("covariance_eigen", ppca.covariance_eigen, {"x": X}),
        ("log_likelihood_from_eigenvalues", ppca.log_likelihood_from_eigenvalues,
         {"eigenvalues": np.array([3.0, 1.0, 0.5]), "d_z": 1, "sigma2": 0.5}),
        ("n_active_directions", ppca.n_active_directions, {"eigenvalues": np.array([3.0, 1.0, 0.5]), "d_z": 1,
                                                           "sigma2": 0.7}),
        ("kl_per_direction", _opt(ppca, "kl_per_direction"), {"eigenvalues": np.array([3.0, 1.0, 0.5]), "d_z": 1,
                                                     "sigma2": 0.7}),
        ("random_rotation", _opt(ppca, "random_rotation"), {"d_z": 2, "rng": rng()}),
        ("diagonal_q_gap", _opt(ppca, "diagonal_q_gap"), {"W": np.eye(3)[:, :2], "sigma2": 0.5}),
        ("chord_update", jensen.chord_update, {"f1": 0.5, "f2": 4.0, "w": 0.5}),
        ("many_update", jensen.many_update, {"n_points": 10, "spread": 0.5, "seed": 0}),
        ("proposal_update", proposal_explorer.proposal_update, {"mu_q": 0.5, "log_sigma_q": 0.0, "k": 10,
                                                                "seed": 0, "n_repeats": 20}),
        ("em_stepper_update", em_stepper_update, {"step": 1}),
        ("traversal_update", latent_traversal.traversal_update, {"decode": lambda z: np.zeros((len(z), 4)),
                                                                 "z": np.zeros(2), "image_shape": (2, 2)}),
        ("z_limit_from_data", _opt(latent_traversal, "z_limit_from_data"), {"z_points": np.zeros((5, 2)),
                                                                   "coverage": 0.99}),
    ]


def _vae_cases():
    from lvmlib import vae

    gen = lambda: vae.make_generator(0, "cpu")  # noqa: E731
    model = vae.VAE(vae.VAEConfig(d_x=4, d_z=2, d_hidden=3), gen(), device="cpu")
    x = (np.arange(8).reshape(2, 4) % 2).astype(float)
    return [
        ("VAE.elbo", model.elbo, {"x": x, "generator": gen(), "n_samples": 3}),
        ("VAE.iwae_bound", model.iwae_bound, {"x": x, "k": 3, "generator": gen()}),
        ("VAE.decode_numpy", model.decode_numpy, {"z": np.zeros((1, 2))}),
        ("VAE.sample", model.sample, {"n": 2, "generator": gen()}),
        ("vae.train", vae.train, {"model": model, "x": x, "n_epochs": 1, "generator": gen(), "lr": 1e-3,
                                  "batch_size": 2, "progress": False}),
        ("vae.elbo_of_q", vae.elbo_of_q, {"model": model, "x": x, "mu": np.zeros((2, 2)),
                                          "log_var": np.zeros((2, 2)), "generator": gen(), "n_samples": 3}),
        ("vae.iwae_of_q", vae.iwae_of_q, {"model": model, "x": x, "mu": np.zeros((2, 2)),
                                          "log_var": np.zeros((2, 2)), "k": 3, "generator": gen()}),
        ("vae.refine_q", vae.refine_q, {"model": model, "x": x, "generator": gen(), "n_steps": 2, "lr": 0.05,
                                        "n_samples": 2, "progress": False}),
        ("vae.train_test_split", vae.train_test_split, {"images": np.zeros((5, 4)), "labels": np.arange(5),
                                                        "n_test": 2, "rng": np.random.default_rng(0)}),
        ("vae.tile_images", vae.tile_images, {"images": np.zeros((4, 4)), "image_shape": (2, 2), "n_cols": 2,
                                              "pad": 0}),
        ("vae.active_units", vae.active_units, {"mu": np.zeros((5, 2)), "threshold": 0.01}),
        ("vae.make_generator", vae.make_generator, {"seed": 0, "device": "cpu"}),
        ("vae.LinearVAE", vae.LinearVAE, {"d_x": 4, "d_z": 2, "x_mean": np.zeros(4),
                                          "rng": np.random.default_rng(0)}),
        ("vae.VAEConfig", vae.VAEConfig, {"d_x": 4, "d_z": 2, "d_hidden": 3, "beta": 1.0}),
    ]


def _opt(module, name):
    """``module.name``, or None when this version of lvmlib does not have it (the case is then skipped)."""
    return getattr(module, name, None)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def classify(function, kwargs, name, seconds=5):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = function(**kwargs)
    except _Timeout:
        return "hang", "timeout"
    except (ValueError, TypeError) as exc:
        text = str(exc)
        named = re.search(rf"(^|\W){re.escape(name)}(\W|$)", text)
        return ("named" if named else "unnamed"), f"{type(exc).__name__}: {text[:150]}"
    except Exception as exc:  # noqa: BLE001 (we classify every failure)
        return "raw", f"{type(exc).__name__}: {str(exc)[:150]}"
    finally:
        signal.alarm(0)
    try:
        values = [np.asarray(v, dtype=float) for v in (result if isinstance(result, tuple) else (result,))]
        finite = all(np.all(np.isfinite(v)) for v in values)
    except Exception:  # noqa: BLE001 (objects: models, widgets, dicts, tensors needing grad)
        finite = True  # objects (models, widgets, dicts): accepted
    return ("accepted" if finite else "nan/inf"), repr(result)[:80]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    totals, by_case, slowest = Counter(), {}, (0.0, "")
    for label, function, kwargs in cases():
        if function is None:
            continue
        kind, _ = classify(function, dict(kwargs), "", seconds=60)  # first calls import lazily (torch.optim)
        if kind not in ("accepted",):
            print(f"BASELINE FAILS: {label}: {kind} {_}")
            continue
        for name in kwargs:
            for bad_label, bad in BAD.items():
                start = time.perf_counter()
                kind, detail = classify(function, dict(kwargs, **{name: bad}), name)
                if bad_label == "1e300":
                    slowest = max(slowest, (time.perf_counter() - start, f"{label}({name}=1e300) -> {kind}"))
                totals[kind] += 1
                by_case.setdefault(kind, []).append(f"{label}({name}={bad_label}): {detail}")
    n = sum(totals.values())
    print(f"{n} bad inputs over {sum(f is not None for _, f, _ in cases())} public callables:")
    for kind in ("named", "unnamed", "raw", "nan/inf", "accepted", "hang"):
        print(f"  {kind:<9} {totals[kind]:5d}  ({100 * totals[kind] / max(n, 1):.1f}%)")
    print(f"slowest call with a value of 1e300: {slowest[0]:.3f} s, {slowest[1]}")
    if args.verbose:
        for kind in ("hang", "raw", "nan/inf", "unnamed", "accepted"):
            for line in by_case.get(kind, []):
                print(f"[{kind}] {line}")


if __name__ == "__main__":
    main()
