"""Config handling before anything is built: --cfg-options key checks, type checks, the
translation of 0.x (original AIM) configs, engine upgrades, and the CLI error path."""

import subprocess
import sys

import pytest
from mmengine.config import Config

from mmaction.apis.train_utils import load_config
from mmaction.engine.runner import (
    ConfigError,
    apply_amp,
    check_cfg_options,
    check_config_types,
    configure_distributed,
    convert_legacy_config,
    upgrade_engine_types,
)
from mmaction.engine.runner.config_check import lookup_type, to_plain
from mmaction.engine.runner.defaults import DEFAULT_RUNTIME
from tests.engine.test_schedule import lr_curve

NEW_STYLE = dict(
    model=dict(type="Recognizer3D", backbone=dict(type="ViT_CLIP", width=32, layers=1),
               cls_head=dict(type="I3DHead", num_classes=3, in_channels=32), test_cfg=dict(average_clips="prob")),
    train_dataloader=dict(batch_size=2, dataset=dict(type="VideoDataset", pipeline=[dict(type="DecordInit")])),
    train_cfg=dict(type="EpochBasedTrainLoop", max_epochs=30, val_interval=5),
    optim_wrapper=dict(type="AmpOptimWrapper", dtype="bfloat16", optimizer=dict(type="AdamW", lr=3e-4)),
    param_scheduler=[dict(type="CosineAnnealingLR", T_max=30, begin=0, end=30, by_epoch=True)],
    default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1)),
    work_dir="./work_dirs/x",
)

# The original AIM ViT-B/16 Kinetics-400 config, 0.x style (mmcv 1.4 / MMAction2 0.x).
ORIGINAL_AIM_CONFIG = """
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', pretrained='openaiclip', input_resolution=224, patch_size=16, num_frames=8,
                  width=768, layers=12, heads=12, drop_path_rate=0.2, adapter_scale=0.5, num_tadapter=1),
    cls_head=dict(type='I3DHead', in_channels=768, num_classes=400, spatial_type='avg', dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob', max_testing_views=4))
dataset_type = 'VideoDataset'
img_norm_cfg = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=16, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=16, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])]
data = dict(
    videos_per_gpu=8, workers_per_gpu=4,
    val_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    test_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    train=dict(type=dataset_type, ann_file='data/k400/train.txt', data_prefix='data/k400/train',
               pipeline=train_pipeline),
    val=dict(type=dataset_type, ann_file='data/k400/val.txt', data_prefix='data/k400/val', pipeline=test_pipeline),
    test=dict(type=dataset_type, ann_file='data/k400/val.txt', data_prefix='data/k400/val', pipeline=test_pipeline))
evaluation = dict(interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'])
optimizer = dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05,
                 paramwise_cfg=dict(custom_keys={'class_embedding': dict(decay_mult=0.),
                                                 'positional_embedding': dict(decay_mult=0.),
                                                 'ln_1': dict(decay_mult=0.), 'ln_2': dict(decay_mult=0.),
                                                 'ln_pre': dict(decay_mult=0.), 'ln_post': dict(decay_mult=0.)}))
optimizer_config = dict(type='DistOptimizerHook', update_interval=2, grad_clip=None, coalesce=True,
                        bucket_size_mb=-1, use_fp16=True)
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True, warmup_iters=2.5)
total_epochs = 30
checkpoint_config = dict(interval=1)
log_config = dict(interval=20, hooks=[dict(type='TextLoggerHook'), dict(type='TensorboardLoggerHook')])
dist_params = dict(backend='nccl')
log_level = 'INFO'
work_dir = './work_dirs/k400_vit_base_patch16_224'
load_from = None
resume_from = None
workflow = [('train', 1)]
find_unused_parameters = False
fp16 = None
"""


def new_cfg():
    return Config(to_plain(NEW_STYLE))


