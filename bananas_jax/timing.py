"""Speed measurements behind the bench launchers: BANANAS trials and ensemble fits
(``launch.bench``), DARTS training steps (``launch.bench_darts``), the NAS-Bench-101 data
path (``launch.bench_nasbench101``), the Optuna sampler's overhead
(``launch.bench_sampler``).

Wall-clock seconds on whatever device JAX uses. A first call includes compilation; a
second call on other inputs hits the compilation cache, so their difference is the
compile time. Every report says which device and versions made it.
"""

import concurrent.futures
import pathlib
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import optuna
from absl import logging

from bananas_jax import benchmarks, search, stepwise
from bananas_jax.benchmarks import nasbench101 as nb101
from bananas_jax.darts import count_params, train
from bananas_jax.history import sample_new
from bananas_jax.integrations import optuna_sampler
from bananas_jax.io import checkpoints, tfrecord
from bananas_jax.provenance import provenance
from bananas_jax.spaces import nasbench101 as nb101_space


def _timed(fn):
  tick = time.perf_counter()
  jax.block_until_ready(fn())
  return time.perf_counter() - tick


def time_ensemble_fit(algorithm, num_points=150):
  """Compile and run time of one ensemble fit on ``num_points`` architectures."""
  space, predictor = algorithm.space, algorithm.predictor
  archs = space.sample(jax.random.PRNGKey(0), num_points)
  x = space.encode(archs, algorithm.encoding, algorithm.cutoff)
  y = 10 + x.sum(axis=1)
  mask = jnp.ones(num_points, bool)
  fit = jax.jit(predictor.fit)
  compile_s = _timed(lambda: fit.lower(jax.random.PRNGKey(0), x, y, mask).compile())
  run_s = min(_timed(lambda: fit(jax.random.PRNGKey(i), x, y, mask)) for i in range(3))
  return {'compile_s': round(compile_s, 3), 'run_s': round(run_s, 3)}


def time_trials(algorithm, benchmark, num_trials):
  """Wall time of ``num_trials`` trials run batched, with and without compilation."""
  first = _timed(lambda: search.run_trials(algorithm, benchmark, np.arange(num_trials)).val_error)
  second = _timed(lambda: search.run_trials(
      algorithm, benchmark, np.arange(num_trials, 2 * num_trials)).val_error)
  return {'trials': num_trials, 'first_call_s': round(first, 3),
          'cached_s': round(second, 3), 'compile_s': round(first - second, 3),
          'seconds_per_trial': round(second / num_trials, 4),
          'seconds_per_trial_with_compile': round(first / num_trials, 4)}


def run_timings(batch_sizes=(1, 8, 32, 128), dataset='cifar10'):
  benchmark = benchmarks.load('nasbench201', dataset, 200)
  algorithm = search.make('bananas', benchmark.space, 150)
  report = {**provenance(), 'ensemble_fit_150x150_epochs': time_ensemble_fit(algorithm),
            'trials': []}
  for num_trials in batch_sizes:
    report['trials'].append(time_trials(algorithm, benchmark, num_trials))
  return report


# ---- DARTS training ---------------------------------------------------------------------

PROXY_IMAGES = 35_000  # 70% of the CIFAR-10 training set: one proxy epoch
PROXY_EPOCHS = 50


def _synthetic_batch(batch_size):
  """Random CIFAR-sized images and labels: speed does not depend on what they show."""
  rng = np.random.default_rng(0)
  return (rng.integers(0, 256, (batch_size, 32, 32, 3), dtype=np.uint8),
          rng.integers(0, 10, batch_size).astype(np.int32))


def _train_steps(trainer, state, batch, steps, first_key=0):
  """``steps`` training steps on ``batch`` (keys ``first_key``, ``first_key + 1``, ...),
  waited for; returns the state."""
  for step in range(first_key, first_key + steps):
    state, metrics = trainer.train_step(state, *batch, jax.random.key(step), 0.1)
  jax.block_until_ready(metrics)
  return state


def _time_architecture(config, steps, per_genotype):
  """Seconds from "train ``config.genotype``" to its first finished step: the step's
  programs compiled ahead (:meth:`train.Trainer.compile_ahead`, on threads; tracing,
  lowering and XLA's compilation of each, where not compiled yet) while the initial state
  is drawn on the host, then the first step (waiting for the compilations, and the run);
  then the steady step time. Returns the report and the state."""
  trainer = train.Trainer(config, steps_per_epoch=1000, per_genotype=per_genotype)
  batch = _synthetic_batch(config.batch_size)
  tick = time.perf_counter()
  trainer.compile_ahead()
  state = jax.block_until_ready(trainer.init(0))
  init_s = time.perf_counter() - tick
  state = _train_steps(trainer, state, batch, 1)
  to_first_s = time.perf_counter() - tick
  compile_s = {name: round(future.result(), 2) for name, future in trainer.compiling.items()}
  tick = time.perf_counter()
  state = _train_steps(trainer, state, batch, steps, first_key=1)
  step_s = (time.perf_counter() - tick) / steps
  return {'genotype': config.genotype, 'init_s': round(init_s, 2),
          'compile_s (on threads, from the start)': compile_s,
          'first_step_s (after init)': round(to_first_s - init_s, 2),
          'to_first_step_s': round(to_first_s, 2),
          'start_s (to first step - steady step)': round(max(to_first_s - step_s, 0.0), 2),
          'step_s': round(step_s, 3), 'images_per_s': round(config.batch_size / step_s, 2)}, state


