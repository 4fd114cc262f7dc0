"""Pretrained CLIP visual-tower weights for the ``ViT_CLIP`` backbone: finding, reading, converting.

``ViT_CLIP`` names its parameters like OpenAI CLIP's visual tower without the ``visual.`` prefix and
without ``proj`` (the "CLIP layout")::

    conv1.weight                                   (D, 3, p, p)   no bias
    class_embedding                                (D,)
    positional_embedding                           (1 + (res // p) ** 2, D)
    ln_pre.{weight,bias}                           (D,)
    transformer.resblocks.{i}.attn.in_proj_weight  (3D, D)        q, k, v stacked
    transformer.resblocks.{i}.attn.in_proj_bias    (3D,)
    transformer.resblocks.{i}.attn.out_proj.{weight,bias}
    transformer.resblocks.{i}.{ln_1,ln_2}.{weight,bias}
    transformer.resblocks.{i}.mlp.{c_fc,c_proj}.{weight,bias}
    ln_post.{weight,bias}

plus the backbone's own parameters (``temporal_embedding``, adapters) that image checkpoints lack.

Accepted ``pretrained`` values (the format of a file is detected from its keys, not its name):

* ``'openaiclip'`` / ``'openai'``: the OpenAI tower matching the architecture; or a tower by name,
  ``'ViT-B/32'``, ``'ViT-B/16'``, ``'ViT-L/14'``, ``'ViT-L/14@336px'`` (``-`` for ``/`` also works).
  Read from ``<cache_dir or ~/.cache/clip>/<name>.pt``, downloaded there only when missing, and
  checked against its SHA-256 before use.
* a file: an OpenAI TorchScript archive, a ``torch.save`` state dict (``.pt/.pth/.bin``) or a
  ``.safetensors`` file, in any of these layouts: OpenAI / open_clip (``visual.*``), timm
  (``cls_token``, ``pos_embed``, ``blocks.N.*``), Hugging Face ``CLIPVisionModel``
  (``[clip.]vision_model.embeddings.*``, ``encoder.layers.N.*``), the CLIP layout itself, or a
  checkpoint of a whole recognizer (this project's or AIM's released ones: ``backbone.*``, whose
  adapters and temporal embedding are kept). Dicts nested under ``state_dict`` / ``model`` /
  ``module`` and DDP ``module.`` prefixes are unwrapped.
* a folder holding one of ``model.safetensors``, ``open_clip_model.safetensors``,
  ``pytorch_model.bin``, ``open_clip_pytorch_model.bin`` (a Hugging Face / open_clip download).
"""

import math
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from logging import Logger
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import torch
from mmengine.logging import MMLogger
from timm.layers import resample_abs_pos_embed
from torch import nn

from mmaction.utils.safe_load import ChecksumMismatchError, cached_sha256, download_with_sha256, read_checkpoint_file
from mmaction.utils.safe_load import sha256_of_file  # noqa: F401 - part of this module's interface
from mmaction.utils.safe_load import unwrap_state_dict as safe_unwrap_state_dict
from ..utils.temporal_embedding import interpolate_temporal_embedding

StateDict = Dict[str, torch.Tensor]
LoggerLike = Union[Logger, MMLogger]


class PretrainedWeightsError(ValueError):
    """Pretrained weights that do not fit the model (architecture, key layout or tensor shapes);
    the message names the file, the key and both shapes. The tools report it as one line."""


# --------------------------------------------------------------------------------------------------
# OpenAI towers and the download cache
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClipTower:
    """One released OpenAI CLIP visual tower.

    Attributes:
        name: file stem used by OpenAI's ``clip`` package cache (``<name>.pt``), e.g. ``'ViT-B-16'``.
        url: download address.
        sha256: SHA-256 of the file (the hex folder name in ``url``).
        width: embedding width D.
        patch_size: patch size p.
        input_resolution: image size the tower was trained at.
        layers: number of transformer blocks.
    """

    name: str
    url: str
    sha256: str
    width: int
    patch_size: int
    input_resolution: int
    layers: int


_OPENAI_URL = "https://openaipublic.azureedge.net/clip/models/{sha}/{name}.pt"


