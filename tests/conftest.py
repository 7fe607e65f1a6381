import numpy as np
import pytest

from feedback_rules import code_in
from nnlib.checks import _core


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def feedback_has_three_honest_tiers():
    """Every check result produced by any test: the tier-1 line holds no code, and a failure
    comes with a hint and a fix for when the student asks."""
    results = []
    _core.result_hooks.append(results.append)
    yield results
    _core.result_hooks.remove(results.append)
    for result in results:
        assert code_in(result.message) is None, (
            f"tier-1 line shows code ({code_in(result.message)!r}): {result.message}")
        if result.status in ("fail", "error"):
            assert result.hint, f"no hint for: {result.message}"
            assert result.fix, f"no fix for: {result.message}"
