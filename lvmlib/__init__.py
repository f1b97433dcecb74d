"""lvmlib: the small library behind the course on latent variable models.

Modules (import the one you need; nothing heavy is imported here):

- ``lvmlib.logspace``       log-space arithmetic (logsumexp, log-mean-exp, log-trapezoid)
- ``lvmlib.distributions``  log-densities, entropies and KL divergences of the course's distributions
- ``lvmlib.examples``       the running examples, each with an exact log p(x)
- ``lvmlib.data``           checksummed loaders for the datasets in ``data/``
- ``lvmlib.plotting``       the course's colours and figure helpers
- ``lvmlib.widgets``        explorers: plain update functions plus thin ipywidgets front ends
- ``lvmlib.exercises``      self-checking exercises (``check()``, ``hint()``, ``solution()``)

PyTorch is imported only by the VAE module.
"""

__version__ = "0.1.0"