def _tower(name: str, sha: str, width: int, patch: int, res: int, layers: int) -> ClipTower:
    return ClipTower(name, _OPENAI_URL.format(sha=sha, name=name), sha, width, patch, res, layers)


#: The released OpenAI visual towers, keyed by their CLIP names. Tests may replace entries.
OPENAI_CLIP_TOWERS: Dict[str, ClipTower] = {
    "ViT-B/32": _tower("ViT-B-32", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
                       768, 32, 224, 12),
    "ViT-B/16": _tower("ViT-B-16", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f",
                       768, 16, 224, 12),
    "ViT-L/14": _tower("ViT-L-14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
                       1024, 14, 224, 24),
    "ViT-L/14@336px": _tower("ViT-L-14-336px",
                             "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02",
                             1024, 14, 336, 24),
}

#: ``pretrained`` values that pick the OpenAI tower from the backbone's architecture.
OPENAI_AUTO_NAMES = ("openaiclip", "openai")

DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "clip")


def _supported_towers_text() -> str:
    return ", ".join(
        f"{key} (width={t.width}, patch_size={t.patch_size}, input_resolution={t.input_resolution}, "
        f"layers={t.layers})"
        for key, t in OPENAI_CLIP_TOWERS.items()
    )


def _normalise_tower_name(name: str) -> str:
    return name.strip().lower().replace("/", "-").replace("@", "-")


def find_openai_tower(pretrained: str, *, width: int, patch_size: int, input_resolution: int,
                      layers: int, logger: Optional[LoggerLike] = None) -> Optional[ClipTower]:
    """Return the OpenAI tower that ``pretrained`` names, or ``None`` when it names none.

    ``'openaiclip'`` / ``'openai'`` pick the tower whose (width, patch_size, input_resolution)
    match; when only the resolution differs the nearest-resolution tower of that width and patch is
    used (its positional embedding is then interpolated). A tower name (``'ViT-B/16'``,
    ``'ViT-B-16'``, ``'ViT-L/14@336px'``, ...) picks that tower.

    Raises:
        ValueError: ``pretrained`` asks for automatic choice but no tower has this width and patch
            size (the message lists the supported towers).
    """
    logger = logger or MMLogger.get_current_instance()
    key = pretrained.strip().lower()
    if key in OPENAI_AUTO_NAMES:
        exact = [t for t in OPENAI_CLIP_TOWERS.values()
                 if (t.width, t.patch_size, t.input_resolution) == (width, patch_size, input_resolution)]
        if exact:
            return exact[0]
        near = [t for t in OPENAI_CLIP_TOWERS.values() if (t.width, t.patch_size) == (width, patch_size)]
        if not near:
            raise PretrainedWeightsError(
                f"pretrained='{pretrained}': no OpenAI CLIP tower has width={width}, "
                f"patch_size={patch_size} (input_resolution={input_resolution}, layers={layers}). "
                f"Supported towers: {_supported_towers_text()}. Give a local checkpoint path instead.")
        tower = min(near, key=lambda t: abs(t.input_resolution - input_resolution))
        logger.warning(
            f"pretrained='{pretrained}': no OpenAI tower is trained at input_resolution="
            f"{input_resolution}; using {tower.name} ({tower.input_resolution} px) and interpolating "
            f"its positional embedding.")
        return tower
    wanted = _normalise_tower_name(pretrained)
    for key_name, tower in OPENAI_CLIP_TOWERS.items():
        if wanted in (_normalise_tower_name(key_name), _normalise_tower_name(tower.name)):
            return tower
    return None


