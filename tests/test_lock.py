"""constraints.txt pins every package the requirements files name, within their bounds; CI
(NNLIB_REQUIRE_LOCKED=1) also checks that it tests exactly the pinned versions."""

import os
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _requirements(name):
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(_requirements(line[3:].strip()))
        elif line and not line.startswith("-"):
            package, _, bound = re.match(r"([A-Za-z0-9_.\-]+)\s*(>=|==)?\s*(.*)", line).groups()
            found[_norm(package)] = bound
    return found


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            package, pinned = line.split("==")
            pins[_norm(package)] = pinned.strip()
    return pins


def _tuple(v):
    return tuple(int(p) for p in re.findall(r"\d+", v)[:3])


def test_every_requirement_is_pinned_within_its_bound():
    pins = _pins()
    for package, bound in _requirements("requirements.txt").items():
        assert package in pins, f"{package} is not pinned in constraints.txt"
        if bound:
            assert _tuple(pins[package]) >= _tuple(bound), f"{package}=={pins[package]} < {bound}"


def test_the_tested_environment_is_the_pinned_one():
    if os.environ.get("NNLIB_REQUIRE_LOCKED") != "1":
        pytest.skip("only where the environment was installed with -c constraints.txt (CI)")
    wrong = []
    for package, pinned in _pins().items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong.append(f"{package}: {installed} installed, {pinned} pinned")
    assert not wrong, "\n".join(wrong)
