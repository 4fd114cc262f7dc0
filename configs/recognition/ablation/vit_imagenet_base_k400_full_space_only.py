# Ablation (ImageNet-21k ViT-B/16, K400 8x16x1): fully fine-tuned space-only.
# The image model applied frame by frame, every weight trained; no adapters.
_base_ = ['../vit/vit_imagenet_base_k400_8x16x1_3views.py']

model = dict(backbone=dict(use_temporal=False, use_spatial=False, use_joint=False, tuning='full'))