def _projection(architectures):
  """A 50-epoch proxy training and a 100-architecture search at the second architecture's
  rate, with each program's start (its compilations: once per search, or once per
  architecture)."""
  images_per_s = architectures[-1]['images_per_s']
  proxy_s = PROXY_EPOCHS * PROXY_IMAGES / images_per_s
  starts = [a['start_s (to first step - steady step)'] for a in architectures]
  per_search = starts[0] + 99 * starts[-1]
  return {'proxy_epoch_s (35,000 images)': round(PROXY_IMAGES / images_per_s, 1),
          'proxy_50_epochs_h': round(proxy_s / 3600, 2),
          'search_100_architectures_h': round((100 * proxy_s + per_search) / 3600, 2),
          'of which starting_h': round(per_search / 3600, 3)}


def time_darts_steps(config, steps=3, second='DARTS_V2', per_genotype=True):
  """Two architectures trained one after the other (``config.genotype``, then ``second``)
  by the program shared by every architecture, and, with ``per_genotype``, by a program
  compiled for each, on synthetic images: initialisation, first step, compilation and
  steady images/s of each, what a proxy training and a search would take at that rate,
  and the size, save and load time of the checkpoint a training writes every epoch."""
  programs = {}
  for program in ('shared', 'per_genotype') if per_genotype else ('shared',):
    architectures = []
    for genotype in (config.genotype, second):
      run = config.copy_and_resolve_references()
      run.genotype = genotype
      report, state = _time_architecture(run, steps, program == 'per_genotype')
      logging.info('%s program: %s', program, report)  # what a run killed later still shows
      architectures.append(report)
    programs[program] = {'architectures': architectures, **_projection(architectures)}
  with tempfile.TemporaryDirectory() as directory:  # the per-epoch checkpoint, both ways
    tick = time.perf_counter()
    checkpoints.save(directory, 1, {'state': state, 'history': '[]'})
    save_s = time.perf_counter() - tick
    megabytes = checkpoints.path_of(directory, 1).stat().st_size / 2**20
    tick = time.perf_counter()
    checkpoints.load_latest(directory)
    load_s = time.perf_counter() - tick
  return {
      **provenance(), 'layers': config.layers, 'init_channels': config.init_channels,
      'batch_size': config.batch_size, 'bf16': config.bf16, 'scan_cells': config.scan_cells,
      'steps': steps,
      'params': {g: count_params(g, config.init_channels, config.layers, auxiliary=True)
                 for g in (config.genotype, second)},
      'programs': programs,
      'checkpoint_mb': round(megabytes, 1), 'checkpoint_save_s': round(save_s, 3),
      'checkpoint_load_s': round(load_s, 3)}


def time_concurrent_darts_trainings(config, trainings, steps=3):
  """``trainings`` trainings of ``config``'s network, each on its own group of local
  devices (as a step of the DARTS search runs them), timed over ``steps`` training steps
  one after another and all at once: the wall time of a search step, sequential vs
  concurrent."""
  groups = stepwise.device_groups(jax.local_devices(), trainings)
  if len(groups) < trainings:
    raise ValueError(f'{trainings} concurrent trainings need as many local devices; '
                     f'there are {len(jax.local_devices())}')
  trainers = [train.Trainer(config, steps_per_epoch=1000, devices=group) for group in groups]
  batch = _synthetic_batch(config.batch_size)
  run = lambda trainer, state: _train_steps(trainer, state, batch, steps)
  states = [_train_steps(t, t.init(0), batch, 1) for t in trainers]  # one compile per group
  tick = time.perf_counter()
  states = [run(t, state) for t, state in zip(trainers, states)]
  sequential_s = time.perf_counter() - tick
  tick = time.perf_counter()
  with concurrent.futures.ThreadPoolExecutor(trainings) as pool:
    list(pool.map(run, trainers, states))
  concurrent_s = time.perf_counter() - tick
  return {'trainings': trainings, 'devices_per_training': len(groups[0]), 'steps': steps,
          'sequential_step_s': round(sequential_s / steps, 3),
          'concurrent_step_s': round(concurrent_s / steps, 3),
          'speedup': round(sequential_s / concurrent_s, 2),
          'images_per_s_all_trainings': round(trainings * steps * config.batch_size /
                                              concurrent_s, 1)}


# ---- the NAS-Bench-101 data path ----------------------------------------------------------

