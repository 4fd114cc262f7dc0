"""The base class of our transforms (mmcv's ``BaseTransform`` without mmcv)."""

import abc
from typing import Optional


class BaseTransform(abc.ABC):
    """A step of a data pipeline: takes the results dict, returns it (modified).

    Subclasses implement :meth:`transform`. Returning ``None`` tells the dataset that the
    sample is unusable (mmengine's convention); our datasets then treat it like a failed load.
    """

    def __call__(self, results: dict) -> Optional[dict]:
        return self.transform(results)

    @abc.abstractmethod
    def transform(self, results: dict) -> Optional[dict]:
        """Applies the step to ``results``."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"