# ---------------------------------------------------------------------------------- --cfg-options
def test_unknown_option_key_names_the_key():
    with pytest.raises(ConfigError, match=r"'model\.backbone\.pretraind'.*Did you mean 'pretrained'"):
        check_cfg_options(new_cfg(), {"model.backbone.pretraind": "x"})
    with pytest.raises(ConfigError, match=r"'word_dir'.*Did you mean 'work_dir'"):
        check_cfg_options(new_cfg(), {"word_dir": "out"})
    with pytest.raises(ConfigError, match=r"'train_dataloader\.batchsize'.*Did you mean 'batch_size'"):
        check_cfg_options(new_cfg(), {"train_dataloader.batchsize": 4})
    with pytest.raises(ConfigError, match=r"list of 1 items"):
        check_cfg_options(new_cfg(), {"train_dataloader.dataset.pipeline.3.type": "X"})
    with pytest.raises(ConfigError, match=r"is a int"):
        check_cfg_options(new_cfg(), {"train_dataloader.batch_size.x": 1})


def test_valid_option_keys_pass():
    check_cfg_options(new_cfg(), {
        "work_dir": "out",  # exists
        "model.backbone.pretrained": "openaiclip",  # a ViT_CLIP argument not written in the config
        "model.test_cfg.max_testing_views": 2,  # free-form dict
        "train_dataloader.num_workers": 0,  # DataLoader argument
        "train_dataloader.dataset.pipeline.0.io_backend": "disk",  # an index into a list
        "launcher": "none", "total_epochs": 2, "optimizer.lr": 1e-3,  # runner / 0.x keys
        "optim_wrapper.accumulative_counts": 2,
    })


def test_unknown_type_names_the_path():
    cfg = new_cfg()
    cfg.model.backbone.type = "ViT_CLlP"
    with pytest.raises(ConfigError, match=r"'ViT_CLlP' at model\.backbone\.type.*'ViT_CLIP'"):
        check_config_types(cfg)
    cfg = new_cfg()
    cfg.optim_wrapper.constructor = "NoSuchConstructor"
    with pytest.raises(ConfigError, match=r"optim_wrapper\.constructor"):
        check_config_types(cfg, skip_top_level=("train_dataloader",))


def test_load_config_checks_before_merging_and_stretches_schedule(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text("\n".join(f"{k} = {v!r}" for k, v in to_plain(NEW_STYLE).items()))
    with pytest.raises(ConfigError, match="pretraind"):
        load_config(str(path), {"model.backbone.pretraind": "x"})
    cfg, notes = load_config(str(path), {"train_cfg.max_epochs": 2, "work_dir": "o"})
    assert cfg.work_dir == "o" and cfg.param_scheduler[0].end == 2 and cfg.param_scheduler[0].T_max == 2
    assert any("max_epochs 30 -> 2" in n for n in notes)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "missing.py"))


# ---------------------------------------------------------------------------------- 0.x configs
@pytest.fixture
def original_cfg(tmp_path):
    path = tmp_path / "vitclip_base_k400_original.py"
    path.write_text(ORIGINAL_AIM_CONFIG)
    return Config.fromfile(str(path))


