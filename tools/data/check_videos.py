#!/usr/bin/env python
"""Scans the videos of a list file and reports the unreadable ones (exit status 1 if any).

Every entry is opened with the chosen backend and, depending on ``--mode``, decoded:

- ``header``: open only (frame count > 0);
- ``sample`` (default): decode the first, middle and last frames;
- ``full``: decode every frame (slow; finds corruption in the middle) and compare the decoders:
  decord alone (as it reads, without its exactness check), PyAV, and a plain sequential PyAV
  decode (frame ``i`` = the ``i``-th frame the decoder outputs, the ground truth). A file on
  which the chosen backend returns other frames than the sequential decode is unreadable; one on
  which only decord alone disagrees (the readers then use PyAV for it) is listed as
  ``DISAGREE``, with the first index at fault and the frame it looked like.

Each check has a time limit (``--timeout``). Unreadable files are printed with the reason;
``--bad-out`` writes them (``path<TAB>reason``) and ``--clean-out`` writes the list without them.
Prints the counts and the SHA-256 of every file written.

Example::

    python tools/data/check_videos.py data/kinetics400/kinetics400_val_list_videos.txt \\
        --data-prefix data/kinetics400/videos_val --num-workers 8 --clean-out val_clean.txt
"""

import argparse
import functools
import multiprocessing
import os
import sys
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from mmaction.datasets.list_file import read_lines, write_list_file
from mmaction.datasets.video_io import (
    DecordReader,
    PyAVReader,
    VideoDecodeError,
    open_video,
    rotate_frames,
    scan_frames,
    time_limit,
)
from mmaction.datasets.video_io.base_reader import VideoReader, short_reason

CHUNK = 32  # frames compared at a time (memory: 4 x CHUNK frames)
# mean absolute difference (0-255) above which two decodes of one frame are different pictures;
# decoders differ by < 1 on the same picture (colour conversion), neighbouring frames by more
SAME_FRAME_TOLERANCE = 3.0


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


