"""demo/demo.py: top-5 of one video with a trained tiny checkpoint, and the labelled output video."""

import re
import sys

import av
import numpy as np
import pytest
import torch

from tests.engine.engine_testkit import REPO_ROOT, run_tool

DEMO = "demo/demo.py"
LINE = re.compile(r"^\s+(\d+)\s+([0-9.]+)\s+(.+)$")


def decode_all(path) -> np.ndarray:
    """Every frame of a video, (N, H, W, 3) uint8, decoded with PyAV."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@pytest.fixture(scope="module")
def demo_run(tiny_run, tmp_path_factory):
    video = tiny_run.root / "test" / "video_001.mp4"
    out_video = tmp_path_factory.mktemp("demo") / "labelled.mp4"
    proc = run_tool([sys.executable, str(REPO_ROOT / DEMO), str(video), str(tiny_run.config), str(tiny_run.checkpoint),
                     "--label-map", str(tiny_run.label_map), "--device", "cpu", "--out-video", str(out_video)],
                    timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return video, out_video, proc.stdout


def test_demo_prints_top5_of_inference_recognizer(tiny_run, demo_run):
    from mmaction.apis import inference_recognizer, init_recognizer

    video, _, stdout = demo_run
    rows = [LINE.match(line) for line in stdout.splitlines()]
    rows = [(int(m.group(1)), float(m.group(2)), m.group(3)) for m in rows if m]
    assert [r for r, _, _ in rows] == [1, 2, 3, 4, 5], stdout
    probs = [p for _, p, _ in rows]
    assert all(0.0 <= p <= 1.0 for p in probs) and sum(probs) <= 1.0 + 1e-5
    assert probs == sorted(probs, reverse=True)
    assert "2 views (2 clips x 1 crops)" in stdout  # the tiny config's test pipeline: 2 clips, no crop

    model = init_recognizer(tiny_run.config, str(tiny_run.checkpoint), device="cpu")
    scores = inference_recognizer(model, video).pred_score
    assert scores.shape == (tiny_run.num_classes,)
    expected = torch.topk(scores, 5)
    assert [name for _, _, name in rows] == [tiny_run.labels[int(i)] for i in expected.indices]
    assert np.allclose(probs, expected.values.numpy(), atol=2e-6)


def test_demo_out_video_has_every_frame_with_the_label(demo_run):
    video, out_video, stdout = demo_run
    source, labelled = decode_all(video), decode_all(out_video)
    assert labelled.shape == source.shape  # same frame count and size (32x32 is even: no padding)
    assert f"wrote {out_video} ({len(source)} frames" in stdout
    # the caption box (black, white text) covers the top of every frame; the bottom rows are the video
    top_src, top_out = source[:, :4, :4].astype(float), labelled[:, :4, :4].astype(float)
    assert top_out.mean() < 40 < top_src.mean()
    bottom_diff = np.abs(source[:, -6:].astype(float) - labelled[:, -6:].astype(float)).mean()
    assert bottom_diff < 12, bottom_diff


@pytest.mark.parametrize("missing", ["video", "config", "checkpoint", "label map"])
def test_demo_names_the_missing_file(tiny_run, load_tool, capsys, tmp_path, missing):
    args = {
        "video": str(tiny_run.root / "test" / "video_000.mp4"),
        "config": str(tiny_run.config),
        "checkpoint": str(tiny_run.checkpoint),
        "label map": str(tiny_run.label_map),
    }
    args[missing] = str(tmp_path / "does_not_exist.bin")
    rc = load_tool(DEMO).main([args["video"], args["config"], args["checkpoint"], "--label-map", args["label map"]])
    assert rc == 1
    err = capsys.readouterr().err
    assert missing in err and args[missing] in err


def test_demo_names_an_unreadable_video(tiny_run, load_tool, capsys, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    rc = load_tool(DEMO).main([str(broken), str(tiny_run.config), str(tiny_run.checkpoint),
                               "--label-map", str(tiny_run.label_map)])
    assert rc == 1
    assert str(broken) in capsys.readouterr().err


def test_demo_rejects_a_label_map_of_another_size(tiny_run, load_tool, capsys, tmp_path):
    label_map = tmp_path / "labels_short.txt"
    label_map.write_text("\n".join(tiny_run.labels[:-1]) + "\n")
    rc = load_tool(DEMO).main([str(tiny_run.root / "test" / "video_000.mp4"), str(tiny_run.config),
                               str(tiny_run.checkpoint), "--label-map", str(label_map)])
    assert rc == 1
    err = capsys.readouterr().err
    assert str(label_map) in err
    assert f"{tiny_run.num_classes - 1} class names" in err and f"num_classes={tiny_run.num_classes}" in err


def test_labelled_video_of_odd_size_keeps_every_frame(load_tool, tmp_path):
    """H.264 4:2:0 needs even sides: odd frames are padded by one pixel, none is dropped."""
    source = tmp_path / "odd.mp4"
    frames = np.full((5, 31, 33, 3), 120, dtype=np.uint8)
    with av.open(str(source), mode="w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 33, 31, "yuv444p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    out = tmp_path / "odd_labelled.mp4"
    assert load_tool(DEMO).write_labelled_video(source, out, "some label 0.50") == 5
    assert decode_all(out).shape == (5, 32, 34, 3)


def write_gray_video(path, size: int, frames: int = 4, level: int = 128) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        for _ in range(frames):
            image = np.full((size, size, 3), level, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.parametrize("text", ["moving left 0.87", "a class name far too long for the frame 0.31"])
def test_label_fits_a_48px_frame_and_keeps_the_probability(load_tool, tmp_path, text):
    """Measured on the written frames: the dark caption box and its white text end inside the frame."""
    demo = load_tool(DEMO)
    source, out = tmp_path / "gray48.mp4", tmp_path / "labelled48.mp4"
    write_gray_video(source, 48)
    assert demo.write_labelled_video(source, out, text) == 4
    frames = decode_all(out).astype(int)
    assert frames.shape == (4, 48, 48, 3)
    for frame in frames:
        luma = frame.mean(axis=2)
        dark, white = luma < 50, luma > 165  # background 128; antialiased 6-8 px glyphs after H.264
        rows, cols = np.nonzero(dark)
        assert rows.size, "no caption box"
        box_bottom, box_right = rows.max(), cols.max()
        # the box ends before the frame's edge: background (128) remains right of it and below it
        assert box_right < 47 and box_bottom < 47, (box_right, box_bottom)
        assert luma[: box_bottom + 1, 47].min() > 90 and luma[47, : box_right + 1].min() > 90
        wr, wc = np.nonzero(white)
        assert wr.size >= 5, "no text drawn"
        assert wr.max() <= box_bottom and wc.max() <= box_right  # every white (text) pixel lies in the box
    caption, _, _ = demo.fit_label(text, 48, 48)
    assert caption.split()[-1] == text.split()[-1]  # the probability is always shown
    if len(text) < 20:
        assert caption.split() == text.split()  # a short label is not shortened


def test_label_layout_of_large_frames_is_one_line(load_tool):
    demo = load_tool(DEMO)
    caption, _, _ = demo.fit_label("moving left 0.87", 224, 224)
    assert caption == "moving left 0.87"
