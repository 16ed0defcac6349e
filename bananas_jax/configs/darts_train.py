"""Training a DARTS-space architecture on CIFAR-10 with the DARTS/BANANAS recipe.

  python -m launch.train_darts --config=bananas_jax/configs/darts_train.py \
      --config.genotype=BANANAS --config.data_dir=/data/cifar10
  python -m launch.train_darts --config=bananas_jax/configs/darts_train.py:proxy ...

The default is the paper's final training (600 epochs on the full training set, test
accuracy at the end); ``:proxy`` is the search proxy (50 epochs on 70% of the training
set, the target being the mean validation error of the last 5 epochs). A tiny run:
``--config.layers=2 --config.init_channels=8 --config.epochs=1``. ``genotype`` is a name
(BANANAS, DARTS_V2) or DARTS genotype text. The workdir keeps a checkpoint per epoch:
the same command resumes a killed run.

Not run here (CIFAR-10 is not on these machines). Speed of the default network by
``python -m launch.bench_darts`` (experiments/RESULTS.md, "DARTS"): on one NVIDIA H200 in fp32
(cells scanned) the first architecture of a process waits 111 s for the shared program's
compilation, every later one under a second for its first step, then 463-542 images/s (a
50-epoch proxy in 0.9 h, commit f704271); on the 2-core CPU 72 s, then 11 s, then 8.4-9.8
images/s (50 h), and with ``scan_cells`` 51 s, then 13 s, then 7.2-8.2 images/s (8e932fa).
Parameters: BANANAS 3,583,054, DARTS_V2 3,349,342 (auxiliary head excluded).
"""

import ml_collections


def get_config(variant='final'):
  if variant not in ('final', 'proxy'):
    raise ValueError(f'unknown darts_train variant {variant!r}; accepted: final, proxy')
  config = ml_collections.ConfigDict()
  config.genotype = 'BANANAS'
  config.data_dir = ''  # holds cifar-10-python.tar.gz or cifar-10-batches-py/
  config.workdir = ''  # '' means runs/darts_<variant>_<genotype>
  config.epochs = 600 if variant == 'final' else 50
  config.train_portion = 1.0 if variant == 'final' else 0.7
  config.test = variant == 'final'  # evaluate on the test set at the end
  config.layers = 20
  config.init_channels = 36
  config.batch_size = 96
  config.eval_batch_size = 500
  config.learning_rate = 0.025
  config.momentum = 0.9
  config.weight_decay = 3e-4
  config.grad_clip = 5.0
  config.drop_path = 0.2
  config.auxiliary_weight = 0.4  # 0 removes the auxiliary head
  config.cutout = 16
  config.bf16 = False
  config.scan_cells = False  # a stage's normal cells as one scan: compiles faster, steps slower
  config.seed = 0
  config.variant = variant
  return config
