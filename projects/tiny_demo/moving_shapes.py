"""Generates the CPU demo dataset: short H.264 videos whose class needs temporal order.

Every video shows one bright, solid-coloured object (circle, square, triangle or cross) gliding
in a straight line over a static, darker background (a smooth colour field with pixel noise). The class is
the direction of motion: ``moving left``, ``moving right``, ``moving up``, ``moving down``.
Start positions are drawn so that the object's position in any single frame has the same
distribution for every class, and the shape, colour, size, speed and background are random
per video: a single frame says nothing about the class. A model that ignores the order of the
frames (e.g. one that averages per-frame features) cannot tell a motion from its reverse, so it
can at best tell horizontal from vertical motion (50 % on these four classes). Only the order of
the frames tells the classes apart: the AIM story in miniature (a frozen image model needs
temporal adaptation).

The same generator also yields a single-frame image task that
:mod:`projects.tiny_demo.image_pretrain` (``PretrainImageModelHook``) uses to pre-train
the tiny CLIP-layout ViT: name the shape and the image quadrant its centre lies in
(16 classes, e.g. ``triangle, top left``). An image model that knows *what* is *where*
is what the video task builds on.

Output (under ``--out``, default ``data/demo``)::

    label_map.txt                      one class name per line (line i = label i)
    {train,val,test}_list_videos.txt   MMAction2 format: ``train/moving_left_0000.mp4 0``
    {train,val,test}/*.mp4             H.264 (yuv420p), ``--size`` x ``--size``, ``--frames`` frames
    images_{train,val}.npz             pre-training images: ``images`` (N, H, W, 3) uint8,
                                       ``labels`` (N,) image-task class, ``centres`` (N, 2) x, y in pixels
    image_label_map.txt                the image task's 16 class names
    dataset_info.json                  generation parameters and SHA-256 of every list file

Everything is a deterministic function of ``--seed`` and the sizes. The folder is written
to a temporary sibling (``.<name>.tmp-<pid>-*``) and renamed into place, so a reader never sees
half a dataset; the temporary folders of killed runs are removed by the next run.

Command line: ``python -m projects.tiny_demo.tools.make_demo_dataset --out data/demo``; the demo
config's ``MovingShapesDataset`` (:mod:`projects.tiny_demo.moving_shapes_dataset`) calls
:func:`make_demo_dataset` on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmaction.datasets.list_file import write_list_file

from .progress import ProgressLine

CLASSES: Tuple[str, ...] = ("moving left", "moving right", "moving up", "moving down")
# unit motion vector (dx, dy) of every class, image coordinates (y grows downwards)
DIRECTIONS: Tuple[Tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
SHAPES: Tuple[str, ...] = ("circle", "square", "triangle", "cross")
QUADRANTS: Tuple[str, ...] = ("top left", "top right", "bottom left", "bottom right")
#: The image task's classes: label = shape index * 4 + quadrant index.
IMAGE_CLASSES: Tuple[str, ...] = tuple(f"{s}, {q}" for s in SHAPES for q in QUADRANTS)
SPLITS: Tuple[str, ...] = ("train", "val", "test")
INFO_FILE = "dataset_info.json"
FORMAT_VERSION = 2


@dataclass(frozen=True)
class DemoSpec:
    """Parameters that fully determine the generated dataset.

    Attributes:
        size: frame height and width in pixels (multiple of 4, >= 24).
        frames: number of frames per video (>= 2).
        fps: frame rate written into the container.
        num_train: training videos (spread evenly over the classes).
        num_val: validation videos.
        num_test: test videos.
        num_images: pre-training images for the train split (val gets a fifth of it).
        seed: master seed.

    Raises:
        ValueError: naming the field, for sizes the generator cannot make.
    """

    size: int = 48
    frames: int = 16
    fps: int = 8
    num_train: int = 2000
    num_val: int = 200
    num_test: int = 200
    num_images: int = 8000
    seed: int = 0

    def __post_init__(self) -> None:
        for key in ("size", "frames", "fps", "num_train", "num_val", "num_test", "num_images", "seed"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{key} must be an integer, got {value!r}")
        if self.size < 24 or self.size % 4:
            raise ValueError(f"size must be a multiple of 4 and >= 24, got {self.size}")
        if self.frames < 2:
            raise ValueError(f"frames must be >= 2, got {self.frames}")
        if self.fps < 1:
            raise ValueError(f"fps must be >= 1, got {self.fps}")
        for key in ("num_train", "num_val", "num_test", "num_images"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")

    def num_videos(self, split: str) -> int:
        return {"train": self.num_train, "val": self.num_val, "test": self.num_test}[split]


# --------------------------------------------------------------------------- rendering
def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.0, 255.0, size=3)


def _smooth_field(rng: np.random.Generator, size: int, grid: int) -> np.ndarray:
    """Bilinearly upsampled random colour grid: a smooth background, (size, size, 3) float."""
    coarse = rng.uniform(0.0, 255.0, size=(grid, grid, 3))
    pos = np.linspace(0.0, grid - 1.0, size)
    i0 = np.clip(np.floor(pos).astype(int), 0, grid - 2)
    w = (pos - i0)[:, None]
    rows = coarse[i0] * (1 - w)[:, :, None] + coarse[i0 + 1] * w[:, :, None]  # (size, grid, 3)
    cols = rows[:, i0] * (1 - w.T)[:, :, None] + rows[:, i0 + 1] * w.T[:, :, None]
    return cols


def make_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A static background: a muted, fairly dark smooth colour field plus mild pixel noise.

    Returns:
        float array (size, size, 3) in [0, 255].
    """
    base = rng.uniform(40.0, 140.0)
    field = (_smooth_field(rng, size, grid=int(rng.integers(3, 6))) - 127.5) * 0.35
    noise = rng.normal(0.0, 6.0, size=(size, size, 1))
    return np.clip(base + field + noise, 0.0, 255.0)


