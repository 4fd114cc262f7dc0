# Original AIM config name, kept so that original commands work. It is the row
# K700, ViT-L/14, 32x3x3 views, 33624 GFLOPs, 341M params, 38M tunable, acc@1 80.4
# and the same as vitclip_large_k700_32x4x1_9views.py.
_base_ = ['./vitclip_large_k700_32x4x1_9views.py']
