"""Test-suite settings.

Hypothesis runs derandomized by default: the property tests draw the same examples on every
run, so CI's result depends on the code, not on the draw. ``pytest --hypothesis-profile=explore``
draws new examples (and should be run after a change to a kernel or a reference).
"""
try:
    from hypothesis import settings
except ImportError:  # the property tests then fail to import, naming hypothesis (test extra)
    settings = None

if settings is not None:
    settings.register_profile("repeatable", derandomize=True)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile("repeatable")
