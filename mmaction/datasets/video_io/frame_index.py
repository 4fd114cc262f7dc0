"""The presentation timestamps of a video's frames, from one demux pass (no decoding), cached.

Frame ``i`` of a video is the frame whose presentation timestamp (pts) is the ``i``-th smallest
among the packets the decoder will output. :func:`scan_frames` reads every packet of the first
video stream once (demuxing only reads the file; nothing is decoded), records the pts, decode
timestamps (dts) and key-frame flags in decode order, and derives:

- ``pts``: the sorted timestamps, i.e. frame index -> timestamp;
- ``key_indices``: the frame indices of the key frames (seek points);
- ``timestamp_problem``: why timestamps cannot index the frames (packets without a timestamp,
  two packets with one timestamp), empty when they can;
- ``starts_mid_gop``: the first packet is not a key frame, or frames shown before the first key
  frame are stored after it: the first frames cannot be decoded (the decoder drops them or
  outputs grey pictures), so frame ``i`` is only known by decoding;
- ``seek_problem``: why "seek to a key frame, then count decoded frames" (how decord seeks) does
  not land on frame ``i`` in this file: any of the above, decode timestamps that do not
  increase, or an open GOP (a key frame that is not a clean cut: frames shown before it are
  stored after it, as in MPEG-2 program streams and MPEG-4 AVI with B-frames). Empty when that
  way of seeking is exact.

Results are cached in memory per (path, modification time, size), so each DataLoader worker
demuxes a file once however many epochs read it (up to ``CACHE_SIZE`` files and ``CACHE_FRAMES``
timestamps per process; the least recently used are forgotten first).
"""

import collections
import os
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import List, Optional, Tuple

import numpy as np

from .base_reader import check_video_file, short_reason
from .errors import EmptyVideoFileError, VideoDecodeError

CACHE_SIZE = 8192  # files whose index a process keeps
CACHE_FRAMES = 2_000_000  # and at most this many timestamps in all (16 MB)
# Containers that store no presentation timestamps: the demuxer guesses them from the decode
# order, which is wrong as soon as the codec reorders frames (B-frames).
NO_PTS_CONTAINERS = frozenset({"avi", "h264", "hevc", "m4v", "mpegvideo", "rawvideo"})


@dataclass(frozen=True)
class FrameIndex:
    """What one demux pass says about a video's frames.

    Attributes:
        filename: the file.
        pts: (N,) int64, sorted unique presentation timestamps (in ``time_base`` units) of the
            frames; empty when ``timestamp_problem`` is set.
        key_indices: frame indices (into ``pts``) of the key frames, ascending, starting at 0.
        num_packets: packets that hold a frame (edit-list discards and empty packets excluded).
        time_base: unit of the timestamps (``None`` when the stream has none).
        container: the container format (FFmpeg's name, e.g. ``'mov,mp4,m4a,3gp,3g2,mj2'``).
        codec: the video codec (e.g. ``'h264'``).
        timestamp_problem: why timestamps cannot index the frames; ``''`` when they can.
        starts_mid_gop: the first frames cannot be decoded (see the module docstring).
        seek_problem: why seeking to a key frame and counting decoded frames is not exact;
            ``''`` when it is.
    """

    filename: str
    pts: np.ndarray
    key_indices: Tuple[int, ...]
    num_packets: int
    time_base: Optional[Fraction]
    container: str
    codec: str
    timestamp_problem: str
    starts_mid_gop: bool
    seek_problem: str

    @property
    def num_frames(self) -> int:
        """Frames indexed by timestamp (``num_packets`` when timestamps are unusable)."""
        return self.num_packets if self.timestamp_problem else len(self.pts)

    def seconds(self) -> np.ndarray:
        """(N,) float64: ``pts`` in seconds."""
        return self.pts.astype(np.float64) * float(self.time_base or 0)


def _open_problem(pts: np.ndarray, dts: List[Optional[int]], keys: np.ndarray) -> str:
    """Why counting frames from a key frame is not exact, from the decode-order packets.

    Args:
        pts: (P,) int64 presentation timestamps in decode order.
        dts: the packets' decode timestamps (``None`` where absent).
        keys: (P,) bool key-frame flags in decode order.
    """
    known = np.asarray([d for d in dts if d is not None], dtype=np.int64)
    if known.size > 1 and np.any(np.diff(known) <= 0):
        at = int(np.argmax(np.diff(known) <= 0)) + 1
        return f"decode timestamps do not increase (packet {at}: dts {int(known[at - 1])} then {int(known[at])})"
    before_max = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min], pts[:-1]]))
    after_min = np.minimum.accumulate(np.concatenate([pts[1:], [np.iinfo(np.int64).max]])[::-1])[::-1]
    for k in np.flatnonzero(keys):
        if before_max[k] > pts[k] or after_min[k] < pts[k]:
            return (
                f"open GOP: frames shown before the key frame at pts {int(pts[k])} are stored after it "
                f"(packet {int(k)}), so counting decoded frames from that key frame is off"
            )
    return ""