def sequential_decode(path: str, convert: bool = True) -> Iterator[Tuple[Optional[np.ndarray], Optional[int]]]:
    """Every frame in decoder output order: (upright RGB (H, W, 3) or None, its timestamp).

    Undecodable packets are skipped.
    """
    import av

    with av.open(path, metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue
            for frame in frames:
                picture = None
                if convert:
                    picture = rotate_frames(frame.to_ndarray(format="rgb24")[None], float(frame.rotation or 0))[0]
                yield picture, frame.pts


def truth_indices(path: str) -> Tuple[List[int], int]:
    """The frame index of each frame a sequential decode outputs, and the number of frames.

    By timestamp (the rank of the frame's timestamp in the container's index) when every output
    frame carries one of the index's timestamps in increasing order; a frame lost to an
    undecodable packet then leaves its index out. Otherwise by output order.
    """
    index = scan_frames(path)
    stamps = [pts for _, pts in sequential_decode(path, convert=False)]
    by_time = not index.timestamp_problem and not index.starts_mid_gop and None not in stamps
    if by_time:
        ranks = np.searchsorted(index.pts, np.asarray(stamps, dtype=np.int64))
        by_time = bool(
            np.all(ranks < len(index.pts)) and np.all(index.pts[np.minimum(ranks, len(index.pts) - 1)] == stamps)
            and np.all(np.diff(ranks) > 0)
        )
    if by_time:
        return ranks.tolist(), len(index.pts)
    return list(range(len(stamps))), len(stamps)


def frame_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two (H, W, 3) uint8 frames (inf when the sizes differ)."""
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def compare_with_sequential(path: str, readers: Sequence[Tuple[str, Callable[[], VideoReader]]]) -> List[Optional[str]]:
    """Reads every frame with each reader and compares it with the sequential decode.

    Args:
        path: the video.
        readers: (name, opener) pairs.

    Returns:
        For each reader, ``None`` when it returned the sequential decode's frame at every index and
        counted as many frames, else what differs (first index at fault, what it looked like).
    """
    opened: List[Optional[VideoReader]] = []
    verdicts: List[Optional[str]] = []
    for name, opener in readers:
        try:
            opened.append(opener())
            verdicts.append(None)
        except VideoDecodeError as e:
            opened.append(None)
            verdicts.append(f"{name}: {e.reason}")
    positions, total = truth_indices(path)
    truth_iter = (frame for frame, _ in sequential_decode(path))
    start, done = 0, False
    try:
        while not done:
            chunk = []
            for frame in truth_iter:
                chunk.append(frame)
                if len(chunk) == CHUNK:
                    break
            done = len(chunk) < CHUNK
            inds = np.asarray(positions[start : start + len(chunk)], dtype=np.int64)
            for k, reader in enumerate(opened):
                if reader is None or verdicts[k] is not None:
                    continue
                keep = inds < reader.num_frames
                if not keep.any():
                    continue
                # the second half of the chunk first: every chunk makes the reader seek forward
                # and then back, where seeking by counting frames goes wrong
                order = np.roll(np.flatnonzero(keep), -(int(keep.sum()) // 2))
                try:
                    frames = reader.read(inds[order])
                except VideoDecodeError as e:
                    verdicts[k] = f"{readers[k][0]}: {e.reason}"
                    continue
                for j, got in zip(order.tolist(), frames):
                    d = frame_distance(got, chunk[j])
                    if d > SAME_FRAME_TOLERANCE:
                        dists = [frame_distance(got, t) for t in chunk]
                        best = int(np.argmin(dists))
                        looks = f"frame {inds[best]}" if dists[best] <= SAME_FRAME_TOLERANCE else "no frame near it"
                        verdicts[k] = (
                            f"{readers[k][0]}: frame {inds[j]} differs from the sequential decode "
                            f"(mean abs difference {d:.1f}; it looks like {looks})"
                        )
                        break
            start += len(chunk)
    finally:
        for reader in opened:
            if reader is not None:
                reader.close()
    for k, reader in enumerate(opened):
        if reader is not None and verdicts[k] is None and reader.num_frames != total:
            verdicts[k] = f"{readers[k][0]}: counts {reader.num_frames} frames where there are {total}"
    return verdicts


def check_one(task: Tuple[str, str, bool, str, float]) -> Tuple[Optional[str], List[str]]:
    """(None if the video is readable else the reason, the decoders that disagree in ``full`` mode)."""
    path, backend, fallback, mode, timeout = task
    try:
        with time_limit(timeout, path):
            if mode != "full":
                with open_video(path, backend=backend, fallback=fallback) as reader:
                    n = reader.num_frames
                    if mode == "sample":
                        reader.read(sorted({0, n // 2, n - 1}))
                return None, []
            chosen = functools.partial(open_video, path, backend=backend, fallback=fallback)
            others = [("decord alone", functools.partial(DecordReader, path, verify=False)),
                      ("pyav", functools.partial(PyAVReader, path))]
            verdicts = compare_with_sequential(path, [(backend, chosen)] + others)
            return verdicts[0], [v for v in verdicts[1:] if v is not None]
    except VideoDecodeError as e:
        return e.reason, []
    except Exception as e:  # noqa: BLE001 - report anything
        return short_reason(e), []


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    lines = read_lines(args.list, "list file")
    tasks = []
    for line_no, line in lines:
        fields = line.split(args.delimiter) if args.delimiter else line.split()
        tasks.append((os.path.join(args.data_prefix, fields[0].strip()), args.backend, not args.no_fallback, args.mode, args.timeout))
    if args.num_workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.num_workers) as pool:
            results = pool.map(check_one, tasks, chunksize=4)
    else:
        results = [check_one(t) for t in tasks]
    bad: List[str] = []
    clean: List[str] = []
    num_disagree = 0
    for (line_no, line), task, (reason, disagree) in zip(lines, tasks, results):
        if reason is None:
            clean.append(line)
        else:
            bad.append(f"{task[0]}\t{reason}")
            print(f"UNREADABLE {task[0]} (line {line_no}): {reason}")
        if disagree:
            num_disagree += 1
            print(f"DISAGREE {task[0]} (line {line_no}): " + "; ".join(disagree))
    summary = f"checked {len(tasks)} videos ({args.backend}, mode {args.mode}): {len(clean)} readable, {len(bad)} unreadable"
    if args.mode == "full":
        summary += f"; on {num_disagree} of them another decoder disagrees with the sequential decode"
    print(summary)
    if args.bad_out:
        digest = write_list_file(args.bad_out, bad)
        print(f"wrote {args.bad_out}: {len(bad)} lines, sha256 {digest}")
    if args.clean_out:
        digest = write_list_file(args.clean_out, clean)
        print(f"wrote {args.clean_out}: {len(clean)} lines, sha256 {digest}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