def test_original_aim_config_is_translated(original_cfg):
    cfg, notes = convert_legacy_config(original_cfg)
    assert notes
    for key in ("data", "optimizer", "optimizer_config", "lr_config", "total_epochs", "evaluation",
                "checkpoint_config", "log_config", "fp16", "dist_params", "workflow", "resume_from"):
        assert key not in cfg, key
    train = cfg.train_dataloader
    assert (train.batch_size, train.num_workers, train.sampler.shuffle) == (8, 4, True)
    assert train.dataset.data_prefix == dict(video="data/k400/train")
    assert [s["type"] for s in train.dataset.pipeline][-3:] == ["Normalize", "FormatShape", "PackActionInputs"]
    assert not any(s["type"] in ("Collect", "ToTensor") for s in train.dataset.pipeline)
    assert (cfg.val_dataloader.batch_size, cfg.val_dataloader.dataset.test_mode) == (1, True)
    assert cfg.test_dataloader.sampler.shuffle is False
    pre = cfg.model.data_preprocessor
    assert pre.type == "ActionDataPreprocessor" and pre.mean == [122.769, 116.74, 104.04]
    assert pre.std == [68.493, 66.63, 70.321] and pre.format_shape == "NCTHW"
    assert cfg.model.test_cfg == dict(average_clips="prob", max_testing_views=4)
    ow = cfg.optim_wrapper
    assert (ow.type, ow.dtype, ow.accumulative_counts) == ("MixedPrecisionOptimWrapper", "float16", 2)
    assert ow.optimizer == dict(type="AdamW", lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05)
    assert ow.paramwise_cfg.custom_keys["ln_post"] == dict(decay_mult=0.0)
    assert ow.constructor == "TunableParamsOptimWrapperConstructor"
    assert (cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval) == (30, 5)
    assert cfg.val_evaluator == dict(type="AccMetric", metric_list=["top_k_accuracy", "mean_class_accuracy"])
    assert cfg.test_evaluator.type == "AccMetric" and cfg.val_cfg.type == "ValLoop"
    assert cfg.default_hooks.checkpoint.type == "AtomicCheckpointHook" and cfg.default_hooks.checkpoint.interval == 1
    assert cfg.default_hooks.logger.interval == 20
    assert [b["type"] for b in cfg.visualizer.vis_backends] == ["LocalVisBackend", "TensorboardVisBackend"]
    assert cfg.env_cfg.dist_cfg.backend == "nccl" and cfg.default_scope == "mmaction"
    assert cfg.load_from is None and cfg.work_dir == "./work_dirs/k400_vit_base_patch16_224"


def test_translated_lr_schedule_equals_new_schedule(original_cfg, repo_root):
    legacy, _ = convert_legacy_config(original_cfg)
    new = Config.fromfile(str(repo_root / "configs/_base_/schedules/adamw_cosine_30e.py"))
    a = lr_curve(legacy.param_scheduler, 3e-4, 30, 6)
    b = lr_curve(new.param_scheduler, 3e-4, 30, 6)
    assert a == pytest.approx(b, rel=1e-9)


def test_translated_original_config_types_resolve(original_cfg):
    if lookup_type("VideoDataset") is None:
        pytest.skip("VideoDataset is not registered yet (mmaction/datasets)")
    cfg, _ = convert_legacy_config(original_cfg)
    upgrade_engine_types(cfg)
    check_config_types(cfg)


def test_legacy_keys_override_new_ones_and_errors_name_the_key():
    cfg = new_cfg()
    cfg.total_epochs = 2
    cfg.optimizer = dict(lr=1e-3)  # e.g. --cfg-options optimizer.lr=1e-3 on a 1.x config
    out, _ = convert_legacy_config(cfg)
    assert out.train_cfg.max_epochs == 2 and out.optim_wrapper.optimizer.lr == 1e-3
    assert out.optim_wrapper.optimizer.type == "AdamW"
    bad = new_cfg()
    bad.lr_config = dict(policy="poly")
    with pytest.raises(ConfigError, match="lr_config.policy='poly'"):
        convert_legacy_config(bad)
    bad = new_cfg()
    bad.evaluation = dict(interval=1, metrics=["mmit_mean_average_precision"])
    with pytest.raises(ConfigError, match="evaluation.metrics"):
        convert_legacy_config(bad)


