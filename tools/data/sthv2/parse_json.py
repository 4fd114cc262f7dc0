#!/usr/bin/env python
"""Turns a Something-Something v2 annotation JSON into an MMAction2 list.

Inputs are the official files: ``something-something-v2-labels.json`` (``{"Approaching
something with your camera": "0", ...}``) and ``something-something-v2-train.json`` /
``-validation.json`` (``[{"id": "78687", "template": "Holding [something] next to
[something]", ...}, ...]``). The class of an entry is its template with the brackets removed.
Without ``--labels`` the order of ``tools/data/label_maps/sthv2.txt`` is used (the same order).

Output lines::

    <id>.webm <label>                 (--format videos)
    <id> <number of frames> <label>   (--format rawframes; frames counted in --frame-root/<id>)

The test split has no templates and cannot be listed with labels. Prints the counts and the
SHA-256 of the file written.

Example::

    python tools/data/sthv2/parse_json.py sthv2/annotations/something-something-v2-validation.json \\
        --labels sthv2/annotations/something-something-v2-labels.json \\
        --out data/sthv2/sthv2_val_list_videos.txt
"""

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

from mmaction.datasets.list_file import read_label_map, write_list_file

LABEL_MAP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "label_maps", "sthv2.txt")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("annotations", help="something-something-v2-{train,validation}.json")
    parser.add_argument("--out", required=True, help="list file to write")
    parser.add_argument("--labels", default=None, help="something-something-v2-labels.json (default: label_maps/sthv2.txt)")
    parser.add_argument("--format", choices=("videos", "rawframes"), default="videos")
    parser.add_argument("--suffix", default=".webm", help="video extension (default .webm)")
    parser.add_argument("--frame-root", default=None, help="rawframes: folder holding one frame folder per id")
    parser.add_argument("--frame-ext", default=".jpg", help="rawframes: frame image extension")
    return parser.parse_args(argv)


def load_label_index(path: Optional[str]) -> Dict[str, int]:
    if path is None:
        return {name: i for i, name in enumerate(read_label_map(LABEL_MAP))}
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if not isinstance(raw, dict):
        raise SystemExit(f"error: {path}: expected a JSON object {{class name: index}}")
    try:
        return {name: int(i) for name, i in raw.items()}
    except ValueError as e:
        raise SystemExit(f"error: {path}: non-integer class index ({e})")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.format == "rawframes" and not args.frame_root:
        raise SystemExit("error: --format rawframes needs --frame-root to count frames")
    index = load_label_index(args.labels)
    with open(args.annotations, encoding="utf-8") as f:
        entries = json.load(f)
    if not isinstance(entries, list):
        raise SystemExit(f"error: {args.annotations}: expected a JSON list of entries")
    lines: List[str] = []
    skipped = 0
    for k, entry in enumerate(entries):
        where = f"{args.annotations}: entry {k}"
        if "id" not in entry or "template" not in entry:
            raise SystemExit(f"error: {where}: needs 'id' and 'template' (the test split has no labels)")
        name = entry["template"].replace("[", "").replace("]", "")
        if name not in index:
            raise SystemExit(f"error: {where}: template {name!r} is not a known class")
        vid = str(entry["id"])
        if args.format == "videos":
            lines.append(f"{vid}{args.suffix} {index[name]}")
        else:
            folder = os.path.join(args.frame_root, vid)
            count = sum(1 for f in os.listdir(folder) if f.endswith(args.frame_ext)) if os.path.isdir(folder) else 0
            if count == 0:
                skipped += 1
                continue
            lines.append(f"{vid} {count} {index[name]}")
    digest = write_list_file(args.out, lines)
    print(f"{len(lines)} entries listed, {skipped} without frames left out ({len(set(index.values()))} classes)")
    print(f"wrote {args.out}: {len(lines)} lines, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
