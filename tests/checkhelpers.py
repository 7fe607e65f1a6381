"""Shared by the tests of the exercise checks."""

from pathlib import Path

import nbformat

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def not_yet(*args, **kwargs):
    """An exercise the student has not solved yet, as the generated chapter leaves it."""
    raise NotImplementedError()


def assert_passes(result):
    """The check passed (✅)."""
    assert result.ok and result.message.startswith("✅"), result.message


def assert_named(result, named):
    """The check failed (❌) and its message names the mistake with the words ``named``."""
    assert not result.ok
    assert result.message.startswith("❌"), result.message
    assert named in result.message, result.message


def solution_lines(notebook, cell_start):
    """The stripped lines between BEGIN and END SOLUTION in the cell of solutions/``notebook``
    that starts with ``cell_start``: what an exercise's fix must hold."""
    cells = nbformat.read(SOLUTIONS / notebook, as_version=4).cells
    source = next(c.source for c in cells if c.source.startswith(cell_start))
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() in ("### BEGIN SOLUTION", "### END SOLUTION"):
            inside = line.strip() == "### BEGIN SOLUTION"
        elif inside:
            lines.append(line.strip())
    return lines


def assert_fix_holds_solution(fix, notebook, cell_start):
    """Every line of the exercise's solution in solutions/``notebook`` stands in its fix."""
    lines = solution_lines(notebook, cell_start)
    assert lines and all(line in fix for line in lines), [l for l in lines if l not in fix]
