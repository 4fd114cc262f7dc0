# The original AIM file name; the experiment is vit_imagenet_base_sthv2_u8_3views.py.
_base_ = ['./vit_imagenet_base_sthv2_u8_3views.py']
