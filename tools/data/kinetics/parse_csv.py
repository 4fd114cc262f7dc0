#!/usr/bin/env python
"""Turns a Kinetics-400/600/700 annotation CSV into an MMAction2 video list.

The CSV has a header with at least ``label,youtube_id,time_start,time_end`` (the official
``train.csv`` / ``validate.csv``). Each row becomes::

    <youtube_id>_<time_start:06d>_<time_end:06d>.mp4 <label index>                 (--layout flat)
    <class folder>/<youtube_id>_<time_start:06d>_<time_end:06d>.mp4 <label index>  (--layout class-folders)

Label indices follow ``tools/data/label_maps/<dataset>.txt`` (or ``--label-map``). With
``--video-root``, rows whose video file is missing are left out and counted (``--missing-out``
lists them): K400 val copies in circulation hold 19,877 or 19,796 readable videos, so say which
list you evaluated on. Prints the counts and the SHA-256 of every file written.

Example::

    python tools/data/kinetics/parse_csv.py kinetics400/annotations/val.csv \\
        --dataset kinetics400 --video-root data/kinetics400/videos_val \\
        --out data/kinetics400/kinetics400_val_list_videos.txt
"""

import argparse
import csv
import os
import sys
from typing import List, Optional, Sequence

from mmaction.datasets.list_file import read_label_map, write_list_file

LABEL_MAP_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "label_maps")
REQUIRED = ("label", "youtube_id", "time_start", "time_end")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("csv", help="Kinetics annotation CSV")
    parser.add_argument("--out", required=True, help="list file to write")
    parser.add_argument("--dataset", default="kinetics400", choices=("kinetics400", "kinetics600", "kinetics700"))
    parser.add_argument("--label-map", default=None, help="class names, one per line (default: tools/data/label_maps/<dataset>.txt)")
    parser.add_argument("--layout", choices=("flat", "class-folders"), default="flat", help="where the videos are")
    parser.add_argument("--class-folder-style", choices=("spaces", "underscores"), default="spaces", help="class folder names keep spaces or use underscores")
    parser.add_argument("--suffix", default=".mp4", help="video file extension (default .mp4)")
    parser.add_argument("--video-root", default=None, help="leave out rows whose video is missing under this folder")
    parser.add_argument("--missing-out", default=None, help="write the missing videos' paths here")
    parser.add_argument("--delimiter", choices=("space", "tab"), default="space", help="field separator (tab allows spaces in paths; then use VideoDataset(delimiter='\\t'))")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    label_map = args.label_map or os.path.join(LABEL_MAP_DIR, f"{args.dataset}.txt")
    names = read_label_map(label_map)
    index = {name: i for i, name in enumerate(names)}
    sep = "\t" if args.delimiter == "tab" else " "
    lines: List[str] = []
    missing: List[str] = []
    with open(args.csv, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        absent = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if absent:
            raise SystemExit(f"error: {args.csv}: header lacks columns {absent} (has {reader.fieldnames})")
        for row in reader:
            where = f"{args.csv}:{reader.line_num}"
            name = (row["label"] or "").strip().strip('"')
            if not name:
                raise SystemExit(f"error: {where}: no label (the test split has none)")
            if name not in index:
                raise SystemExit(f"error: {where}: class {name!r} is not in {label_map!r}")
            try:
                start, end = int(float(row["time_start"])), int(float(row["time_end"]))
            except ValueError:
                raise SystemExit(f"error: {where}: bad time_start/time_end {row['time_start']!r}, {row['time_end']!r}")
            rel = f"{row['youtube_id']}_{start:06d}_{end:06d}{args.suffix}"
            if args.layout == "class-folders":
                folder = name.replace(" ", "_") if args.class_folder_style == "underscores" else name
                rel = f"{folder}/{rel}"
            if sep in rel:
                raise SystemExit(
                    f"error: {where}: path {rel!r} contains the field separator; use --class-folder-style "
                    "underscores or --delimiter tab"
                )
            if args.video_root and not os.path.isfile(os.path.join(args.video_root, rel)):
                missing.append(rel)
                continue
            lines.append(f"{rel}{sep}{index[name]}")
    digest = write_list_file(args.out, lines)
    print(f"{len(lines)} videos listed, {len(missing)} missing and left out ({len(names)} classes)")
    print(f"wrote {args.out}: {len(lines)} lines, sha256 {digest}")
    if args.missing_out:
        digest = write_list_file(args.missing_out, missing)
        print(f"wrote {args.missing_out}: {len(missing)} lines, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
