"""One generated Numba module file imported under two names (its package name, and its bare
name with its directory on sys.path, as pytest's default import mode or a PYTHONPATH entry
does). Numba keys its disk cache by the file, and a cache entry imports the module name that
wrote it when loaded: an entry written under one name crashed a later process that imports
the file under the other (ModuleNotFoundError). Only the file's package name may cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from derivecli.cli import main

ROOT = Path(__file__).resolve().parent.parent

RUN = """
import json, sys
sys.path.insert(0, {path!r})
import numpy as np
import {name} as mod
p = np.array([1.0, 2.0, 4.0])
value = float(mod.mse_sum_f64(p, np.array([0.0, 2.0, 1.0]), np.empty(3)))
print(json.dumps([mod.CACHE, value, sorted(m for m in sys.modules if m.split('.')[0] in
                                           ('pkg', 'kern'))]))
"""


def _run(cache: Path, path: Path, name: str):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["NUMBA_CACHE_DIR"] = str(cache)
    out = subprocess.run([sys.executable, "-I", "-c", RUN.format(path=str(path), name=name)],
                         cwd=cache.parent, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    res = CliRunner().invoke(main, ["gen", "mse", "-o", str(pkg / "kern.py")])
    assert res.exit_code == 0, res.output
    return pkg


def test_bare_name_first_then_package_name(tmp_path):
    pkg = _package(tmp_path)
    cache = tmp_path / "numba_cache"
    # the bare name compiles in memory: no entry for 'kern' that 'pkg.kern' would import
    assert _run(cache, pkg, "kern") == [False, 10.0, ["kern"]]  # 1 + 0 + 9
    assert _run(cache, tmp_path, "pkg.kern") == [True, 10.0, ["pkg", "pkg.kern"]]
    assert _run(cache, tmp_path, "pkg.kern") == [True, 10.0, ["pkg", "pkg.kern"]]  # cached


def test_package_name_first_then_bare_name(tmp_path):
    pkg = _package(tmp_path)
    cache = tmp_path / "numba_cache"
    assert _run(cache, tmp_path, "pkg.kern") == [True, 10.0, ["pkg", "pkg.kern"]]
    # 'pkg' is not importable here: loading pkg.kern's entry crashed (No module named 'pkg')
    assert _run(cache, pkg, "kern") == [False, 10.0, ["kern"]]
    assert _run(cache, tmp_path, "pkg.kern") == [True, 10.0, ["pkg", "pkg.kern"]]


def test_runtime_modules_cache_under_their_package_name_only(tmp_path):
    """The project's own import keeps its disk cache; the bare name does not take it."""
    code = ("import json, sys\nsys.path.insert(0, {root!r})\n"
            "from runtime.generated import numba_losses as a, numba_optim as b\n"
            "sys.path.insert(0, {gen!r})\nimport numba_losses as c\n"
            "print(json.dumps([a.CACHE, b.CACHE, c.CACHE]))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba_cache")  # nothing compiles; kept apart anyway
    out = subprocess.run([sys.executable, "-I", "-c",
                          code.format(root=str(ROOT), gen=str(ROOT / "runtime" / "generated"))],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, True, False]
