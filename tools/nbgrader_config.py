"""nbgrader settings for grading this course's chapters: copy into your course folder (or merge
into your nbgrader_config.py). Kernels started by nbgrader inherit this process's environment."""

import os

c = get_config()  # noqa: F821 - nbgrader provides get_config

# In a grading run a check that does not pass raises (after printing its one line), so nbgrader,
# which deducts points only for a test cell that raises, takes the points away.
os.environ["NNLIB_GRADING"] = "1"

# Per-cell time limit while autograding: an endless loop in one answer costs that exercise only.
c.Execute.timeout = 120
