"""Every entry point loads a config through the one loader: an original-style (0.x) config and its
translated twin (a 1.x config written by hand here, not by the translation) give the same model
inputs after the data preprocessor, the same scores, features and weights in train, test,
``init_recognizer``/``inference_recognizer``, demo, feature extraction, get_flops and benchmark.

The original-style config uses the SSv2 settings (uniform sampling, 2 temporal adapters,
``LabelSmoothing`` blending), shrunk to 32 px and a 1-layer width-32 model."""

import copy
import json
import re
import sys

import numpy as np
import pytest
import torch

from mmaction.apis import inference_recognizer, init_recognizer
from mmaction.apis.config_loader import load_config
from mmaction.apis.model_builder import build_model
from mmaction.registry import DATASETS
from tests.e2e.original_style import MEAN, STD, Original, tiny_original_text, write_bases
from tests.engine.engine_testkit import REPO_ROOT, describe, load_state, make_video_set, output, python_tool, run_tool

pytestmark = pytest.mark.slow

SETTINGS = Original(num_classes=3, frames=2, interval=1, uniform=True, adapter_scale=1, num_tadapter=2,
                    smoothing=0.1, flip=0, epochs=1)

TWIN = """
_base_ = ['{repo}/configs/_base_/default_runtime.py']
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', input_resolution=32, patch_size=8, num_frames=2, width=32, layers=1, heads=2,
                  drop_path_rate=0.2, adapter_scale=1, num_tadapter=2),
    cls_head=dict(type='I3DHead', in_channels=32, num_classes=3, spatial_type='avg', dropout_ratio=0.5,
                  label_smooth_eps=0.1),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean={mean}, std={std}, format_shape='NCTHW'),
    test_cfg=dict(average_clips='prob', max_testing_views=4))
sample = dict(type='SampleFrames', clip_len=2, frame_interval=1, num_clips=1, frame_uniform=True)
train_pipeline = [
    dict(type='DecordInit'), sample, dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 36)),
    dict(type='RandomResizedCrop'), dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0), dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='DecordInit'), dict(sample, test_mode=True), dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)), dict(type='ThreeCrop', crop_size=32), dict(type='Flip', flip_ratio=0),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
def loader(ann, pipeline, test_mode, batch_size):
    return dict(batch_size=batch_size, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=not test_mode),
                dataset=dict(type='VideoDataset', ann_file=ann, data_prefix=dict(video='{root}'), pipeline=pipeline,
                             test_mode=test_mode))
train_dataloader = loader('{train}', train_pipeline, False, 2)
test_dataloader = loader('{val}', test_pipeline, True, 1)
test_cfg = dict(type='TestLoop')
test_evaluator = dict(type='AccMetric')
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={{k: dict(decay_mult=0.) for k in (
        'class_embedding', 'positional_embedding', 'ln_1', 'ln_2', 'ln_pre', 'ln_post')}}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=2.5, by_epoch=True, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0, T_max=1, begin=0, end=1, by_epoch=True, convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(interval=1))
"""


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    root = tmp_path_factory.mktemp("entry_points")
    train = make_video_set(root, "train", 4, num_frames=6, size=40)
    val = make_video_set(root, "val", 3, num_frames=6, size=40, seed=1)
    write_bases(root)
    folder = root / "configs"
    folder.mkdir()
    legacy = folder / "legacy.py"
    legacy.write_text(tiny_original_text(SETTINGS, train, val, root, fp16=False))
    twin = folder / "twin.py"
    twin.write_text(TWIN.format(repo=REPO_ROOT, mean=list(MEAN), std=list(STD), root=root, train=train, val=val))
    labels = root / "labels.txt"
    labels.write_text("red\ngreen\nblue\n")
    return dict(legacy=legacy, twin=twin, root=root, train=train, val=val, labels=labels)


def _normalised(frames: torch.Tensor) -> torch.Tensor:
    """Independent normalisation of uint8 (V, C, T, H, W) frames: (x - mean) / std per channel."""
    mean = torch.tensor(MEAN).view(1, 3, 1, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1, 1)
    return (frames.float() - mean) / std


def test_loaded_models_are_the_same(configs):
    legacy, notes = load_config(str(configs["legacy"]), launcher="none")
    twin, twin_notes = load_config(str(configs["twin"]), launcher="none")
    assert legacy.model == twin.model
    assert legacy.optim_wrapper == twin.optim_wrapper
    assert any("LabelSmoothing" in n for n in notes)
    assert "optim_wrapper.type OptimWrapper -> SafeOptimWrapper (skips steps with NaN/inf gradients)" in twin_notes


def test_train_inputs_are_normalised_the_same(configs):
    """The first training batch after the data preprocessor, from both configs, equals the
    independent normalisation of the pipeline's uint8 frames."""
    got = []
    for name in ("legacy", "twin"):
        cfg, _ = load_config(str(configs[name]), launcher="none")
        dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
        model = build_model(cfg, load_pretrained=False)
        torch.manual_seed(0)
        np.random.seed(0)
        item = dataset[0]
        data = model.data_preprocessor(dict(inputs=[item["inputs"]], data_samples=[item["data_samples"]]),
                                       training=False)
        assert torch.allclose(data["inputs"][0], _normalised(item["inputs"]), atol=1e-5)
        got.append(data["inputs"])
    assert torch.equal(got[0], got[1])


