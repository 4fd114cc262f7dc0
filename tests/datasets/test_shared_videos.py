"""Every file of ../shared/data/videos/{real,edge_cases} decodes through both backends.

The files (see their MANIFEST.tsv) are real-world videos: H.264/MPEG-4 in MP4, MOV, AVI, MKV and
WebM (one without duration in its header), a GIF, 1080p and 60 fps files, rotation metadata, a
file with a corrupt packet and a header that promises one frame more than it holds. Each must
either give frames of the right (display) size through DecordInit/DecordDecode and
PyAVInit/PyAVDecode, or fail with a :class:`VideoDecodeError` naming the file. Only the first and
the last frame are decoded, under a time limit. Skipped where the shared folder is absent.
"""

import csv
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
import torch

from mmaction.datasets.video_io import DecordReader, PyAVReader, VideoDecodeError, open_video, time_limit
from mmaction.registry import TRANSFORMS

from ..conftest import SHARED_DIR

VIDEO_ROOT = SHARED_DIR / "data" / "videos"
SUBSETS = ("real", "edge_cases")
PIPELINES = {"decord": ("DecordInit", "DecordDecode"), "pyav": ("PyAVInit", "PyAVDecode")}
DECODE_LIMIT_S = 30.0

pytestmark = pytest.mark.timeout(120)


