"""The predictor study of the paper's notebook, on NAS-Bench-201 CIFAR-10.

  python -m launch.predict --config=bananas_jax/configs/predictor.py

Writes predictor.json (MAE, Kendall tau, Spearman rho, within-1-point and seconds per
model, encoding and training size), predictor_mae.png and predictor.png (predicted vs true
validation error at n = scatter_size). With the trees extra, ``--config.models=
ensemble,gp,dngo,bohamiann,gcn,random_forest,xgboost`` adds the host-side models: 168 s on
the 2-core CPU for all of them. At n = 200, MAE / Kendall tau on 1,000 held-out cells: the
ensemble 3.51 / 0.659 (adjacency), the GCN 3.55 / 0.620, XGBoost 4.39 / 0.567, random
forest 4.49 / 0.549, BOHAMIANN 6.04 / 0.372, the GP 6.17 / 0.466, DNGO 6.91 / 0.364 (all
sizes in experiments/RESULTS.md).
"""

import ml_collections

from bananas_jax import predictor_study, search


def get_config():
  config = ml_collections.ConfigDict()
  config.search_space = 'nasbench201'
  config.dataset = 'cifar10'
  config.fidelity = 200
  config.train_sizes = '20,50,100,200,500'
  config.num_test = 1000  # held-out architectures per seed
  config.models = 'ensemble,gp,dngo,bohamiann,gcn'  # + random_forest,xgboost: the trees extra
  config.encodings = 'adjacency,path,trunc_path'  # the ensemble's
  config.cutoff = 40
  config.seeds = 5
  config.seed = 0
  config.scatter_size = 200
  config.workdir = 'runs/predictor'
  for name, (_, cls) in predictor_study.MODELS.items():  # each model's settings
    if cls is not None:
      config[name] = ml_collections.ConfigDict(search.as_config(cls()))
  return config
