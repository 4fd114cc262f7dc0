"""AccMetric: top-k and mean-class accuracy over exactly the dataset's videos."""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmaction.evaluation.functional import mean_class_accuracy, top_k_accuracy
from mmaction.registry import METRICS

VALID_METRICS = ("top_k_accuracy", "mean_class_accuracy")
MAX_LOGGED_FAILURES = 100


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().numpy()
    return np.asarray(value)


def sample_to_record(sample: Union[dict, Any]) -> Dict[str, Any]:
    """Turns one predicted ``ActionDataSample`` (or its dict form) into a plain record.

    Returns:
        dict with ``pred`` ((K,) float32 scores; (V, K) view scores are averaged over V),
        ``label`` (int), ``filename`` (str or None), ``sample_idx`` (int or None) and
        ``decode_failed`` (bool).
    """
    if isinstance(sample, dict):  # e.g. ``ActionDataSample.to_dict()``: fields and metainfo side by side
        get, meta = sample.get, sample
    else:
        get, meta = sample.get, sample.metainfo
    score = get("pred_score")
    if score is None:
        raise KeyError("a data sample has no 'pred_score'; the model must be run in 'predict' mode")
    pred = _to_numpy(score).astype(np.float32)
    if pred.ndim == 2:
        pred = pred.mean(axis=0)
    if pred.ndim != 1:
        raise ValueError(f"pred_score must have shape (K,) or (V, K), got {tuple(pred.shape)}")
    gt = get("gt_label")
    if gt is None:
        raise KeyError(f"data sample {meta.get('filename')!r} has no 'gt_label'")
    gt = _to_numpy(gt).reshape(-1)
    if gt.size != 1:
        raise ValueError(
            f"data sample {meta.get('filename')!r} has {gt.size} labels; AccMetric handles single-label videos only"
        )
    return dict(
        pred=pred,
        label=int(gt[0]),
        filename=meta.get("filename"),
        sample_idx=meta.get("sample_idx"),
        decode_failed=bool(meta.get("decode_failed", False)),
    )


@METRICS.register_module()
class AccMetric(BaseMetric):
    """Top-k accuracy and mean class accuracy of single-label video classification.

    Reads ``pred_score`` ((K,) or (V, K)) and ``gt_label`` ((1,)) of every predicted
    ``ActionDataSample``. In distributed evaluation mmengine gathers the per-rank results
    in dataset order and cuts the sampler's padding, so the accuracy is over exactly the
    dataset's videos. Videos whose metainfo says ``decode_failed=True`` count as wrong;
    their number is reported as ``acc/num_failed`` and their file names are logged.

    Args:
        metric_list: any of ``'top_k_accuracy'``, ``'mean_class_accuracy'``.
        topk: the k of the top-k accuracies (keys ``top{k}``).
        metric_options: MMAction2-style options, e.g.
            ``dict(top_k_accuracy=dict(topk=(1, 5)))``; its ``topk`` wins over ``topk``.
        collect_device: ``'cpu'`` or ``'gpu'``, where results are gathered.
        prefix: key prefix, default ``'acc'`` (keys ``acc/top1``, ``acc/top5``,
            ``acc/mean1``, ``acc/num_failed``).

    Returns (from ``evaluate``): dict of floats, ``num_failed`` included (a whole number such as
    ``0.0``, so that every log, the JSON one too, records it as a number).
    """

    default_prefix: Optional[str] = "acc"

    def __init__(
        self,
        metric_list: Union[str, Sequence[str]] = ("top_k_accuracy", "mean_class_accuracy"),
        topk: Union[int, Sequence[int]] = (1, 5),
        metric_options: Optional[dict] = None,
        collect_device: str = "cpu",
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(metric_list, str):
            metric_list = (metric_list,)
        unknown = [m for m in metric_list if m not in VALID_METRICS]
        if unknown:
            raise ValueError(f"AccMetric: unknown metric(s) {unknown} in metric_list; valid ones: {list(VALID_METRICS)}")
        if not metric_list:
            raise ValueError("AccMetric: metric_list is empty")
        self.metric_list: Tuple[str, ...] = tuple(metric_list)
        options = dict(metric_options or {})
        topk = options.get("top_k_accuracy", {}).get("topk", topk)
        if isinstance(topk, int):
            topk = (topk,)
        if not topk or any(int(k) < 1 for k in topk):
            raise ValueError(f"AccMetric: topk must be positive integers, got {topk!r}")
        self.topk: Tuple[int, ...] = tuple(int(k) for k in topk)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Stores one record per video of the batch (see :func:`sample_to_record`)."""
        for sample in data_samples:
            self.results.append(sample_to_record(sample))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Accuracies over ``results`` (all videos, already gathered from every rank)."""
        scores = np.stack([r["pred"] for r in results])
        labels = np.array([r["label"] for r in results], dtype=np.int64)
        failed = np.array([r["decode_failed"] for r in results], dtype=bool)
        logger = MMLogger.get_current_instance()
        metrics: Dict[str, float] = {}
        if "top_k_accuracy" in self.metric_list:
            # k >= K is trivially a hit (except for failed videos); the key is kept so that
            # logs and save_best keys do not depend on the number of classes.
            for k, acc in zip(self.topk, top_k_accuracy(scores, labels, self.topk, forced_wrong=failed)):
                metrics[f"top{k}"] = acc
        if "mean_class_accuracy" in self.metric_list:
            metrics["mean1"] = mean_class_accuracy(scores, labels, forced_wrong=failed)
        # A float, like the accuracies: mmengine's message hub keeps an int as numpy.int64, which its
        # JSON log writes as null (LoggerHook drops numpy scalars); a float stays a number there.
        metrics["num_failed"] = float(failed.sum())
        if failed.any():
            names = [str(r["filename"]) for r in results if r["decode_failed"]]
            shown = names[:MAX_LOGGED_FAILURES]
            more = f" ... and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
            print_log(
                f"AccMetric: {len(names)} of {len(results)} videos could not be decoded and count as wrong: "
                + ", ".join(shown)
                + more,
                logger=logger,
                level=30,
            )
        print_log(f"AccMetric: evaluated {len(results)} videos", logger=logger)
        return metrics
