"""Registers every module of the package and sets mmengine's default scope."""

import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Imports every sub-package so that its classes land in the registries, and mmengine's
    runner, whose loops, hooks, optimizer wrappers and schedulers configs name as well
    (``EpochBasedTrainLoop``, ``LoggerHook`` ...; they reach our child registries through their
    parents).

    Args:
        init_default_scope: also make ``'mmaction'`` mmengine's default scope, so
            ``type='VideoDataset'`` in a config resolves to our class.
    """
    import mmengine.runner  # noqa: F401

    import mmaction.datasets  # noqa: F401
    import mmaction.engine  # noqa: F401
    import mmaction.evaluation  # noqa: F401
    import mmaction.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != "mmaction":
        if current is not None:
            warnings.warn(
                f"The current default scope {current.scope_name!r} is not 'mmaction'; "
                "a new scope 'mmaction' is created and used."
            )
            name = f"mmaction-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')}"
            DefaultScope.get_instance(name, scope_name="mmaction")
        else:
            DefaultScope.get_instance("mmaction", scope_name="mmaction")
