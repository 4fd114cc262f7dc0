#!/usr/bin/env python
"""Top-5 action classes of one video, optionally written back with the top-1 label drawn on it.

The video goes through the config's test pipeline, so it is seen as the config's test views
(e.g. 3 clips x 1 centre crop for the K400 configs), and the class probabilities are averaged
over those views (``test_cfg.average_clips``) by :func:`mmaction.apis.inference_recognizer`.

Examples::

    python demo/demo.py demo.mp4 configs/recognition/vit/vitclip_base_k400_8x16x1_3views.py \\
        aim_b16_k400_8f.pth --label-map tools/data/label_maps/kinetics400.txt
    python demo/demo.py demo.mp4 CONFIG CHECKPOINT --label-map LABELS --device cuda --out-video out.mp4

Output (stdout)::

    demo.mp4: 3 views (3 clips x 1 crops), top-5 of 400 classes
      1  0.912345  abseiling
      ...

Exit status 0 on success, 1 with ``error: ...`` on stderr when a file is missing or unusable
(the message names the file).
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import DictAction

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))


# --------------------------------------------------------------------------- inputs
def read_labels(path: Path, num_classes: int) -> List[str]:
    """Class names of a label map (line ``i`` = class ``i``, blank lines skipped).

    Args:
        path: the label-map file.
        num_classes: K, the classes of the model's head.

    Returns:
        K class names.

    Raises:
        ValueError: naming the file when it does not hold exactly K names.
    """
    from mmaction.datasets.list_file import read_label_map

    names = read_label_map(str(path))
    if len(names) != num_classes:
        raise ValueError(
            f"label map {path} has {len(names)} class names but the model's head has num_classes={num_classes}; "
            "use the label map of the dataset the checkpoint was trained on"
        )
    return names


def top_k(scores: torch.Tensor, labels: Sequence[str], k: int = 5) -> List[Tuple[int, str, float]]:
    """The ``k`` best classes of a score vector.

    Args:
        scores: (K,) class probabilities.
        labels: K class names.
        k: how many (at most K).

    Returns:
        [(class index, name, probability)], best first.
    """
    values, indices = scores.float().topk(min(k, scores.numel()))
    return [(int(i), labels[int(i)], float(v)) for v, i in zip(values, indices)]


# --------------------------------------------------------------------------- output video
MIN_FONT_PX = 6  # smaller glyphs are not readable


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        return ImageFont.load_default()


def _wrap(words: Sequence[str], font, max_width: int) -> List[str]:
    """Greedy word wrap: as many words per line as fit in ``max_width`` pixels (a word never splits)."""
    from PIL import Image, ImageDraw

    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines: List[str] = []
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= max_width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def fit_label(text: str, height: int, width: int) -> Tuple[str, object, int]:
    """The largest caption layout of ``text`` that fits a ``height`` x ``width`` frame.

    Tries font sizes from ``max(8, height // 16)`` down to 6 px, first on one line, then wrapped
    at spaces, and takes the first whose box (text plus margin) fits the frame's width and half
    its height (the box ends before the frame's right edge). If none does, the text is shortened
    with "..." before its last word (the last word is the probability) at 6 px.

    Args:
        text: the caption, e.g. ``"moving left 0.87"``.
        height: frame height H in pixels.
        width: frame width W in pixels.

    Returns:
        ``(font, caption, margin)``: the PIL font, the caption with ``\n`` between lines, and the
        margin in pixels around it.
    """
    from PIL import Image, ImageDraw

    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    margin = max(1, height // 100)
    words = text.split()

    def box(font, caption: str) -> Tuple[int, int]:
        left, top, right, bottom = draw.multiline_textbbox((0, 0), caption, font=font, spacing=1)
        return right - left + 2 * margin, bottom - top + 2 * margin

    def fits(font, caption: str) -> bool:
        w, h = box(font, caption)
        return w < width and h <= max(height // 2, 1)  # a column of the video stays visible right of the box

    for size in range(max(8, height // 16), MIN_FONT_PX - 1, -1):
        font = _font(size)
        for caption in (" ".join(words), "\n".join(_wrap(words, font, width - 2 * margin))):
            if fits(font, caption):
                return caption, font, margin
    font = _font(MIN_FONT_PX)
    head, last = " ".join(words[:-1]), words[-1] if words else ""
    while head:
        head = head[:-1].rstrip()
        caption = f"{head}... {last}" if head else last
        if fits(font, caption):
            return caption, font, margin
    return last, font, margin


def draw_label(frame: np.ndarray, caption: str, font, margin: int) -> np.ndarray:
    """Draws ``caption`` (lines split by ``\n``) in white on a dark box at the top-left corner.

    Args:
        frame: (H, W, 3) uint8 RGB.
        caption: the text, laid out by :func:`fit_label`.
        font: a PIL font.
        margin: pixels between the box's edge and the text.

    Returns:
        (H, W, 3) uint8 RGB, a new array.
    """
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), caption, font=font, spacing=1)  # ink extent
    draw.rectangle((0, 0, right - left + 2 * margin - 1, bottom - top + 2 * margin - 1), fill=(0, 0, 0))
    draw.multiline_text((margin - left, margin - top), caption, fill=(255, 255, 255), font=font, spacing=1)
    return np.asarray(image)


def write_labelled_video(video: Path, out: Path, text: str, chunk: int = 64) -> int:
    """Re-encodes ``video`` to ``out`` (H.264, same frame rate) with ``text`` on every frame.

    The caption is laid out once by :func:`fit_label` to fit the frame (smaller font, wrapped
    lines, or shortened before its last word on very small frames).

    Frames are read upright (rotation metadata applied) with the project's PyAV reader, so the
    output has exactly as many frames as the reader counts in the input. Odd frame sizes are
    padded by one pixel (H.264 4:2:0 needs even sides). Audio is not copied.

    Args:
        video: the input file.
        out: the output file (``.mp4``, ``.mkv``, ``.mov`` ...; the container follows the suffix).
        text: the caption.
        chunk: frames read at a time.

    Returns:
        The number of frames written.
    """
    import av

    from mmaction.datasets.video_io import open_video

    out.parent.mkdir(parents=True, exist_ok=True)
    reader = open_video(str(video), backend="pyav")
    fps = Fraction(reader.fps).limit_denominator(1001) if reader.fps and reader.fps > 0 else Fraction(25)
    written = 0
    try:
        with av.open(str(out), mode="w") as container:
            stream = None
            layout = None
            for start in range(0, reader.num_frames, chunk):
                frames = reader.read(list(range(start, min(start + chunk, reader.num_frames))))
                for frame in frames:
                    h, w = frame.shape[:2]
                    if stream is None:
                        stream = container.add_stream("libx264", rate=fps)
                        stream.width, stream.height = w + w % 2, h + h % 2
                        stream.pix_fmt = "yuv420p"
                        stream.options = {"crf": "20", "preset": "veryfast"}
                        layout = fit_label(text, h + h % 2, w + w % 2)
                    if h % 2 or w % 2:
                        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
                    image = av.VideoFrame.from_ndarray(draw_label(frame, *layout), format="rgb24")
                    for packet in stream.encode(image):
                        container.mux(packet)
                    written += 1
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
    finally:
        reader.close()
    return written


# --------------------------------------------------------------------------- CLI
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Top-5 action classes of one video (AIM recognizer).")
    p.add_argument("video", help="video file")
    p.add_argument("config", help="config file")
    p.add_argument("checkpoint", help="checkpoint file (released AIM, DDP or our own)")
    p.add_argument("--label-map", required=True, help="class names, one per line (line i = class i)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ...")
    p.add_argument("--top-k", type=int, default=5, help="how many classes to print")
    p.add_argument("--out-video", default=None,
                   help="write the video with the top-1 label and its probability drawn on it")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                   help="override config keys, e.g. model.test_cfg.max_testing_views=1")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from mmaction.apis import inference_recognizer, init_recognizer
    from mmaction.datasets.list_file import AnnotationError
    from mmaction.datasets.video_io import VideoDecodeError
    from mmaction.utils import quiet_logger, require_device, require_file

    quiet_logger("demo")  # no INFO lines from the model build
    try:
        video = require_file(args.video, "video")
        config = require_file(args.config, "config file")
        checkpoint = require_file(args.checkpoint, "checkpoint")
        label_map = require_file(args.label_map, "label map")
        if args.top_k < 1:
            raise ValueError(f"--top-k must be >= 1, got {args.top_k}")
        require_device(args.device)
        model = init_recognizer(config, str(checkpoint), device=args.device, cfg_options=args.cfg_options)
        labels = read_labels(label_map, int(model.cls_head.num_classes))
        result = inference_recognizer(model, video)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError, AnnotationError, VideoDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    scores = result.pred_score.detach().cpu()
    best = top_k(scores, labels, args.top_k)
    clips, crops = int(result.metainfo.get("num_clips", 1)), int(result.metainfo.get("num_crops", 1))
    print(f"{video}: {clips * crops} views ({clips} clips x {crops} crops), top-{len(best)} of {len(labels)} classes")
    for rank, (_, name, prob) in enumerate(best, 1):
        print(f"  {rank}  {prob:.6f}  {name}")

    if args.out_video:
        _, name, prob = best[0]
        try:
            frames = write_labelled_video(video, Path(args.out_video), f"{name} {prob:.2f}")
        except (VideoDecodeError, OSError, ValueError) as err:
            print(f"error: cannot write {args.out_video}: {err}", file=sys.stderr)
            return 1
        print(f"wrote {args.out_video} ({frames} frames, top-1 label and probability drawn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
