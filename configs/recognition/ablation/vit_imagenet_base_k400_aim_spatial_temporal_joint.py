# Ablation (ImageNet-21k ViT-B/16, K400 8x16x1): frozen image model + spatial + temporal + joint
# adaptation = AIM (the same experiment as ../vit/vit_imagenet_base_k400_8x16x1_3views.py).
_base_ = ['../vit/vit_imagenet_base_k400_8x16x1_3views.py']

model = dict(backbone=dict(use_temporal=True, use_spatial=True, use_joint=True, tuning='adapter'))
