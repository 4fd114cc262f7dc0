# Original AIM config name, kept so that original commands work. It is the row
# Diving-48, ViT-B/16, 32x1x1 views, 809 GFLOPs, 97M params, 11M tunable, acc@1 88.9
# and the same as vitclip_base_diving48_u32_1view.py.
_base_ = ['./vitclip_base_diving48_u32_1view.py']
