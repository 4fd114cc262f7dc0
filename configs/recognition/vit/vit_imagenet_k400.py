# The original AIM file name; the experiment is vit_imagenet_base_k400_8x16x1_3views.py.
_base_ = ['./vit_imagenet_base_k400_8x16x1_3views.py']
