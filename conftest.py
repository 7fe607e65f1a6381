"""pytest settings for the notebooks that pytest.ini cannot express."""

from pathlib import Path

import pytest
from nbval.plugin import IPyNbCell

# nbval waits a fixed 5 s for a cell's outputs after the kernel says the cell has finished. On a
# busy machine (two pytest-xdist workers, a laptop doing other work) the outputs of a training cell
# have arrived later than that, and the cell failed with "Timeout of 5 seconds exceeded waiting for
# output" although it had run correctly. A cell that really hangs still meets --nbval-cell-timeout.
OUTPUT_WAIT_SECONDS = 60


def pytest_collection_modifyitems(items):
    for item in items:
        if isinstance(item, IPyNbCell):
            item.output_timeout = OUTPUT_WAIT_SECONDS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under a notebook cell whose outputs differ from the stored ones, say how to refresh them."""
    outcome = yield
    report = outcome.get_result()
    if isinstance(item, IPyNbCell) and report.failed and call.when == "call":
        notebook = Path(item.fspath)
        if notebook.is_relative_to(item.config.rootpath):
            notebook = notebook.relative_to(item.config.rootpath)
        report.sections.append((
            "stored outputs out of date?",
            "If this change of output is intended (you changed the notebook or the nnlib code it "
            "uses), re-execute the notebook and rebuild the chapters:\n"
            f"    python tools/run_notebooks.py {notebook}\n"
            "    python tools/build_chapters.py"))
