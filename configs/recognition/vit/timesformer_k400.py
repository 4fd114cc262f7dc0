# The original AIM file name; the experiment is timesformer_base_k400_8x16x1_3views.py.
_base_ = ['./timesformer_base_k400_8x16x1_3views.py']
