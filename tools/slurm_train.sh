#!/usr/bin/env bash
# Training on a SLURM cluster, one task per GPU. Usage:
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
# e.g. GPUS=8 bash tools/slurm_train.sh gpu aim_k400 configs/recognition/vit/vitclip_base_k400.py \
#          work_dirs/k400_b16 --validate --test-last --cfg-options model.backbone.pretrained=openaiclip
# Environment: GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5),
# SRUN_ARGS (extra srun arguments), PORT (rendezvous port, default 29500).
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: GPUS=N bash $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
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
    "${PYTHON}" -u "${TOOLS_DIR}/train.py" "${CONFIG}" --work-dir="${WORK_DIR}" --launcher slurm "$@"
