"""The one reader of weight and checkpoint files: tensors and plain data only, no code from the file runs.

Every file the project loads (``pretrained=``, ``load_from``, ``--resume``, ``init_cfg``'s
``Pretrained``, ``tools/test.py``, the demo, feature extraction) goes through
:func:`read_checkpoint_file`:

* ``.safetensors`` (or a file that starts like one): ``safetensors.torch.load_file``.
* a TorchScript archive (a zip with ``code/`` and ``constants.pkl``, e.g. OpenAI's ``ViT-B-16.pt``):
  never TorchScript's own loader. Its ``data.pkl`` is unpickled by :class:`_TorchScriptUnpickler`, which
  builds tensors from the raw storages (``data/N``) and turns each ``__torch__.*`` module into an
  inert record of its attributes; the parameter and buffer names come from the ``__parameters__`` /
  ``__buffers__`` lines of the archive's ``code/`` text (read as text, never run). An archive whose
  code defines ``__setstate__`` (code that TorchScript's loader would run) is refused.
* any other zip file (``torch.save``): ``torch.load(weights_only=True)`` with the allow-list of
  :func:`checkpoint_safe_globals` (what mmengine's checkpoints hold). A class the allow-list does
  not know (e.g. a training script's own class in a released file's ``meta``) becomes an inert
  stand-in that keeps nothing; *calling* an unknown global (``posix.system``, ``builtins.eval``, ...:
  what a pickle payload does) is refused.
* a legacy (non-zip) ``torch.save`` file or a raw pickle: ``torch.load(weights_only=True)`` with the
  same allow-list and no stand-ins; any unknown global is refused.

A refused file raises :class:`UnsafeCheckpointError`, an unreadable one :class:`CheckpointReadError`;
both are one line naming the file. Nothing turns these checks off.

This module imports no other ``mmaction`` module (it sits at the bottom of the import graph).
"""

import contextlib
import hashlib
import io
import os
import pickle
import pickletools
import re
import sys
import warnings
import zipfile
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, MMLogger, print_log

StateDict = Dict[str, torch.Tensor]


class CheckpointReadError(RuntimeError):
    """A weights/checkpoint file that could not be read (damaged, or not a checkpoint at all);
    the message is one line naming the file."""


class UnsafeCheckpointError(CheckpointReadError):
    """A file refused because reading it would run code from it; the message is one line naming
    the file and what was refused (e.g. the global ``posix.system``)."""


