"""Writes small test videos with PyAV whose frames say their own index.

Frame ``i`` is a uniform colour: red = ``(i % 30) * 8 + 4``, green = ``(i // 30) * 20 + 10``,
blue = 128. :func:`index_of_frame` reads the index back (robust to the small colour error of
lossy coding), so a test can check that a reader returned exactly the frames it asked for.
"""

from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

import av
import numpy as np


def frame_for_index(i: int, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 frame encoding ``i`` (0 <= i < 390)."""
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[..., 0] = (i % 30) * 8 + 4
    frame[..., 1] = (i // 30) * 20 + 10
    frame[..., 2] = 128
    return frame


def index_of_frame(frame: np.ndarray) -> int:
    """Inverse of :func:`frame_for_index` for an (H, W, 3) or (3, H, W) frame."""
    f = np.asarray(frame, dtype=np.float64)
    if f.shape[0] == 3 and f.shape[-1] != 3:
        f = np.moveaxis(f, 0, -1)
    r, g = f[..., 0].mean(), f[..., 1].mean()
    return int(round((r - 4) / 8)) + 30 * int(round((g - 10) / 20))


def write_video(
    path: Path,
    num_frames: int,
    height: int = 48,
    width: int = 64,
    fps: int = 25,
    codec: str = "libx264",
    gop: int = 8,
    pts: Optional[Sequence[int]] = None,
    time_base: Fraction = Fraction(1, 1000),
) -> Path:
    """Writes frames 0..num_frames-1 (see module docstring).

    Args:
        path: output file (container from the extension: .mp4, .mkv, .avi, .gif ...).
        num_frames: frames to write.
        height, width: frame size.
        fps: nominal frame rate.
        codec: 'libx264', 'mpeg4', 'gif' ...
        gop: key frame interval.
        pts: explicit presentation timestamps in ``time_base`` units (variable frame rate).
        time_base: unit of ``pts``.
    """
    path = Path(path)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        if codec == "gif":
            stream.pix_fmt = "rgb8"
        elif codec == "libx264":
            stream.pix_fmt = "yuv444p"
            stream.options = {"g": str(gop), "qp": "0", "bf": "2"}
        else:
            stream.pix_fmt = "yuv420p"
            stream.options = {"g": str(gop), "qscale": "2"}
        if pts is not None:
            stream.codec_context.time_base = time_base
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(frame_for_index(i, height, width), format="rgb24")
            if pts is not None:
                frame.pts = int(pts[i])
                frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


# --------------------------------------------------------------------------- lossy-codec-proof frames
BITS_BLOCK = 16  # one bit per 16x16 block: codecs code whole macroblocks, so a bit survives lossy coding
BITS_LOW, BITS_HIGH = 16, 235


def frame_with_bits(i: int, height: int = 48, width: int = 64) -> np.ndarray:
    """(H, W, 3) uint8 frame whose 16x16 blocks (row-major) spell ``i`` in binary: white = 1.

    64x48 holds 12 bits. Unlike :func:`frame_for_index`, the pattern survives MPEG-2 / MPEG-4
    Part 2 coding, so :func:`index_of_bits` tells which frame a reader returned on such files.
    """
    frame = np.full((height, width, 3), BITS_LOW, dtype=np.uint8)
    cols = width // BITS_BLOCK
    for bit in range((height // BITS_BLOCK) * cols):
        if (i >> bit) & 1:
            r, c = divmod(bit, cols)
            frame[r * BITS_BLOCK : (r + 1) * BITS_BLOCK, c * BITS_BLOCK : (c + 1) * BITS_BLOCK] = BITS_HIGH
    return frame


def index_of_bits(frame: np.ndarray) -> int:
    """Inverse of :func:`frame_with_bits` for an (H, W, 3) or (3, H, W) frame (block centres only)."""
    f = np.asarray(frame, dtype=np.float64)
    if f.shape[0] == 3 and f.shape[-1] != 3:
        f = np.moveaxis(f, 0, -1)
    grey = f.mean(axis=-1)
    rows, cols = grey.shape[0] // BITS_BLOCK, grey.shape[1] // BITS_BLOCK
    value, m = 0, BITS_BLOCK // 4
    for bit in range(rows * cols):
        r, c = divmod(bit, cols)
        block = grey[r * BITS_BLOCK + m : (r + 1) * BITS_BLOCK - m, c * BITS_BLOCK + m : (c + 1) * BITS_BLOCK - m]
        if block.mean() > (BITS_LOW + BITS_HIGH) / 2:
            value |= 1 << bit
    return value


def write_bits_video(
    path: Path,
    num_frames: int,
    codec: str,
    container_format: Optional[str] = None,
    gop: int = 12,
    b_frames: int = 2,
    height: int = 48,
    width: int = 64,
    fps: int = 25,
) -> Path:
    """Writes frames 0..num_frames-1 of :func:`frame_with_bits` with B-frames.

    Args:
        path: output file.
        num_frames: frames to write.
        codec: e.g. ``'mpeg2video'`` (MPEG-2, open GOPs) or ``'mpeg4'`` (MPEG-4 Part 2).
        container_format: FFmpeg muxer, e.g. ``'mpeg'`` (MPEG program stream); default from the
            extension.
        gop: key frame interval.
        b_frames: maximum consecutive B-frames.
        height, width: frame size (multiples of 16).
        fps: frame rate.
    """
    path = Path(path)
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.max_b_frames = b_frames
        stream.options = {"qscale": "2"}
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(frame_with_bits(i, height, width), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def drop_leading_packets(src: Path, dst: Path, count: int, container_format: Optional[str] = None) -> Path:
    """Copies ``src`` to ``dst`` without its first ``count`` video packets (no re-encoding).

    Dropping the first key frame makes a file that starts in the middle of a GOP: its first
    frames cannot be decoded.
    """
    with av.open(str(src)) as source, av.open(str(dst), mode="w", format=container_format) as target:
        stream = source.streams.video[0]
        out = target.add_stream_from_template(stream)
        seen = 0
        for packet in source.demux(stream):
            if packet.size == 0:
                continue
            seen += 1
            if seen <= count:
                continue
            packet.stream = out
            target.mux(packet)
    return Path(dst)
