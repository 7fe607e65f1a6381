"""Execute solution notebooks in place, from a fresh kernel, so their stored outputs are current.

    python tools/run_notebooks.py solutions/03_activations.ipynb [more …]
    python tools/run_notebooks.py --all

Run it after changing a solution notebook or the nnlib code it uses, then rebuild the chapters
(python tools/build_chapters.py).

A cell whose new outputs say the same as its stored ones keeps the stored ones byte for byte, so
re-executing an unchanged notebook leaves `git diff` empty: "the same" ignores what nbval ignores
(the patterns of tests/sanitize.cfg, widget model ids, image bytes) and, in cells tagged
nbval-ignore-output, every number (timings, training logs). `--fresh` stores every new output
instead, for when those numbers should be renewed (timings measured on a quiet machine).
"""

import argparse
import configparser
import copy
import functools
import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=None)
def _sanitizers():
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def _meaning(cell, sanitizers):
    """What a cell's outputs say, without what differs from run to run."""
    outputs = []    # a stream the kernel split into two messages says the same as one
    for out in cell.get("outputs", []):
        out = {k: v for k, v in out.items() if k not in ("execution_count", "metadata")}
        if outputs and out.get("output_type") == "stream" and outputs[-1].get("name") == out.get(
                "name") and outputs[-1].get("output_type") == "stream":
            outputs[-1] = {**outputs[-1], "text": outputs[-1]["text"] + out["text"]}
        else:
            outputs.append(out)
    text = json.dumps(outputs, sort_keys=True)
    text = re.sub(r'"image/(png|jpeg)": "[^"]*"', '"image"', text)
    text = re.sub(r'"model_id": "\w+"', '"model_id"', text)
    for regex, replace in sanitizers:
        text = regex.sub(replace, text)
    if "nbval-ignore-output" in cell.metadata.get("tags", []):
        text = re.sub(r"\d+", "0", text)
    return text


def run(path, timeout=1200, fresh=False):
    nb = nbformat.read(path, as_version=4)
    before = {c.get("id"): copy.deepcopy(c) for c in nb.cells if c.cell_type == "code"}
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    sanitizers = _sanitizers()
    for cell in nb.cells:
        old = before.get(cell.get("id")) if cell.cell_type == "code" else None
        if not fresh and old is not None and _meaning(old, sanitizers) == _meaning(cell,
                                                                                sanitizers):
            cell.outputs = old.outputs
            for out in cell.outputs:    # the counts of this run, so they stay in order
                if "execution_count" in out:
                    out["execution_count"] = cell.execution_count
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook in solutions/")
    parser.add_argument("--fresh", action="store_true",
                        help="store every new output, also where only numbers changed")
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")) if args.all else args.notebooks
    if not paths:
        parser.error("name some notebooks, or --all")
    for path in paths:
        print(f"{path}: {run(path.resolve(), fresh=args.fresh):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
