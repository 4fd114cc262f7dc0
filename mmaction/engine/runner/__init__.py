"""Runner helpers: config translation and checks, distributed set-up, crash-safe files, resume."""

from .atomic_backend import AtomicLocalBackend
from .atomic_io import atomic_write_bytes, atomic_write_text
from .checkpoint_safety import register_checkpoint_safe_globals
from .config_check import ConfigError, check_cfg_options, check_config_keys, check_config_types
from .distributed import destroy_distributed, init_distributed, resolve_backend
from .legacy_config import convert_legacy_config, is_legacy_config
from .resume import find_resume_checkpoint, is_complete_checkpoint
from .runtime_config import apply_amp, configure_distributed, share_num_classes, stretch_schedulers, upgrade_engine_types

register_checkpoint_safe_globals()

__all__ = [
    "AtomicLocalBackend",
    "atomic_write_bytes",
    "atomic_write_text",
    "register_checkpoint_safe_globals",
    "ConfigError",
    "check_cfg_options",
    "check_config_types",
    "check_config_keys",
    "init_distributed",
    "destroy_distributed",
    "resolve_backend",
    "convert_legacy_config",
    "is_legacy_config",
    "find_resume_checkpoint",
    "is_complete_checkpoint",
    "apply_amp",
    "configure_distributed",
    "stretch_schedulers",
    "share_num_classes",
    "upgrade_engine_types",
]
