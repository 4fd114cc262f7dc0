#!/usr/bin/env bash
# Distributed testing with torchrun, one process per GPU (gloo on a CPU machine). Usage:
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_GPUS [test.py options...]
#   e.g. bash tools/dist_test.sh CONFIG CKPT 8 --eval top_k_accuracy --out results.pkl
# Several nodes: NNODES, NODE_RANK, MASTER_ADDR, PORT as in tools/dist_train.sh.
# NUM_GPUS=1 on one node runs tools/test.py directly.
# A failing rank ends the job with its one-line error and a non-zero exit code (torchrun_launcher).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: bash $0 CONFIG CHECKPOINT NUM_GPUS [test.py options...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="${TOOLS_DIR}/..${PYTHONPATH:+:${PYTHONPATH}}"

if [ "${GPUS}" -eq 1 ] && [ "${NNODES}" -eq 1 ]; then
    exec "${PYTHON}" "${TOOLS_DIR}/test.py" "${CONFIG}" "${CHECKPOINT}" --launcher none "$@"
fi

exec "${PYTHON}" -m mmaction.engine.runner.torchrun_launcher \
    --nnodes="${NNODES}" \
    --node_rank="${NODE_RANK}" \
    --master_addr="${MASTER_ADDR}" \
    --master_port="${PORT}" \
    --nproc_per_node="${GPUS}" \
    "${TOOLS_DIR}/test.py" "${CONFIG}" "${CHECKPOINT}" --launcher pytorch "$@"
