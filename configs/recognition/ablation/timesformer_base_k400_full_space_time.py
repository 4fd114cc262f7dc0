# Ablation (K400 8x16x1): fully fine-tuned space-time, the TimeSformer baseline (divided space-time
# attention). The original repository ships this baseline on a CLIP ViT-B/16 (TimeSformer's layout);
# the other rows of the ablation use the ImageNet-21k ViT-B/16.
_base_ = ['../vit/timesformer_base_k400_8x16x1_3views.py']