def fetch_openai_tower(tower: ClipTower, cache_dir: Optional[str] = None,
                       logger: Optional[LoggerLike] = None) -> str:
    """Path of ``tower``'s file in the cache, downloading it there first when it is missing.

    The cache is ``cache_dir`` or ``~/.cache/clip`` (the one OpenAI's ``clip`` package uses), the file
    ``<tower.name>.pt``. A download (``torch.hub.download_url_to_file`` with ``hash_prefix``) goes to
    a temporary name, is checked against ``tower.sha256`` and only then moved into place (safe when
    several processes start at once); see :func:`mmaction.utils.safe_load.download_with_sha256`.

    Raises:
        RuntimeError: the cached or downloaded file's SHA-256 is not ``tower.sha256``, or the
            download failed.
    """
    logger = logger or MMLogger.get_current_instance()
    cache_dir = os.path.expanduser(cache_dir or DEFAULT_CACHE_DIR)
    dst = os.path.join(cache_dir, f"{tower.name}.pt")
    if os.path.isfile(dst):
        found = cached_sha256(dst)
        if found != tower.sha256:
            raise RuntimeError(
                f"SHA-256 mismatch for the cached CLIP weights {dst}: expected {tower.sha256}, found "
                f"{found}. The file is damaged or is not {tower.name}; delete it to download it again.")
        return dst
    os.makedirs(cache_dir, exist_ok=True)
    logger.info(f"Downloading OpenAI CLIP {tower.name} from {tower.url} to {dst}")
    try:
        download_with_sha256(tower.url, dst, tower.sha256)
    except ChecksumMismatchError:
        raise
    except Exception as err:  # network errors come in many types
        raise PretrainedWeightsError(  # one line from the tools, not a chain of tracebacks
            f"Could not download OpenAI CLIP {tower.name} from {tower.url} to {dst}: {err}. Without "
            f"network access, copy the file to {dst} or set pretrained to a local checkpoint.") from None
    return dst


# --------------------------------------------------------------------------------------------------
# Reading checkpoint files
# --------------------------------------------------------------------------------------------------
_FOLDER_FILES = ("model.safetensors", "open_clip_model.safetensors", "pytorch_model.bin",
                 "open_clip_pytorch_model.bin")


def read_checkpoint(path: str, logger: Optional[LoggerLike] = None) -> Any:
    """Read a checkpoint file without executing code from it.

    See :func:`mmaction.utils.safe_load.read_checkpoint_file`: safetensors; TorchScript archives
    (OpenAI's ``.pt``) read without TorchScript's loader; anything else through
    ``torch.load(weights_only=True)``, unknown pickled classes (e.g. the optimizer/log state of a
    training checkpoint) kept as inert placeholders, calls to unknown functions refused.

    Args:
        path: file path.
        logger: where to report what was ignored.

    Returns:
        The loaded object (usually a dict, possibly nested).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeCheckpointError: reading the file would run code from it (a ``RuntimeError``).
        CheckpointReadError: the file could not be read (a ``RuntimeError``).
    """
    return read_checkpoint_file(path, logger)


def unwrap_state_dict(obj: Any, source: str) -> StateDict:
    """Find the flat ``{name: tensor}`` dict in a loaded checkpoint and strip DDP/compile prefixes
    (:func:`mmaction.utils.safe_load.unwrap_state_dict`).

    Raises:
        PretrainedWeightsError: no tensors are found; the message names ``source``.
    """
    try:
        return safe_unwrap_state_dict(obj, source)
    except ValueError as err:
        raise PretrainedWeightsError(str(err)) from None


# --------------------------------------------------------------------------------------------------
# Layout detection and conversion
# --------------------------------------------------------------------------------------------------
def _prefixes(keys: Iterable[str], suffix: str, companion: str) -> List[str]:
    keyset = set(keys)
    found = [k[: -len(suffix)] for k in keyset if k.endswith(suffix)]
    return sorted((p for p in found if p + companion in keyset), key=len)


def detect_layout(state: StateDict) -> Tuple[str, str]:
    """Detect the key layout of a flat state dict.

    Returns:
        ``(layout, prefix)`` with layout ``'clip'`` (OpenAI / open_clip / this project; prefix e.g.
        ``'visual.'``, ``'backbone.'`` or ``''``), ``'timm'`` or ``'hf'``.

    Raises:
        ValueError: no known layout matches (the message shows some keys).
    """
    candidates = [
        ("clip", _prefixes(state, "conv1.weight", "class_embedding")),
        ("timm", _prefixes(state, "patch_embed.proj.weight", "cls_token")),
        ("hf", _prefixes(state, "embeddings.patch_embedding.weight", "embeddings.class_embedding")),
    ]
    found = [(layout, prefixes[0]) for layout, prefixes in candidates if prefixes]
    if not found:
        sample = sorted(state)[:12]
        raise ValueError(
            "not a CLIP visual tower: expected OpenAI/open_clip keys ('visual.conv1.weight', "
            "'visual.class_embedding'), timm keys ('cls_token', 'patch_embed.proj.weight'), Hugging "
            "Face keys ('vision_model.embeddings.patch_embedding.weight') or a backbone checkpoint "
            f"('backbone.conv1.weight'); the first keys are {sample}")
    return min(found, key=lambda item: len(item[1]))


