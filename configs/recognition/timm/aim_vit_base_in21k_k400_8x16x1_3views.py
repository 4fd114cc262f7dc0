# AIM on timm's ImageNet-21k ViT-B/16 (augreg), class-token read-out.
# Kinetics-400, 8 frames 1 every 16 (dense), test 3 clips x 1 centre crop, the AIM K400 recipe.
# Beyond the original repository: no published numbers.
_base_ = [
    '../../_base_/models/aim_timm_vit.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(model_name='vit_base_patch16_224.augreg_in21k', global_pool=None),
    cls_head=dict(in_channels=768))

optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
