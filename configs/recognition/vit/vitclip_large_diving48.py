# Original AIM config name, kept so that original commands work. It is the row
# Diving-48, ViT-L/14, 32x1x1 views, 3736 GFLOPs, 341M params, 38M tunable, acc@1 90.6
# and the same as vitclip_large_diving48_u32_1view.py.
_base_ = ['./vitclip_large_diving48_u32_1view.py']
