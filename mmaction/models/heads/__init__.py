from .i3d_head import I3DHead

__all__ = ["I3DHead"]
