"""prepare_demo (what the demo config's ``demo_setup`` makes on first use): idempotent, redone when
the recipe changes, atomic when interrupted, and its image model fits the demo backbone key for key."""

import json
import os
from pathlib import Path

import pytest
import torch

from mmaction.apis import image_pretrain
from mmaction.apis.demo_setup import prepare_demo
from mmaction.datasets import moving_shapes
from mmaction.engine.runner.config_check import ConfigError

from .conftest import load_small_config

PTH = "clip_tiny_pretrained.pth"


def mtimes(root: Path) -> dict:
    """Modification time of every file under ``root`` (relative path -> ns)."""
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def leftovers(folder: Path) -> list:
    """Temporary files or folders the atomic writers would leave behind if they were not atomic."""
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_first_call_writes_everything_second_call_nothing(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    notes = prepare_demo(cfg, log=False)
    assert len(notes) == 2 and "demo dataset written" in notes[0] and "pre-trained" in notes[1], notes
    for name in ("label_map.txt", "image_label_map.txt", "dataset_info.json", "images_train.npz",
                 "images_val.npz", "train_list_videos.txt", "val_list_videos.txt", "test_list_videos.txt", PTH,
                 "clip_tiny_pretrained.json"):
        assert (root / name).is_file(), name
    assert len(list((root / "train").glob("*.mp4"))) == cfg.demo_setup.dataset.num_train
    meta = json.loads((root / "clip_tiny_pretrained.json").read_text())
    assert meta["recipe"]["dataset_sha256"] == json.loads((root / "dataset_info.json").read_text())["content_sha256"]
    assert meta["num_classes"] == len(moving_shapes.IMAGE_CLASSES) == 16
    assert {"val_top1", "val_shape_top1", "val_quadrant_top1"} <= set(meta)

    before = mtimes(root)
    assert prepare_demo(cfg, log=False) == []
    assert mtimes(root) == before  # nothing rewritten
    assert leftovers(tmp_path) == [] and leftovers(root) == []


def test_changed_recipe_redoes_pretraining_only(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare_demo(cfg, log=False)
    before = mtimes(root)
    old_state = torch.load(root / PTH, weights_only=True)

    cfg.demo_setup.pretrain.lr = 2e-3
    notes = prepare_demo(cfg, log=False)
    assert len(notes) == 1 and "pre-trained" in notes[0], notes
    after = mtimes(root)
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == ["clip_tiny_pretrained.json", PTH]
    assert json.loads((root / "clip_tiny_pretrained.json").read_text())["recipe"]["lr"] == 2e-3
    new_state = torch.load(root / PTH, weights_only=True)
    assert any(not torch.equal(old_state[k], new_state[k]) for k in old_state)
    assert prepare_demo(cfg, log=False) == []

    # a changed backbone size is a changed recipe too (the weights would not fit)
    cfg.model.backbone.layers = 1
    assert len(prepare_demo(cfg, log=False)) == 1
    assert not any(k.startswith("transformer.resblocks.1.") for k in torch.load(root / PTH, weights_only=True))


def test_changed_dataset_regenerates_it_and_then_the_pretraining(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare_demo(cfg, log=False)
    sha = json.loads((root / "dataset_info.json").read_text())["content_sha256"]
    cfg.demo_setup.dataset.seed = 1
    notes = prepare_demo(cfg, log=False)
    assert len(notes) == 2, notes
    new_sha = json.loads((root / "dataset_info.json").read_text())["content_sha256"]
    assert new_sha != sha
    assert json.loads((root / "clip_tiny_pretrained.json").read_text())["recipe"]["dataset_sha256"] == new_sha


def test_without_pretrain_only_the_dataset(tmp_path):
    root = tmp_path / "demo"
    notes = prepare_demo(load_small_config(root), with_pretrain=False, log=False)
    assert len(notes) == 1 and (root / "dataset_info.json").is_file() and not (root / PTH).exists()


def test_interrupted_pretraining_leaves_no_weights_and_is_redone(tmp_path, monkeypatch):
    root = tmp_path / "demo"
    cfg = load_small_config(root)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("killed while saving")

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        prepare_demo(cfg, log=False)
    assert (root / "dataset_info.json").is_file()
    assert not (root / PTH).exists() and not (root / "clip_tiny_pretrained.json").exists()
    assert leftovers(root) == []
    monkeypatch.undo()
    notes = prepare_demo(cfg, log=False)
    assert len(notes) == 1 and "pre-trained" in notes[0] and (root / PTH).is_file()


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
        prepare_demo(cfg, log=False)
    assert not root.exists() and leftovers(tmp_path) == []
    monkeypatch.undo()
    assert len(prepare_demo(cfg, log=False)) == 2


def test_stale_metadata_means_not_current(tmp_path):
    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare_demo(cfg, log=False)
    (root / "clip_tiny_pretrained.json").write_text("{not json")
    assert len(prepare_demo(cfg, log=False)) == 1  # unreadable record: pre-trained again
    (root / "clip_tiny_pretrained.json").unlink()
    assert len(prepare_demo(cfg, log=False)) == 1  # weights without a record: pre-trained again


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


@pytest.mark.parametrize("section, key, value, fragment", [
    ("pretrain", "epochs", 0, "demo_setup.pretrain.epochs"),
    ("pretrain", "lr", -1.0, "demo_setup.pretrain.lr"),
    ("pretrain", "momentum", 0.9, "unknown keys ['momentum']"),
    ("dataset", "size", 30, "demo_setup.dataset: size must be a multiple of 4"),
    ("dataset", "frames", 1, "demo_setup.dataset: frames must be >= 2"),
    ("dataset", "num_videos", 3, "demo_setup.dataset"),
])
def test_bad_demo_setup_values_are_config_errors(tmp_path, section, key, value, fragment):
    cfg = load_small_config(tmp_path / "demo")
    cfg.demo_setup[section][key] = value
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        prepare_demo(cfg, log=False)
    assert not (tmp_path / "demo").exists()  # checked before anything is written


def test_cli_pretraining_is_recognised_by_the_config(tmp_path):
    """tools/misc/pretrain_demo_backbone.py with the config's settings makes what demo_setup would
    make, so the demo then uses those weights as they are."""
    import importlib.util

    root = tmp_path / "demo"
    cfg = load_small_config(root)
    prepare_demo(cfg, with_pretrain=False, log=False)
    spec = importlib.util.spec_from_file_location(
        "pretrain_demo_backbone", Path(__file__).resolve().parents[2] / "tools" / "misc" / "pretrain_demo_backbone.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    assert cli.main(["--data-root", str(root), "--epochs", "1", "--batch-size", "16"]) == 0
    before = mtimes(root)
    assert prepare_demo(cfg, log=False) == []
    assert mtimes(root) == before
    assert cli.main(["--data-root", str(root)]) == 0  # exists: nothing to do without --force
    assert mtimes(root) == before


def test_make_demo_dataset_cli(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_demo_dataset", Path(__file__).resolve().parents[2] / "tools" / "data" / "make_demo_dataset.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
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
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "tools" / "data" / "make_demo_dataset.py"
    digests = []
    for name in ("a", "b"):
        proc = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / name), "--num-train", "40",
                               "--num-val", "0", "--num-test", "0", "--num-images", "4"],
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
