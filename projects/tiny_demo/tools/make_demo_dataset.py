#!/usr/bin/env python
"""Generates the CPU demo dataset: short H.264 videos of a textured object moving left, right,
up or down (the class), plus single-frame images for pre-training the demo's image model
(which shape, in which quadrant).

What the videos look like and why a single frame says nothing about the class:
``projects/tiny_demo/moving_shapes.py``. The demo config's ``MovingShapesDataset`` generates
this dataset on first use; this command does it by hand (for other sizes or seeds).

Example (from the repository root)::

    python -m projects.tiny_demo.tools.make_demo_dataset --out data/demo --num-train 2000 --seed 0
"""

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from projects.tiny_demo.moving_shapes import CLASSES, IMAGE_CLASSES, SPLITS, DemoSpec, make_demo_dataset


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    d = DemoSpec()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="data/demo", help="dataset root (default: data/demo)")
    p.add_argument("--num-train", type=int, default=d.num_train)
    p.add_argument("--num-val", type=int, default=d.num_val)
    p.add_argument("--num-test", type=int, default=d.num_test)
    p.add_argument("--num-images", type=int, default=d.num_images, help="pretraining images (train split)")
    p.add_argument("--size", type=int, default=d.size, help="frame side in pixels (multiple of 4)")
    p.add_argument("--frames", type=int, default=d.frames)
    p.add_argument("--fps", type=int, default=d.fps)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--force", action="store_true", help="regenerate even if up to date")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    try:  # DemoSpec checks the values (and names the one at fault)
        args.spec = DemoSpec(
            size=args.size, frames=args.frames, fps=args.fps, num_train=args.num_train,
            num_val=args.num_val, num_test=args.num_test, num_images=args.num_images, seed=args.seed,
        )
    except ValueError as err:
        p.error(str(err))
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    spec = args.spec
    info = make_demo_dataset(Path(args.out), spec, force=args.force, log=not args.quiet)
    print(f"demo dataset in {args.out}: {len(CLASSES)} classes {list(CLASSES)}")
    for split in SPLITS:
        per_class = info["counts_per_class"][split]
        print(f"  {split:5s}: {sum(per_class):4d} videos, per class {per_class}")
    print(f"  images: {spec.num_images} train / {spec.num_images // 5} val, {len(IMAGE_CLASSES)} classes "
          f"(shape x quadrant: {IMAGE_CLASSES[0]!r} ... {IMAGE_CLASSES[-1]!r})")
    for name, digest in info["sha256"].items():
        print(f"  sha256 {digest}  {name}")
    print(f"  sha256 {info['content_sha256']}  (all lists, videos and images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
