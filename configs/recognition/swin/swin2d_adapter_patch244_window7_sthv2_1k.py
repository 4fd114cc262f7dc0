# Original AIM config name, kept so that original commands work. It is the row
# SSv2, Swin-B (ImageNet-22k), 32 uniform frames, 1 clip x 3 crops, and the same as
# swin2d_adapter_base_sthv2_u32_3views.py.
_base_ = ['./swin2d_adapter_base_sthv2_u32_3views.py']