@pytest.fixture(scope="module")
def trained(configs, tmp_path_factory):
    runs = {}
    for name in ("legacy", "twin"):
        work = tmp_path_factory.mktemp(f"train_{name}")
        proc = run_tool(python_tool("train.py", str(configs[name]), "--seed", "0", "--deterministic",
                                    "--cfg-options", f"work_dir={work}", "allow_random_backbone=True"))
        runs[name] = (work, proc)
    return runs


def test_train_gives_the_same_weights_and_logs_each_change(trained):
    states = {}
    for name, (work, proc) in trained.items():
        assert proc.returncode == 0, describe(proc)
        states[name] = load_state(work / "epoch_1.pth")
        text = output(proc)
        assert "Config:\n" not in text and "Hooks will be executed" not in text, "dumps go to the log file only"
        effective = list(work.glob("*/effective_config.py"))
        assert len(effective) == 1
        header = [line for line in effective[0].read_text().splitlines() if line.startswith("#   ")]
        changes = [line.split("config change: ", 1)[1] for line in text.splitlines() if "config change: " in line]
        assert changes and [h[4:] for h in header] == changes, "the log and the dump list the same changes"
        log = next(work.glob("*/*.log")).read_text()
        assert "Config:" in log and "Hooks will be executed" in log
    assert states["legacy"].keys() == states["twin"].keys()
    for key in states["legacy"]:
        assert torch.equal(states["legacy"][key], states["twin"][key]), key


def test_inference_gives_the_same_inputs_and_scores(configs, trained):
    checkpoint = str(trained["twin"][0] / "epoch_1.pth")
    video = str(configs["root"] / "val" / "video_000.mp4")
    scores = {}
    for name in ("legacy", "twin"):
        model = init_recognizer(str(configs[name]), checkpoint)
        scores[name] = inference_recognizer(model, video).pred_score
    assert torch.equal(scores["legacy"], scores["twin"])
    assert torch.isclose(scores["twin"].sum(), torch.tensor(1.0), atol=1e-5)


def _run(script, *args):
    proc = run_tool([sys.executable, str(REPO_ROOT / script), *args])
    assert proc.returncode == 0, describe(proc)
    return proc


def test_test_tool_gives_the_same_scores(configs, trained, tmp_path):
    checkpoint = str(trained["twin"][0] / "epoch_1.pth")
    results = {}
    for name in ("legacy", "twin"):
        out = tmp_path / f"{name}.json"
        _run("tools/test.py", str(configs[name]), checkpoint, "--out", str(out), "--work-dir", str(tmp_path / name))
        results[name] = json.loads(out.read_text())
    assert results["legacy"] == results["twin"] and len(results["twin"]) == 3


def test_demo_and_feature_extraction_give_the_same_results(configs, trained, tmp_path):
    checkpoint = str(trained["twin"][0] / "epoch_1.pth")
    video = str(configs["root"] / "val" / "video_001.mp4")
    printed, features = {}, {}
    for name in ("legacy", "twin"):
        proc = _run("demo/demo.py", video, str(configs[name]), checkpoint, "--label-map", str(configs["labels"]))
        printed[name] = "".join(line for line in proc.stdout.splitlines(True) if " - mmengine - " not in line)
        out = tmp_path / name
        _run("tools/misc/extract_features.py", str(configs[name]), checkpoint, "--list", str(configs["val"]),
             "--out", str(out))
        features[name] = {p.name: np.load(p) for p in sorted(out.rglob("*.npy"))}
    assert printed["legacy"] == printed["twin"] and re.search(r"\d\.\d{6}", printed["twin"])
    assert features["legacy"].keys() == features["twin"].keys() and len(features["twin"]) == 3
    for key in features["twin"]:
        assert np.array_equal(features["legacy"][key], features["twin"][key])


def test_flops_benchmark_and_print_config_agree(configs):
    counts, printed = {}, {}
    for name in ("legacy", "twin"):
        proc = _run("tools/analysis/get_flops.py", str(configs[name]))
        counts[name] = [line for line in proc.stdout.splitlines() if not line.startswith("config:")]
        _run("tools/analysis/benchmark.py", str(configs[name]), "--mode", "test", "--iters", "1", "--warmup", "0",
             "--device", "cpu", "--matmul-size", "64")
        proc = _run("tools/misc/print_config.py", str(configs[name]))
        printed[name] = "".join(line for line in proc.stdout.splitlines(True) if " - mmengine - " not in line)
    assert counts["legacy"] == counts["twin"] and any("GFLOPs" in line or "FLOP" in line for line in counts["twin"])
    body = "".join(line for line in printed["legacy"].splitlines(True) if not line.startswith("#"))
    assert "label_smooth_eps=0.1" in body and "LabelSmoothing" not in body
