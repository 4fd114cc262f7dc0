# Original AIM config name, kept so that original commands work. It is the row
# SSv2, ViT-B/16, 8x1x3 views, acc@1 66.4 (paper; no README table)
# and the same as vitclip_base_sthv2_u8_3views.py.
_base_ = ['./vitclip_base_sthv2_u8_3views.py']