def read_manifest(root: Path) -> Dict[str, dict]:
    """Rows of MANIFEST.tsv by relative path (``real/x.mp4``)."""
    with open(root / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def shared_files() -> List[str]:
    """Relative paths of the shared videos (empty when the folder is absent: tests then skip)."""
    if not VIDEO_ROOT.is_dir():
        return []
    return sorted(f"{sub}/{p.name}" for sub in SUBSETS for p in (VIDEO_ROOT / sub).iterdir() if p.is_file())


FILES = shared_files() or ["<shared folder absent>"]


@pytest.fixture(scope="module")
def manifest(shared_dir) -> Dict[str, dict]:
    root = shared_dir / "data" / "videos"
    if not (root / "MANIFEST.tsv").is_file():
        pytest.skip(f"no MANIFEST.tsv in {root}")
    return read_manifest(root)


def stored_size(row: dict) -> Tuple[int, int]:
    """(width, height) as the MANIFEST states it (the stored, not necessarily displayed, size)."""
    w, h = row["resolution"].split("x")
    return int(w), int(h)


def expected_frames(row: dict) -> int:
    return int(round(float(row["duration_s"]) * float(row["fps"])))


def test_manifest_lists_every_file(shared_dir, manifest):
    assert sorted(manifest) == shared_files()


def decode_first_and_last(path: str, init_cfg: dict, decode_type: str) -> dict:
    """<Backend>Init -> frame_inds [0, last] -> <Backend>Decode, under a time limit."""
    init, decode = TRANSFORMS.build(init_cfg), TRANSFORMS.build(dict(type=decode_type))
    with time_limit(DECODE_LIMIT_S, path):
        results = init(dict(filename=path, start_index=0))
        results["frame_inds"] = np.array([0, results["total_frames"] - 1])
        return decode(results)


@pytest.mark.parametrize("backend", sorted(PIPELINES))
@pytest.mark.parametrize("rel", FILES)
def test_decodes_through_both_backends(shared_dir, manifest, rel, backend):
    """First and last frame, right display size and frame count.

    PyAV must read every file. decord alone (``fallback_to_pyav=False``) either reads it or raises a
    VideoDecodeError naming the file; the default DecordInit then reads it through PyAV. Reading
    the last index checks the frame count: askanything_dancing_example_4.mp4's header promises 239
    frames where 238 decode (decord admits 239 and repeats the last picture, PyAV counts 238).
    """
    path = str(shared_dir / "data" / "videos" / rel)
    row = manifest[rel]
    init_type, decode_type = PIPELINES[backend]
    if backend == "decord":
        try:
            results = decode_first_and_last(path, dict(type=init_type, fallback_to_pyav=False), decode_type)
        except VideoDecodeError as e:
            assert e.filename == path and path in str(e) and e.reason
            results = decode_first_and_last(path, dict(type=init_type), decode_type)
    else:
        results = decode_first_and_last(path, dict(type=init_type), decode_type)
    imgs = results["imgs"]
    w, h = stored_size(row)
    assert imgs.dtype == torch.uint8 and imgs.shape[:2] == (2, 3)
    assert sorted(imgs.shape[-2:]) == sorted((h, w))  # display size: rotation may swap the sides
    total, expected = results["total_frames"], expected_frames(row)
    assert abs(total - expected) <= max(2, 0.02 * expected), (total, expected)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotation_metadata_is_applied_the_same_way(shared_dir, rotation):
    """decord applies the display matrix itself; our PyAV reader must give the same upright frames."""
    path = shared_dir / "data" / "videos" / "edge_cases" / f"decord_video_{rotation}.mov"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    with DecordReader(str(path)) as d, PyAVReader(str(path)) as p:
        a, b = d.read([0, 2]), p.read([0, 2])
    assert a.shape == b.shape
    assert a.shape[1:3] == ((568, 320) if rotation in (90, 270) else (320, 568))
    assert np.abs(a.astype(np.int16) - b.astype(np.int16)).mean() < 1.0


def test_corrupt_packet_with_and_without_fallback(shared_dir):
    """decord_corrupted.mp4: one packet cannot be decoded. decord alone names the file; the default
    DecordInit falls back to PyAV and returns all frames."""
    path = str(shared_dir / "data" / "videos" / "edge_cases" / "decord_corrupted.mp4")
    if not Path(path).is_file():
        pytest.skip(f"{path} absent")
    with open_video(path, backend="decord", fallback=False) as reader:
        with pytest.raises(VideoDecodeError, match="decord_corrupted.mp4"):
            reader.read(list(range(reader.num_frames)))
    with open_video(path, backend="decord", fallback=True) as reader:
        frames = reader.read(list(range(reader.num_frames)))
    assert frames.shape == (50, 720, 1280, 3)


def test_webm_without_duration_falls_back_to_pyav(shared_dir):
    """imageio_test.webm has no duration in its header; where decord cannot open it, DecordInit reads
    it with PyAV (and says so in ``video_backend``)."""
    path = str(shared_dir / "data" / "videos" / "real" / "imageio_test.webm")
    if not Path(path).is_file():
        pytest.skip(f"{path} absent")
    try:
        DecordReader(path).close()
        decord_reads_it = True
    except VideoDecodeError as e:
        assert "imageio_test.webm" in str(e)
        decord_reads_it = False
    results = TRANSFORMS.build(dict(type="DecordInit"))(dict(filename=path, start_index=0))
    assert results["video_backend"] == ("decord" if decord_reads_it else "pyav")
    row = read_manifest(shared_dir / "data" / "videos")["real/imageio_test.webm"]
    assert results["total_frames"] == expected_frames(row)


# --------------------------------------------------------------------------- frame-exactness
SAMPLINGS = [
    dict(clip_len=8, frame_interval=4, num_clips=2, test_mode=True),
    dict(clip_len=8, frame_interval=2, num_clips=1),  # training: a random offset (seeded)
]
SAME_PICTURE = 3.0  # mean abs difference (0-255): two decoders' conversions of one picture stay below


def sampled_indices(total: int) -> List[np.ndarray]:
    """The frame indices SampleFrames picks for ``total`` frames, per sampling in SAMPLINGS."""
    out = []
    for k, sampling in enumerate(SAMPLINGS):
        np.random.seed(k)
        step = TRANSFORMS.build(dict(type="SampleFrames", **sampling))
        out.append(np.asarray(step(dict(total_frames=total, start_index=0))["frame_inds"]).reshape(-1))
    return out


def sequential_truth(path: str, wanted: set) -> Tuple[Dict[int, np.ndarray], int, List[int]]:
    """A plain sequential PyAV decode: (frames at ``wanted`` output positions, upright; the number
    of frames output; the output frames' timestamps). Undecodable packets are skipped."""
    import av

    frames, count, stamps = {}, 0, []
    with av.open(path, metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue
            for frame in decoded:
                if count in wanted:
                    picture = frame.to_ndarray(format="rgb24")
                    turns = int(round(float(frame.rotation or 0) / 90.0)) % 4
                    frames[count] = np.ascontiguousarray(np.rot90(picture, k=turns, axes=(0, 1)))
                stamps.append(frame.pts)
                count += 1
    return frames, count, stamps


def demuxed_pts(path: str) -> List[int]:
    import av

    with av.open(path, metadata_errors="ignore") as container:
        return sorted(p.pts for p in container.demux(container.streams.video[0]) if p.size and p.pts is not None)


@pytest.mark.parametrize("rel", FILES)
def test_sampled_frames_are_the_sequential_decodes(shared_dir, manifest, rel):
    """Both pipelines' frames at SampleFrames' indices are the sequential decode's frames there.

    Where a packet cannot be decoded (decord_corrupted.mp4: 50 frames indexed, 49 decode), the
    readers keep the container's time order, so frame ``i`` is compared with the decoded frame
    whose timestamp is the container's ``i``-th (the lost frame itself is not compared).
    """
    path = str(shared_dir / "data" / "videos" / rel)
    results = {}
    for backend, (init, decode) in PIPELINES.items():
        with time_limit(DECODE_LIMIT_S, path):
            opened = TRANSFORMS.build(dict(type=init))(dict(filename=path, start_index=0))
            total = opened["total_frames"]
            reader = opened["video_reader"]
            results[backend] = (total, [reader.read(inds) for inds in sampled_indices(total)], reader.backend)
            reader.close()
    total = results["pyav"][0]
    assert results["decord"][0] == total
    wanted = set(np.concatenate(sampled_indices(total)).tolist())
    truth, count, stamps = sequential_truth(path, wanted)
    if count != total:  # undecodable packets: map by timestamp
        assert count < total and None not in stamps, (rel, count, total)
        container_pts = demuxed_pts(path)
        position = {pts: k for k, pts in enumerate(stamps)}
        by_time = {i: position[pts] for i, pts in enumerate(container_pts) if i in wanted and pts in position}
        decoded, _, _ = sequential_truth(path, set(by_time.values()))
        truth = {i: decoded[k] for i, k in by_time.items()}
    compared = 0
    for backend, (_, per_sampling, used) in results.items():
        for inds, frames in zip(sampled_indices(total), per_sampling):
            for i, frame in zip(inds.tolist(), frames):
                if i not in truth:
                    continue
                d = np.abs(frame.astype(np.int16) - truth[i].astype(np.int16)).mean()
                assert d < SAME_PICTURE, f"{rel} ({backend} pipeline, read by {used}): frame {i} differs by {d:.2f}"
                compared += 1
    assert len(wanted - set(truth)) <= total - count  # only lost frames are left uncompared
    assert compared > 0


def test_decord_indexes_only_the_frames_that_exist(shared_dir):
    """askanything_dancing_example_4.mp4: decord counts 239 frames (the header's), the container
    holds 238. DecordInit keeps decord, proven on the 238, and the last index is the last frame."""
    path = str(shared_dir / "data" / "videos" / "real" / "askanything_dancing_example_4.mp4")
    if not Path(path).is_file():
        pytest.skip(f"{path} absent")
    import decord

    assert len(decord.VideoReader(path)) == 239
    results = TRANSFORMS.build(dict(type="DecordInit"))(dict(filename=path, start_index=0))
    reader = results["video_reader"]
    assert results["video_backend"] == "decord" and results["total_frames"] == 238
    last = reader.read([237, 0])
    reader.close()
    truth, count, _ = sequential_truth(path, {0, 237})
    assert count == 238
    for frame, i in zip(last, (237, 0)):
        assert np.abs(frame.astype(np.int16) - truth[i].astype(np.int16)).mean() < SAME_PICTURE
