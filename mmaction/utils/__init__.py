from .cli import quiet_logger, require_device, require_file
from .setup_env import register_all_modules

__all__ = ["quiet_logger", "register_all_modules", "require_device", "require_file"]
