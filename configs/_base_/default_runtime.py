# Runtime settings shared by every config (mmengine 1.x style).
# Kept in sync with mmaction/engine/runner/defaults.py (tests/engine/test_configs.py checks it).
default_scope = 'mmaction'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),  # data_time / time per iteration, ETA
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Written atomically (temp file + os.replace); keeps the 3 newest epoch_*.pth, the latest
    # (work_dir/last_checkpoint) and the best by acc/top1 (best_acc_top1_epoch_*.pth).
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, save_best='acc/top1', rule='greater',
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
)
# Saves every rank's random generator states in the checkpoints and restores them on --resume;
# re-derives the epoch-based schedules when a resume changes the iterations per epoch.
custom_hooks = [dict(type='RNGStateHook'), dict(type='ScheduleResumeHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # backend 'auto': nccl when GPUs are used, gloo on CPU (chosen by tools/train.py at run time).
    dist_cfg=dict(backend='auto', timeout=1800),
)

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
