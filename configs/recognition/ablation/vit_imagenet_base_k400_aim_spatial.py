# Ablation (ImageNet-21k ViT-B/16, K400 8x16x1): frozen image model + spatial adaptation only.
_base_ = ['../vit/vit_imagenet_base_k400_8x16x1_3views.py']

model = dict(backbone=dict(use_temporal=False, use_spatial=True, use_joint=False, tuning='adapter'))
