"""Plots training curves from the scalars mmengine writes under a work dir.

mmengine's ``LocalVisBackend`` appends one JSON object per line to
``WORK_DIR/<timestamp>/vis_data/scalars.json``: training lines carry ``epoch``, ``iter`` and
``step`` (mmengine 0.10 writes the global iteration in both); validation
lines carry the metrics (``acc/top1`` ...) and ``step`` (the epoch when logging by epoch). Each requested key gets its own panel; training
keys are plotted against the iteration, validation keys against their own ``step``.

Example::

    python tools/misc/plot_curves.py work_dirs/vitclip_tiny_demo --keys loss acc/top1 lr --out curves.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

Series = Dict[str, List[Tuple[float, float]]]


def find_scalar_files(work_dir: Path, all_runs: bool = False) -> List[Path]:
    """The ``scalars.json`` files of a work dir (the latest run, or all of them).

    Args:
        work_dir: a work dir, a run dir (``<timestamp>``), or a ``scalars.json`` file.
        all_runs: return every run's file (oldest first) instead of the newest only.

    Raises:
        FileNotFoundError: naming ``work_dir`` when it holds no scalars.
    """
    work_dir = Path(work_dir)
    if work_dir.is_file():
        return [work_dir]
    files = sorted(work_dir.glob("vis_data/scalars.json")) + sorted(work_dir.glob("*/vis_data/scalars.json"))
    if not files:
        raise FileNotFoundError(
            f"no vis_data/scalars.json under {work_dir} (is it an mmengine work dir with LocalVisBackend?)"
        )
    return files if all_runs else files[-1:]


def read_scalars(path: Path) -> Series:
    """Reads one ``scalars.json`` (JSON lines) into ``{key: [(x, value), ...]}``.

    x is each line's ``step`` (global iteration for training lines, epoch or iteration for
    validation lines). Non-numeric values are skipped.

    Raises:
        ValueError: naming the file and line that is not JSON.
    """
    series: Series = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{lineno}: not a JSON line ({err.msg}): {line[:80]!r}") from err
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            x = record.get("step", record.get("iter"))
            if x is None:
                continue
            for key, value in record.items():
                if key in ("iter", "step", "epoch") or isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)) and math.isfinite(value):
                    series.setdefault(key, []).append((float(x), float(value)))
    return series


def x_label(path: Path, key: str) -> str:
    """'iteration' for training keys, 'validation step' for validation metrics."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and key in (record := json.loads(line)):
                return "iteration" if "iter" in record else "validation step (epoch or iteration)"
    return "step"


def plot_curves(
    files: Sequence[Path], keys: Sequence[str], out: Path, title: Optional[str] = None
) -> List[str]:
    """Draws one panel per key found in ``files`` and saves a PNG.

    Args:
        files: ``scalars.json`` files; each becomes one line per panel (labelled by run).
        keys: scalar names, e.g. ``['loss', 'acc/top1', 'lr']``.
        out: PNG path.
        title: figure title (default: the work dir's name).

    Returns:
        The keys that were plotted.

    Raises:
        KeyError: when none of ``keys`` is in any file (the message lists the keys there are).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [(path, read_scalars(path)) for path in files]
    available = sorted({k for _, series in runs for k in series})
    found = [k for k in keys if any(k in series for _, series in runs)]
    missing = [k for k in keys if k not in found]
    if not found:
        raise KeyError(f"none of the keys {list(keys)} is in {[str(p) for p in files]}; available: {available}")
    if missing:
        print(f"warning: keys not found and skipped: {missing} (available: {available})", file=sys.stderr)

    cols = min(3, len(found))
    rows = math.ceil(len(found) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, key in zip(axes.flat, found):
        for path, series in runs:
            points = series.get(key)
            if not points:
                continue
            xs, ys = zip(*points)
            run_name = path.parent.parent.name if path.parent.name == "vis_data" else path.stem
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3, label=run_name)
        ax.set_title(key)
        ax.set_xlabel(x_label(runs[0][0], key) if key in runs[0][1] else "step")
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(found):]:
        ax.set_visible(False)
    if title is None:
        first = Path(files[0]).resolve()
        title = first.parents[2].name if first.parent.name == "vis_data" else first.parent.name
    fig.suptitle(title)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return found


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Plot loss / accuracy / lr curves of an mmengine work dir.")
    p.add_argument("work_dir", help="work dir, run dir or scalars.json file")
    p.add_argument("--keys", nargs="+", default=["loss", "acc/top1", "lr"], help="scalar names to plot")
    p.add_argument("--out", default=None, help="PNG to write (default: WORK_DIR/curves.png)")
    p.add_argument("--all-runs", action="store_true", help="overlay every run of the work dir, not only the latest")
    p.add_argument("--title", default=None)
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    work_dir = Path(args.work_dir)
    try:
        files = find_scalar_files(work_dir, all_runs=args.all_runs)
        out = Path(args.out) if args.out else (work_dir.parent if work_dir.is_file() else work_dir) / "curves.png"
        found = plot_curves(files, args.keys, out, title=args.title)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"plotted {found} from {len(files)} run(s) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
