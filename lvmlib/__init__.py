"""lvmlib: the small library behind the course on latent variable models.

Modules (import the one you need; nothing heavy is imported here):

- ``lvmlib.logspace``       log-space arithmetic (logsumexp, log-mean-exp, log-trapezoid)
- ``lvmlib.distributions``  log-densities, entropies and KL divergences of the course's distributions
- ``lvmlib.examples``       the running examples, each with an exact log p(x)
- ``lvmlib.data``           checksummed loaders for the datasets in ``data/``
- ``lvmlib.mixtures``       Gaussian mixtures in log space and EM (chapter 02)
- ``lvmlib.marginal``       exact marginal likelihoods by enumeration and grids, and what they cost (chapter 03)
- ``lvmlib.bernoulli_mixture``  a mixture of Bernoullis for binary images, with analytic marginalization (chapter 03)
- ``lvmlib.laplace``        the Laplace approximation and adaptive Gauss-Hermite quadrature (chapter 03)
- ``lvmlib.estimators``     Monte Carlo and importance-sampling estimates of p(x) (chapter 04)
- ``lvmlib.elbo``           the ELBO, KL(q || p(z|x)), IWAE bounds and fitting q (chapter 05)
- ``lvmlib.vae``            the variational autoencoder in PyTorch (chapter 06)
- ``lvmlib.flows``          normalizing flows: planar and inverse autoregressive layers (chapter 07)
- ``lvmlib.made``           masked autoregressive networks and a VAE with an autoregressive decoder (chapter 07)
- ``lvmlib.iwae``           IWAE training, KL warm-up, free bits and gradient signal-to-noise (chapter 07)
- ``lvmlib.ppca``           probabilistic PCA in closed form (chapter 06)
- ``lvmlib.plotting``       the course's colours and figure helpers
- ``lvmlib.widgets``        explorers: plain update functions plus thin ipywidgets front ends
- ``lvmlib.exercises``      self-checking exercises (``check()``, ``hint()``, ``solution()``)

PyTorch is imported only by ``vae``, ``flows``, ``made`` and ``iwae`` (and lazily inside a few exercise checks).
"""

__version__ = "0.1.0"
