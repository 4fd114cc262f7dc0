# Original AIM config name, kept so that original commands work. It is the row
# K400, ViT-L/14, 8x3x1 views, 2902 GFLOPs, 341M params, 38M tunable, acc@1/5 86.8/97.2
# and the same as vitclip_large_k400_8x16x1_3views.py.
_base_ = ['./vitclip_large_k400_8x16x1_3views.py']
