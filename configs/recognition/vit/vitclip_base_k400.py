# Original AIM config name, kept so that original commands work. It is the row
# K400, ViT-B/16, 8x3x1 views, 606 GFLOPs, 97M params, 11M tunable, acc@1/5 83.9/96.3
# and the same as vitclip_base_k400_8x16x1_3views.py.
_base_ = ['./vitclip_base_k400_8x16x1_3views.py']
