# AIM on a timm Vision Transformer (AIMTimmViT): any of timm's ViT family (ViT/DeiT, DINOv2,
# SigLIP, timm's CLIP towers). The configs in configs/recognition/timm/ set model_name, the
# read-out (global_pool) and in_channels of the head (the model's width).
#
# The data preprocessor gives no mean/std: the recognizer takes them from the timm pretrained
# config of model_name (e.g. DINOv2: ImageNet mean/std, SigLIP: 0.5/0.5); give mean/std here to
# override. `pretrained=None` builds random weights; nothing is downloaded: give a weights file or a
# Hugging Face hub-cache folder, e.g. --cfg-options model.backbone.pretrained=/path/model.safetensors
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='AIMTimmViT',
        model_name='vit_base_patch16_224.augreg_in21k',
        pretrained=None,
        num_frames=8,
        img_size=224,
        global_pool=None,
        drop_path_rate=0.2,
        adapter_scale=0.5,
        num_tadapter=1,
        tuning='adapter'),
    cls_head=dict(type='I3DHead', num_classes=400, in_channels=768, dropout_ratio=0.5),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'),
    test_cfg=dict(average_clips='prob', max_testing_views=None))
