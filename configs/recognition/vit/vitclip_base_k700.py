# Original AIM config name, kept so that original commands work. It is the row
# K700, ViT-B/16, 32x3x3 views, 7284 GFLOPs, 97M params, 11M tunable, acc@1 76.9
# and the same as vitclip_base_k700_32x4x1_9views.py.
_base_ = ['./vitclip_base_k700_32x4x1_9views.py']
