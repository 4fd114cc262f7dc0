# AIM on an ImageNet-21k ViT-B/16 (timm/Google layout: width 768, 12 blocks, 12 heads, 16 px
# patches, LayerNorm eps 1e-6, exact GELU, no norm before the blocks): the original's ViT_ImageNet.
#
# The ViT weights stay frozen; the adapters, the temporal embedding, ln_post and the head train
# (tuning='adapter'). 400 classes, 8 frames: 96.76 M parameters, 10.97 M tunable.
#
# `pretrained=None` builds random weights. To train, give the ImageNet-21k weights (a file the
# original read from checkpoints/jx_vit_base_p16_224-80ecf9dd.pth, a timm .safetensors file, or a
# Hugging Face hub-cache folder of a timm ViT-B/16), e.g.
#   --cfg-options model.backbone.pretrained=checkpoints/jx_vit_base_p16_224-80ecf9dd.pth
# Anything of another architecture raises PretrainedWeightsError (docs/backbones.md).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_ImageNet',
        img_size=224,
        patch_size=16,
        num_frames=8,
        embed_dim=768,
        depth=12,
        num_heads=12,
        drop_path_rate=0.1,
        adapter_scale=0.5,
        num_tadapter=1,
        pretrained=None,
        tuning='adapter'),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=768,
        dropout_ratio=0.5),
    # The ImageNet RGB mean/std (0-255) the original configs used with these weights.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'),
    test_cfg=dict(average_clips='prob', max_testing_views=None))
