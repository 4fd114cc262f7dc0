"""Registries of the ``mmaction`` package.

Every registry is a child of the matching mmengine root registry, so objects
registered here can be built by mmengine's Runner (which looks up ``type``
names through ``default_scope='mmaction'``) and mmengine's own classes
(``OptimWrapper``, ``CosineAnnealingLR``, ``CheckpointHook`` ...) remain
reachable from our configs.
"""

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry


def _child(name: str, parent: Registry, location: str) -> Registry:
    return Registry(name, parent=parent, locations=[location])


RUNNERS = _child("runner", MMENGINE_RUNNERS, "mmaction.engine.runner")
LOOPS = _child("loop", MMENGINE_LOOPS, "mmaction.engine.runner")
HOOKS = _child("hook", MMENGINE_HOOKS, "mmaction.engine.hooks")
LOG_PROCESSORS = _child("log processor", MMENGINE_LOG_PROCESSORS, "mmaction.engine")
OPTIMIZERS = _child("optimizer", MMENGINE_OPTIMIZERS, "mmaction.engine.optimizers")
OPTIM_WRAPPERS = _child("optim wrapper", MMENGINE_OPTIM_WRAPPERS, "mmaction.engine.optimizers")
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    "optimizer wrapper constructor", MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, "mmaction.engine.optimizers"
)
PARAM_SCHEDULERS = _child("parameter scheduler", MMENGINE_PARAM_SCHEDULERS, "mmaction.engine.optimizers")
DATASETS = _child("dataset", MMENGINE_DATASETS, "mmaction.datasets")
DATA_SAMPLERS = _child("data sampler", MMENGINE_DATA_SAMPLERS, "mmaction.datasets")
TRANSFORMS = _child("transform", MMENGINE_TRANSFORMS, "mmaction.datasets.transforms")
MODELS = _child("model", MMENGINE_MODELS, "mmaction.models")
MODEL_WRAPPERS = _child("model_wrapper", MMENGINE_MODEL_WRAPPERS, "mmaction.models")
WEIGHT_INITIALIZERS = _child("weight initializer", MMENGINE_WEIGHT_INITIALIZERS, "mmaction.models")
METRICS = _child("metric", MMENGINE_METRICS, "mmaction.evaluation")
EVALUATOR = _child("evaluator", MMENGINE_EVALUATOR, "mmaction.evaluation")
VISBACKENDS = _child("vis_backend", MMENGINE_VISBACKENDS, "mmaction.engine")
VISUALIZERS = _child("visualizer", MMENGINE_VISUALIZERS, "mmaction.engine")
FUNCTIONS = _child("function", MMENGINE_FUNCTIONS, "mmaction.datasets")
