"""Hypothesis profiles for the property tests, chosen with ``HYPOTHESIS_PROFILE``.

- ``dev`` (default) and ``ci``: quick enough for every run of the test suite.
- ``thorough``: many more and longer runs (several minutes), for a nightly job or before
  touching the core's state machine: ``HYPOTHESIS_PROFILE=thorough .venv/bin/pytest
  tests/property``. The state machine lifts the suite's 300 s per-test timeout under it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUICK = settings(
    max_examples=75,
    stateful_step_count=40,
    # Steps copy the in-memory store; their time varies with the machine, not with the code.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

settings.register_profile("dev", _QUICK)
settings.register_profile("ci", _QUICK, print_blob=True)
settings.register_profile(
    "thorough",
    max_examples=1_000,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
