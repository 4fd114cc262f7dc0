"""Models: backbones, heads, recognizers, data preprocessors and losses."""

from . import backbones, data_preprocessors, heads, losses, recognizers, utils  # noqa: F401
