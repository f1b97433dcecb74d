import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from lvmlib import data


def test_loaders_return_the_documented_shapes_and_ranges():
    faithful = data.load_faithful()
    assert faithful.shape == (272, 2)
    digits, labels = data.load_digits()
    assert digits.shape == (1797, 8, 8) and set(np.unique(digits)) == {0.0, 1.0}
    assert labels.shape == (1797,) and set(labels) == set(range(10))
    mnist, mlabels = data.load_mnist_subset(binarized=False)
    assert mnist.shape == (5000, 28, 28) and 0.0 <= mnist.min() and mnist.max() <= 1.0
    assert np.all(np.bincount(mlabels) == 500)


def test_readme_lists_the_same_checksums_as_the_loader():
    text = (data.DATA_DIR / "README.md").read_text()
    listed = dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})\s+(\S+)$", text, re.MULTILINE))
    assert listed == data.SHA256


def test_a_missing_file_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"faithful.csv is missing.*git checkout -- data/faithful.csv"):
        data.load_faithful(data_dir=tmp_path)


def test_an_altered_file_is_rejected(tmp_path):
    shutil.copy(data.DATA_DIR / "faithful.csv", tmp_path / "faithful.csv")
    with Path(tmp_path / "faithful.csv").open("a") as f:
        f.write("1.0,2\n")
    with pytest.raises(ValueError, match="corrupted or was edited"):
        data.load_faithful(data_dir=tmp_path)


def test_unknown_name_is_rejected():
    with pytest.raises(ValueError, match="name must be one of"):
        data.data_path("cifar.npz")


def test_full_mnist_without_download_falls_back_to_the_subset(capsys):
    images, _ = data.load_mnist_full(download=False)
    assert images.shape == (5000, 28, 28)
    assert "shipped 5,000-image subset" in capsys.readouterr().out
