"""BANANAS choosing NAS-Bench-201 cells for CIFAR-10: each trial looks up the cell's
validation error in the table bananas-jax embeds (no training, no download)."""

import optuna
import optunahub

from bananas_jax import benchmarks, spaces

module = optunahub.load_module(package='samplers/bananas')
space = spaces.make('nasbench201')  # 6 edges, 5 operations each: 15,625 cells
table = benchmarks.load('nasbench201', 'cifar10', 200)


def objective(trial):
  arch = module.suggest(trial, space)  # one suggest_categorical per edge
  return float(table.val_error[int(table.rows(arch[None])[0])])


sampler = module.BananasSampler(space, seed=0, total_queries=20)
study = optuna.create_study(sampler=sampler)
study.optimize(objective, n_trials=20)
print(f'best validation error {study.best_value:.2f}% of', study.best_params)
