"""The demo project's parts (projects/tiny_demo): MovingShapesDataset writes the videos on first use,
PretrainImageModelHook's pre-training is idempotent, redone when the recipe changes, atomic when
interrupted, and its image model fits the demo backbone key for key; killed runs leave nothing
that the next run keeps; long steps print progress with the time left."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mmaction.engine.runner.config_check import ConfigError
from projects.tiny_demo import image_pretrain, moving_shapes
from projects.tiny_demo.moving_shapes import DemoSpec, make_demo_dataset, remove_stale_temp_dirs
from projects.tiny_demo.pretrain_hook import PretrainImageModelHook, ensure_pretrained
from projects.tiny_demo.progress import ProgressLine, format_seconds

from .conftest import PTH, REPO_ROOT, build_dataset, load_small_config, prepare, small_recipe


def mtimes(root: Path) -> dict:
    """Modification time of every file under ``root`` (relative path -> ns)."""
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def leftovers(folder: Path) -> list:
    """Temporary files or folders the atomic writers would leave behind if they were not atomic."""
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_first_build_writes_everything_second_build_nothing(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    dataset = build_dataset(cfg, "train")
    assert len(dataset) == cfg.train_dataloader.dataset.spec.num_train
    assert dataset.get_data_info(0)["filename"] == str(root / "train" / "moving_left_0000.mp4")
    note = prepare(cfg)
    assert "pre-trained" in note, note
    for name in ("label_map.txt", "image_label_map.txt", "dataset_info.json", "images_train.npz",
                 "images_val.npz", "train_list_videos.txt", "val_list_videos.txt", "test_list_videos.txt", PTH,
                 "clip_tiny_pretrained.json"):
        assert (root / name).is_file(), name
    assert len(list((root / "train").glob("*.mp4"))) == cfg.train_dataloader.dataset.spec.num_train
    meta = json.loads((root / "clip_tiny_pretrained.json").read_text())
    assert meta["recipe"]["dataset_sha256"] == json.loads((root / "dataset_info.json").read_text())["content_sha256"]
    assert meta["num_classes"] == len(moving_shapes.IMAGE_CLASSES) == 16
    assert {"val_top1", "val_shape_top1", "val_quadrant_top1"} <= set(meta)

    before = mtimes(root)
    assert len(build_dataset(cfg, "test")) == cfg.test_dataloader.dataset.spec.num_test
    assert prepare(cfg) == ""
    assert mtimes(root) == before  # nothing rewritten
    assert leftovers(tmp_path) == [] and leftovers(root) == []


def test_changed_recipe_redoes_pretraining_only(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare(cfg)
    before = mtimes(root)
    old_state = torch.load(root / PTH, weights_only=True)

    recipe = dict(small_recipe(cfg), lr=2e-3)
    assert "pre-trained" in ensure_pretrained(root, root / PTH, recipe, cfg.model, log=False)
    after = mtimes(root)
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == ["clip_tiny_pretrained.json", PTH]
    assert json.loads((root / "clip_tiny_pretrained.json").read_text())["recipe"]["lr"] == 2e-3
    new_state = torch.load(root / PTH, weights_only=True)
    assert any(not torch.equal(old_state[k], new_state[k]) for k in old_state)
    assert ensure_pretrained(root, root / PTH, recipe, cfg.model, log=False) == ""

    # a changed backbone size is a changed recipe too (the weights would not fit)
    cfg.model.backbone.layers = 1
    assert ensure_pretrained(root, root / PTH, recipe, cfg.model, log=False) != ""
    assert not any(k.startswith("transformer.resblocks.1.") for k in torch.load(root / PTH, weights_only=True))


def test_changed_dataset_regenerates_it_and_then_the_pretraining(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare(cfg)
    sha = json.loads((root / "dataset_info.json").read_text())["content_sha256"]
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[loader].dataset.spec.seed = 1
    assert prepare(cfg) != ""
    new_sha = json.loads((root / "dataset_info.json").read_text())["content_sha256"]
    assert new_sha != sha
    assert json.loads((root / "clip_tiny_pretrained.json").read_text())["recipe"]["dataset_sha256"] == new_sha


def test_testing_builds_the_dataset_but_pretrains_nothing(tmp_path):
    """Runner.test() calls before_run too; the weights then come from the checkpoint."""
    from types import SimpleNamespace

    root = tmp_path / "demo"
    cfg = load_small_config(root)
    build_dataset(cfg, "test")
    hook = PretrainImageModelHook(data_root=str(root), out=str(root / PTH), **small_recipe(cfg))
    hook.before_run(SimpleNamespace(_train_loop=dict(type="EpochBasedTrainLoop"), cfg=cfg))
    assert (root / "dataset_info.json").is_file() and not (root / PTH).exists()


def test_hook_pretrains_in_a_training_run_and_leaves_the_random_stream_alone(tmp_path):
    """A run that pre-trains and a run that finds the weights draw the same random numbers next."""
    from types import SimpleNamespace

    from mmengine.runner import BaseLoop

    class BuiltLoop(BaseLoop):  # what Runner.train() holds in before_run: a built loop
        def __init__(self) -> None:
            pass

        def run(self) -> None:
            pass

    root = tmp_path / "demo"
    cfg = load_small_config(root)
    build_dataset(cfg)
    hook = PretrainImageModelHook(data_root=str(root), out=str(root / PTH), **small_recipe(cfg))
    runner = SimpleNamespace(_train_loop=BuiltLoop(), cfg=cfg)
    draws = []
    for _ in range(2):  # pre-trains, then finds the weights
        torch.manual_seed(123)
        hook.before_run(runner)
        draws.append(torch.rand(3))
    assert (root / PTH).is_file()
    torch.manual_seed(123)
    torch.testing.assert_close(draws[0], torch.rand(3), rtol=0, atol=0)
    torch.testing.assert_close(draws[1], draws[0], rtol=0, atol=0)


def test_interrupted_pretraining_leaves_no_weights_and_is_redone(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    build_dataset(cfg)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        prepare(cfg)
    assert (root / "dataset_info.json").is_file()
    assert not (root / PTH).exists() and not (root / "clip_tiny_pretrained.json").exists()
    assert leftovers(root) == []
    monkeypatch.undo()
    assert "pre-trained" in prepare(cfg) and (root / PTH).is_file()


def test_interrupted_dataset_generation_leaves_nothing(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    real_write = moving_shapes.write_h264
    calls = []

    def write_some(path, video, fps):
        calls.append(path)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed while writing videos")
        real_write(path, video, fps)

    monkeypatch.setattr(moving_shapes, "write_h264", write_some)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(cfg)
    assert not root.exists() and leftovers(tmp_path) == []
    monkeypatch.undo()
    assert len(build_dataset(cfg)) == cfg.train_dataloader.dataset.spec.num_train


def test_killed_generation_leaves_a_temp_folder_that_the_next_start_removes(tmp_path):
    """SIGKILL cannot be cleaned up after; the next run removes what the dead writer left, and
    keeps the temporary folder of a writer that is still running."""
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "projects.tiny_demo.tools.make_demo_dataset", "--out", str(out),
                             "--num-train", "400", "--num-val", "0", "--num-test", "0", "--num-images", "4"],
                            cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(tmp_path.glob(".demo.tmp-*/train/*.mp4")):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    dead = [p.name for p in tmp_path.glob(".demo.tmp-*")]
    assert dead == [f".demo.tmp-{proc.pid}-" + dead[0].split("-", 2)[2]] and not out.exists()
    alive = tmp_path / f".demo.tmp-{os.getppid()}-busy"  # a running process's: kept
    old = tmp_path / ".demo.tmp-abc123"  # an older version's name (no process id): stale
    alive.mkdir()
    old.mkdir()
    make_demo_dataset(out, DemoSpec(num_train=4, num_val=0, num_test=0, num_images=4))
    assert leftovers(tmp_path) == [alive.name]
    assert remove_stale_temp_dirs(out) == []


def test_stale_metadata_means_not_current(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare(cfg)
    (root / "clip_tiny_pretrained.json").write_text("{not json")
    assert prepare(cfg) != ""  # unreadable record: pre-trained again
    (root / "clip_tiny_pretrained.json").unlink()
    assert prepare(cfg) != ""  # weights without a record: pre-trained again


def test_pretrained_file_loads_into_the_demo_backbone_key_for_key(prepared_demo):
    from mmaction.models.backbones.clip_checkpoint import load_pretrained_clip
    from mmaction.registry import MODELS

    root, cfg = prepared_demo
    state = torch.load(root / PTH, weights_only=True)
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    clip_keys = {k for k in backbone.state_dict() if image_pretrain.is_clip_key(k)}
    assert set(state) == clip_keys  # exactly the CLIP visual tower: nothing missing, nothing extra
    assert all(state[k].shape == backbone.state_dict()[k].shape for k in state)  # no resampling needed
    missing, unexpected = load_pretrained_clip(backbone, str(root / PTH), width=64, patch_size=6,
                                               input_resolution=48, layers=2)
    assert unexpected == []
    assert missing and all("Adapter" in k or k == "temporal_embedding" for k in missing)

    model = MODELS.build(cfg.model)
    model.init_weights()  # what the Runner does: loads model.backbone.pretrained
    own = model.backbone.state_dict()
    assert all(torch.equal(own[k], v) for k, v in state.items())
    frozen = {n for n, p in model.backbone.named_parameters() if not p.requires_grad}
    # AIM's rule: the image model is frozen except ln_post, which trains with the adapters
    params = dict(model.backbone.named_parameters())
    assert frozen == {k for k in state if k in params} - {"ln_post.weight", "ln_post.bias"}


def test_pretrained_backbone_is_the_image_classifier(prepared_demo):
    """The saved weights are the image model's: a ViT_CLIP with 1 frame reproduces its features."""
    root, cfg = prepared_demo
    arch = {k: cfg.model.backbone[k] for k in image_pretrain.ARCH_KEYS}
    clf = image_pretrain.ImageClassifier(arch, 16)
    clf.backbone.load_state_dict(torch.load(root / PTH, weights_only=True), strict=False)
    clf.eval()
    images, _ = image_pretrain.load_images(root / "images_val.npz")
    x = image_pretrain.prepare(images[:4], 48, torch.tensor(image_pretrain.CLIP_MEAN).view(1, 3, 1, 1),
                               torch.tensor(image_pretrain.CLIP_STD).view(1, 3, 1, 1))
    from mmaction.registry import MODELS

    video_backbone = MODELS.build(cfg.model).backbone
    video_backbone.init_weights()
    video_backbone.eval()
    with torch.no_grad():
        per_frame = video_backbone(x[:, :, None].expand(-1, -1, 8, -1, -1).contiguous())  # 8 equal frames
        image_feats = clf.backbone(x[:, :, None]).flatten(1)
    # zero adapters + zero temporal embedding: every frame's feature is the image feature
    torch.testing.assert_close(per_frame[:, :, 3, 0, 0], image_feats, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("key, value, fragment", [
    ("spec.size", 30, "MovingShapesDataset.spec: size must be a multiple of 4"),
    ("spec.frames", 1, "MovingShapesDataset.spec: frames must be >= 2"),
    ("spec.num_videos", 3, "MovingShapesDataset.spec"),
    ("split", "training", "MovingShapesDataset.split must be one of"),
    ("ann_file", "mine.txt", "ann_file given, but the demo dataset writes and reads its own list"),
])
def test_bad_dataset_values_are_config_errors(tmp_path, key, value, fragment):
    cfg = load_small_config(tmp_path / "demo")
    dataset = cfg.train_dataloader.dataset
    if key.startswith("spec."):
        dataset.spec[key[5:]] = value
    else:
        dataset[key] = value
    with pytest.raises(ConfigError, match=fragment):
        build_dataset(cfg)
    assert os.listdir(tmp_path) == []  # checked before anything is written


@pytest.mark.parametrize("key, value", [("epochs", 0), ("batch_size", 1.5), ("lr", -1.0), ("seed", -1)])
def test_bad_recipe_values_are_config_errors(tmp_path, key, value):
    recipe = {**dict(epochs=1, batch_size=16, lr=1e-3, seed=0), key: value}
    with pytest.raises(ConfigError, match=f"PretrainImageModelHook.{key} must be"):
        PretrainImageModelHook(data_root=str(tmp_path), out=str(tmp_path / PTH), **recipe)


def test_pretraining_without_the_demo_dataset_names_the_missing_file(tmp_path):
    cfg = load_small_config(tmp_path / "demo")
    with pytest.raises(ConfigError, match="dataset_info.json not found"):
        ensure_pretrained(tmp_path / "demo", tmp_path / "demo" / PTH, small_recipe(cfg), cfg.model, log=False)
    assert os.listdir(tmp_path) == []


def test_progress_line_times_and_eta():
    """A line after first_s, then every interval_s, and at the end; ETA = elapsed * left / done."""
    import io

    now = [100.0]
    out = io.StringIO()
    bar = ProgressLine("step", 10, "items", interval_s=5.0, first_s=2.0, stream=out, clock=lambda: now[0])
    for t in (1.0, 2.5, 4.0, 8.0, 9.0, 10.0, 10.5, 11.0, 11.5, 12.0):  # item i done at 100 + t
        now[0] = 100.0 + t
        bar.update()
    lines = out.getvalue().splitlines()
    # due from 2 s on (item 2 at 2.5 s), then 5 s after that line (item 4 at 8 s), then the end
    assert lines == [f"step: 2/10 items (20%), {format_seconds(2.5)} elapsed, ETA {format_seconds(2.5 * 8 / 2)}",
                     f"step: 4/10 items (40%), {format_seconds(8.0)} elapsed, ETA {format_seconds(8.0 * 6 / 4)}",
                     f"step: 10/10 items (100%), {format_seconds(12.0)} elapsed, done"]
    assert format_seconds(42) == "42 s" and format_seconds(185) == "3 min 05 s" and format_seconds(3720) == "1 h 02 min"


def test_generation_and_pretraining_print_progress_with_eta(tmp_path, capsys, monkeypatch):
    """With the line interval at 0 every item reports: the counts run up to the totals, each
    line before the last has an ETA."""
    import re

    monkeypatch.setattr(ProgressLine, "FIRST_S", 0.0)
    monkeypatch.setattr(ProgressLine, "INTERVAL_S", 0.0)
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    build_dataset(cfg)
    ensure_pretrained(root, root / PTH, small_recipe(cfg), cfg.model, log=True)
    text = capsys.readouterr().out
    spec, recipe = cfg.train_dataloader.dataset.spec, small_recipe(cfg)
    steps = recipe["epochs"] * (spec.num_images // recipe["batch_size"])
    for what, unit, total in (("demo dataset", "videos", spec.num_train + spec.num_val + spec.num_test),
                              ("demo dataset", "images", spec.num_images + spec.num_images // 5),
                              ("image pre-training", "iterations", steps)):
        counts = [int(m) for m in re.findall(rf"^{what}: (\d+)/{total} {unit} \(\d+%\), .* elapsed, ETA ",
                                             text, flags=re.M)]
        assert counts == list(range(1, total)), (what, unit, text[-2000:])
        assert re.search(rf"^{what}: {total}/{total} {unit} \(100%\), .* elapsed, done$", text, flags=re.M)


def test_cli_pretraining_is_recognised_by_the_config(tmp_path):
    """projects/tiny_demo/tools/pretrain_demo_backbone.py with the config's settings makes what the
    hook would make, so the demo then uses those weights as they are."""
    from projects.tiny_demo.tools import pretrain_demo_backbone as cli

    root = tmp_path / "demo"
    cfg = load_small_config(root)
    build_dataset(cfg)
    assert cli.main(["--data-root", str(root), "--epochs", "1", "--batch-size", "16"]) == 0
    before = mtimes(root)
    assert prepare(cfg) == ""
    assert mtimes(root) == before
    assert cli.main(["--data-root", str(root)]) == 0  # exists: nothing to do without --force
    assert mtimes(root) == before


def test_make_demo_dataset_cli(tmp_path, capsys):
    from projects.tiny_demo.tools import make_demo_dataset as cli

    out = tmp_path / "d"
    args = ["--out", str(out), "--num-train", "4", "--num-val", "4", "--num-test", "4", "--num-images", "8"]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "train:    4 videos, per class [1, 1, 1, 1]" in text and "16 classes" in text
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["spec"]["num_train"] == 4 and info["format_version"] == moving_shapes.FORMAT_VERSION
    with pytest.raises(SystemExit):
        cli.main(["--out", str(out), "--size", "30"])
    assert os.listdir(tmp_path) == ["d"]


def test_dataset_bytes_are_reproducible_across_processes(tmp_path):
    """Two processes write byte-identical videos (same content hash): x264 runs single-threaded
    without mbtree, whose output differed from process to process."""
    digests = []
    for name in ("a", "b"):
        proc = subprocess.run([sys.executable, "-m", "projects.tiny_demo.tools.make_demo_dataset", "--out",
                               str(tmp_path / name), "--num-train", "40", "--num-val", "0", "--num-test", "0",
                               "--num-images", "4", "--quiet"], cwd=str(REPO_ROOT),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        digests.append(json.loads((tmp_path / name / "dataset_info.json").read_text())["content_sha256"])
    assert digests[0] == digests[1]


@pytest.mark.parametrize("label", range(4))
def test_videos_move_in_the_direction_of_their_class(label):
    """The bright object's centre moves along the class direction, by the same amount per frame."""
    import numpy as np

    spec = moving_shapes.DemoSpec()
    dx, dy = moving_shapes.DIRECTIONS[label]
    for index in range(5):
        video = moving_shapes.render_video(moving_shapes._rng(spec, 0, index), label, spec.size, spec.frames)
        luma = video.astype(np.float64) @ np.array([0.299, 0.587, 0.114])  # (T, H, W)
        centres = []
        for frame in luma:
            ys, xs = np.nonzero(frame > frame.mean() + 0.5 * (frame.max() - frame.mean()))
            centres.append((xs.mean(), ys.mean()))
        step = np.diff(np.array(centres), axis=0).mean(axis=0)
        along, across = (step[0] * dx, step[1]) if dx else (step[1] * dy, step[0])
        assert along > 0.5, (label, step)  # about 0.9-1.4 px per frame in the class direction
        assert abs(across) < 0.2, (label, step)  # no motion across the axis


def test_reversed_video_of_a_class_is_a_video_of_the_opposite_class():
    """What makes the task need temporal order: each class's frames, played backwards, are a
    possible video of the opposite class (the start positions are drawn so that this holds)."""
    import numpy as np

    spec = moving_shapes.DemoSpec()
    opposite = {0: 1, 1: 0, 2: 3, 3: 2}
    for label in range(4):
        track = moving_shapes.motion_track(np.random.default_rng(label), label, spec.size, spec.frames, 8.0)
        reverse = track[::-1]
        lo, hi = 9.0, spec.size - 9.0
        assert reverse.min() >= lo - 1e-9 and reverse.max() <= hi + 1e-9  # inside the frame
        direction = np.sign(np.diff(reverse, axis=0).mean(axis=0)).astype(int)
        assert tuple(direction) == moving_shapes.DIRECTIONS[opposite[label]]


def test_image_labels_follow_shape_and_quadrant(prepared_demo):
    import numpy as np

    root, _ = prepared_demo
    with np.load(root / "images_train.npz") as data:
        labels, centres = data["labels"], data["centres"]
    names = (root / "image_label_map.txt").read_text().splitlines()
    assert names == list(moving_shapes.IMAGE_CLASSES) and len(names) == 16
    for i, (label, (cx, cy)) in enumerate(zip(labels, centres)):
        shape, quadrant = divmod(int(label), 4)
        assert shape == i % 4  # shapes are balanced
        assert quadrant == 2 * int(cy >= 24) + int(cx >= 24)
