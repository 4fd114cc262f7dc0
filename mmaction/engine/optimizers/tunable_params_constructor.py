"""Optimizer constructor that gives the optimizer only the trainable parameters."""

from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS

NORM_TYPES = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)
SUPPORTED_PARAMWISE_KEYS = ("custom_keys", "bias_lr_mult", "bias_decay_mult", "norm_decay_mult", "flat_decay_mult")


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TunableParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Builds the optim wrapper over the parameters with ``requires_grad=True`` only.

    AIM freezes the CLIP weights; frozen parameters never reach the optimizer, so they hold
    no optimizer state and cost no time in ``step``. Parameter-wise options follow
    mmengine's ``DefaultOptimWrapperConstructor``:

    - ``custom_keys``: ``{substring: dict(lr_mult=, decay_mult=, ...)}``; a parameter takes
      the options of the first key contained in its full name, keys tried longest first
      (then alphabetically), e.g. ``{'ln_1': dict(decay_mult=0.)}`` or
      ``{'backbone': dict(lr_mult=0.1)}``;
    - ``bias_lr_mult``, ``bias_decay_mult``, ``norm_decay_mult``, ``flat_decay_mult`` for
      parameters that match no custom key.

    Parameters with the same options share one param group (fewer groups, faster
    ``foreach`` kernels); the groups are logged once.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        unknown = sorted(set(self.paramwise_cfg) - set(SUPPORTED_PARAMWISE_KEYS))
        if unknown:
            raise ValueError(
                f"optim_wrapper.paramwise_cfg: unsupported key(s) {unknown}; supported: {list(SUPPORTED_PARAMWISE_KEYS)}"
            )

    def param_options(self, name: str, param: nn.Parameter, module: nn.Module) -> Dict[str, float]:
        """The optimizer options (``lr``, ``weight_decay``, extras) of one parameter."""
        options: Dict[str, float] = {}
        custom_keys = self.paramwise_cfg.get("custom_keys", {})
        for key in sorted(sorted(custom_keys), key=len, reverse=True):
            if key in name:
                spec = custom_keys[key]
                options["lr"] = self.base_lr * spec.get("lr_mult", 1.0)
                if self.base_wd is not None:
                    options["weight_decay"] = self.base_wd * spec.get("decay_mult", 1.0)
                options.update({k: v for k, v in spec.items() if k not in ("lr_mult", "decay_mult")})
                return options
        leaf = name.rsplit(".", 1)[-1]
        bias_lr_mult = self.paramwise_cfg.get("bias_lr_mult")
        is_norm = isinstance(module, NORM_TYPES)
        if leaf == "bias" and not is_norm and bias_lr_mult is not None:
            options["lr"] = self.base_lr * bias_lr_mult
        if self.base_wd is not None:
            norm_mult = self.paramwise_cfg.get("norm_decay_mult")
            bias_mult = self.paramwise_cfg.get("bias_decay_mult")
            flat_mult = self.paramwise_cfg.get("flat_decay_mult")
            if is_norm and norm_mult is not None:
                options["weight_decay"] = self.base_wd * norm_mult
            elif leaf == "bias" and bias_mult is not None:
                options["weight_decay"] = self.base_wd * bias_mult
            elif param.ndim == 1 and flat_mult is not None:
                options["weight_decay"] = self.base_wd * flat_mult
        return options

    def param_groups(self, model: nn.Module) -> List[dict]:
        """Trainable parameters grouped by identical options (in model order)."""
        groups: "OrderedDict[Tuple, dict]" = OrderedDict()
        seen = set()
        frozen = 0
        for module_name, module in model.named_modules():
            for pname, param in module.named_parameters(recurse=False):
                if id(param) in seen:
                    continue
                seen.add(id(param))
                if not param.requires_grad:
                    frozen += param.numel()
                    continue
                name = f"{module_name}.{pname}" if module_name else pname
                options = self.param_options(name, param, module)
                key = tuple(sorted((k, repr(v)) for k, v in options.items()))
                group = groups.setdefault(key, dict(params=[], names=[], **options))
                group["params"].append(param)
                group["names"].append(name)
        if not groups:
            raise ValueError("the model has no parameter with requires_grad=True: nothing to optimise")
        lines = []
        for group in groups.values():
            numel = sum(p.numel() for p in group["params"])
            opts = {k: v for k, v in group.items() if k not in ("params", "names")}
            shown = ", ".join(group["names"][:3]) + (" ..." if len(group["names"]) > 3 else "")
            lines.append(f"  {len(group['params'])} tensors ({numel:,} values) {opts or '(defaults)'}: {shown}")
        trainable = sum(p.numel() for g in groups.values() for p in g["params"])
        print_log(
            f"Optimizer: {trainable:,} trainable values in {len(groups)} param group(s); "
            f"{frozen:,} frozen values left out\n" + "\n".join(lines),
            logger="current",
        )
        return [{k: v for k, v in g.items() if k != "names"} for g in groups.values()]

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, "module"):
            model = model.module
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault("type", "SafeOptimWrapper")
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg["params"] = self.param_groups(model)
        optimizer: torch.optim.Optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(optim_wrapper_cfg, default_args=dict(optimizer=optimizer))
