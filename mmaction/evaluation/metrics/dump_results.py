"""DumpVideoResults: writes every video's scores, label and file name to a .pkl or .json file."""

import json
import os
import pickle
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.fileio import put
from mmengine.logging import print_log

from mmaction.registry import METRICS

from .acc_metric import sample_to_record

#: The file is written through mmengine's file backend registered as ``atomic_local``
#: (:mod:`mmaction.engine.runner.atomic_backend`: temp file + rename, so a kill never leaves half a
#: file). It is named, not imported: evaluation stays below the engine in the import layers, and
#: ``register_all_modules`` (which every tool calls) registers the backend.
ATOMIC_BACKEND_ARGS = dict(backend="atomic_local")


@METRICS.register_module()
class DumpVideoResults(BaseMetric):
    """Collects per-video predictions (in dataset order, all ranks) and writes them once.

    Each entry: ``filename``, ``sample_idx``, ``label`` (int), ``pred_score`` ((K,) view-averaged
    scores), ``pred_label`` (int), ``decode_failed`` (bool), and ``pred_view_scores`` ((V, K))
    when the model kept per-view scores (``average_clips=None``).

    ``.pkl``: a list of dicts with numpy arrays. ``.json``: the same with lists of floats.

    Args:
        out_file_path: destination, ending in ``.pkl``/``.pickle`` or ``.json``.
        collect_device: ``'cpu'`` or ``'gpu'``.
    """

    default_prefix: Optional[str] = "dump"

    def __init__(self, out_file_path: str, collect_device: str = "cpu", prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        ext = os.path.splitext(out_file_path)[1].lower()
        if ext not in (".pkl", ".pickle", ".json"):
            raise ValueError(f"DumpVideoResults: out_file_path must end in .pkl, .pickle or .json, got {out_file_path!r}")
        self.out_file_path = out_file_path
        self.format = "json" if ext == ".json" else "pkl"

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            record = sample_to_record(sample)
            entry: Dict[str, Any] = dict(
                filename=record["filename"],
                sample_idx=record["sample_idx"],
                label=record["label"],
                pred_score=record["pred"],
                pred_label=int(np.argmax(record["pred"])),
                decode_failed=record["decode_failed"],
            )
            views = sample.get("pred_view_scores") if hasattr(sample, "get") else None
            if views is not None:
                entry["pred_view_scores"] = (
                    views.detach().float().cpu().numpy() if isinstance(views, torch.Tensor) else np.asarray(views)
                )
            self.results.append(entry)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if self.format == "json":
            payload = json.dumps([_jsonable(r) for r in results], indent=1).encode("utf-8")
        else:
            payload = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        put(payload, self.out_file_path, backend_args=ATOMIC_BACKEND_ARGS)
        print_log(f"DumpVideoResults: {len(results)} videos written to {self.out_file_path}", logger="current")
        return {}


def _jsonable(entry: dict) -> dict:
    out = {}
    for key, value in entry.items():
        if isinstance(value, np.ndarray):
            out[key] = value.tolist()
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out
