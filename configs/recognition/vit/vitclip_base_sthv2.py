# The experiment of the original AIM file of this name (configs/recognition/vit/vitclip_base_sthv2.py
# of taoyang1122/adapt-image-models): ViT-B/16 on Something-Something v2, 8 frames uniform (one per
# segment), test 1 clip x 3 crops, 50 epochs, AdamW 3e-4, 8 clips per GPU, two temporal adapters,
# adapter_scale 1, label smoothing 0.1, RandAugment (n=4, m=7), RandomErasing 0.25, no flip. That is
# the paper's SSv2 ViT-B/16 8x1x3 row (acc@1 66.4), so this file is that row's config.
# tests/configs/test_original_names.py checks it.
_base_ = ['./vitclip_base_sthv2_u8_3views.py']
