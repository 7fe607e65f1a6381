"""pytest settings for the notebooks that pytest.ini cannot express."""

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
