#!/usr/bin/env python
"""Print the effective config of a config file: what tools/train.py would run, after the 0.x
translation and every change the tools make (listed first, one line each), without building
or running anything.

Examples:
    python tools/misc/print_config.py configs/recognition/vit/vitclip_base_k400.py
    python tools/misc/print_config.py ORIGINAL_0X_CONFIG.py --cfg-options model.backbone.pretrained=openaiclip
"""

import argparse
import contextlib
import sys
from typing import List, Optional

from mmengine.config import DictAction

from mmaction.apis.config_loader import ConfigError, load_config
from mmaction.engine.runner.distributed import LAUNCHERS


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print the effective config (nothing is built or run)")
    parser.add_argument("config", help="config file (mmengine 1.x style or 0.x style)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                        help="override config keys, as for tools/train.py")
    parser.add_argument("--launcher", choices=LAUNCHERS, default="none",
                        help="the distributed settings to show (as tools/train.py --launcher)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # log lines (e.g. warnings) do not mix with the config
            cfg, changes = load_config(args.config, args.cfg_options, launcher=args.launcher)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"# Effective config of {args.config}; changes made by the tools:")
    for change in changes or ["(none)"]:
        print(f"#   {change}")
    print(cfg.pretty_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
