"""Fixtures of the data-pipeline tests: small videos written once per session."""

from pathlib import Path

import av
import numpy as np
import pytest

from .video_factory import write_video


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    """A folder of small PyAV-written videos (see video_factory for their content)."""
    root = tmp_path_factory.mktemp("videos")
    write_video(root / "v300.mp4", 300, gop=30)
    write_video(root / "v64.mp4", 64, gop=8)
    write_video(root / "v30.mkv", 30, gop=10)
    write_video(root / "v1.mp4", 1)
    write_video(root / "odd.mp4", 12, height=35, width=47)
    write_video(root / "v20.avi", 20, codec="mpeg4", gop=6)
    write_video(root / "v16.gif", 16, codec="gif", fps=10)
    # variable frame rate: gaps of 40, 40, 120, 20 ... ms
    steps = [40, 40, 120, 20, 80, 40, 200, 40, 40, 60, 40, 40]
    pts = [sum(steps[:i]) for i in range(len(steps))]
    write_video(root / "vfr.mp4", len(pts), pts=pts)
    data = (root / "v64.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 2])
    (root / "empty.mp4").write_bytes(b"")
    (root / "garbage.mp4").write_bytes(b"this is not a video" * 100)
    return root


@pytest.fixture(scope="session")
def broken_dir(tmp_path_factory) -> Path:
    """Damaged files whose container still opens.

    - ``cut.mkv``: the first 60 % of a 100-frame Matroska file (its header says 4 s = 100 frames);
    - ``corrupt.mp4``: a 100-frame MP4 with 200 zeroed bytes in the middle of its data;
    - ``audio_only.mkv``: a valid file without a video stream.
    """
    root = tmp_path_factory.mktemp("broken")
    write_video(root / "full.mkv", 100, gop=10)
    data = (root / "full.mkv").read_bytes()
    (root / "cut.mkv").write_bytes(data[: int(len(data) * 0.6)])
    write_video(root / "full.mp4", 100, gop=10)
    data = bytearray((root / "full.mp4").read_bytes())
    mid = len(data) // 2
    data[mid : mid + 200] = bytes(200)
    (root / "corrupt.mp4").write_bytes(bytes(data))
    with av.open(str(root / "audio_only.mkv"), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return root