def _strip_prefix(state: StateDict, prefix: str) -> StateDict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _convert_clip(state: StateDict) -> Tuple[StateDict, List[str]]:
    """CLIP layout (prefix already removed): drop the output projection ``proj``."""
    return {k: v for k, v in state.items() if k != "proj"}, []


_TIMM_BLOCK_RENAMES = {
    "norm1": "ln_1", "norm2": "ln_2", "attn.qkv.weight": "attn.in_proj_weight",
    "attn.qkv.bias": "attn.in_proj_bias", "attn.proj": "attn.out_proj", "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
}
_TIMM_TOP_RENAMES = {"norm_pre": "ln_pre", "norm": "ln_post"}


def _rename(rest: str, table: Dict[str, str]) -> Optional[str]:
    for old, new in table.items():
        if rest == old or rest.startswith(old + "."):
            return new + rest[len(old):]
    return None


def _convert_timm(state: StateDict) -> Tuple[StateDict, List[str]]:
    """timm ``vit_*_clip_*`` names -> CLIP layout; a patch-embedding bias is folded into the positions."""
    out: StateDict = {}
    unknown: List[str] = []
    for key, value in state.items():
        block = re.match(r"blocks\.(\d+)\.(.+)$", key)
        if key == "cls_token":
            out["class_embedding"] = value.reshape(-1)
        elif key == "pos_embed":
            out["positional_embedding"] = value.reshape(-1, value.shape[-1])
        elif key == "patch_embed.proj.weight":
            out["conv1.weight"] = value
        elif key == "patch_embed.proj.bias" or key.startswith("head."):
            continue  # bias handled below; the classifier head is not part of the tower
        elif block:
            new = _rename(block.group(2), _TIMM_BLOCK_RENAMES)
            if new is None:
                unknown.append(key)
            else:
                out[f"transformer.resblocks.{block.group(1)}.{new}"] = value
        else:
            new = _rename(key, _TIMM_TOP_RENAMES)
            if new is None:
                unknown.append(key)
            else:
                out[new] = value
    bias = state.get("patch_embed.proj.bias")
    if bias is not None and "positional_embedding" in out and bool(bias.ne(0).any()):
        # conv(x) + b + pos == conv_nobias(x) + (pos + b) for every patch token (not the class token)
        pos = out["positional_embedding"].float().clone()
        pos[1:] += bias.float()
        out["positional_embedding"] = pos
    return out, unknown


_HF_BLOCK_RENAMES = {
    "layer_norm1": "ln_1", "layer_norm2": "ln_2", "self_attn.out_proj": "attn.out_proj",
    "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj",
}
_HF_TOP_RENAMES = {
    "embeddings.class_embedding": "class_embedding", "embeddings.patch_embedding": "conv1",
    "embeddings.position_embedding.weight": "positional_embedding", "pre_layrnorm": "ln_pre",
    "post_layernorm": "ln_post",
}


