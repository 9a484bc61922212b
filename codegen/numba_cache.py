"""The on-disk cache switch every generated Numba module starts with (``CACHE``).

Numba caches a kernel in ``__pycache__`` next to its file, keyed by the file, not by the
module's name, and each entry records the module it was compiled in: loaded back under
another name, it fails (``ModuleNotFoundError: No module named '<dynamic>'`` or the other
name). A vendored module loaded by path under another name
(``importlib.util.spec_from_file_location``) without being put in ``sys.modules``, or run as
a script, would write such entries for the module's real import to trip over, and read
theirs. So the generated kernels cache (``cache=CACHE``) only when Numba records the module
under the name it is imported as and that name is the file's own; otherwise they compile in
memory and read and write no cache.
"""

CACHE_SOURCE = '''
# Numba caches kernels in __pycache__ beside this file, keyed by the file, not the
# module's name, and an entry only loads under the name that wrote it. So kernels are
# cached on disk only when this file is imported under its own name (the file name,
# last part of a dotted name, in sys.modules). Loaded by path under another name
# (importlib.util.spec_from_file_location), exec'd or run as a script, they compile
# in memory and touch no cache. Import this file under one name only.
def _cache_on_disk():
    """Whether this module is imported under the name of its file (codegen/numba_cache.py)."""
    g = globals()
    name, path = g.get("__name__"), g.get("__file__")
    if not name or not path:
        return False
    stem = path.replace("\\\\", "/").rpartition("/")[2].rpartition(".")[0]
    if name.rpartition(".")[2] != stem:
        return False
    try:  # the module name Numba records in a cache entry ('<dynamic>' if not in sys.modules)
        from numba.core.bytecode import FunctionIdentity

        return FunctionIdentity.from_function(_cache_on_disk).modname == name
    except Exception:  # noqa: BLE001  (another Numba: its own cache logic, as cache=True)
        return True


CACHE = _cache_on_disk()  # every kernel: @numba.njit(..., cache=CACHE)
'''
