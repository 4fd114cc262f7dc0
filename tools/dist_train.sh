#!/usr/bin/env bash
# Distributed training with torchrun, one process per GPU (or per CPU process on a CPU machine:
# gloo backend). Usage:
#   bash tools/dist_train.sh CONFIG NUM_GPUS [train.py options...]
# Several nodes: run the same command on every node with
#   NNODES=2 NODE_RANK=0|1 MASTER_ADDR=<ip of node 0> PORT=29500 bash tools/dist_train.sh ...
# NUM_GPUS=1 on one node runs tools/train.py directly (no torchrun, no process group).
# A failing rank ends the job with its one-line error and a non-zero exit code (torchrun_launcher).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG NUM_GPUS [train.py options...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="${TOOLS_DIR}/..${PYTHONPATH:+:${PYTHONPATH}}"

if [ "${GPUS}" -eq 1 ] && [ "${NNODES}" -eq 1 ]; then
    exec "${PYTHON}" "${TOOLS_DIR}/train.py" "${CONFIG}" --launcher none "$@"
fi

exec "${PYTHON}" -m mmaction.engine.runner.torchrun_launcher \
    --nnodes="${NNODES}" \
    --node_rank="${NODE_RANK}" \
    --master_addr="${MASTER_ADDR}" \
    --master_port="${PORT}" \
    --nproc_per_node="${GPUS}" \
    "${TOOLS_DIR}/train.py" "${CONFIG}" --launcher pytorch "$@"