# ---------------------------------------------------------------------------------- finalisation
def test_engine_upgrades_and_amp():
    cfg = new_cfg()
    upgrade_engine_types(cfg)
    assert cfg.optim_wrapper.type == "MixedPrecisionOptimWrapper" and cfg.optim_wrapper.dtype == "bfloat16"
    assert cfg.optim_wrapper.constructor == "TunableParamsOptimWrapperConstructor"
    assert cfg.default_hooks.checkpoint.type == "AtomicCheckpointHook"
    assert [h["type"] for h in cfg.custom_hooks] == ["RNGStateHook", "ScheduleResumeHook"]
    apply_amp(cfg, "none")
    assert cfg.optim_wrapper.type == "SafeOptimWrapper" and "dtype" not in cfg.optim_wrapper
    apply_amp(cfg, "fp16")
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == ("MixedPrecisionOptimWrapper", "float16")
    cfg.optim_wrapper.type = "OptimWrapper"  # e.g. --cfg-options optim_wrapper.type=OptimWrapper
    upgrade_engine_types(cfg)
    assert cfg.optim_wrapper.type == "SafeOptimWrapper" and "dtype" not in cfg.optim_wrapper
    with pytest.raises(ConfigError, match="--amp"):
        apply_amp(cfg, "int8")


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the CPU set-up")
def test_cpu_distributed_setup():
    cfg = new_cfg()
    cfg.env_cfg = dict(dist_cfg=dict(backend="auto"))
    configure_distributed(cfg, "pytorch")
    assert cfg.env_cfg.dist_cfg.backend == "gloo" and cfg.launcher == "pytorch"
    assert cfg.model_wrapper_cfg.device_ids is None and cfg.model_wrapper_cfg.type == "MMDistributedDataParallel"
    single = new_cfg()
    configure_distributed(single, "none")
    assert "model_wrapper_cfg" not in single


def test_default_runtime_file_matches_code_defaults(repo_root):
    cfg = Config.fromfile(str(repo_root / "configs/_base_/default_runtime.py"))
    for key, value in DEFAULT_RUNTIME.items():
        assert to_plain(cfg[key]) == value, key
    check_config_types(cfg)


def test_cli_rejects_unknown_option_before_building(tmp_path, repo_root):
    path = tmp_path / "cfg.py"
    path.write_text("\n".join(f"{k} = {v!r}" for k, v in to_plain(NEW_STYLE).items()))
    proc = subprocess.run(
        [sys.executable, str(repo_root / "tools/train.py"), str(path), "--work-dir", str(tmp_path / "w"),
         "--cfg-options", "model.backbone.pretraind=openaiclip"],
        capture_output=True, text=True, timeout=120, cwd=str(repo_root))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "model.backbone.pretraind" in proc.stderr and "Did you mean 'pretrained'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "w").exists(), "nothing may be built or written before the config is checked"
    assert "parameters" not in proc.stdout  # the Recognizer logs its size when built


