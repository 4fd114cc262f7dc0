# Original AIM config name, kept so that original commands work. It is the row
# K400, Swin-B (ImageNet-22k), 32x2x1 sampling, 4 clips x 3 crops, and the same as
# swin2d_adapter_base_k400_32x2x1_12views.py.
_base_ = ['./swin2d_adapter_base_k400_32x2x1_12views.py']
