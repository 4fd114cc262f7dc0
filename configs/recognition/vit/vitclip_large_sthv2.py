# Original AIM config name, kept so that original commands work. It is the row
# SSv2, ViT-L/14, 32x1x3 views, acc@1 70.6 (paper; no README table)
# and the same as vitclip_large_sthv2_u32_3views.py.
_base_ = ['./vitclip_large_sthv2_u32_3views.py']
