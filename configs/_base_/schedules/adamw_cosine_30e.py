# AIM recipe, 30 epochs (Kinetics-400/700): AdamW lr 3e-4 (total batch 64), betas (0.9, 0.999),
# weight decay 0.05 except on class/positional embeddings and LayerNorms; linear warm-up over
# the first 2.5 epochs (from 0.1 x lr) multiplying a cosine decay to 0 over the whole run
# (the original mmcv lr_config: policy='CosineAnnealing', min_lr=0, warmup='linear',
# warmup_by_epoch=True, warmup_iters=2.5); validation every 5 epochs.
max_epochs = 30
warmup_epochs = 2.5

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='SafeOptimWrapper',  # NaN/inf losses skip the update; --amp switches to mixed precision
    constructor='TunableParamsOptimWrapperConstructor',  # frozen CLIP weights stay out of AdamW
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            'class_embedding': dict(decay_mult=0.),
            'positional_embedding': dict(decay_mult=0.),
            'ln_1': dict(decay_mult=0.),
            'ln_2': dict(decay_mult=0.),
            'ln_pre': dict(decay_mult=0.),
            'ln_post': dict(decay_mult=0.),
        }),
)

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, end_factor=1.0, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True),
]

# The recipe's total batch: 8 GPUs x 8 clips. tools/train.py --auto-scale-lr scales lr linearly
# to another total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=64)
