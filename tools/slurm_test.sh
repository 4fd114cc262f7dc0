#!/usr/bin/env bash
# Testing on a SLURM cluster, one task per GPU. Usage:
#   GPUS=8 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options...]
# e.g. GPUS=8 bash tools/slurm_test.sh gpu aim_test CONFIG work_dirs/k400_b16/best_acc_top1_epoch_30.pth \
#          --eval top_k_accuracy mean_class_accuracy --out work_dirs/k400_b16/results.pkl
# Environment: GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, PORT as in tools/slurm_train.sh.
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: GPUS=N bash $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
export MASTER_PORT=${PORT:-29500}
PYTHON=${PYTHON:-python}
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="${TOOLS_DIR}/..${PYTHONPATH:+:${PYTHONPATH}}"

# shellcheck disable=SC2086
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "${PYTHON}" -u "${TOOLS_DIR}/test.py" "${CONFIG}" "${CHECKPOINT}" --launcher slurm "$@"
