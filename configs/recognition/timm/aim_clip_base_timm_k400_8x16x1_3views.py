# AIM on timm's OpenAI CLIP ViT-B/16 tower (QuickGELU), class-token read-out: the timm route to ViT_CLIP's model.
# Kinetics-400, 8 frames 1 every 16 (dense), test 3 clips x 1 centre crop, the AIM K400 recipe.
# Beyond the original repository: no published numbers.
_base_ = [
    '../../_base_/models/aim_timm_vit.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(model_name='vit_base_patch16_clip_quickgelu_224.openai', global_pool=None),
    cls_head=dict(in_channels=768))

optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
