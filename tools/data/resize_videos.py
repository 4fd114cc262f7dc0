#!/usr/bin/env python
"""Re-encodes videos so that their short side is ``--scale`` pixels (e.g. Kinetics at 256 or 320).

Every video under ``SRC`` (matching ``--extensions``) is decoded with PyAV (rotation metadata
applied, so output frames are upright and carry no rotation), resized with the aspect ratio
kept (sides rounded to even numbers, as H.264 needs), and written to the same relative path under
``DST`` with the extension ``.mp4`` (H.264, yuv420p, ``--crf``, constant frame rate = the source's
average rate; every decoded frame is kept, audio is dropped). Videos whose short side is already
<= ``--scale`` are re-encoded at their size unless ``--upscale``. Existing outputs are skipped
unless ``--overwrite``.

Prints the counts, the failures, and the SHA-256 of ``--list-out`` (the relative paths written,
default ``DST/resized_videos.txt``). List files must then name the ``.mp4`` files.

Example::

    python tools/data/resize_videos.py data/kinetics400/videos_val data/kinetics400/videos_val_256 \\
        --scale 256 --num-workers 8
"""

import argparse
import multiprocessing
import os
import sys
from fractions import Fraction
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmaction.datasets.list_file import write_list_file

EXTENSIONS = ".mp4,.avi,.mkv,.webm,.mov,.m4v,.mpg,.mpeg,.flv,.wmv,.gif"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("src", help="input folder (searched recursively)")
    parser.add_argument("dst", help="output folder")
    parser.add_argument("--scale", type=int, default=256, help="short side in pixels (default 256)")
    parser.add_argument("--upscale", action="store_true", help="also enlarge videos smaller than --scale")
    parser.add_argument("--crf", type=int, default=23, help="x264 quality, lower is better (default 23)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")
    parser.add_argument("--extensions", default=EXTENSIONS, help="input extensions")
    parser.add_argument("--num-workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--overwrite", action="store_true", help="redo existing outputs")
    parser.add_argument("--list-out", default=None, help="list of written files (default DST/resized_videos.txt)")
    return parser.parse_args(argv)


def target_size(h: int, w: int, scale: int, upscale: bool) -> Tuple[int, int]:
    """(new_h, new_w): short side ``scale`` (or unchanged when smaller and not upscale), even."""
    short = min(h, w)
    factor = scale / short if (short > scale or upscale) else 1.0
    new_h, new_w = max(2, int(round(h * factor / 2)) * 2), max(2, int(round(w * factor / 2)) * 2)
    return new_h, new_w


def resize_one(task: Tuple[str, str, int, bool, int, str]) -> Optional[str]:
    """Re-encodes one video; None on success, else the reason."""
    import av
    import torch
    import torchvision.transforms.v2.functional as F

    src, dst, scale, upscale, crf, preset = task
    tmp = dst + ".part.mp4"
    try:
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        with av.open(src) as inp:
            if not inp.streams.video:
                return "no video stream"
            stream = inp.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            out = None
            out_stream = None
            written = 0
            try:
                for packet in inp.demux(stream):
                    try:
                        frames = packet.decode()
                    except av.error.FFmpegError:
                        continue
                    for frame in frames:
                        rgb = frame.to_ndarray(format="rgb24")
                        k = int(round(float(getattr(frame, "rotation", 0) or 0) / 90.0)) % 4
                        if k:
                            rgb = np.ascontiguousarray(np.rot90(rgb, k=k))
                        if out is None:
                            new_h, new_w = target_size(rgb.shape[0], rgb.shape[1], scale, upscale)
                            out = av.open(tmp, mode="w")
                            out_stream = out.add_stream("libx264", rate=Fraction(rate).limit_denominator(100000))
                            out_stream.width, out_stream.height = new_w, new_h
                            out_stream.pix_fmt = "yuv420p"
                            out_stream.options = {"crf": str(crf), "preset": preset}
                        t = torch.from_numpy(rgb).permute(2, 0, 1)
                        if (t.shape[1], t.shape[2]) != (out_stream.height, out_stream.width):
                            t = F.resize(t, [out_stream.height, out_stream.width], antialias=True)
                        new = av.VideoFrame.from_ndarray(t.permute(1, 2, 0).contiguous().numpy(), format="rgb24")
                        for p in out_stream.encode(new):
                            out.mux(p)
                        written += 1
                if out is None:
                    return "no frame could be decoded"
                for p in out_stream.encode():
                    out.mux(p)
            finally:
                if out is not None:
                    out.close()
        os.replace(tmp, dst)
        return None
    except Exception as e:  # noqa: BLE001 - report and go on
        if os.path.exists(tmp):
            os.remove(tmp)
        return f"{type(e).__name__}: {e}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not os.path.isdir(args.src):
        raise SystemExit(f"error: {args.src!r} is not a folder")
    if args.scale < 2:
        raise SystemExit(f"error: --scale must be >= 2, got {args.scale}")
    extensions = tuple(e.strip().lower() for e in args.extensions.split(",") if e.strip())
    rel_paths: List[str] = []
    for folder, _, files in os.walk(args.src):
        for name in files:
            if name.lower().endswith(extensions):
                rel_paths.append(os.path.relpath(os.path.join(folder, name), args.src))
    rel_paths.sort()
    tasks, outputs, skipped = [], [], 0
    for rel in rel_paths:
        out_rel = os.path.splitext(rel)[0] + ".mp4"
        dst = os.path.join(args.dst, out_rel)
        outputs.append(out_rel)
        if os.path.exists(dst) and not args.overwrite:
            skipped += 1
            continue
        tasks.append((os.path.join(args.src, rel), dst, args.scale, args.upscale, args.crf, args.preset))
    if args.num_workers > 1 and len(tasks) > 1:
        with multiprocessing.get_context("spawn").Pool(args.num_workers) as pool:
            reasons = pool.map(resize_one, tasks, chunksize=1)
    else:
        reasons = [resize_one(t) for t in tasks]
    failed = {os.path.relpath(t[0], args.src): r for t, r in zip(tasks, reasons) if r is not None}
    for rel, reason in failed.items():
        print(f"FAILED {rel}: {reason}")
    done = [o for rel, o in zip(rel_paths, outputs) if rel not in failed]
    print(
        f"{len(rel_paths)} videos found: {len(tasks) - len(failed)} resized to short side {args.scale}, "
        f"{skipped} already there, {len(failed)} failed"
    )
    list_out = args.list_out or os.path.join(args.dst, "resized_videos.txt")
    digest = write_list_file(list_out, done)
    print(f"wrote {list_out}: {len(done)} lines, sha256 {digest}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
