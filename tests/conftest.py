"""Suite-wide Hypothesis settings.

No deadlines: a property test must fail for a wrong answer, never because a loaded 2-core
CI machine was slow. In CI (``CI`` set) examples are derandomized, so a run is repeatable and
a red build points at a real defect that the same seed reproduces; on developers' machines
they stay random, so each run explores new inputs.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the pictures tests rendered for a person to look at (a test records each with
    ``record_property("picture", path)``), so they show in a plain ``pytest -q`` run."""
    pictures = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "picture"
    ]
    if pictures:
        terminalreporter.write_sep("-", "rendered pictures (look at them)")
        for picture in pictures:
            terminalreporter.write_line(str(picture))
