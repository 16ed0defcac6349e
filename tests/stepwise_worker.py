"""A host of a step-by-step search on NAS-Bench-201 whose 'training' is a table lookup
that takes ``sleep_s``: the stand-in that tests/test_stepwise.py runs in several processes.

  python tests/stepwise_worker.py WORKDIR STORAGE SLEEP_S K

Joins the study in STORAGE ('' for WORKDIR/study.db) with this process's devices as workers;
every evaluation started is logged to WORKDIR/started.log (arch, pid, devices, start, end).
"""

import json
import os
import sys
import time

import jax
import ml_collections

from bananas_jax import benchmarks, stepwise
from bananas_jax.configs import nasbench201


def small_config(workdir, k=4, storage=''):
  config = ml_collections.ConfigDict()
  config.search_space = 'nasbench201'
  config.algorithm = 'bananas'
  config.total_queries = 6 + 2 * k
  config.seed = 3
  config.workdir = str(workdir)
  config.storage = storage
  config.study_name = ''
  config.heartbeat_s = 1
  config.wait_timeout_s = 600.0
  config.max_retries = 2
  config.bananas = nasbench201.algorithm_section(
      'bananas', num_init=6, k=k, predictor=dict(epochs=5, num_ensemble=2))
  return config


def table_query(benchmark, log_path=None, sleep_s=0.0, fail_on=()):
  """A query answered by the table after ``sleep_s``; raises for archs in ``fail_on``."""

  def query_fn(text, workdir, devices):
    start = time.time()
    time.sleep(sleep_s)
    if text in fail_on:
      raise FloatingPointError('loss nan in epoch 1')
    arch = benchmark.space.from_string(text)[None]
    value = float(benchmark.query(jax.random.key(0), arch).val_error[0])
    if log_path:
      with open(log_path, 'a') as f:
        f.write(json.dumps({'arch': text, 'pid': os.getpid(), 'devices': [str(d) for d in devices],
                            'start': start, 'end': time.time()}) + '\n')
    return value

  return query_fn


def main(workdir, storage, sleep_s, k):
  benchmark = benchmarks.load('nasbench201', 'cifar10', 200)
  query = table_query(benchmark, os.path.join(workdir, 'started.log'), float(sleep_s))
  found = stepwise.run_stepwise(small_config(workdir, int(k), storage), query, poll_s=0.05)
  print(json.dumps([[r['arch'], r['val_error']] for r in found]))


if __name__ == '__main__':
  main(*sys.argv[1:])