NB101_CELLS = 423_624  # cells in NAS-Bench-101


def time_nasbench101_reader(directory):
  """Writes every cell of the 6-vertex space (64,542 cells x 3 repeats, official format)
  and reads it back: records per second of the reader, and of the whole conversion."""
  path = pathlib.Path(directory) / 'nasbench_only108.tfrecord'
  tick = time.perf_counter()
  cells = nb101.write_synthetic(path, num_vertices=6)
  write_s = time.perf_counter() - tick
  tick = time.perf_counter()
  num_records = sum(1 for _ in tfrecord.read(path))
  framing_s = time.perf_counter() - tick
  tick = time.perf_counter()
  nb101.load_table(path, progress=False)
  convert_s = time.perf_counter() - tick
  return {'cells': cells, 'records': num_records,
          'file_mb': round(path.stat().st_size / 2**20, 1), 'write_s': round(write_s, 2),
          'framing_and_crc_records_per_s': round(num_records / framing_s),
          'conversion_s': round(convert_s, 2),
          'conversion_records_per_s': round(num_records / convert_s),
          'cache_mb': round(nb101.cache_path(path).stat().st_size / 2**20, 1)}


def time_nasbench101_cache(directory):
  """Loads a cache of NAS-Bench-101's size (random valid cells, made-up metrics) and puts
  the benchmark on the device."""
  space = nb101_space.NASBench101Space()
  cells = space.sample(jax.random.key(0), 4096)
  rng = np.random.default_rng(0)
  pick = rng.integers(0, 4096, NB101_CELLS)
  accuracy = rng.uniform(80, 95, (NB101_CELLS, 3)).astype(np.float32)
  table = nb101.NASBench101Table(
      hashes=np.sort(np.array([f'{i:032x}' for i in range(NB101_CELLS)], 'S32')),
      matrix=np.asarray(cells.matrix)[pick], ops=np.asarray(cells.ops)[pick].astype(np.int8),
      keys=np.arange(NB101_CELLS, dtype=np.int32) * 5000,  # distinct, as in the real table
      val_accuracy=accuracy, test_accuracy=accuracy - 0.5, train_time=accuracy * 20,
      params=rng.integers(10**5, 10**7, NB101_CELLS), epochs=108, num_vertices=7)
  cache = pathlib.Path(directory) / 'full_size.108ep.npz'
  nb101.write_cache(table, cache)
  tick = time.perf_counter()
  loaded = nb101.load_table(cache)
  load_s = time.perf_counter() - tick
  tick = time.perf_counter()
  jax.block_until_ready(loaded.benchmark().val_error)
  device_s = time.perf_counter() - tick
  return {'cells': NB101_CELLS, 'cache_mb': round(cache.stat().st_size / 2**20, 1),
          'load_s': round(load_s, 3), 'to_benchmark_on_device_s': round(device_s, 3),
          'total_s': round(load_s + device_s, 3)}


# ---- BananasSampler --------------------------------------------------------------------

def time_sampler_overhead(finished_counts=(100, 1000), asks=5, algorithm='evolution'):
  """Seconds the sampler spends on one asynchronous ask of a study with ``n`` finished
  trials, for each ``n``: median over ``asks`` asks after one that compiles. The default
  algorithm fits no model (regularized evolution), so the time is the sampler's own
  overhead (reading the trials, replaying them into the algorithm's state, choosing a
  proposal nobody holds); a model-based search adds its fit."""
  optuna.logging.set_verbosity(optuna.logging.WARNING)
  table = benchmarks.load('nasbench201', 'cifar10', 200)
  space = table.space
  decisions = optuna_sampler.decisions_of(space)
  distributions = {name: optuna.distributions.CategoricalDistribution(options)
                   for name, options in decisions.items()}
  report = {**provenance(), 'algorithm': algorithm, 'asks': asks, 'studies': []}
  for n in finished_counts:
    study = optuna.create_study(sampler=optuna_sampler.BananasSampler(
        space, algorithm, mode='async', total_queries=n + asks + 1, seed=0))
    archs = sample_new(jax.random.key(0), space, n, jnp.full(1, -1, jnp.int32))
    rows = np.asarray(table.rows(archs))
    for choices, row in zip(np.asarray(space.to_choices(archs)), rows):
      params = {name: options[c] for (name, options), c in zip(decisions.items(), choices)}
      study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions,
                                                value=float(table.val_error[row])))
    seconds = []
    for _ in range(asks + 1):
      tick = time.perf_counter()
      trial = study.ask()
      arch = optuna_sampler.suggest(trial, space)
      seconds.append(time.perf_counter() - tick)
      study.tell(trial, float(table.val_error[int(table.rows(jnp.asarray(arch)[None])[0])]))
    report['studies'].append({'finished_trials': n, 'first_ask_s': round(seconds[0], 4),
                              'median_ask_s': round(float(np.median(seconds[1:])), 4)})
    logging.info('%s', report['studies'][-1])
  return report
