# The frame-averaging baseline of the CPU demo (see docs/get_started.md):
#
#   bash tools/dist_train.sh configs/recognition/vit/vitclip_tiny_demo_frame_avg.py 1 --validate --test-last
#
# Same data, same pre-trained tiny image model, same schedule as vitclip_tiny_demo.py, but the
# backbone is frozen completely (tuning='linear_probe'): the adapters keep their zero
# initialisation (the skip adapters are the identity, the others output 0) and the temporal
# embedding stays 0, so the backbone is the plain image model applied to every frame on its
# own. The head averages its per-frame features over time and a linear layer classifies the
# average: the features of a video and of the same video played backwards are identical, so
# "moving left" and "moving right" (and "up" / "down") cannot be told apart. Only the head
# trains. Comparing the two configs shows what AIM's temporal adaptation adds.
_base_ = ['./vitclip_tiny_demo.py']

model = dict(backbone=dict(tuning='linear_probe'))

# A linear head on frozen features takes a higher learning rate than the adapters.
optim_wrapper = dict(optimizer=dict(lr=1e-2))

work_dir = './work_dirs/vitclip_tiny_demo_frame_avg'
