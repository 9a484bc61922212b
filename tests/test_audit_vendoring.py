"""Generated modules as a user vendors them: `derivecli gen ... -o FILE.py`, the file copied to
a fresh directory and imported by a Python process that cannot see this project (``-I``, cwd
elsewhere), its kernels called per the module's own documentation and compared with NumPy
references written from the textbook formulas."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from derivecli.cli import main

ROOT = Path(__file__).resolve().parent.parent


def gen(out: Path, *args: str) -> str:
    res = CliRunner().invoke(main, ["gen", *args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out.read_text(encoding="utf-8")


def run_isolated(cwd: Path, code: str) -> dict:
    """Run ``code`` with ``python -I`` in ``cwd`` (only cwd added to sys.path); it may set
    ``result`` (JSON); the child also reports which of this project's packages it imported."""
    script = ("import json, os, sys\nsys.path.insert(0, os.getcwd())\nresult = None\n"
              + textwrap.dedent(code)
              + "\nleaked = sorted({m.split('.')[0] for m in sys.modules} & "
                "{'derive', 'codegen', 'runtime', 'derivecli', 'sympy', 'torch'})\n"
                "print(json.dumps({'result': result, 'leaked': leaked}))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run([sys.executable, "-I", "-c", script], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["leaked"] == [], f"the vendored module imported {report['leaked']}"
    assert str(ROOT) not in out.stdout
    return report["result"]


# --------------------------------------------------------------------------- Numba's disk cache

LOAD_BY_PATH = """
import importlib.util
import numpy as np
spec = importlib.util.spec_from_file_location({name!r}, "kern.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
p = np.array([1.0, 2.0, 4.0])
result = [mod.CACHE, float(mod.mse_sum_f64(p, np.array([0.0, 2.0, 1.0]), np.empty(3)))]
"""
IMPORT = """
import numpy as np
import kern
p = np.array([1.0, 2.0, 4.0])
result = [kern.CACHE, float(kern.mse_sum_f64(p, np.array([0.0, 2.0, 1.0]), np.empty(3)))]
"""


@pytest.mark.parametrize("name", ["other_name", "kern"])
def test_loading_by_path_under_another_name_leaves_the_real_import_working(tmp_path, name):
    # Before: the kernel compiled under "other_name" (or under "kern" without sys.modules,
    # recorded by Numba as '<dynamic>') was cached beside kern.py, and `import kern` then
    # loaded that entry and failed: ModuleNotFoundError: No module named '<dynamic>'.
    gen(tmp_path / "kern.py", "mse")
    assert run_isolated(tmp_path, LOAD_BY_PATH.format(name=name)) == [False, 10.0]  # 1 + 0 + 9
    assert run_isolated(tmp_path, IMPORT) == [True, 10.0]
    assert run_isolated(tmp_path, IMPORT) == [True, 10.0]  # from the cache it wrote
    # and the other way round: the real import's cache entries are not read by path
    assert run_isolated(tmp_path, LOAD_BY_PATH.format(name=name)) == [False, 10.0]


# --------------------------------------------------------------------------- -o


@pytest.mark.parametrize("bad", ["", "file.txt/k.py", "file.txt/sub/k.py"])
def test_gen_output_that_cannot_be_written_is_a_clear_error(tmp_path, bad, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("not a directory\n")
    res = CliRunner().invoke(main, ["gen", "mse", "-o", bad])
    # Before: a Python traceback (IsADirectoryError / OSError 'Device or resource busy' for
    # "", NotADirectoryError / FileExistsError under a file), exit status 1.
    assert res.exit_code != 0
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Error" in res.output and repr(bad) in res.output, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # nothing left behind
    assert (tmp_path / "file.txt").read_text() == "not a directory\n"


def test_write_module_names_the_path_it_cannot_write(tmp_path):
    from codegen.generate import write_module

    with pytest.raises(IsADirectoryError, match="cannot write the module to"):
        write_module(tmp_path, "x = 1\n")
    with pytest.raises(IsADirectoryError, match="cannot write the module to '': it names a directory"):
        write_module("", "x = 1\n")
    assert list(tmp_path.iterdir()) == []
