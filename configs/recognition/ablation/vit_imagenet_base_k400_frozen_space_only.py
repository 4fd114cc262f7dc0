# Ablation (paper, Table "AIM components", ImageNet-21k ViT-B/16, K400 8x16x1): frozen space-only.
# The image model is frozen and applied frame by frame; only the head trains (frame features
# averaged over time). No adapters.
_base_ = ['../vit/vit_imagenet_base_k400_8x16x1_3views.py']

model = dict(backbone=dict(use_temporal=False, use_spatial=False, use_joint=False, tuning='linear_probe'))
