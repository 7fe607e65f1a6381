"""python -m nnlib.grade SUBMISSION.ipynb... --out grades.csv [--feedback DIR] [--timeout SECONDS]"""

import argparse
import csv
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import STATUSES, Options, grade
from .sandbox import can_drop_root, landlock_abi

COLUMNS = ["submission", "exercise", "status", "points", "max_points", "message", "seconds"]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m nnlib.grade",
        description="Grade students' chapter notebooks with the course's own checks.")
    parser.add_argument("submissions", nargs="+", type=Path, help="the notebooks to grade")
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument("--feedback", type=Path, help="write one Markdown file per submission here")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds per exercise (its cell, then its check); default 60")
    parser.add_argument("--setup-timeout", type=float, default=600,
                        help="seconds per cell of the chapter itself; default 600")
    parser.add_argument("--memory", type=int, default=4096, help="MB per kernel; default 4096")
    parser.add_argument("--cpu", type=int, default=3600,
                        help="CPU seconds per submission in all; default 3600")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2 + 1),
                        help="submissions graded at once; default: half the cores, plus one")
    return parser.parse_args(argv)


def confinement_note():
    abi = landlock_abi()
    notes = ["writes outside each scratch folder and TCP are refused (Landlock)" if abi >= 4 else
             "writes outside each scratch folder are refused (Landlock); TCP is not" if abi else
             "WARNING: no Landlock here, so student code can write wherever this user can"]
    if os.geteuid() == 0:
        notes.append("kernels run as nobody without network" if can_drop_root() else
                     "WARNING: started as root and Python is not usable by nobody, so student "
                     "code runs as root (without network, writes refused); grade as an "
                     "unprivileged user or in a container instead (see the README)")
    return "; ".join(notes)


def write_feedback(folder, submission, rows):
    folder.mkdir(parents=True, exist_ok=True)
    got, total = sum(r.points for r in rows), sum(r.max_points for r in rows)
    lines = [f"# Feedback: {submission}", "", f"**Score: {got:g} / {total:g}**", ""]
    for r in rows:
        lines += [f"## {r.exercise} — {r.status} ({r.points:g} / {r.max_points:g})", "",
                  r.message, ""]
        if r.hint and r.status != "pass":
            lines += [f"*Hint:* {r.hint}", ""]
    name = f"{submission.parent.name}_{submission.stem}" if submission.parent.name else \
        submission.stem
    (folder / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")


def summary(rows, n_submissions):
    """The terminal table: per exercise, how many of each status, and the mean score."""
    exercises = list(dict.fromkeys(r.exercise for r in rows))
    counts = {e: Counter(r.status for r in rows if r.exercise == e) for e in exercises}
    shown = [s for s in STATUSES if any(c[s] for c in counts.values())]
    width = max([len(e) for e in exercises] + [8])
    lines = [f"{'exercise':<{width}}  " + "  ".join(f"{s:>7}" for s in shown)]
    for e in exercises:
        lines.append(f"{e:<{width}}  " + "  ".join(f"{counts[e][s]:>7}" for s in shown))
    got, total = sum(r.points for r in rows), sum(r.max_points for r in rows)
    if n_submissions and total:
        lines.append(f"{n_submissions} submissions, mean score "
                     f"{got / n_submissions:.2f} / {total / n_submissions:g}")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    from tqdm.auto import tqdm
    print(f"grading {len(args.submissions)} submissions with {args.workers} workers; "
          f"{confinement_note()}", file=sys.stderr)
    options = Options(timeout=args.timeout, setup_timeout=args.setup_timeout,
                      memory_mb=args.memory, cpu_seconds=args.cpu)
    results = {}
    with ThreadPoolExecutor(args.workers) as pool, \
            tqdm(total=len(args.submissions), unit="notebook", desc="grading") as bar:
        futures = {pool.submit(grade, path, options): path for path in args.submissions}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update()
    rows = [r for path in args.submissions for r in results[path]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.submission, r.exercise, r.status, f"{r.points:g}",
                             f"{r.max_points:g}", r.message, f"{r.seconds:.2f}"])
    if args.feedback:
        for path in args.submissions:
            write_feedback(args.feedback, path, results[path])
    print(summary(rows, len(args.submissions)))
    print(f"wrote {args.out}" + (f" and feedback in {args.feedback}/" if args.feedback else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
