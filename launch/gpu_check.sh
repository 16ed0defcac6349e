#!/bin/sh
# The accelerator check, run as it is on any machine with a GPU (or TPU):
#   sh launch/gpu_check.sh [OUT]        (OUT defaults to runs/gpu_check)
# Each step has its own time limit and writes its report and log under OUT; a step that
# fails or runs out of time is logged and the next one runs. Steps: DARTS training at the
# full size (20 cells, 36 channels, batch 96, auxiliary head) for a first and a second
# architecture, fp32 and bf16; two epochs of the search proxy on a CIFAR-10-sized set
# (synthetic images in the CIFAR-10 python format: speed does not depend on what they
# show), beside the bench's steady images/s; BANANAS trials batched on NAS-Bench-201; the quick tier of the tests.
set -u
out=${1:-runs/gpu_check}
mkdir -p "$out"
python=${PYTHON:-python}
step() {  # step NAME SECONDS COMMAND...
  name=$1; limit=$2; shift 2
  echo "== $name (limit ${limit}s)"
  start=$(date +%s)
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  echo "$name: exit $? in $(( $(date +%s) - start ))s" | tee -a "$out/steps.txt"
  tail -n 5 "$out/$name.log"
}
"$python" -c 'import jax; print(jax.devices(), jax.__version__)' > "$out/devices.txt" 2>&1
step bench_darts_fp32 240 "$python" -m launch.bench_darts --layers=20 --init_channels=36 \
  --batch_size=96 --steps=5 --out="$out/bench_darts_fp32.json"
step bench_darts_bf16 200 "$python" -m launch.bench_darts --layers=20 --init_channels=36 \
  --batch_size=96 --steps=5 --bf16 --out="$out/bench_darts_bf16.json"
step cifar_sized_set 60 "$python" -c "
import pickle, pathlib, numpy as np
folder = pathlib.Path('$out/cifar10/cifar-10-batches-py'); folder.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
  data = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
  (folder / name).write_bytes(pickle.dumps({b'data': data, b'labels': rng.integers(0, 10, 10000).tolist()}))
"
# Two epochs: the first one's images/s includes the compilation, the second's is the pipeline.
step train_darts_proxy_epochs 400 "$python" -m launch.train_darts \
  --config=bananas_jax/configs/darts_train.py:proxy --config.epochs=2 \
  --config.data_dir="$out/cifar10" --config.workdir="$out/train_darts_proxy"
cp "$out/train_darts_proxy/final.json" "$out/train_darts_proxy_epochs.json" 2>/dev/null
step bench_tabular 180 "$python" -m launch.bench --batch_sizes=1,128,1024 \
  --out="$out/bench_tabular.json"
step tests_quick 420 "$python" -m pytest -q -m 'not slow' -x -p no:cacheprovider tests