def _luma(rgb: Sequence[float]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


@dataclass(frozen=True)
class ObjectLook:
    """Appearance of the moving object (fixed within a video)."""

    shape: int
    radius: float
    colour: Tuple[float, float, float]


def random_look(rng: np.random.Generator, size: int, background: np.ndarray,
                shape: Optional[int] = None) -> ObjectLook:
    """Draws a random shape, size and colour, brighter than ``background``.

    The object's brightness (luma) exceeds the background's mean by at least 70 (of 255), so the
    object always stands out the same way (a tiny ViT learns shapes far more reliably when the
    contrast never flips sign); its hue is random.
    """
    if shape is None:
        shape = int(rng.integers(len(SHAPES)))
    bg_luma = _luma(background.reshape(-1, 3).mean(axis=0))
    target = rng.uniform(min(bg_luma + 70.0, 250.0), 255.0)
    colour = _random_colour(rng)
    luma = _luma(colour)
    if luma < target:  # mix with white until bright enough (luma is linear in the colour)
        colour = colour + (255.0 - colour) * (target - luma) / (255.0 - luma)
    return ObjectLook(
        shape=shape,
        radius=float(rng.uniform(0.15, 0.22) * size),
        colour=tuple(float(c) for c in colour),
    )


def _shape_mask(shape: int, u: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    """Boolean mask of a shape centred at 0 in local coordinates ``u`` (x), ``v`` (y)."""
    name = SHAPES[shape]
    if name == "circle":
        return u * u + v * v <= r * r
    if name == "square":
        half = r * 0.85
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if name == "triangle":  # apex up, base down
        return (v <= r * 0.8) & (v >= -r) & (np.abs(u) <= (v + r) * 0.6)
    if name == "cross":
        arm = r * 0.38
        return ((np.abs(u) <= arm) & (np.abs(v) <= r)) | ((np.abs(v) <= arm) & (np.abs(u) <= r))
    raise ValueError(f"unknown shape index {shape}")


def draw_object(canvas: np.ndarray, look: ObjectLook, cx: float, cy: float) -> np.ndarray:
    """Pastes the object centred at ``(cx, cy)`` onto a copy of ``canvas``.

    The object looks identical in every frame; only its position changes.

    Args:
        canvas: float (H, W, 3) background.
        look: the object's appearance.
        cx: centre x in pixels (sub-pixel allowed).
        cy: centre y in pixels.

    Returns:
        float (H, W, 3) frame.
    """
    h, w = canvas.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    mask = _shape_mask(look.shape, xs + 0.5 - cx, ys + 0.5 - cy, look.radius)
    out = canvas.copy()
    out[mask] = np.array(look.colour)
    return out


def motion_track(
    rng: np.random.Generator, label: int, size: int, frames: int, radius: float
) -> np.ndarray:
    """Centre positions of the object for a video of class ``label``.

    The travelled distance is drawn first; the start along the motion axis is uniform over
    the positions that keep the object inside the frame, and the cross-axis position is
    uniform too. Moving left from ``x`` is therefore as likely as moving right to ``x``: the
    per-frame position distribution is the same for opposite directions.

    Returns:
        float array (frames, 2) of (cx, cy).
    """
    dx, dy = DIRECTIONS[label]
    speed = rng.uniform(0.9, 1.4) * size / 48.0  # pixels per frame
    travel = speed * (frames - 1)
    lo, hi = radius + 1.0, size - radius - 1.0
    if hi - lo <= travel:
        raise ValueError(f"frame size {size} too small for {frames} frames of motion")
    start_min = lo + travel if (dx < 0 or dy < 0) else lo
    start_along = rng.uniform(start_min, start_min + (hi - lo - travel))
    across = rng.uniform(lo, hi)
    steps = np.arange(frames) * speed
    along = start_along + steps * (dx + dy)  # exactly one of dx, dy is non-zero
    if dx != 0:
        return np.stack([along, np.full(frames, across)], axis=1)
    return np.stack([np.full(frames, across), along], axis=1)


def render_video(rng: np.random.Generator, label: int, size: int, frames: int) -> np.ndarray:
    """One demo video of class ``label``.

    Returns:
        uint8 array (frames, size, size, 3), RGB.
    """
    background = make_background(rng, size)
    look = random_look(rng, size, background)
    track = motion_track(rng, label, size, frames, look.radius)
    video = np.stack([draw_object(background, look, cx, cy) for cx, cy in track])
    return np.round(video).astype(np.uint8)


def quadrant(cx: float, cy: float, size: int) -> int:
    """Index into ``QUADRANTS`` of the point ``(cx, cy)`` in a ``size`` x ``size`` image."""
    return 2 * int(cy >= size / 2) + int(cx >= size / 2)


def image_label(shape: int, cx: float, cy: float, size: int) -> int:
    """The image task's class (index into ``IMAGE_CLASSES``) of a shape centred at ``(cx, cy)``."""
    return shape * len(QUADRANTS) + quadrant(cx, cy, size)


def render_image(rng: np.random.Generator, shape: int, size: int) -> Tuple[np.ndarray, Tuple[float, float]]:
    """One pre-training image: the video generator's look, one frame, a given shape anywhere.

    The centre is uniform over the positions that keep the object inside the image (the
    positions objects take in the videos).

    Returns:
        uint8 array (size, size, 3), RGB, and the object's centre (cx, cy) in pixels.
    """
    background = make_background(rng, size)
    look = random_look(rng, size, background, shape=shape)
    lo, hi = look.radius + 1.0, size - look.radius - 1.0
    cx, cy = rng.uniform(lo, hi, size=2)
    return np.round(draw_object(background, look, cx, cy)).astype(np.uint8), (float(cx), float(cy))


# --------------------------------------------------------------------------- writing
def rgb_to_yuv420p(frame: np.ndarray) -> np.ndarray:
    """BT.601 limited-range RGB -> planar YUV 4:2:0, as FFmpeg lays out ``yuv420p``.

    Converting here (instead of letting swscale do it) keeps the encoded bytes reproducible:
    swscale picks SIMD code paths by buffer alignment, which changes rounding from run to run.

    Args:
        frame: uint8 (H, W, 3) RGB, H and W even.

    Returns:
        uint8 (H * 3 // 2, W): the Y plane followed by the U and V planes.
    """
    rgb = frame.astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0
    h, w = y.shape

    def pool(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).reshape(h // 4, w)

    planes = np.concatenate([y, pool(u), pool(v)], axis=0)
    return np.clip(np.round(planes), 0, 255).astype(np.uint8)


def write_h264(path: Path, video: np.ndarray, fps: int) -> None:
    """Encodes ``video`` (T, H, W, 3) uint8 RGB as an H.264 mp4 with PyAV.

    Own colour conversion and single-threaded x264 with fixed settings keep the bytes
    reproducible. x264's macroblock-tree rate control (``mbtree``) is switched off: with it, the
    same frames encoded in two processes came out different (up to 15 grey levels after
    decoding) for about one video in ten.
    """
    import av

    t, h, w, _ = video.shape
    if h % 4 or w % 2:
        raise ValueError(f"{path}: frame height must be a multiple of 4 and width even, got {h}x{w}")
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "12", "preset": "medium", "threads": "1", "x264-params": "mbtree=0"}
        stream.codec_context.thread_count = 1
        for frame_rgb in video:
            frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(frame_rgb), format="yuv420p")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def video_name(split: str, label: int, index: int) -> str:
    return f"{split}/{CLASSES[label].replace(' ', '_')}_{index:04d}.mp4"


def _rng(spec: DemoSpec, stream: int, index: int) -> np.random.Generator:
    """Independent generator per item: adding videos never changes existing ones."""
    return np.random.default_rng([spec.seed, stream, index])


def generate_split(spec: DemoSpec, split: str, root: Path,
                   progress: Optional[ProgressLine] = None) -> List[Tuple[str, int]]:
    """Renders and encodes one split; labels cycle through the classes (balanced).

    Args:
        progress: told about every video written.

    Returns:
        list of (relative path, label).
    """
    (root / split).mkdir(parents=True, exist_ok=True)
    stream = SPLITS.index(split)
    items = []
    for index in range(spec.num_videos(split)):
        label = index % len(CLASSES)
        video = render_video(_rng(spec, stream, index), label, spec.size, spec.frames)
        rel = video_name(split, label, index)
        write_h264(root / rel, video, spec.fps)
        items.append((rel, label))
        if progress is not None:
            progress.update()
    return items


def generate_images(spec: DemoSpec, count: int, stream: int,
                    progress: Optional[ProgressLine] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The single-frame image task: shapes cycle through ``SHAPES`` (balanced), placed anywhere.

    Returns:
        images uint8 (count, size, size, 3), labels int64 (count,) indexing ``IMAGE_CLASSES``,
        centres float32 (count, 2): the object's (cx, cy) in pixels.
    """
    images = np.zeros((count, spec.size, spec.size, 3), np.uint8)
    labels = np.zeros(count, np.int64)
    centres = np.zeros((count, 2), np.float32)
    for i in range(count):
        shape = i % len(SHAPES)
        images[i], (cx, cy) = render_image(_rng(spec, stream, i), shape, spec.size)
        labels[i] = image_label(shape, cx, cy, spec.size)
        centres[i] = (cx, cy)
        if progress is not None:
            progress.update()
    return images, labels, centres


def content_digest(root: Path) -> str:
    """SHA-256 over every list file, label map and video (bytes) and the image arrays.

    ``.npz`` archives carry zip timestamps, so their arrays are hashed instead of the bytes.
    """
    root = Path(root)
    digest = hashlib.sha256()
    names = [p.name for p in sorted(root.glob("*.txt"))]
    names += [p.relative_to(root).as_posix() for split in SPLITS for p in sorted((root / split).glob("*.mp4"))]
    for name in names:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    for npz in sorted(root.glob("images_*.npz")):
        with np.load(npz) as arrays:
            for key in sorted(arrays.files):
                digest.update(f"{npz.name}:{key}".encode() + b"\0" + arrays[key].tobytes())
    return digest.hexdigest()


def _write_dataset(spec: DemoSpec, root: Path, log: bool = False) -> Dict[str, object]:
    (root / "label_map.txt").write_text("".join(c + "\n" for c in CLASSES))
    (root / "image_label_map.txt").write_text("".join(c + "\n" for c in IMAGE_CLASSES))
    counts: Dict[str, List[int]] = {}
    hashes: Dict[str, str] = {}
    num_videos = sum(spec.num_videos(split) for split in SPLITS)
    videos = ProgressLine("demo dataset", num_videos, "videos") if log else None
    for split in SPLITS:
        items = generate_split(spec, split, root, videos)
        list_name = f"{split}_list_videos.txt"
        hashes[list_name] = write_list_file(str(root / list_name), (f"{rel} {label}" for rel, label in items))
        counts[split] = [sum(1 for _, lab in items if lab == c) for c in range(len(CLASSES))]
    num_images = spec.num_images + spec.num_images // 5
    images_progress = ProgressLine("demo dataset", num_images, "images") if log else None
    for name, count, stream in (("train", spec.num_images, 10), ("val", spec.num_images // 5, 11)):
        images, labels, centres = generate_images(spec, count, stream, images_progress)
        np.savez_compressed(root / f"images_{name}.npz", images=images, labels=labels, centres=centres)
    info = {
        "format_version": FORMAT_VERSION,
        "spec": spec.__dict__,
        "classes": list(CLASSES),
        "image_classes": list(IMAGE_CLASSES),
        "counts_per_class": counts,
        "sha256": hashes,
        "content_sha256": content_digest(root),
    }
    (root / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info


def is_complete(root: Path, spec: Optional[DemoSpec] = None) -> bool:
    """Whether ``root`` holds a finished dataset (made with ``spec`` when given)."""
    info_path = Path(root) / INFO_FILE
    if not info_path.is_file():
        return False
    try:
        info = json.loads(info_path.read_text())
    except json.JSONDecodeError:
        return False
    if info.get("format_version") != FORMAT_VERSION:
        return False
    return spec is None or info.get("spec") == spec.__dict__


def _pid_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temp_dirs(out: Path) -> List[Path]:
    """Removes the temporary folders (``.<name>.tmp-<pid>-*`` beside ``out``) of writers that died.

    A folder whose process id is still running on this machine is kept (a writer at work);
    one without a process id in its name (left by an older version) counts as stale.

    Returns:
        the folders removed.
    """
    out = Path(out)
    prefix = f".{out.name}.tmp-"
    removed = []
    if not out.parent.is_dir():
        return removed
    for path in sorted(out.parent.glob(prefix + "*")):
        pid_text = path.name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and (int(pid_text) == os.getpid() or _pid_is_running(int(pid_text))):
            continue  # a writer at work
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def make_demo_dataset(out: Path, spec: DemoSpec = DemoSpec(), force: bool = False,
                      log: bool = False) -> Dict[str, object]:
    """Creates the dataset under ``out`` unless an identical one is already there.

    The files are written to a temporary folder beside ``out`` and renamed into place, so a
    reader never sees a half-written dataset and two concurrent callers do not clash. Temporary
    folders left by killed runs are removed first (:func:`remove_stale_temp_dirs`).

    Args:
        out: dataset root.
        spec: generation parameters.
        force: regenerate even if a complete dataset with the same parameters exists
            (other files in ``out``, e.g. a pretrained backbone, are kept).
        log: print what is written, with a progress line (and time left) every few seconds.

    Returns:
        the content of ``dataset_info.json``.
    """
    out = Path(out)
    if not force and is_complete(out, spec):
        return json.loads((out / INFO_FILE).read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temp_dirs(out):
        if log:
            print(f"demo dataset: removed {stale}, left by a run that was stopped", flush=True)
    if log:
        print(f"demo dataset: writing {spec.num_train} + {spec.num_val} + {spec.num_test} videos and "
              f"{spec.num_images} + {spec.num_images // 5} images to {out}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        info = _write_dataset(spec, tmp, log=log)
        if out.exists() and not any(out.iterdir()):
            out.rmdir()
        if not out.exists():
            try:
                os.rename(tmp, out)
                return info
            except OSError:
                if not is_complete(out, spec):  # lost a race against an incompatible writer
                    raise
                return json.loads((out / INFO_FILE).read_text())
        if is_complete(out, spec) and not force:  # another process finished first
            return json.loads((out / INFO_FILE).read_text())
        # refresh a stale / incomplete / forced dataset in place, keeping unrelated files
        for child in tmp.iterdir():
            target = out / child.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(child, target)
        return info
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
