"""AIM video recognition package: frozen CLIP ViT + adapters, on mmengine."""

from .version import __version__

__all__ = ["__version__"]
