"""Hypothesis profiles for the fuzz suite.

``ci`` (default): derandomized, so every run tries the same inputs and a failure
reproduces; 200 examples per test (fewer where a test says so), whole suite well
under a minute on two cores. ``HYPOTHESIS_PROFILE=long`` tries 20,000 random
examples per test and keeps failures in ``.hypothesis/`` for the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,  # a shared 2-core machine: timing is not the property
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