def _scan(filename: str) -> FrameIndex:
    import av

    try:
        container = av.open(filename, mode="r", metadata_errors="ignore")
    except Exception as e:  # av.error.FFmpegError, OSError, UnicodeDecodeError ...
        raise VideoDecodeError(filename, f"PyAV cannot open it ({short_reason(e)})") from e
    with container:
        if not container.streams.video:
            raise EmptyVideoFileError(filename, "no video stream in the file")
        stream = container.streams.video[0]
        stamps: List[Optional[int]] = []
        dts: List[Optional[int]] = []
        keys: List[bool] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or getattr(packet, "is_discard", False):
                    continue  # the flush packet; packets dropped by an edit list are never output
                stamps.append(packet.pts if packet.pts is not None else packet.dts)
                dts.append(packet.dts)
                keys.append(bool(packet.is_keyframe))
        except Exception as e:
            if not stamps:
                raise VideoDecodeError(filename, f"cannot read packets ({short_reason(e)})") from e
            # a truncated file: keep what could be read
        time_base = stream.time_base
        container_name = container.format.name
        codec = stream.codec_context.name
        reorders = bool(stream.codec_context.has_b_frames)
    num_packets = len(stamps)
    missing = sum(s is None for s in stamps)
    timestamp_problem = ""
    pts = np.zeros(0, dtype=np.int64)
    if num_packets and missing:
        timestamp_problem = f"{missing} of {num_packets} packets carry no timestamp"
    elif num_packets and reorders and container_name in NO_PTS_CONTAINERS:
        timestamp_problem = (
            f"{codec} with B-frames in {container_name}: the container stores no presentation "
            "timestamps (the demuxer's are guesses from the decode order)"
        )
    elif num_packets:
        order = np.asarray(stamps, dtype=np.int64)
        pts = np.unique(order)
        if len(pts) != num_packets:
            timestamp_problem = f"{num_packets - len(pts)} packets repeat another packet's timestamp"
    if timestamp_problem or not num_packets:
        return FrameIndex(
            filename, np.zeros(0, dtype=np.int64), (0,), num_packets, time_base, container_name, codec,
            timestamp_problem, False, timestamp_problem or "no packet",
        )
    key_flags = np.asarray(keys, dtype=bool)
    first_key = int(np.argmax(key_flags)) if key_flags.any() else -1
    starts_mid_gop = first_key != 0 or int(order[0]) != int(pts[0])
    key_pts = order[key_flags]
    key_indices = sorted(set(np.searchsorted(pts, key_pts).tolist()) | {0})
    if starts_mid_gop:
        seek_problem = (
            "the first packet is not a key frame: the first frames cannot be decoded"
            if first_key != 0
            else f"frames shown before the first key frame (pts {int(order[0])}) are stored after it"
        )
    else:
        seek_problem = _open_problem(order, dts, key_flags)
    return FrameIndex(
        filename, pts, tuple(key_indices), num_packets, time_base, container_name, codec, "", starts_mid_gop,
        seek_problem,
    )


_cache: "collections.OrderedDict[tuple, FrameIndex]" = collections.OrderedDict()
_lock = threading.Lock()
_cached_frames = 0


def file_key(filename: str) -> tuple:
    """(path, modification time in ns, size): changes when the file is rewritten."""
    st = os.stat(filename)
    return (os.path.abspath(filename), st.st_mtime_ns, st.st_size)


def scan_frames(filename: str) -> FrameIndex:
    """The :class:`FrameIndex` of ``filename`` (one demux pass, cached per path+mtime+size).

    Args:
        filename: path of the video.

    Raises:
        VideoFileMissingError, EmptyVideoFileError, VideoDecodeError: with the file name.
    """
    filename = str(filename)
    check_video_file(filename)
    key = file_key(filename)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    index = _scan(filename)
    global _cached_frames
    with _lock:
        if key not in _cache:
            _cache[key] = index
            _cached_frames += len(index.pts)
        while len(_cache) > CACHE_SIZE or (_cached_frames > CACHE_FRAMES and len(_cache) > 1):
            _cached_frames -= len(_cache.popitem(last=False)[1].pts)
    return index


def remember(table: dict, key: tuple, value) -> None:
    """Stores ``table[key] = value``, forgetting the oldest entries beyond ``CACHE_SIZE``."""
    table[key] = value
    while len(table) > CACHE_SIZE:
        table.pop(next(iter(table)))


def clear_cache() -> None:
    """Forgets every cached index (tests; a process that rewrites files in place keeps mtime)."""
    global _cached_frames
    with _lock:
        _cache.clear()
        _cached_frames = 0


__all__ = ["FrameIndex", "scan_frames", "file_key", "remember", "clear_cache", "CACHE_SIZE", "CACHE_FRAMES"]
