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
