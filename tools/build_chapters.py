"""Write chapters/ (student notebooks) from solutions/ (the single source).

    python tools/build_chapters.py          # rebuild every chapter
    python tools/build_chapters.py --check  # exit 1 if chapters/ differs from what the build makes

In a solution notebook, exercise code sits between `### BEGIN SOLUTION` and `### END SOLUTION`
lines (nbgrader's markers). The build replaces each region with `# YOUR CODE HERE` and
`raise NotImplementedError()` at the region's indentation, drops cells tagged `solution-only`,
and writes every cell without outputs or execution counts. It first gives the solution notebooks
nbgrader's cell metadata (see nbgrader_metadata), so solutions/ is a valid nbgrader source.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def strip_solutions(source, where):
    """Source with each BEGIN/END SOLUTION region replaced by the student's placeholder."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution region")
            indent = line[:len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            inside = True
        elif marker == END:
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def nbgrader_metadata(nb):
    """Give a solution notebook nbgrader's cell metadata: each exercise cell a solution cell,
    the check right under it an autograded test worth 1 point (or the points it already has),
    ids taken from the check's name. Returns True when anything changed."""
    cells, changed = nb.cells, False
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            continue
        check = re.match(r"\s*check_(\w+)\(", cells[i + 1].source)
        if not check:
            raise ValueError(f"cell {i}: an exercise must be followed by its check cell")
        points = cells[i + 1].metadata.get("nbgrader", {}).get("points", 1)
        wanted = [(cell, {"grade": False, "grade_id": f"{check.group(1)}_answer", "locked": False,
                          "schema_version": 3, "solution": True, "task": False}),
                  (cells[i + 1], {"grade": True, "grade_id": f"check_{check.group(1)}",
                                  "locked": True, "points": points, "schema_version": 3,
                                  "solution": False, "task": False})]
        for target, metadata in wanted:
            if target.metadata.get("nbgrader") != metadata:
                target.metadata["nbgrader"] = metadata
                changed = True
    return changed


def build(solution):
    """The chapter notebook (nbformat node) made from one solution notebook."""
    nb = nbformat.read(solution, as_version=4)
    cells = []
    for i, cell in enumerate(nb.cells):
        if "solution-only" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{solution.name} cell {i}")
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    nbformat.validator.normalize(nb)
    return nb


def render(nb):
    return nbformat.writes(nb) + "\n"


def expected_chapters():
    """{chapter path: text it should hold} for every solution notebook."""
    return {ROOT / "chapters" / s.name: render(build(s))
            for s in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    unmarked = []
    for solution in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(solution, as_version=4)
        if nbgrader_metadata(nb):
            unmarked.append(solution)
            if not args.check:
                nbformat.write(nb, solution)
                print(f"gave {solution.relative_to(ROOT)} nbgrader's cell metadata")
    expected = expected_chapters()
    present = set((ROOT / "chapters").glob("*.ipynb"))
    stale = [p for p, text in expected.items() if not p.is_file() or p.read_text() != text]
    orphans = sorted(present - set(expected))
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}")
        for p in orphans:
            print(f"no solution for: {p.relative_to(ROOT)}")
        for p in unmarked:
            print(f"without nbgrader metadata: {p.relative_to(ROOT)}")
        return 1 if stale or orphans or unmarked else 0
    (ROOT / "chapters").mkdir(exist_ok=True)
    for p in stale:
        p.write_text(expected[p])
        print(f"wrote {p.relative_to(ROOT)}")
    for p in orphans:
        p.unlink()
        print(f"removed {p.relative_to(ROOT)} (its solution is gone)")
    print(f"{len(expected)} chapters, {len(stale)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
