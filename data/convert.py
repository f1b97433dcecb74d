"""Convert the raw CSV datasets into the course's .npz files (run once by maintainers, never at run time).

    python data/convert.py SOURCE_DIR   # SOURCE_DIR holds digits.csv.gz and mnist_5k.csv.gz
"""

import sys
from pathlib import Path

import numpy as np


def convert(source, name, side, out):
    rows = np.loadtxt(Path(source) / name, delimiter=",", dtype=np.int64)
    images = rows[:, :-1].astype(np.uint8).reshape(-1, side, side)
    np.savez_compressed(Path(__file__).parent / out, images=images, labels=rows[:, -1].astype(np.uint8))


if __name__ == "__main__":
    convert(sys.argv[1], "digits.csv.gz", 8, "digits_8x8.npz")
    convert(sys.argv[1], "mnist_5k.csv.gz", 28, "mnist_5k.npz")
