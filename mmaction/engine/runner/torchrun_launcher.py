"""``python -m mmaction.engine.runner.torchrun_launcher [torchrun options] SCRIPT ...``: torchrun
(``torch.distributed.run``) for tools/dist_train.sh and tools/dist_test.sh, ending a failed job
with one line and the failing rank's exit code instead of torchrun's own 40-line traceback.

A rank that fails on a config or input mistake has already printed its one-line ``error: ...``
(exit code 2, see :func:`mmaction.apis.train_utils.report_error_and_exit`): nothing is added.
Any other failure (a crash, a signal) gets one line naming the rank and the exit code; the
rank's own traceback is above it.
"""

import logging
import os
import sys
from typing import List, Optional

#: The exit code of a rank that reported a user error as one line.
USER_ERROR_EXIT_CODE = 2


def main(argv: Optional[List[str]] = None) -> int:
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    # The elastic agent logs each stopped worker at WARNING/ERROR; the outcome is reported below.
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    # torchrun's own default (1 thread per worker), set here so that it does not warn on every start.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        run(parse_args(sys.argv[1:] if argv is None else argv))
    except ChildFailedError as err:
        rank, failure = err.get_first_failure()
        code = failure.exitcode if failure.exitcode > 0 else 1
        if code != USER_ERROR_EXIT_CODE:
            how = f"signal {failure.signal_name()}" if failure.exitcode < 0 else f"exit code {failure.exitcode}"
            print(f"error: {err.name} failed on rank: {rank} ({how}); its output is above", file=sys.stderr, flush=True)
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
