# AIM on a CLIP ViT-L/14 image tower (width 1024, 24 blocks, 16 heads, 14 px patches).
#
# The CLIP weights stay frozen; the spatial, temporal and joint adapters, the temporal
# embedding, ln_post and the head train (tuning='adapter'). 400 classes, 8 frames:
# 341.44 M parameters, 38.26 M tunable (README: 341 / 38).
#
# `pretrained=None` builds random CLIP weights. To train, start from the OpenAI weights:
#   --cfg-options model.backbone.pretrained=openaiclip            (the cached OpenAI tower)
#   --cfg-options model.backbone.pretrained=/path/to/ViT-L-14.pt  (a local file)
# With 16 or 32 frames per clip, `model.backbone.with_cp=True` (gradient checkpointing per
# block) trades compute for activation memory; it does not change the results.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_CLIP',
        input_resolution=224,
        num_frames=8,
        patch_size=14,
        width=1024,
        layers=24,
        heads=16,
        drop_path_rate=0.2,
        num_tadapter=1,
        adapter_scale=0.5,
        adapter_ratio=0.25,
        pretrained=None,
        with_cp=False,
        tuning='adapter'),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=1024,
        dropout_ratio=0.5,
        label_smooth_eps=0.0),
    # CLIP's RGB mean/std on the 0-255 scale; frames stay uint8 until here.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.769, 116.74, 104.04],
        std=[68.493, 66.63, 70.321],
        format_shape='NCTHW',
        blending=None),
    # Scores are averaged over test views after softmax. Set max_testing_views (e.g. 3)
    # to push fewer views through the network at once when memory is short.
    test_cfg=dict(average_clips='prob', max_testing_views=None))
