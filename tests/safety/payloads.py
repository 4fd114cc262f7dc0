"""Crafted malicious weight files: each would run code when loaded the unsafe way, and leaves evidence.

* ``zip_exec``: a ``torch.save`` zip whose pickle calls ``builtins.exec`` (writes a marker file);
* ``zip_system``: the same with ``os.system`` (``posix.system``: ``touch`` a marker file);
* ``legacy``: ``os.system`` in the legacy non-zip format (``_use_new_zipfile_serialization=False``);
* ``raw_pickle``: a plain ``pickle.dumps`` (protocol 5) calling ``builtins.exec``;
* ``torchscript``: a TorchScript archive whose exported ``__setstate__`` overwrites a victim file
  through a shared memory map (``torch.from_file(path, shared=True)``) when ``torch.jit.load`` runs it.

Every file also holds a tensor ``w`` under ``state_dict``, so that it looks like a checkpoint.
:func:`ran_unsafely` runs each payload the unsafe way, which the tests use to show the files are live.
"""

import builtins
import os
import pickle
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

import torch
from torch import nn

KINDS = ("zip_exec", "zip_system", "legacy", "raw_pickle", "torchscript")
VICTIM_TEXT = b"orig"


@dataclass
class Payload:
    """A crafted file and how to see whether its code ran."""

    kind: str
    path: Path
    evidence: Path  # the marker file (pickles) or the victim file (TorchScript)
    refused: str  # what the refusal must name: the global, or ``__setstate__``

    def ran(self) -> bool:
        if self.kind == "torchscript":
            return self.evidence.read_bytes() != VICTIM_TEXT
        return self.evidence.exists()


class ExecPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.exec, (f"open({self.marker!r}, 'w').write('payload ran')",)


class SystemPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(self.marker)}",)


class OverwritingModule(nn.Module):
    """Scripted, its ``__setstate__`` (run by ``torch.jit.load``) writes 'AAAA' over ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(2))
        self.path = path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.w

    @torch.jit.export
    def __getstate__(self) -> Tuple[torch.Tensor, str, bool]:
        return self.w, self.path, self.training

    @torch.jit.export
    def __setstate__(self, state: Tuple[torch.Tensor, str, bool]) -> None:
        self.w = state[0]
        self.path = state[1]
        self.training = state[2]
        victim = torch.from_file(self.path, True, 4, dtype=torch.uint8)
        victim.fill_(65)
        self.w = self.w + victim[:2].float() * 0  # keeps the write alive in the compiled code


def write_payload(kind: str, folder: Path, name: str = "") -> Payload:
    """Writes the crafted file of ``kind`` in ``folder`` (named ``name`` or ``<kind>.pth``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{kind}.{'pt' if kind == 'torchscript' else 'pth'}")
    marker = folder / f"{path.stem}.payload_ran"
    weights = {"w": torch.ones(2)}
    if kind == "zip_exec":
        torch.save({"state_dict": weights, "meta": ExecPayload(marker)}, path)
        return Payload(kind, path, marker, "builtins.exec")
    if kind == "zip_system":
        torch.save({"state_dict": weights, "meta": SystemPayload(marker)}, path)
        return Payload(kind, path, marker, f"{os.system.__module__}.system")
    if kind == "legacy":
        torch.save({"state_dict": weights, "meta": SystemPayload(marker)}, path, _use_new_zipfile_serialization=False)
        return Payload(kind, path, marker, f"{os.system.__module__}.system")
    if kind == "raw_pickle":
        path.write_bytes(pickle.dumps({"state_dict": weights, "meta": ExecPayload(marker)}, protocol=5))
        return Payload(kind, path, marker, "builtins.exec")
    if kind == "torchscript":
        victim = folder / f"{path.stem}.victim"
        victim.write_bytes(VICTIM_TEXT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated upstream
            torch.jit.save(torch.jit.script(OverwritingModule(str(victim))), str(path))
        return Payload(kind, path, victim, "__setstate__")
    raise ValueError(f"unknown payload kind {kind!r}; known: {KINDS}")


def run_unsafely(payload: Payload) -> None:
    """Loads ``payload`` the unsafe way (what the project must never do), to show the file is live."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if payload.kind == "torchscript":
            torch.jit.load(str(payload.path))
        elif payload.kind == "raw_pickle":
            with open(payload.path, "rb") as f:
                pickle.load(f)
        else:
            torch.load(str(payload.path), weights_only=False)
