# Ablation (ImageNet-21k ViT-B/16, K400 8x16x1): fully fine-tuned space-only.
# The image model applied frame by frame, every weight trained; no adapters.
_base_ = ['../vit/vit_imagenet_base_k400_8x16x1_3views.py']

model = dict(backbone=dict(use_temporal=False, use_spatial=False, use_joint=False, tuning='full'))

# Every weight trains here: no weight decay on the timm-named norms and embeddings either (the
# recipe's keys name CLIP's ln_1 / ln_2 / class_embedding / positional_embedding).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'norm': dict(decay_mult=0.), 'pos_embed': dict(decay_mult=0.), 'cls_token': dict(decay_mult=0.),
    'temporal_embedding': dict(decay_mult=0.)}))