# ---------------------------------------------------------------------------------- values, one line each
def _write(tmp_path, text, name="cfg.py"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _new_style_file(tmp_path):
    return _write(tmp_path, "\n".join(f"{k} = {v!r}" for k, v in to_plain(NEW_STYLE).items()))


@pytest.mark.parametrize("key, value, expected", [
    ("model.backbone.width", "abc", r"--cfg-options model\.backbone\.width='abc': expected an int, the config has 32"),
    ("optim_wrapper.optimizer.lr", "abc", r"optim_wrapper\.optimizer\.lr='abc': expected a number, the config has 0\.0003"),
    ("train_cfg.max_epochs", "abc", r"train_cfg\.max_epochs='abc': expected an int, the config has 30"),
    ("model.cls_head.num_classes", 0, r"model\.cls_head\.num_classes=0: expected >= 1"),
    ("train_dataloader.batch_size", 0, r"train_dataloader\.batch_size=0: expected >= 1"),
    ("model.backbone.num_frames", 0, r"model\.backbone\.num_frames=0: expected >= 1"),
    ("model.backbone.num_frames", "abc", r"model\.backbone\.num_frames='abc': expected an int \(ViT_CLIP\.num_frames\)"),
])
def test_wrong_values_are_refused_in_one_line_naming_the_key(tmp_path, key, value, expected):
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(_new_style_file(tmp_path), {key: value})
    assert "\n" not in str(info.value)


def test_wrong_values_written_in_the_file_and_unknown_base_are_refused(tmp_path):
    text = "\n".join(f"{k} = {v!r}" for k, v in to_plain(NEW_STYLE).items())
    with pytest.raises(ConfigError, match=r"model\.backbone\.heads='two': expected an int \(ViT_CLIP\.heads\)"):
        load_config(_write(tmp_path, text + "\nmodel['backbone']['heads'] = 'two'\n"))
    with pytest.raises(ConfigError, match=r"train_cfg\.max_epochs=2\.5: expected an int"):
        load_config(_write(tmp_path, text + "\ntrain_cfg['max_epochs'] = 2.5\n"))
    with pytest.raises(ConfigError, match=r"a _base_ file does not exist: .*no_such_base\.py"):
        load_config(_write(tmp_path, "_base_ = ['./no_such_base.py']\n" + text, name="child.py"))


def test_label_smoothing_becomes_the_heads_label_smoothing(original_cfg):
    original_cfg.model.cls_head.num_classes = 174
    original_cfg.model.train_cfg = dict(blending=dict(type="LabelSmoothing", num_classes=174, smoothing=0.1))
    cfg, notes = convert_legacy_config(original_cfg)
    assert cfg.model.cls_head.label_smooth_eps == 0.1 and "train_cfg" not in cfg.model
    assert "blending" not in cfg.model.data_preprocessor
    assert sum("LabelSmoothing" in n for n in notes) == 1
    check_config_types(cfg)  # no unknown 'LabelSmoothing' type left
    # The head's loss with eps equals the cross-entropy against (1 - eps) * one_hot + eps / K.
    import torch

    from mmaction.registry import MODELS

    head = MODELS.build(dict(cfg.model.cls_head, in_channels=8))
    scores, labels = torch.randn(4, 174), torch.tensor([0, 5, 173, 9])
    target = torch.full((4, 174), 0.1 / 174)
    target[torch.arange(4), labels] += 0.9
    expected = -(target * torch.log_softmax(scores, dim=1)).sum(1).mean()
    assert head.loss_cls(scores, labels) == pytest.approx(expected.item(), rel=1e-5)
    bad = original_cfg.copy()
    bad.model.train_cfg = dict(blending=dict(type="LabelSmoothing", num_classes=100, smoothing=0.1))
    with pytest.raises(ConfigError, match="blending.num_classes=100 differs from model.cls_head.num_classes=174"):
        convert_legacy_config(bad)


def test_every_engine_change_is_one_note():
    cfg = new_cfg()
    cfg.optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=3e-4))
    notes = upgrade_engine_types(cfg)
    assert notes == [
        "optim_wrapper.type OptimWrapper -> SafeOptimWrapper (skips steps with NaN/inf gradients)",
        "optim_wrapper.constructor DefaultOptimWrapperConstructor -> TunableParamsOptimWrapperConstructor "
        "(frozen weights left out of the optimizer)",
        "default_hooks.checkpoint CheckpointHook -> AtomicCheckpointHook (atomic writes)",
        "custom_hooks += RNGStateHook (random generator states in checkpoints, for exact resume)",
        "custom_hooks += ScheduleResumeHook (epoch-based schedules re-derived when a resume changes the "
        "epoch length)",
    ]
    assert upgrade_engine_types(cfg) == [], "a second pass changes nothing"


def test_random_frozen_backbone_is_refused_for_training():
    from mmaction.engine.runner import check_weights_given

    cfg = new_cfg()
    with pytest.raises(ConfigError, match=r"model\.backbone\.pretrained=openaiclip") as info:
        check_weights_given(cfg)
    assert "\n" not in str(info.value) and "allow_random_backbone=True" in str(info.value)
    for given in (dict(pretrained="openaiclip"), dict(tuning="full"),
                  dict(init_cfg=dict(type="Pretrained", checkpoint="w.pth", prefix="backbone."))):
        ok = new_cfg()
        ok.model.backbone.update(given)
        check_weights_given(ok)
    for top in (dict(load_from="w.pth"), dict(allow_random_backbone=True)):
        ok = new_cfg()
        ok.update(top)
        check_weights_given(ok)
    probe = new_cfg()
    probe.model.backbone.tuning = "linear_probe"
    with pytest.raises(ConfigError, match="tuning='linear_probe'"):
        check_weights_given(probe)


