"""Checksummed loaders for the datasets shipped in ``data/`` (no network, no pickle).

Every loader verifies the file's sha256 before reading it and raises an error that names the file and the fix
when it is missing or altered. ``load_mnist_full`` is the only function that may touch the network, and only
when asked to.
"""

import hashlib
from pathlib import Path

import numpy as np

# A wheel (or `pip install .`) carries the files inside the package, copied there from data/ at build time by
# setup.py; in a checkout (an editable install) they are read from data/, their documented source.
PACKAGED_DIR = Path(__file__).resolve().parent / "_data"
CHECKOUT_DIR = Path(__file__).resolve().parent.parent / "data"
DATA_DIR = PACKAGED_DIR if PACKAGED_DIR.is_dir() else CHECKOUT_DIR

SHA256 = {
    "faithful.csv": "5dfcf421dcb47d5eb6ae413b9d19cee9c467d0d851ad6696cb8a2f9c611d67ad",
    "digits_8x8.npz": "b2dab7b501728c22e9119ad76740b2e17c77a231e42d1e592380d90886f1a05e",
    "mnist_5k.npz": "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4",
    "vae_digits_8x8.pt": "03294de272eb3022116b0ee8a35d7a6967518f2f7303d2d86d4e68206b671168",
    # chapter 07's checkpoints (tools/train_ch07_*.py; see data/README.md)
    "ch07_flows_1d_K1.pt": "55aaee51aed060434595f59a2bddb59e13b3c0d5869f5a02fa9061370e006ba2",
    "ch07_flows_1d_K2.pt": "118564f77ba9f29707e4af0dd05a915e1220ea7b5c4211fe1edf4c13e102110b",
    "ch07_flows_1d_K4.pt": "afbd7b64218aa5ecbc362055511c32ca7c99b196697512092db33ce94c0323cb",
    "ch07_flows_1d_K8.pt": "bcd6ed8f7d47ee31e817e3792317886ad339ed461abfd3c118b87687176c6bb4",
    "ch07_refine.pt": "5f980840edfcf0d203da5479636c35068fed1a0877b9cbe63e988ea9e43b8ab2",
    "ch07_iwae_k1.pt": "9523d3b933b095d84a4f48302b21ba0800aafafe483852bc80ad3f71b7057c78",
    "ch07_iwae_k5.pt": "006666c5b55d4545bbcf813f6377b2c8f288648ccb655f70396fd94629e0c7d1",
    "ch07_iwae_k50.pt": "d7d456727c25fe7c408dcc1d30d186af1cfcbcd9441fcaf21b6ab7456a21db08",
    "ch07_collapse_elbo.pt": "19a6333090f2b7dc8d5e497511a08ae19ce6809479331e4b64a7514a8145c255",
    "ch07_collapse_warmup.pt": "ce06c4c5378e3b5d23ec4c8d906466de9beae26395765f4d677dd6046d68abb3",
    "ch07_collapse_free_bits.pt": "c69199a1cc8a3c2bf19f748ebac613c8d42f1b509bafb0be4f9625b9cb3832f4",
    "ch07_collapse_no_z.pt": "11d681a03308b61602a06543f4d3cce4e16a8b1d0b40ec325ca336e7a0fba70e",
}


def _restore(name):
    if DATA_DIR == PACKAGED_DIR:
        return "It ships inside the lvmlib package: reinstall it (`pip install --force-reinstall lvmlib`)."
    return f"It ships with the course repository: restore it with `git checkout -- data/{name}` from the project root."


def data_path(name, data_dir=None):
    """Path of a shipped data file after checking it exists and its sha256 matches ``SHA256[name]``."""
    if not isinstance(name, str) or name not in SHA256:
        raise ValueError(f"name must be one of {sorted(SHA256)}, got {name!r}.")
    if data_dir is not None and not isinstance(data_dir, (str, Path)):
        raise TypeError(f"data_dir must be None or a folder path (str or pathlib.Path), got {type(data_dir).__name__}.")
    path = Path(data_dir or DATA_DIR) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing. {_restore(name)}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(
            f"{path} has sha256 {digest}, expected {SHA256[name]}: the file is corrupted or was edited. "
            f"{_restore(name)}"
        )
    return path


def load_faithful(data_dir=None):
    """Old Faithful eruptions: array of shape (272, 2), columns (eruption minutes, waiting minutes)."""
    return np.loadtxt(data_path("faithful.csv", data_dir), delimiter=",", skiprows=1)


def _load_images(name, data_dir):
    with np.load(data_path(name, data_dir), allow_pickle=False) as f:
        return f["images"], f["labels"]


def binarize(images, threshold):
    """Binary pixels: 1.0 where ``images > threshold`` else 0.0, same shape as ``images`` (finite numbers)."""
    from lvmlib import _checks

    return (_checks.as_float_array(images, "images") > _checks.finite_scalar(threshold, "threshold")).astype(float)


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def load_digits(binarized=True, data_dir=None):
    """The 1,797 8x8 digits (UCI optdigits test set).

    Returns images of shape (1797, 8, 8) and labels (1797,). Pixel intensities run 0..16; with
    ``binarized=True`` pixels above 8 become 1.0 and the rest 0.0.
    """
    binarized = _check_flag(binarized, "binarized")
    images, labels = _load_images("digits_8x8.npz", data_dir)
    return (binarize(images, 8) if binarized else images.astype(float)), labels.astype(int)


def load_mnist_subset(binarized=True, data_dir=None):
    """5,000 MNIST digits (500 per class, sorted by class: shuffle before splitting).

    Returns images of shape (5000, 28, 28) and labels (5000,). Intensities run 0..255; with ``binarized=True``
    pixels above 127 become 1.0, else intensities are scaled to [0, 1].
    """
    binarized = _check_flag(binarized, "binarized")
    images, labels = _load_images("mnist_5k.npz", data_dir)
    return (binarize(images, 127) if binarized else images / 255.0), labels.astype(int)


def load_mnist_full(download=False, root="~/.cache/lvmlib", binarized=True):
    """Full MNIST (60,000 training images) through torchvision, when asked to download and online.

    Falls back to :func:`load_mnist_subset` with a printed explanation when ``download`` is False, torchvision
    is not installed, or the download fails. Returns (images (n, 28, 28), labels (n,)).
    """
    download, binarized = _check_flag(download, "download"), _check_flag(binarized, "binarized")
    if not download:
        print("load_mnist_full: download=False, using the shipped 5,000-image subset.")
        return load_mnist_subset(binarized)
    try:
        from torchvision.datasets import MNIST

        ds = MNIST(str(Path(root).expanduser()), train=True, download=True)
    except Exception as exc:  # offline, no torchvision, or a broken mirror: the course still works
        print(f"load_mnist_full: could not get full MNIST ({type(exc).__name__}: {exc}); "
              "using the shipped 5,000-image subset instead.")
        return load_mnist_subset(binarized)
    images = ds.data.numpy()
    return (binarize(images, 127) if binarized else images / 255.0), ds.targets.numpy().astype(int)