# --------------------------------------------------------------------------------------------------
# The allow-list of plain types that mmengine's checkpoints hold
# --------------------------------------------------------------------------------------------------
def _numpy_globals() -> list:
    core = getattr(np, "_core", None) or np.core  # numpy 2: np._core; numpy 1: np.core
    multiarray = core.multiarray
    found = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar]
    dtypes_module = getattr(np, "dtypes", None)
    if dtypes_module is not None:
        found += [obj for name, obj in vars(dtypes_module).items() if isinstance(obj, type) and name.endswith("DType")]
    # Files written with numpy 1.x name the functions under numpy.core.multiarray.
    aliased = [
        (multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
        (multiarray.scalar, "numpy.core.multiarray.scalar"),
    ]
    return found + aliased


def restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` for unpickling: only public attributes of ``HistoryBuffer`` (sub)classes.

    mmengine's ``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')``.

    Raises:
        pickle.UnpicklingError: for any other object or a private/dunder name.
    """
    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and isinstance(name, str) and not name.startswith("_"):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f"refusing getattr({obj!r}, {name!r}) while loading a checkpoint: only public attributes of "
        "HistoryBuffer may be looked up"
    )


def checkpoint_safe_globals() -> list:
    """The objects (or ``(object, 'module.name')`` pairs) allow-listed for ``torch.load(weights_only=True)``:
    mmengine's ``HistoryBuffer``, numpy arrays/dtypes/scalars, ``bytes`` and a ``getattr`` limited to
    ``HistoryBuffer``. None of them can run code named by the file."""
    return [HistoryBuffer, bytes, (restricted_getattr, "builtins.getattr")] + _numpy_globals()


# --------------------------------------------------------------------------------------------------
# SHA-256 and verified downloads
# --------------------------------------------------------------------------------------------------
class ChecksumMismatchError(RuntimeError):
    """A downloaded file whose SHA-256 is not the expected one (the message gives both hashes)."""


# (real path, size, mtime_ns) -> sha256 of files already hashed in this process.
_VERIFIED_HASHES: Dict[Tuple[str, int, int], str] = {}


def sha256_of_file(path: str, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_sha256(path: str) -> str:
    """:func:`sha256_of_file`, remembered per (path, size, mtime) for the life of the process."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED_HASHES:
        _VERIFIED_HASHES[key] = sha256_of_file(path)
    return _VERIFIED_HASHES[key]


def download_with_sha256(url: str, dst: str, sha256: str) -> None:
    """Downloads ``url`` to ``dst``, which appears only once its SHA-256 is ``sha256``.

    ``torch.hub.download_url_to_file`` writes a temporary name and checks the hash (``hash_prefix``);
    the hash is checked again here before the file is moved into place, so that ``dst`` never holds
    unverified bytes (also when several processes start at once: each writes its own temporary name).

    Raises:
        ChecksumMismatchError: its SHA-256 is not ``sha256`` (the message gives both; nothing is left behind).
        Exception: whatever the download raised (network errors come in many types).
    """
    tmp = f"{dst}.{os.getpid()}.partial"
    try:
        torch.hub.download_url_to_file(url, tmp, hash_prefix=sha256, progress=True)
        found = sha256_of_file(tmp)
        if found != sha256:
            raise ChecksumMismatchError(
                f"SHA-256 mismatch for {url}: expected {sha256}, found {found}; the download was deleted")
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    stat = os.stat(dst)
    _VERIFIED_HASHES[(os.path.realpath(dst), stat.st_size, stat.st_mtime_ns)] = sha256


# --------------------------------------------------------------------------------------------------
# Inert stand-ins for pickled objects of unknown classes
# --------------------------------------------------------------------------------------------------
class _RefusedGlobal(Exception):
    """Raised inside an unpickler when the file calls (or otherwise needs) a global we refuse."""

    def __init__(self, name: str, how: str) -> None:
        super().__init__(f"{how} {name}")
        self.name, self.how = name, how


class _InertType(type):
    """Metaclass of the stand-ins: building an instance by *calling* the class (pickle's REDUCE, what a
    payload does with ``os.system``) is refused and noted in the class's ``_refused`` list (torch.load
    rewraps the exception); ``cls.__new__`` (pickle's NEWOBJ, how plain objects are pickled) gives an
    inert instance."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        cls._refused.append(cls._pickled_name)
        raise _RefusedGlobal(cls._pickled_name, "a call to")


class _InertObject(metaclass=_InertType):
    """Stand-in for a pickled object of a class we do not rebuild: keeps nothing, runs nothing."""

    _pickled_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> "_InertObject":
        return object.__new__(cls)

    def __setstate__(self, state: Any) -> None:
        pass

    def __repr__(self) -> str:
        return f"<ignored pickled {self._pickled_name} object>"


def _inert_type(name: str, refused: List[str]) -> type:
    return _InertType(f"Ignored[{name}]", (_InertObject,), {"_pickled_name": name, "_refused": refused})


# --------------------------------------------------------------------------------------------------
# torch.save files
# --------------------------------------------------------------------------------------------------
def _first_line(err: BaseException) -> str:
    """The gist of an error in one line; for torch's long ``weights_only`` message, its unpickler's reason."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    boilerplate = ("Weights only load failed", "Check the documentation", "Please file an issue", "(1) ", "(2) ",
                   "WeightsUnpickler error:")
    if lines and lines[0].startswith(boilerplate[0]):
        reasons = [line for line in lines[1:] if not line.startswith(boilerplate)]
        for line in lines:
            if line.startswith("WeightsUnpickler error:"):
                reasons.insert(0, line[len("WeightsUnpickler error:"):].strip())
        if reasons:
            return reasons[0]
    return lines[0] if lines else type(err).__name__


def _globals_in_pickles(path: str, max_pickles: int = 5) -> List[str]:
    """Globals named by the pickles at the start of ``path`` (read with ``pickletools``, nothing built):
    ``GLOBAL``/``INST`` arguments and ``STACK_GLOBAL`` of the two strings pushed before it."""
    found: List[str] = []
    with open(path, "rb") as f:
        for _ in range(max_pickles):
            strings: List[str] = []
            memo: Dict[int, str] = {}
            try:
                for op, arg, _pos in pickletools.genops(f):
                    if op.name in ("GLOBAL", "INST"):
                        found.append(str(arg).replace(" ", "."))
                    elif isinstance(arg, str) and (op.name.endswith("UNICODE") or op.name.endswith("STRING")):
                        strings.append(str(arg))
                    elif op.name in ("BINPUT", "LONG_BINPUT", "PUT") and strings:
                        memo[int(arg)] = strings[-1]
                    elif op.name == "MEMOIZE" and strings:
                        memo[len(memo)] = strings[-1]
                    elif op.name in ("BINGET", "LONG_BINGET", "GET") and int(arg) in memo:
                        strings.append(memo[int(arg)])
                    elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                        found.append(f"{strings[-2]}.{strings[-1]}")
            except Exception:  # noqa: BLE001 - the end of the pickles, or not a pickle at all
                break
    return list(OrderedDict.fromkeys(found))


def _unknown_names(names: List[str]) -> List[str]:
    safe = checkpoint_safe_globals()
    allowed = {f"{obj.__module__}.{obj.__qualname__}" for obj in safe if not isinstance(obj, tuple)}
    allowed |= {name for obj in safe if isinstance(obj, tuple) for name in obj[1:]}
    return [n for n in names if n not in allowed and n != "collections.OrderedDict" and not n.startswith("torch.")]


@contextlib.contextmanager
def _allowing_globals(extra: List[Any]) -> Iterator[None]:
    """Allows ``extra`` for ``torch.load(weights_only=True)`` inside the block.

    Unlike ``torch.serialization.safe_globals``, whose exit removes every global it was given (also
    the ones the process had registered before, e.g. by :func:`checkpoint_safe_globals`' users),
    this removes only what it added.
    """
    present = torch.serialization.get_safe_globals()
    added = [g for g in extra if g not in present]
    torch.serialization.add_safe_globals(added)
    try:
        yield
    finally:
        remaining = [g for g in torch.serialization.get_safe_globals() if g not in added]
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(remaining)


def _torch_load_zip(path: str, logger: Optional[MMLogger]) -> Any:
    allow = checkpoint_safe_globals()
    with _allowing_globals(allow):
        try:
            unknown = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        except Exception as err:  # noqa: BLE001 - a damaged zip
            raise CheckpointReadError(f"could not read checkpoint {path}: {_first_line(err)}") from None
    refused: List[str] = []
    stand_ins = [(_inert_type(name, refused), name) for name in unknown]
    try:
        with _allowing_globals(allow + stand_ins):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch.load rewraps what the stand-ins raise
        if refused or isinstance(err, _RefusedGlobal):
            name = refused[0] if refused else err.name
            raise UnsafeCheckpointError(
                f"refused to read {path}: its pickle calls the global {name} (code from the file would run); only "
                "tensors and plain data are read") from None
        if not isinstance(err, pickle.UnpicklingError):
            raise CheckpointReadError(f"could not read checkpoint {path}: {_first_line(err)}") from None
        raise UnsafeCheckpointError(f"refused to read {path}: {_first_line(err)}") from None
    if unknown:
        print_log(f"{path}: read with weights_only=True; objects of the classes {unknown} were replaced by inert "
                  "placeholders (nothing of them was run or kept)", logger=logger or "current")
    return obj


def _torch_load_legacy(path: str) -> Any:
    try:
        with _allowing_globals(checkpoint_safe_globals()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # a raw pickle: refused below
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reported = re.findall(r"GLOBAL ([\w.]+)", str(err))  # what torch's unpickler stopped at, if it says
        named = list(OrderedDict.fromkeys(reported + _unknown_names(_globals_in_pickles(path))))
        if named:
            raise UnsafeCheckpointError(
                f"refused to read {path}: a non-zip (legacy torch.save or raw pickle) file naming the global(s) "
                f"{', '.join(named)}, which torch.load(weights_only=True) does not rebuild") from None
        raise CheckpointReadError(
            f"could not read checkpoint {path}: not a safetensors, TorchScript or torch.save file "
            f"({_first_line(err)})") from None
    except Exception as err:  # noqa: BLE001 - not a checkpoint at all
        raise CheckpointReadError(
            f"could not read checkpoint {path}: not a safetensors, TorchScript or torch.save file "
            f"({_first_line(err)})") from None


# --------------------------------------------------------------------------------------------------
# TorchScript archives, read without running their code
# --------------------------------------------------------------------------------------------------
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
    "DoubleStorage": torch.float64, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool, "ComplexFloatStorage": torch.complex64, "ComplexDoubleStorage": torch.complex128,
}


class _StorageType:
    """What ``torch.FloatStorage`` & co. stand for in a TorchScript pickle: a dtype."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


class _ScriptObject:
    """Inert record of a pickled TorchScript object (``__torch__.*``): its class name and attributes."""

    _qualified_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> "_ScriptObject":
        return object.__new__(cls)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise _RefusedGlobal(self._qualified_name, "__setstate__ of")
        self.attributes = state


def _rebuild_tensor_without_hooks(storage: Any, storage_offset: int, size: tuple, stride: tuple, requires_grad: bool,
                                  backward_hooks: Any, metadata: Any = None) -> torch.Tensor:
    """``torch._utils._rebuild_tensor_v2`` that drops any pickled backward hooks (they would be callables)."""
    if not isinstance(storage, torch.storage.TypedStorage):
        raise pickle.UnpicklingError("a tensor whose storage is not one of the archive's data/N files")
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, bool(requires_grad), OrderedDict(),
                                           metadata if isinstance(metadata, dict) else None)


def _torchscript_root(names: List[str]) -> Optional[str]:
    """The archive's top folder (``'ViT-B-16/'``) when it is a TorchScript archive, else ``None``."""
    for name in names:
        parts = name.split("/")
        if len(parts) == 2 and parts[1] == "constants.pkl" and f"{parts[0]}/data.pkl" in names:
            return parts[0] + "/"
    return None


class _TorchScriptUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript ``data.pkl``: tensors from the archive's raw storages, ``__torch__.*``
    objects as :class:`_ScriptObject` records; any other global is refused."""

    _REBUILDERS = {
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_without_hooks,
        "collections.OrderedDict": OrderedDict,
        # TorchScript's typed containers: each returns its (first) argument unchanged.
        "torch.jit._pickle.build_intlist": lambda data: data,
        "torch.jit._pickle.build_doublelist": lambda data: data,
        "torch.jit._pickle.build_boollist": lambda data: data,
        "torch.jit._pickle.build_tensorlist": lambda data: data,
        "torch.jit._pickle.restore_type_tag": lambda value, type_str: value,
    }

    def __init__(self, data: bytes, zf: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(data))
        self._zf, self._root = zf, root
        self._storages: Dict[str, torch.storage.TypedStorage] = {}
        self._classes: Dict[str, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if module == "__torch__" or module.startswith("__torch__."):
            if full not in self._classes:
                self._classes[full] = type(f"Script[{full}]", (_ScriptObject,), {"_qualified_name": full})
            return self._classes[full]
        if full in self._REBUILDERS:
            return self._REBUILDERS[full]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise _RefusedGlobal(full, "the global")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid
        key = str(key)
        if key not in self._storages:
            raw = self._zf.read(f"{self._root}data/{key}")
            dtype = storage_type.dtype
            untyped = torch.UntypedStorage.from_buffer(raw, dtype=torch.uint8) if raw else torch.UntypedStorage(0)
            typed = torch.storage.TypedStorage(wrap_storage=untyped, dtype=dtype, _internal=True)
            if typed._size() != int(numel):
                raise pickle.UnpicklingError(
                    f"storage data/{key} holds {typed._size()} elements, the pickle says {numel}")
            self._storages[key] = typed
        return self._storages[key]


_CLASS_RE = re.compile(r"^class (\w+)\((\w+)\):\n((?:[ \t]+.*\n|\n)*)", re.M)
_LIST_RE = r"^[ \t]+{}\s*=\s*\[([^\]]*)\]"


def _module_declarations(zf: zipfile.ZipFile, root: str,
                         code_files: List[str]) -> Dict[str, Tuple[List[str], List[str]]]:
    """``{qualified class name: (parameter names, buffer names)}`` from the archive's code text."""
    found: Dict[str, Tuple[List[str], List[str]]] = {}
    for name in code_files:
        qualified = name[len(root) + len("code/"):-len(".py")].replace("/", ".")
        text = zf.read(name).decode("utf-8", errors="replace")
        for match in _CLASS_RE.finditer(text):
            body = match.group(3)
            lists = []
            for field in ("__parameters__", "__buffers__"):
                m = re.search(_LIST_RE.format(field), body, re.M)
                lists.append(re.findall(r"\"([^\"]+)\"", m.group(1)) if m else [])
            found[f"{qualified}.{match.group(1)}"] = (lists[0], lists[1])
    return found


def _collect_script_tensors(obj: _ScriptObject, declarations: Dict[str, Tuple[List[str], List[str]]],
                            prefix: str, out: StateDict, path: str) -> None:
    if obj._qualified_name not in declarations:
        raise CheckpointReadError(
            f"could not read TorchScript archive {path}: class {obj._qualified_name} is not declared in its code/")
    params, buffers = declarations[obj._qualified_name]
    attributes = getattr(obj, "attributes", {})
    for name in params + buffers:
        if isinstance(attributes.get(name), torch.Tensor):
            out[prefix + name] = attributes[name]
    for name, value in attributes.items():
        if isinstance(value, _ScriptObject) and value._qualified_name in declarations:
            _collect_script_tensors(value, declarations, f"{prefix}{name}.", out, path)


def read_torchscript_state_dict(path: str) -> StateDict:
    """The ``state_dict()`` of a TorchScript archive, read without TorchScript's loader (no code runs).

    Args:
        path: a TorchScript archive (``torch.jit.save``; OpenAI's released CLIP ``.pt`` files).

    Returns:
        ``{name: tensor}``: the parameters and buffers of the module tree, named as ``state_dict()``
        names them (``visual.conv1.weight``), in their stored dtypes.

    Raises:
        UnsafeCheckpointError: the archive's code defines ``__setstate__`` (TorchScript's loader would
            run it), or its pickle names a global other than tensors and ``__torch__`` classes.
        CheckpointReadError: the archive is damaged.
    """
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = _torchscript_root(names)
        if root is None:
            raise CheckpointReadError(f"could not read {path}: not a TorchScript archive (no <name>/constants.pkl)")
        code_files = [n for n in names if n.startswith(root + "code/") and n.endswith(".py")]
        for name in code_files:
            if re.search(rb"^[ \t]*def __setstate__\(", zf.read(name), re.M):
                raise UnsafeCheckpointError(
                    f"refused to read TorchScript archive {path}: {name[len(root):]} defines __setstate__, code that "
                    "TorchScript's loader would run; its weights cannot be read without running it")
        byteorder = zf.read(root + "byteorder").decode().strip() if root + "byteorder" in names else "little"
        if byteorder != sys.byteorder:
            raise CheckpointReadError(f"could not read TorchScript archive {path}: stored {byteorder}-endian")
        try:
            top = _TorchScriptUnpickler(zf.read(root + "data.pkl"), zf, root).load()
        except _RefusedGlobal as err:
            if err.how == "__setstate__ of":
                raise UnsafeCheckpointError(
                    f"refused to read TorchScript archive {path}: {err.name} is stored in a form only its own "
                    "__setstate__ (code from the file) could restore") from None
            raise UnsafeCheckpointError(
                f"refused to read TorchScript archive {path}: its data.pkl names the global {err.name}, which is "
                "neither a tensor nor a TorchScript module") from None
        except Exception as err:  # noqa: BLE001 - damaged archive
            raise CheckpointReadError(f"could not read TorchScript archive {path}: {_first_line(err)}") from None
        declarations = _module_declarations(zf, root, code_files)
    if not isinstance(top, _ScriptObject):
        raise CheckpointReadError(f"could not read TorchScript archive {path}: data.pkl holds no module")
    out: StateDict = OrderedDict()
    _collect_script_tensors(top, declarations, "", out, path)
    return out


# --------------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------------
def _is_safetensors(path: str) -> bool:
    if path.endswith(".safetensors"):
        return True
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < os.path.getsize(path)


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip with ``<name>/data.pkl`` and ``<name>/constants.pkl``)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return _torchscript_root(zf.namelist()) is not None


def read_checkpoint_file(path: str, logger: Optional[MMLogger] = None) -> Any:
    """Reads a weights/checkpoint file without running code from it (see the module docstring).

    Args:
        path: a ``.safetensors`` file, a TorchScript archive, a ``torch.save`` file (zip or legacy),
            as written by mmengine, mmcv, open_clip, timm, Hugging Face or ``torch.save``.
        logger: where to say which pickled objects were replaced by placeholders (default: current).

    Returns:
        What the file holds: a dict (possibly nested, e.g. ``{'meta', 'state_dict', 'optimizer'}``);
        a TorchScript archive gives its ``state_dict()``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: reading would run code from the file (one line: the file and what was refused).
        CheckpointReadError: the file is damaged or not a checkpoint.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    if _is_safetensors(path):
        from safetensors.torch import load_file

        try:
            return load_file(path, device="cpu")
        except Exception as err:  # noqa: BLE001 - damaged header or data
            raise CheckpointReadError(f"could not read safetensors file {path}: {_first_line(err)}") from None
    if zipfile.is_zipfile(path):
        if is_torchscript_archive(path):
            return read_torchscript_state_dict(path)
        return _torch_load_zip(path, logger)
    return _torch_load_legacy(path)


def _tensor_items(obj: Any) -> int:
    return sum(isinstance(v, torch.Tensor) for v in obj.values()) if isinstance(obj, dict) else 0


def unwrap_state_dict(obj: Any, source: str) -> StateDict:
    """The flat ``{name: tensor}`` dict in a loaded checkpoint, without DDP/compile prefixes.

    Descends through ``state_dict`` / ``model`` / ``module`` / ``model_state`` / ``state_dict_ema``
    while the current dict holds no tensors (mmengine, mmcv-style released, open_clip, DDP files),
    keeps the tensor values, removes a ``module.`` prefix shared by all keys and ``_orig_mod.``
    segments (``torch.compile``).

    Raises:
        ValueError: no tensors are found; the message names ``source``.
    """
    nested_keys = ("state_dict", "model", "module", "model_state", "state_dict_ema")
    while isinstance(obj, dict) and _tensor_items(obj) == 0:
        inner = next((obj[k] for k in nested_keys if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict) or _tensor_items(obj) == 0:
        top = list(obj.keys())[:10] if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(f"{source}: found no tensors in the checkpoint (top-level entries: {top})")
    state = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return OrderedDict((k.replace("_orig_mod.", ""), v) for k, v in state.items())

