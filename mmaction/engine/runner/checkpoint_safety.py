"""Makes every checkpoint mmengine reads go through :func:`mmaction.utils.safe_load.read_checkpoint_file`.

mmengine 0.10.7 reads ``load_from``, ``resume`` and ``init_cfg=dict(type='Pretrained', checkpoint=...)``
with ``CheckpointLoader.load_checkpoint``, which picks a loader by the file name's scheme. Its local
loader calls ``torch.load`` without ``weights_only`` (safe only while torch's default holds and no
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is set), cannot read TorchScript archives, and its ``http(s)://``
loader goes through ``torch.hub.load_state_dict_from_url``, which unpickles without the weights-only
restriction by default.
:func:`install_safe_checkpoint_loaders` registers, with mmengine's own ``CheckpointLoader.register_scheme``:

* local paths: :func:`read_checkpoint_file` (``weights_only=True`` with our allow-list, TorchScript
  archives read without running them, safetensors);
* ``http://`` / ``https://``: the file is downloaded to ``<torch hub dir>/checkpoints`` (kept there)
  with ``torch.hub.download_url_to_file``, then read as a local file;
* mmengine's other remote schemes (``torchvision://``, ``open-mmlab://``, ``mmcls://``, ``pavi://``,
  ``s3://``, ``petrel://`` ...): refused with a one-line error; download the file and give its path.

:func:`register_checkpoint_safe_globals` adds the same allow-list to ``torch.load`` itself, for code
that calls ``torch.load(weights_only=True)`` directly (tests read whole Runner checkpoints that way).
"""

import os
from typing import Any, Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.runner.checkpoint import CheckpointLoader

from mmaction.utils.safe_load import UnsafeCheckpointError, checkpoint_safe_globals, read_checkpoint_file

#: mmengine's remote schemes that we do not read (0.10.7); http(s) is handled by downloading first.
REFUSED_SCHEMES = ("torchvision://", "modelzoo://", "open-mmlab://", "openmmlab://", "mmcls://", "pavi://",
                   r"(\S+\:)?s3://", r"(\S+\:)?petrel://")

_REGISTERED = False
_INSTALLED = False


def register_checkpoint_safe_globals() -> None:
    """Adds :func:`~mmaction.utils.safe_load.checkpoint_safe_globals` to torch's ``weights_only``
    allow-list (once)."""
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, "add_safe_globals"):
        return
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    _REGISTERED = True


def load_from_local_safely(filename: str, map_location: Any = None) -> Any:
    """mmengine loader for local paths (logged by mmengine as the ``local_safely`` backend):
    :func:`read_checkpoint_file`; tensors come back on the CPU, mmengine's ``load_state_dict`` copies
    them to the model's device."""
    return read_checkpoint_file(filename)


def load_from_http_safely(filename: str, map_location: Any = None, model_dir: Optional[str] = None,
                         progress: bool = False) -> Any:
    """mmengine loader for ``http(s)://``: downloads once (rank 0; the others wait), then reads safely."""
    folder = model_dir or os.path.join(torch.hub.get_dir(), "checkpoints")
    dst = os.path.join(folder, os.path.basename(urlparse(filename).path) or "checkpoint.pth")
    rank, world_size = get_dist_info()
    if rank == 0 and not os.path.isfile(dst):
        os.makedirs(folder, exist_ok=True)
        torch.hub.download_url_to_file(filename, dst, progress=progress)
    if world_size > 1:
        barrier()
    return read_checkpoint_file(dst)


def load_from_refused_scheme(filename: str, map_location: Any = None, *args: Any, **kwargs: Any) -> Any:
    """mmengine loader for the remote schemes we do not read: one-line error naming ``filename``."""
    raise UnsafeCheckpointError(
        f"refused to read checkpoint {filename}: this scheme is read by mmengine with torch.load outside our safe "
        "reader; download the file and give its local path (or an http(s):// URL)")


def install_safe_checkpoint_loaders() -> None:
    """Registers the loaders above with mmengine's ``CheckpointLoader`` (once; replaces mmengine's)."""
    global _INSTALLED
    if _INSTALLED:
        return
    CheckpointLoader.register_scheme(prefixes="", loader=load_from_local_safely, force=True)
    CheckpointLoader.register_scheme(prefixes=("http://", "https://"), loader=load_from_http_safely, force=True)
    CheckpointLoader.register_scheme(prefixes=REFUSED_SCHEMES, loader=load_from_refused_scheme, force=True)
    register_checkpoint_safe_globals()
    _INSTALLED = True
