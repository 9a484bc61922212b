"""argparse types shared by the examples: bad values stop in argparse, naming the argument,
before any work is done (not as a traceback after it). Each example puts its own directory on
``sys.path`` to import this file, so it runs from anywhere."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

#: Suffixes matplotlib's savefig writes.
IMAGE_SUFFIXES = {".png", ".pdf", ".svg", ".svgz", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff",
                  ".webp", ".gif", ".pgf"}


def positive(text):
    """argparse type: an int ≥ 1 (a count of 0 leaves nothing to run or show)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}")
    return value


def non_negative(text):
    """argparse type: an int ≥ 0 (NumPy's seeds cannot be negative)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative int, got {text!r}")
    return value


def finite(text):
    """argparse type: a finite float (NaN or inf has no probability, no loss to show)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def png_path(text):
    """argparse type: an image path in an existing directory, checked before the work, not
    after it. Without a suffix it is a PNG, named as matplotlib would name it (+ ".png")."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory {str(path.parent)!r} does not exist (for {text!r})")
    if not path.suffix:
        return text + ".png"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r}: matplotlib cannot write {path.suffix!r} files "
                                         "(use .png, .pdf or .svg)")
    return text
