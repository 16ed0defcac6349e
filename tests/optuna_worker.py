"""One worker of a study shared through an Optuna storage (test_optuna_sampler_workers.py).

  python tests/optuna_worker.py STORAGE STUDY_NAME [SLEEP_S [STALL_SLOT]]

Joins the study and evaluates NAS-Bench-201 CIFAR-10 cells (the table's validation error,
after ``SLEEP_S`` seconds) with the sampler of :func:`make_sampler` until the schedule ends.
The first attempt at slot ``STALL_SLOT`` stalls (a worker to kill mid-trial); each trial
records its worker's ``pid``.
"""

import os
import sys
import time

import optuna

from bananas_jax import benchmarks, spaces
from bananas_jax.integrations import optuna_sampler as sampler
from bananas_jax.integrations import optuna_slots, optuna_storage

SPACE = spaces.make('nasbench201')
TOTAL = 30
SETTINGS = {'k': 5, 'population_size': 10, 'tournament_size': 5, 'num_mutations': 20}


def make_sampler():
  return sampler.BananasSampler(space=SPACE, algorithm='evolution', settings=SETTINGS,
                                mode='sync', total_queries=TOTAL, seed=7, poll_s=0.1)


def objective(sleep_s=0.0, stall_slot=-1):
  table = benchmarks.load('nasbench201', 'cifar10', 200)

  def evaluate(trial):
    arch = sampler.suggest(trial, SPACE)
    trial.set_user_attr('pid', os.getpid())
    attrs = optuna_storage.trial_system_attrs(trial)
    stall = attrs.get(optuna_slots.SLOT) == stall_slot and 'failed_trial' not in attrs
    time.sleep(600 if stall else sleep_s)
    return float(table.val_error[int(table.rows(arch[None])[0])])

  return evaluate


def main(url, name, sleep_s=0.0, stall_slot=-1):
  optuna.logging.set_verbosity(optuna.logging.WARNING)
  storage = sampler.open_storage(url, heartbeat_interval=1, grace_period=3)
  study = optuna.load_study(study_name=name, storage=storage, sampler=make_sampler())
  study.optimize(objective(sleep_s, int(stall_slot)), callbacks=[
      optuna.study.MaxTrialsCallback(TOTAL, states=(optuna.trial.TrialState.COMPLETE,))])


if __name__ == '__main__':
  main(sys.argv[1], sys.argv[2], *map(float, sys.argv[3:]))
