"""The bottom layer: small helpers that import no other part of ``mmaction``.

``mmaction.utils.setup_env.register_all_modules`` is the one exception (it imports every
sub-package so their classes are registered); it is not re-exported here, so that importing a
helper of this package never loads the rest of ``mmaction``.
"""

from .cli import quiet_logger, require_device, require_file

__all__ = ["quiet_logger", "require_device", "require_file"]
