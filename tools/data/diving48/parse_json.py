#!/usr/bin/env python
"""Turns a Diving-48 annotation JSON into an MMAction2 list.

Input: the official ``Diving48_V2_train.json`` / ``Diving48_V2_test.json`` (``[{"vid_name":
"-mmq0PT-u8k_00155", "label": 0, "start_frame": 0, "end_frame": 184}, ...]``). Labels are
already indices into ``tools/data/label_maps/diving48.txt``.

Output lines::

    <vid_name>.mp4 <label>                  (--format videos)
    <vid_name> <number of frames> <label>   (--format rawframes; frames counted in
                                             --frame-root/<vid_name>, else end - start frame)

Prints the counts and the SHA-256 of the file written.

Example::

    python tools/data/diving48/parse_json.py diving48/annotations/Diving48_V2_test.json \\
        --out data/diving48/diving48_val_list_videos.txt
"""

import argparse
import json
import os
import sys
from typing import List, Optional, Sequence

from mmaction.datasets.list_file import write_list_file

NUM_CLASSES = 48


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("annotations", help="Diving48_V2_{train,test}.json")
    parser.add_argument("--out", required=True, help="list file to write")
    parser.add_argument("--format", choices=("videos", "rawframes"), default="videos")
    parser.add_argument("--suffix", default=".mp4", help="video extension (default .mp4)")
    parser.add_argument("--frame-root", default=None, help="rawframes: count frames in <frame-root>/<vid_name>")
    parser.add_argument("--frame-ext", default=".jpg", help="rawframes: frame image extension")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    with open(args.annotations, encoding="utf-8") as f:
        entries = json.load(f)
    if not isinstance(entries, list):
        raise SystemExit(f"error: {args.annotations}: expected a JSON list of entries")
    lines: List[str] = []
    for k, entry in enumerate(entries):
        where = f"{args.annotations}: entry {k}"
        if "vid_name" not in entry or "label" not in entry:
            raise SystemExit(f"error: {where}: needs 'vid_name' and 'label'")
        label = entry["label"]
        if not isinstance(label, int) or not 0 <= label < NUM_CLASSES:
            raise SystemExit(f"error: {where}: label {label!r} is not in [0, {NUM_CLASSES})")
        name = entry["vid_name"]
        if args.format == "videos":
            lines.append(f"{name}{args.suffix} {label}")
            continue
        if args.frame_root:
            folder = os.path.join(args.frame_root, name)
            count = sum(1 for f in os.listdir(folder) if f.endswith(args.frame_ext)) if os.path.isdir(folder) else 0
        else:
            count = int(entry.get("end_frame", 0)) - int(entry.get("start_frame", 0))
        if count <= 0:
            raise SystemExit(f"error: {where}: no frame for {name!r}")
        lines.append(f"{name} {count} {label}")
    digest = write_list_file(args.out, lines)
    print(f"{len(lines)} entries listed")
    print(f"wrote {args.out}: {len(lines)} lines, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
