"""Default runtime settings shared by ``configs/_base_/default_runtime.py`` and the translation
of 0.x-style configs (which carry no mmengine runtime section)."""

import copy
from typing import Any, Dict

# Keep in sync with configs/_base_/default_runtime.py (tests/engine checks that they agree).
DEFAULT_RUNTIME: Dict[str, Any] = dict(
    default_scope="mmaction",
    default_hooks=dict(
        runtime_info=dict(type="RuntimeInfoHook"),
        timer=dict(type="IterTimerHook"),
        logger=dict(type="LoggerHook", interval=20, ignore_last=False),
        param_scheduler=dict(type="ParamSchedulerHook"),
        checkpoint=dict(type="AtomicCheckpointHook", interval=1, save_best="acc/top1", rule="greater", max_keep_ckpts=3),
        sampler_seed=dict(type="DistSamplerSeedHook"),
        sync_buffers=dict(type="SyncBuffersHook"),
    ),
    custom_hooks=[dict(type="RNGStateHook"), dict(type="ScheduleResumeHook")],
    env_cfg=dict(
        cudnn_benchmark=False,
        mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
        dist_cfg=dict(backend="auto", timeout=1800),
    ),
    log_processor=dict(type="LogProcessor", window_size=20, by_epoch=True),
    visualizer=dict(
        type="Visualizer",
        vis_backends=[dict(type="LocalVisBackend"), dict(type="TensorboardVisBackend")],
    ),
    log_level="INFO",
    load_from=None,
    resume=False,
)

# The metric that picks the best checkpoint.
BEST_METRIC = "acc/top1"


def default_runtime() -> Dict[str, Any]:
    """A deep copy of :data:`DEFAULT_RUNTIME`."""
    return copy.deepcopy(DEFAULT_RUNTIME)