def test_unimplemented_transform_argument_warns_once_naming_it():
    import warnings

    from mmaction.datasets.transforms import unimplemented_args
    from mmaction.registry import TRANSFORMS

    unimplemented_args._WARNED.discard(("CenterCrop", "lazy"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            TRANSFORMS.build(dict(type="CenterCrop", crop_size=8, lazy=True))
        TRANSFORMS.build(dict(type="CenterCrop", crop_size=8))
    messages = [str(w.message) for w in caught if "lazy" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith("CenterCrop: argument lazy=True is accepted")


def test_backbone_init_cfg_pretrained_loads(tmp_path):
    import torch

    from mmaction.apis.model_builder import build_model

    model_cfg = dict(type="Recognizer3D", cls_head=dict(type="I3DHead", num_classes=3, in_channels=32),
                     backbone=dict(type="ViT_CLIP", input_resolution=16, patch_size=8, num_frames=2, width=32,
                                   layers=1, heads=2))
    reference = build_model(Config(dict(model=model_cfg)), load_pretrained=False)
    weights = {k: torch.randn_like(v) for k, v in reference.state_dict().items()}
    torch.save({"state_dict": weights}, tmp_path / "w.pth")
    init = dict(type="Pretrained", checkpoint=str(tmp_path / "w.pth"), prefix="backbone.")
    cfg, _ = load_config(Config(dict(model=dict(model_cfg, backbone=dict(model_cfg["backbone"], init_cfg=init)))))
    model = build_model(cfg)
    got = model.state_dict()
    assert all(torch.equal(got[k], w) for k, w in weights.items() if k.startswith("backbone."))
    assert not any(torch.equal(got[k], w) for k, w in weights.items() if k.startswith("cls_head."))


def test_console_filter_keeps_dumps_in_the_file_only():
    import logging

    from mmaction.engine.runner.tool_runner import FileOnlyFilter

    def record(msg):
        return logging.LogRecord("x", logging.INFO, __file__, 1, msg, None, None)

    keep = FileOnlyFilter()
    assert not keep.filter(record("Config:\nmodel = dict(...)"))
    assert not keep.filter(record("Hooks will be executed in the following order:\nbefore_run: ..."))
    assert keep.filter(record("config change: launcher='pytorch' (from the command line)"))
    assert keep.filter(record("Epoch(train) [1][1/3] lr: 3e-4 loss: 1.1"))


def test_print_config_prints_the_translated_config_without_building(original_cfg, tmp_path, repo_root):
    proc = subprocess.run([sys.executable, str(repo_root / "tools/misc/print_config.py"), original_cfg.filename,
                           "--cfg-options", "total_epochs=3"],
                          capture_output=True, text=True, timeout=120, cwd=str(repo_root))
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert "#   total_epochs=3 -> train_cfg.max_epochs" in lines
    body = Config.fromstring("\n".join(line for line in lines if not line.startswith("#")), ".py")
    assert body.train_cfg.max_epochs == 3 and "data" not in body and "Recognizer3D:" not in proc.stdout + proc.stderr
    bad = subprocess.run([sys.executable, str(repo_root / "tools/misc/print_config.py"), original_cfg.filename,
                          "--cfg-options", "model.backbone.num_frames=abc"],
                         capture_output=True, text=True, timeout=120, cwd=str(repo_root))
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "num_frames='abc'" in bad.stderr


def test_pipeline_normalize_must_match_the_preprocessor(tmp_path):
    text = "\n".join(f"{k} = {v!r}" for k, v in to_plain(NEW_STYLE).items())
    text += ("\nmodel['data_preprocessor'] = dict(type='ActionDataPreprocessor', mean=[1.0, 2.0, 3.0], "
             "std=[4.0, 5.0, 6.0])\ntrain_dataloader['dataset']['pipeline'].append(dict(type='Normalize', "
             "mean=[1, 2, 3], std=[4, 5, 60]))\n")
    with pytest.raises(ConfigError, match=r"train_dataloader\.dataset\.pipeline\.1\.std=\[4, 5, 60\] but "
                                          r"model\.data_preprocessor\.std=\[4\.0, 5\.0, 6\.0\]"):
        load_config(_write(tmp_path, text))
    load_config(_write(tmp_path, text.replace("60]", "6]")))  # the same values (ints or floats) pass
