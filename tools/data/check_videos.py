#!/usr/bin/env python
"""Scans the videos of a list file and reports the unreadable ones (exit status 1 if any).

Every entry is opened with the chosen backend and, depending on ``--mode``, decoded:

- ``header``: open only (frame count > 0);
- ``sample`` (default): decode the first, middle and last frames;
- ``full``: decode every frame (slow; finds corruption in the middle).

Each check has a time limit (``--timeout``). Unreadable files are printed with the reason;
``--bad-out`` writes them (``path<TAB>reason``) and ``--clean-out`` writes the list without them.
Prints the counts and the SHA-256 of every file written.

Example::

    python tools/data/check_videos.py data/kinetics400/kinetics400_val_list_videos.txt \\
        --data-prefix data/kinetics400/videos_val --num-workers 8 --clean-out val_clean.txt
"""

import argparse
import multiprocessing
import os
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmaction.datasets.list_file import read_lines, write_list_file
from mmaction.datasets.video_io import VideoDecodeError, open_video, time_limit


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("list", help="list file ('path label' per line; the first field is the video)")
    parser.add_argument("--data-prefix", default="", help="folder the list's paths are relative to")
    parser.add_argument("--backend", choices=("decord", "pyav"), default="decord")
    parser.add_argument("--no-fallback", action="store_true", help="decord: do not fall back to PyAV (report what decord alone cannot read)")
    parser.add_argument("--mode", choices=("header", "sample", "full"), default="sample")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per video (default 60)")
    parser.add_argument("--num-workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--delimiter", default=None, help="field separator of the list (default: whitespace)")
    parser.add_argument("--bad-out", default=None, help="write 'path<TAB>reason' of unreadable videos here")
    parser.add_argument("--clean-out", default=None, help="write the list without the unreadable videos here")
    return parser.parse_args(argv)


def check_one(task: Tuple[str, str, bool, str, float]) -> Optional[str]:
    """None if the video is readable, else the reason."""
    path, backend, fallback, mode, timeout = task
    try:
        with time_limit(timeout, path):
            with open_video(path, backend=backend, fallback=fallback) as reader:
                n = reader.num_frames
                if mode == "sample":
                    reader.read(sorted({0, n // 2, n - 1}))
                elif mode == "full":
                    for start in range(0, n, 64):
                        reader.read(np.arange(start, min(start + 64, n)))
        return None
    except VideoDecodeError as e:
        return e.reason
    except Exception as e:  # noqa: BLE001 - report anything
        return f"{type(e).__name__}: {e}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    lines = read_lines(args.list, "list file")
    tasks = []
    for line_no, line in lines:
        fields = line.split(args.delimiter) if args.delimiter else line.split()
        tasks.append((os.path.join(args.data_prefix, fields[0].strip()), args.backend, not args.no_fallback, args.mode, args.timeout))
    if args.num_workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.num_workers) as pool:
            reasons = pool.map(check_one, tasks, chunksize=4)
    else:
        reasons = [check_one(t) for t in tasks]
    bad: List[str] = []
    clean: List[str] = []
    for (line_no, line), task, reason in zip(lines, tasks, reasons):
        if reason is None:
            clean.append(line)
        else:
            bad.append(f"{task[0]}\t{reason}")
            print(f"UNREADABLE {task[0]} (line {line_no}): {reason}")
    print(f"checked {len(tasks)} videos ({args.backend}, mode {args.mode}): {len(clean)} readable, {len(bad)} unreadable")
    if args.bad_out:
        digest = write_list_file(args.bad_out, bad)
        print(f"wrote {args.bad_out}: {len(bad)} lines, sha256 {digest}")
    if args.clean_out:
        digest = write_list_file(args.clean_out, clean)
        print(f"wrote {args.clean_out}: {len(clean)} lines, sha256 {digest}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
