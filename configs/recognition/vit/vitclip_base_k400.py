# The experiment of the original AIM file of this name (configs/recognition/vit/vitclip_base_k400.py
# of taoyang1122/adapt-image-models): ViT-B/16 on Kinetics-400, 32 frames 1 every 4 (dense), test
# 3 clips x 1 centre crop, 30 epochs, AdamW 3e-4, 8 clips per GPU, adapter_scale 0.5, one temporal
# adapter, drop_path 0.2. That is the README row K400 ViT-B/16 32x3x1 (2428 GFLOPs, acc@1/5
# 84.7/96.7), so this file is that row's config. tests/configs/test_original_names.py checks it.
_base_ = ['./vitclip_base_k400_32x4x1_3views.py']
