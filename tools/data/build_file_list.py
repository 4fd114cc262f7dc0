#!/usr/bin/env python
"""Builds MMAction2 list files from a folder-per-class tree, with a seeded train/val split.

Input layout (``ROOT``)::

    ROOT/<class name>/<video file>            (--format videos)
    ROOT/<class name>/<video id>/img_00001.jpg (--format rawframes)

Output (``--out-dir``)::

    <prefix>_train_list_<format>.txt   "class/video.mp4 label" or "class/video_id num_frames label"
    <prefix>_val_list_<format>.txt     (when --val-ratio > 0)
    label_map.txt                      class names, line i = label i (unless --label-map is given)

Classes are the sorted sub-folder names, or the names of ``--label-map`` (a folder may spell a
class with underscores instead of spaces). Fields are separated by one space; when a path holds
whitespace (e.g. Kinetics' ``playing guitar/``) they are separated by a tab instead
(``--delimiter auto``, the default), and the dataset then needs ``delimiter='\t'`` in the config
(printed). The split is stratified: in every class, a seeded
shuffle puts ``round(val_ratio * n)`` items in val. Prints the counts and the SHA-256 of every
file written.

Example::

    python tools/data/build_file_list.py data/mydata/videos --out-dir data/mydata --prefix mydata --val-ratio 0.2
"""

import argparse
import os
import random
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from mmaction.datasets.list_file import read_label_map, write_list_file

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".gif")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("root", help="folder with one sub-folder per class")
    parser.add_argument("--out-dir", required=True, help="where to write the list files")
    parser.add_argument("--prefix", default="dataset", help="file name prefix of the lists (default: dataset)")
    parser.add_argument("--format", choices=("videos", "rawframes"), default="videos")
    parser.add_argument("--val-ratio", type=float, default=0.0, help="fraction of each class put in val (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    parser.add_argument("--label-map", default=None, help="class-name file fixing the label order")
    parser.add_argument("--extensions", default=",".join(VIDEO_EXTENSIONS), help="video file extensions")
    parser.add_argument("--frame-ext", default=".jpg", help="frame image extension for rawframes (default .jpg)")
    parser.add_argument("--delimiter", choices=("auto", "space", "tab"), default="auto",
                        help="field separator: auto (tab only when a path holds whitespace), space or tab")
    return parser.parse_args(argv)


def choose_delimiter(choice: str, paths: Sequence[str]) -> str:
    """The field separator for ``choice`` given the entries' paths.

    Raises:
        SystemExit: ``space`` was asked for but a path holds whitespace (the list would not parse).
    """
    spaced = next((p for p in paths if len(p.split()) != 1), None)
    if choice == "tab" or (choice == "auto" and spaced is not None):
        return "\t"
    if spaced is not None:
        raise SystemExit(f"error: path {spaced!r} holds whitespace: a space-separated list would not parse; "
                         "use --delimiter tab (or auto), or rename the folders")
    return " "


def class_folders(root: str, label_map: Optional[str]) -> Tuple[List[str], Dict[str, int]]:
    """(class names, {folder name: label})."""
    folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not folders:
        raise SystemExit(f"error: {root!r} has no class sub-folder")
    if label_map is None:
        return folders, {f: i for i, f in enumerate(folders)}
    names = read_label_map(label_map)
    index = {}
    for i, name in enumerate(names):
        index[name] = i
        index.setdefault(name.replace(" ", "_"), i)
    unknown = [f for f in folders if f not in index]
    if unknown:
        raise SystemExit(f"error: folders {unknown[:5]} are not classes of {label_map!r}")
    return names, {f: index[f] for f in folders}


def collect_items(root: str, folder: str, fmt: str, extensions: Tuple[str, ...],
                  frame_ext: str) -> List[Tuple[str, ...]]:
    """Entries of one class folder: ``(path,)`` for videos, ``(path, num_frames)`` for rawframes."""
    base = os.path.join(root, folder)
    items = []
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if fmt == "videos":
            if os.path.isfile(path) and name.lower().endswith(extensions):
                items.append((f"{folder}/{name}",))
        elif os.path.isdir(path):
            count = sum(1 for f in os.listdir(path) if f.lower().endswith(frame_ext))
            if count:
                items.append((f"{folder}/{name}", str(count)))
    return items


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not os.path.isdir(args.root):
        raise SystemExit(f"error: {args.root!r} is not a folder")
    if not 0.0 <= args.val_ratio < 1.0:
        raise SystemExit(f"error: --val-ratio must be in [0, 1), got {args.val_ratio}")
    extensions = tuple(e.strip().lower() for e in args.extensions.split(",") if e.strip())
    names, labels = class_folders(args.root, args.label_map)
    rng = random.Random(args.seed)
    train: List[Tuple[str, ...]] = []
    val: List[Tuple[str, ...]] = []
    for folder in sorted(labels):
        items = collect_items(args.root, folder, args.format, extensions, args.frame_ext)
        rng.shuffle(items)
        num_val = int(round(args.val_ratio * len(items)))
        val += [(*it, str(labels[folder])) for it in sorted(items[:num_val])]
        train += [(*it, str(labels[folder])) for it in sorted(items[num_val:])]
    if not train and not val:
        raise SystemExit(f"error: no {args.format} found under {args.root!r}")
    sep = choose_delimiter(args.delimiter, [entry[0] for entry in train + val])
    os.makedirs(args.out_dir, exist_ok=True)
    outputs = [(f"{args.prefix}_train_list_{args.format}.txt", [sep.join(e) for e in train])]
    if args.val_ratio > 0:
        outputs.append((f"{args.prefix}_val_list_{args.format}.txt", [sep.join(e) for e in val]))
    if args.label_map is None:
        outputs.append(("label_map.txt", names))
    print(f"{len(names)} classes, {len(train)} train and {len(val)} val {args.format} (seed {args.seed})")
    for name, lines in outputs:
        path = os.path.join(args.out_dir, name)
        digest = write_list_file(path, lines)
        print(f"wrote {path}: {len(lines)} lines, sha256 {digest}")
    if sep == "\t":
        print("fields are tab-separated (paths hold spaces): set delimiter='\\t' in the dataset config, e.g. "
              "train_dataloader.dataset.delimiter='\\t'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
