"""The on-disk cache switch every generated Numba module starts with (``CACHE``).

Numba caches a kernel in ``__pycache__`` next to its file, keyed by the file, not by the
module's name, and each entry records the module it was compiled in: loaded back under
another name, it fails (``ModuleNotFoundError: No module named '<dynamic>'`` or the other
name). A vendored module loaded by path under another name
(``importlib.util.spec_from_file_location``) without being put in ``sys.modules``, or run as
a script, would write such entries for the module's real import to trip over, and read
theirs. The same holds for one file imported under two names that both end in its own name
(``numba_losses`` with its directory on sys.path, and ``runtime.generated.numba_losses``):
an entry written under one raised ModuleNotFoundError for the other in a process where the
first is not importable. So the generated kernels cache (``cache=CACHE``) only when Numba
records the module under the name it is imported as and that name is the file's package name,
one name per file: its stem after the enclosing directories that hold an ``__init__.py``
(as ``python -m`` and pytest name it). Otherwise they compile in memory and read and write
no cache (a file in a namespace package, without ``__init__.py``, is cached only as a
top-level module).
"""

CACHE_SOURCE = '''
# Numba caches kernels in __pycache__ beside this file, keyed by the file, not the
# module's name, and an entry only loads under the name that wrote it. So kernels are
# cached on disk only when this file is imported under its package name (its file name
# after the names of the enclosing directories that hold an __init__.py), in sys.modules:
# one name per file. Imported under another name (its directory put on sys.path inside a
# package), loaded by path (importlib.util.spec_from_file_location), exec'd or run as a
# script, they compile in memory and touch no cache.
def _package_name(path):
    """The file's stem after the names of the enclosing directories holding an __init__.py."""
    parts = path.replace("\\\\", "/").split("/")
    names = [parts[-1].rpartition(".")[0]]
    for k in range(len(parts) - 1, 0, -1):
        try:  # open, not os.path: the module imports numpy, numba and math only
            open("/".join(parts[:k]) + "/__init__.py", "rb").close()
        except OSError:
            break
        names.insert(0, parts[k - 1])
    return ".".join(names)


def _cache_on_disk():
    """Whether this module is imported under its file's package name (codegen/numba_cache.py)."""
    g = globals()
    name, path = g.get("__name__"), g.get("__file__")
    if not name or not path or name != _package_name(path):
        return False
    try:  # the module name Numba records in a cache entry ('<dynamic>' if not in sys.modules)
        from numba.core.bytecode import FunctionIdentity

        return FunctionIdentity.from_function(_cache_on_disk).modname == name
    except Exception:  # noqa: BLE001  (another Numba: its own cache logic, as cache=True)
        return True


CACHE = _cache_on_disk()  # every kernel: @numba.njit(..., cache=CACHE)
'''