def _convert_hf(state: StateDict) -> Tuple[StateDict, List[str]]:
    """Hugging Face ``CLIPVisionModel`` names -> CLIP layout; q/k/v projections concatenated."""
    out: StateDict = {}
    unknown: List[str] = []
    qkv: Dict[Tuple[str, str], Dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if key == "embeddings.position_ids":
            continue  # an index buffer, not a weight
        layer = re.match(r"encoder\.layers\.(\d+)\.(.+)$", key)
        if layer:
            rest = layer.group(2)
            split = re.match(r"self_attn\.([qkv])_proj\.(weight|bias)$", rest)
            if split:
                qkv.setdefault((layer.group(1), split.group(2)), {})[split.group(1)] = value
                continue
            new = _rename(rest, _HF_BLOCK_RENAMES)
            if new is None:
                unknown.append(key)
            else:
                out[f"transformer.resblocks.{layer.group(1)}.{new}"] = value
            continue
        new = _rename(key, _HF_TOP_RENAMES)
        if new is None:
            unknown.append(key)
        else:
            out[new] = value
    for (index, kind), parts in qkv.items():
        if set(parts) != {"q", "k", "v"}:
            raise ValueError(f"layer {index}: found only the {sorted(parts)} projections' {kind}, "
                             "need q, k and v")
        name = "in_proj_weight" if kind == "weight" else "in_proj_bias"
        out[f"transformer.resblocks.{index}.attn.{name}"] = torch.cat(
            [parts["q"], parts["k"], parts["v"]], dim=0)
    return out, unknown


_CONVERTERS = {"clip": _convert_clip, "timm": _convert_timm, "hf": _convert_hf}


# --------------------------------------------------------------------------------------------------
# Positional / temporal embedding resampling
# --------------------------------------------------------------------------------------------------
def interpolate_positional_embedding(pos_embed: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """Resample a CLIP positional embedding to another square patch grid (timm's ``resample_abs_pos_embed``).

    The class position (row 0) is kept; the ``g x g`` grid of patch positions is resized bicubically
    to ``g' x g'`` with ``num_tokens = 1 + g' ** 2``.

    Args:
        pos_embed: (1 + g ** 2, D) or (1, 1 + g ** 2, D).
        num_tokens: target length 1 + g' ** 2.

    Returns:
        (num_tokens, D) float32 (a 3-D input keeps its leading 1).

    Raises:
        ValueError: a length is not 1 + a perfect square.
    """
    squeeze = pos_embed.dim() == 3
    pos = pos_embed.reshape(-1, pos_embed.shape[-1]).float()
    old_grid = math.isqrt(pos.shape[0] - 1)
    new_grid = math.isqrt(num_tokens - 1)
    if old_grid * old_grid != pos.shape[0] - 1 or new_grid * new_grid != num_tokens - 1:
        raise ValueError(f"positional_embedding lengths {pos.shape[0]} -> {num_tokens} are not "
                         "1 + a square grid of patches")
    if old_grid != new_grid:
        pos = resample_abs_pos_embed(pos[None], [new_grid, new_grid], [old_grid, old_grid], num_prefix_tokens=1)[0]
    return pos.unsqueeze(0) if squeeze else pos


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------
def _resolve_source(pretrained: str, arch: Dict[str, int], cache_dir: Optional[str],
                    logger: LoggerLike) -> str:
    tower = find_openai_tower(pretrained, logger=logger, **arch)
    if tower is not None:
        return fetch_openai_tower(tower, cache_dir, logger)
    path = os.path.expanduser(pretrained)
    if os.path.isdir(path):
        for name in _FOLDER_FILES:
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        raise FileNotFoundError(f"pretrained folder {path} holds none of {list(_FOLDER_FILES)}")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"pretrained='{pretrained}' is neither a file nor a folder nor one of "
            f"{list(OPENAI_AUTO_NAMES)} / {list(OPENAI_CLIP_TOWERS)}")
    return path


def _block_indices(state: StateDict) -> List[int]:
    return sorted({int(m.group(1)) for k in state
                   for m in [re.match(r"transformer\.resblocks\.(\d+)\.", k)] if m})


def _check_architecture(state: StateDict, source: str, width: int, patch_size: int,
                        input_resolution: int, layers: int) -> None:
    for key in ("conv1.weight", "class_embedding", "positional_embedding"):
        if key not in state:
            raise PretrainedWeightsError(f"{source}: the CLIP key '{key}' is missing after conversion")
    conv = tuple(state["conv1.weight"].shape)
    blocks = _block_indices(state)
    file_arch = (f"the file holds a tower of width={conv[0]}, patch_size={conv[-1]}, "
                 f"layers={len(blocks)}")
    expected = (width, 3, patch_size, patch_size)
    if conv != expected:
        raise PretrainedWeightsError(
            f"{source}: key 'conv1.weight' has shape {conv} in the file but the model (width={width}, "
            f"patch_size={patch_size}) expects {expected}; {file_arch}.")
    pos = tuple(state["positional_embedding"].shape)
    if pos[-1] != width:
        raise PretrainedWeightsError(f"{source}: key 'positional_embedding' has shape {pos} in the file but the "
                         f"model expects width {width} in its last dimension")
    if len(blocks) != layers:
        raise PretrainedWeightsError(
            f"{source}: the file has {len(blocks)} transformer blocks (transformer.resblocks.{{i}}) "
            f"but the model has layers={layers}; {file_arch}.")


def load_clip_visual_state_dict(pretrained: str, *, width: int, patch_size: int,
                                input_resolution: int, layers: int, cache_dir: Optional[str] = None,
                                logger: Optional[LoggerLike] = None) -> StateDict:
    """Load a CLIP visual tower from any supported source, converted to the CLIP layout.

    Args:
        pretrained: ``'openaiclip'`` / ``'openai'``, an OpenAI tower name (``'ViT-B/16'``...), a
            checkpoint file or a folder (see the module docstring).
        width: embedding width D of the model.
        patch_size: patch size p of the model.
        input_resolution: image size of the model; the positional embedding is resampled to
            ``1 + (input_resolution // patch_size) ** 2`` positions when the file's grid differs.
        layers: number of transformer blocks of the model.
        cache_dir: folder for the OpenAI downloads (default ``~/.cache/clip``).
        logger: defaults to ``MMLogger.get_current_instance()``.

    Returns:
        float32 tensors keyed in the CLIP layout (no ``proj``); a backbone checkpoint also keeps
        its adapters and ``temporal_embedding``.

    Raises:
        FileNotFoundError: the file/folder does not exist.
        ValueError: unknown key layout, or the file's architecture differs from the model's (the
            message names the file, the key and both shapes).
        RuntimeError: SHA-256 mismatch or failed download of an OpenAI tower; unreadable file.
    """
    logger = logger or MMLogger.get_current_instance()
    arch = dict(width=width, patch_size=patch_size, input_resolution=input_resolution, layers=layers)
    return _load_converted(pretrained, arch, cache_dir, logger)[1]


def _load_converted(pretrained: str, arch: Dict[str, int], cache_dir: Optional[str],
                    logger: LoggerLike) -> Tuple[str, StateDict]:
    """:func:`load_clip_visual_state_dict`, also returning the path the weights came from."""
    source = _resolve_source(pretrained, arch, cache_dir, logger)
    raw = unwrap_state_dict(read_checkpoint(source, logger), source)
    try:
        layout, prefix = detect_layout(raw)
        converted, unknown = _CONVERTERS[layout](_strip_prefix(raw, prefix))
    except ValueError as err:
        raise PretrainedWeightsError(f"{source}: {err}") from err
    if unknown:
        raise PretrainedWeightsError(
            f"{source}: {len(unknown)} {layout}-layout key(s) have no place in CLIP's visual tower (another "
            f"architecture, e.g. LayerScale or register tokens?): {_summarise(unknown)}")
    state = OrderedDict((k, v.detach().float().contiguous()) for k, v in converted.items()
                        if v.is_floating_point())
    pos = state["positional_embedding"] if "positional_embedding" in state else None
    if pos is not None and pos.dim() == 3:
        state["positional_embedding"] = pos.reshape(-1, pos.shape[-1])
    _check_architecture(state, source, **arch)
    input_resolution, patch_size = arch["input_resolution"], arch["patch_size"]
    num_tokens = 1 + (input_resolution // patch_size) ** 2
    if state["positional_embedding"].shape[0] != num_tokens:
        old = state["positional_embedding"].shape[0]
        try:
            state["positional_embedding"] = interpolate_positional_embedding(
                state["positional_embedding"], num_tokens)
        except ValueError as err:
            raise PretrainedWeightsError(f"{source}: key 'positional_embedding': {err}") from err
        logger.info(f"{source}: interpolated positional_embedding from {old} to {num_tokens} "
                    f"positions (input_resolution={input_resolution}, patch_size={patch_size})")
    logger.info(f"Loaded {len(state)} CLIP visual tensors from {source} ({layout} layout"
                f"{', prefix ' + repr(prefix) if prefix else ''})")
    return source, state


def _summarise(keys: Iterable[str], limit: int = 30) -> str:
    """Collapse block indices (``resblocks.3.`` -> ``resblocks.*.``) to keep key lists readable."""
    patterns = list(OrderedDict.fromkeys(re.sub(r"\.\d+\.", ".*.", k) for k in keys))
    text = ", ".join(patterns[:limit])
    return text + (f", ... ({len(patterns) - limit} more)" if len(patterns) > limit else "")


def load_pretrained_clip(module: nn.Module, pretrained: str, *, width: int, patch_size: int,
                         input_resolution: int, layers: int, cache_dir: Optional[str] = None,
                         logger: Optional[LoggerLike] = None) -> Tuple[List[str], List[str]]:
    """Load pretrained CLIP visual weights into ``module``; weights of another architecture are an error.

    ``positional_embedding`` is resampled to the module's grid and a backbone checkpoint's
    ``temporal_embedding`` to the module's frame count when they differ; any other key whose shape
    differs from the module's is an error, and so is a CLIP tensor of the module the file lacks or one
    the module has no place for (keys of the file CLIP's tower has no place for already fail in
    :func:`load_clip_visual_state_dict`). Only the module's own additions (adapters,
    ``temporal_embedding``, ``proj``) may be missing (logged as info); adaptation weights of a
    recognizer checkpoint the module lacks are left unused (a warning).

    Args:
        module: a module named in the CLIP layout (e.g. ``ViT_CLIP``).
        pretrained: see :func:`load_clip_visual_state_dict`.
        width, patch_size, input_resolution, layers: the module's architecture.
        cache_dir: folder for the OpenAI downloads.
        logger: defaults to ``MMLogger.get_current_instance()``.

    Returns:
        ``(missing_keys, unexpected_keys)`` of ``module.load_state_dict(..., strict=False)``.

    Raises:
        PretrainedWeightsError: a tensor's shape does not fit the module (message names the file, the
            key, the module's and the file's shapes), a CLIP tensor is missing or has no place, or any
            error of :func:`load_clip_visual_state_dict`.
    """
    logger = logger or MMLogger.get_current_instance()
    arch = dict(width=width, patch_size=patch_size, input_resolution=input_resolution, layers=layers)
    source, state = _load_converted(pretrained, arch, cache_dir, logger)
    own = module.state_dict()
    for key, value in list(state.items()):
        if key not in own or own[key].shape == value.shape:
            continue
        target = own[key].shape
        if key == "positional_embedding" and value.shape[-1] == target[-1]:
            state[key] = interpolate_positional_embedding(value, target[-2]).reshape(target)
        elif (key == "temporal_embedding" and value.dim() == len(target) == 3
              and value.shape[-1] == target[-1]):
            logger.info(f"Interpolating temporal_embedding from {value.shape[1]} to {target[1]} frames")
            state[key] = interpolate_temporal_embedding(value, target[1])
        else:
            raise PretrainedWeightsError(
                f"{source}: key '{key}' has shape {tuple(value.shape)} in the checkpoint but the "
                f"model expects {tuple(target)}; the checkpoint does not fit this architecture.")
    own_keys = set(own)
    pretrained_missing = [k for k in own if _is_clip_key(k) and k not in state]
    if pretrained_missing:
        raise PretrainedWeightsError(
            f"{source}: CLIP weights of the model are not in the file (another architecture, e.g. a ViT "
            f"without ln_pre?): {_summarise(pretrained_missing)}")
    foreign = [k for k in state if k not in own_keys and _is_clip_key(k)]
    if foreign:
        raise PretrainedWeightsError(f"{source}: CLIP weights the model has no place for: {_summarise(foreign)}")
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing:
        logger.info(f"Not in {source} (kept at their initial values): {_summarise(missing)}")
    if unexpected:
        logger.warning(f"Adaptation weights of {source} the model does not have (left unused): "
                       f"{_summarise(unexpected)}")
    return list(missing), list(unexpected)


_CLIP_KEY = re.compile(
    r"^(conv1\.weight|class_embedding|positional_embedding|ln_pre\.|ln_post\.|"
    r"transformer\.resblocks\.\d+\.(attn\.(in_proj_weight|in_proj_bias|out_proj\.)|ln_1\.|ln_2\.|"
    r"mlp\.c_fc\.|mlp\.c_proj\.))")


def _is_clip_key(key: str) -> bool:
    """Whether ``key`` is one of the pretrained CLIP tower's own parameters."""
    return bool(_CLIP_KEY.match(key))
