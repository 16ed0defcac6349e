#!/bin/sh
# The accelerator check, run as it is on any machine with a GPU (or TPU):
#   sh launch/gpu_check.sh [OUT [WORK]]   (OUT defaults to runs/gpu_check, WORK to OUT)
# OUT gets the reports and logs; WORK the large files (the image set, checkpoints).
# Each step has its own time limit and writes its report and log under OUT; a step that
# fails or runs out of time is logged and the next one runs (the bench logs each program's
# figures as they come). Steps: DARTS training at the full size (20 cells, 36 channels,
# batch 96, auxiliary head) for a first and a second architecture: first with a stage's
# normal cells scanned (the quicker compilation, so the likeliest figures), then the
# default program beside the per-genotype one, then bf16; two epochs of the search proxy
# (scanned cells) on a CIFAR-10-sized set (synthetic images in the CIFAR-10 python format:
# speed does not depend on what they show), beside the bench's steady images/s. The limits
# add up to 7 minutes, which fits a 15-minute accelerator lease; the tabular bench and the
# tests have their own commands (WORKSPACE.md, "GPU").
set -u
out=${1:-runs/gpu_check}
work=${2:-$out}
mkdir -p "$out" "$work"
python=${PYTHON:-python}
step() {  # step NAME SECONDS COMMAND...
  name=$1; limit=$2; shift 2
  echo "== $name (limit ${limit}s)"
  start=$(date +%s)
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  echo "$name: exit $? in $(( $(date +%s) - start ))s" | tee -a "$out/steps.txt"
  tail -n 5 "$out/$name.log"
}
"$python" -c 'import jax, flax, optax; print(jax.devices(), jax.__version__, flax.__version__, optax.__version__)' > "$out/devices.txt" 2>&1
cat "$out/devices.txt"
step bench_darts_scan_cells_fp32 120 "$python" -m launch.bench_darts --layers=20 \
  --init_channels=36 --batch_size=96 --steps=5 --scan_cells --noper_genotype \
  --out="$out/bench_darts_scan_cells_fp32.json"
step bench_darts_fp32 130 "$python" -m launch.bench_darts --layers=20 --init_channels=36 \
  --batch_size=96 --steps=5 --out="$out/bench_darts_fp32.json"
step bench_darts_scan_cells_bf16 70 "$python" -m launch.bench_darts --layers=20 \
  --init_channels=36 --batch_size=96 --steps=5 --scan_cells --bf16 --noper_genotype \
  --out="$out/bench_darts_scan_cells_bf16.json"
step cifar_sized_set 20 "$python" -c "
import pickle, pathlib, numpy as np
folder = pathlib.Path('$work/cifar10/cifar-10-batches-py'); folder.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
  data = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
  (folder / name).write_bytes(pickle.dumps({b'data': data, b'labels': rng.integers(0, 10, 10000).tolist()}))
"
# Two epochs: the first one's images/s includes the compilation, the second's is the pipeline.
step train_darts_proxy_epochs 90 "$python" -m launch.train_darts \
  --config=bananas_jax/configs/darts_train.py:proxy --config.epochs=2 --config.scan_cells=True \
  --config.data_dir="$work/cifar10" --config.workdir="$work/train_darts_proxy"
cp "$work/train_darts_proxy/final.json" "$out/train_darts_proxy_epochs.json" 2>/dev/null
cat "$out/steps.txt"
