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
