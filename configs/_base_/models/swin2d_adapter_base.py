# AIM on a Swin-B image model (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 7), 32 frames,
# tubelets of 2 frames x 4 x 4 pixels (the original's SwinTransformer2D_Adapter).
#
# The Swin weights stay frozen; only the adapters train (tuning='adapter', the original rule:
# its tools/train.py froze every parameter whose name lacks 'Adapter', so the final `norm` and
# the temporal bias tables stay at their values) + the head. 400 classes, 32 frames:
# 95.93 M parameters, 8.76 M in adapters (+0.41 M head).
#
# `pretrained=None` builds random Swin weights. To train, start from Microsoft's Swin-B
# ImageNet-22k release or a timm swin_base_patch4_window7_224 file:
#   --cfg-options model.backbone.pretrained=/path/to/swin_base_patch4_window7_224_22k.pth
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='SwinTransformer2D_Adapter',
        pretrained=None,
        img_size=224,
        patch_size=(2, 4, 4),
        num_frames=32,
        embed_dim=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        window_size=7,
        mlp_ratio=4.0,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.2,
        patch_norm=True,
        frozen_stages=-1,
        t_relative=True,
        use_checkpoint=False,
        adapter_ratio=0.25,
        adapter_scale=0.5,
        tuning='adapter'),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=1024,
        dropout_ratio=0.5,
        label_smooth_eps=0.0),
    # ImageNet RGB mean/std on the 0-255 scale (the Swin weights' own); frames stay uint8 until here.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
        blending=None),
    # Scores are averaged over test views after softmax; max_testing_views bounds how many views
    # go through the network at once (memory), it does not change the result.
    test_cfg=dict(average_clips='prob', max_testing_views=None))
