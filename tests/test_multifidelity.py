"""Multi-fidelity benchmarks and searches: queries, brackets by hand, ASHA's workers, BOHB's
model, the cost axis of records and summaries."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from bananas_jax import benchmarks, experiment, results, search
from bananas_jax.benchmarks import nasbench101 as nb101
from bananas_jax.benchmarks.tabular import MultiFidelityBenchmark, TabularBenchmark
from bananas_jax.configs import nasbench201 as config_lib
from bananas_jax.search.multifidelity import Rung
from bananas_jax.spaces.categorical import CategoricalSpace


def tiny_benchmark(val_error, train_time, fidelities):
  """Architecture ``i`` is option ``i`` of one decision; ``val_error[f, i]`` at
  ``fidelities[f]`` epochs, test error 100 + the validation error (told apart in records)."""
  val_error, train_time = np.asarray(val_error, np.float32), np.asarray(train_time, np.float32)
  n = val_error.shape[1]
  space = CategoricalSpace.from_decisions({'x': list(range(n))})
  archs = np.arange(n, dtype=np.int32)[:, None]
  levels = [TabularBenchmark.from_rows(
      space, archs, np.arange(n, dtype=np.int32), 'tiny', 'tiny', epochs,
      val_error=val_error[f], val_error_seeds=np.zeros((n, 0), np.float32),
      num_seeds=np.zeros(n, np.int32), test_error=100 + val_error[f],
      train_time=train_time[f]) for f, epochs in enumerate(fidelities)]
  return MultiFidelityBenchmark.stack(levels)


def test_multi_fidelity_query_equals_each_single_fidelity_table():
  multi = benchmarks.load_multifidelity('nasbench201', 'cifar100', 200)
  assert multi.fidelities == (12, 200)
  archs = multi.full.archs
  query = jax.jit(multi.query)
  for epochs in (12, 200):
    single = benchmarks.load('nasbench201', 'cifar100', epochs)
    want = single.query(jax.random.PRNGKey(0), archs)
    got = query(archs, jnp.full(archs.shape[0], epochs, jnp.int32))
    for field in ('val_error', 'test_error', 'train_time', 'row'):
      np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
  # Mixed budgets in one query: each architecture at its own.
  epochs = jnp.where(jnp.arange(archs.shape[0]) % 2 == 0, 12, 200)
  mixed = query(archs, epochs)
  low = benchmarks.load('nasbench201', 'cifar100', 12).val_error
  np.testing.assert_array_equal(mixed.val_error[::2], low[::2])
  np.testing.assert_array_equal(mixed.val_error[1::2], multi.full.val_error[1::2])


@pytest.mark.slow  # compiles a search end to end
def test_nasbench101_at_four_budgets_from_a_full_official_file(tmp_path):
  path = tmp_path / 'nasbench_full.tfrecord'
  nb101.write_synthetic(path, num_vertices=4, seed=0, repeats=2, epochs=(4, 12, 36, 108))
  multi = benchmarks.load_multifidelity('nasbench101', 'cifar10', 108, path)
  assert multi.fidelities == (4, 12, 36, 108)
  archs = multi.full.archs
  num = len(multi.full.sorted_keys)
  for epochs in multi.fidelities:
    single = nb101.load_table(path, epochs=epochs, progress=False).benchmark()
    got = multi.query(archs, jnp.full(num, epochs, jnp.int32))
    np.testing.assert_array_equal(got.val_error, single.val_error)
    np.testing.assert_array_equal(got.train_time, single.train_time)
  # The multi-fidelity searches run on that path, through the experiment.
  config = ml_collections.ConfigDict(config_lib.get_config())
  config.update(search_space='nasbench101', fidelity=108, data_path=str(path), trials=2,
                trial_batch=2, total_queries=40, workdir=str(tmp_path / 'run'),
                algorithms='successive_halving,asha,bananas_mf')
  config.bananas_mf.update(num_screen=6, k=2, pool=2, predictor={'epochs': 2, 'num_ensemble': 2})
  summary = experiment.run_search(config)  # one bracket: 27, 9, 3 and 1 at 4 ... 108 epochs
  assert summary['algorithms']['successive_halving']['test_error_at_budget_mean'][-1] > 0
  records = results.workdir_records(tmp_path / 'run')
  assert len(records) == 6 and all(r['spent_s'] > 0 for r in records)
  assert {r['best_index'] for r in records} - {None} <= set(range(num))
  # BANANAS-MF screens at the lowest budget and trains the best screened cells at 108 (the
  # same program as the run's: the jit cache serves it).
  benchmark, algorithms = experiment.build(config)
  algorithm = algorithms['bananas_mf']
  assert algorithm.fidelities == (4, 12, 36, 108) and algorithm.cell_features is None
  out = search.run_trials(algorithm, benchmark, [0, 1])
  np.testing.assert_array_equal(out.epochs, [[4] * 6 + [108] * 2 + ([4] * 4 + [108] * 2) * 19] * 2)
  for trial in range(2):
    rows, val = out.rows[trial], out.val_error[trial]
    assert len(set(rows[out.epochs[trial] == 4])) == 6 + 4 * 19  # every screened cell is new
    screened, trained = [], set()  # (4-epoch error, order, row); rows trained at 108
    for start in [0] + [8 + 6 * i for i in range(19)]:
      size = 6 if start == 0 else 4
      screened += [(val[i], i, rows[i]) for i in range(start, start + size)]
      # The 2 best screened cells so far that were not trained in full yet.
      want = [row for _, _, row in sorted(s for s in screened if s[2] not in trained)[:2]]
      full = slice(start + size, start + size + 2)
      np.testing.assert_array_equal(rows[full], want)
      np.testing.assert_array_equal(val[full], benchmark.full.val_error[rows[full]])
      trained.update(want)


def test_a_bracket_of_successive_halving_by_hand():
  # Nine architectures at 1, 3 and 9 epochs; the order at 3 epochs is not the one at 1.
  val = [[9, 8, 7, 6, 5, 4, 3, 2, 1],        # 1 epoch: 8, 7, 6 are the best three
         [1, 2, 3, 4, 5, 6, 9, 7, 8],        # 3 epochs: of 6, 7, 8 the best is 7
         [5, 5, 5, 5, 5, 5, 5, 5, 5]]
  time = [[1] * 9, [10] * 9, [100] * 9]
  bench = tiny_benchmark(val, time, (1, 3, 9))
  sh = search.make('successive_halving', bench.full.space, 13,
                   {'eta': 3, 'num_configs': 9, 'fidelities': [1, 3, 9]})
  assert sh.plan() == [Rung(1, 9), Rung(3, 3, source=9), Rung(9, 1, source=3)]
  out = search.run_trials(sh, bench, [0])
  archs = np.asarray(out.archs)[0, :, 0]
  assert sorted(archs[:9]) == list(range(9))  # every architecture once, at 1 epoch
  np.testing.assert_array_equal(out.epochs[0], [1] * 9 + [3] * 3 + [9])
  np.testing.assert_array_equal(archs[9:12], [8, 7, 6])  # best first, by 1-epoch error
  assert archs[12] == 7
  np.testing.assert_array_equal(out.train_time[0], [1] * 9 + [10] * 3 + [100])
  # Cut short: total_queries 11 ends the plan with two of the three promotions.
  short = search.make('successive_halving', bench.full.space, 11,
                      {'num_configs': 9, 'fidelities': [1, 3, 9]})
  assert short.plan() == [Rung(1, 9), Rung(3, 2, source=9)]


def test_hyperband_brackets_follow_the_papers_formula():
  space = CategoricalSpace.from_decisions({'x': list(range(9))})
  hb = search.make('hyperband', space, 100, {'fidelities': [4, 12, 36, 108]})
  sizes = [(r.epochs, r.size) for r in hb.cycle()]
  assert sizes == [(4, 27), (12, 9), (36, 3), (108, 1), (12, 12), (36, 4), (108, 1),
                   (36, 6), (108, 2), (108, 4)]
  assert [(r.epochs, r.size) for r in
          search.make('hyperband', space, 100, {'fidelities': [12, 200]}).cycle()] == [
              (12, 3), (200, 1), (200, 2)]


def simulate_asha(new_archs, val, time, fidelities, eta, workers, steps):
  """ASHA by the paper's pseudo-code, event by event, with the new architectures given."""
  free_at = [0.0] * workers
  jobs, promoted, new = [], set(), iter(new_archs)  # job: (arch, rung, start, finish)
  for _ in range(steps):
    worker = int(np.argmin(free_at))
    now = free_at[worker]
    job = None
    for rung in reversed(range(len(fidelities) - 1)):
      done = sorted((val[rung][a], i) for i, (a, r, _, f) in enumerate(jobs)
                    if r == rung and f <= now)
      ready = [i for _, i in done[:len(done) // eta] if i not in promoted]
      if ready:
        promoted.add(ready[0])
        job = (jobs[ready[0]][0], rung + 1)
        break
    job = job or (next(new), 0)
    finish = now + time[job[1]][job[0]]
    jobs.append((*job, now, finish))
    free_at[worker] = finish
  return [(a, fidelities[r]) for a, r, _, _ in jobs]


@pytest.mark.parametrize('seed', [0, 1])
def test_asha_promotions_with_two_simulated_workers(seed):
  rng = np.random.default_rng(seed)
  val = rng.permutation(40).reshape(2, 20).astype(np.float32)  # two rungs, distinct errors
  time = [rng.integers(1, 9, 20).tolist(), rng.integers(20, 40, 20).tolist()]
  bench = tiny_benchmark(val, time, (3, 9))
  asha = search.make('asha', bench.full.space, 24, {'num_workers': 2, 'fidelities': [3, 9]})
  out = search.run_trials(asha, bench, [seed])
  jobs = list(zip(np.asarray(out.archs)[0, :, 0].tolist(), out.epochs[0].tolist()))
  new = [a for a, epochs in jobs if epochs == 3]
  assert len(set(new)) == len(new)  # new architectures are new
  assert jobs == simulate_asha(new, val, time, (3, 9), eta=3, workers=2, steps=24)
  assert any(epochs == 9 for _, epochs in jobs)


@pytest.mark.slow  # compiles a search end to end
def test_bohb_samples_at_random_until_its_model_has_enough_points():
  multi = benchmarks.load_multifidelity('nasbench201', 'cifar10', 200)
  space = multi.full.space
  settings = {'fidelities': [12, 200]}
  hyperband = search.run_trials(search.make('hyperband', space, 36, settings), multi, [0, 1])
  never = search.run_trials(search.make('bohb', space, 36, {**settings,
                                                             'min_points_in_model': 100}),
                            multi, [0, 1])
  np.testing.assert_array_equal(never.archs, hyperband.archs)  # the same random draws
  # With its defaults (7 points per density on 6 decisions) the model starts once 12-epoch
  # results allow it: up to then BOHB is Hyperband, afterwards its choices differ.
  bohb = search.make('bohb', space, 36, settings)
  state = search.multifidelity.Evaluations.empty(space, 36)
  archs = space.sample(jax.random.PRNGKey(0), 14)
  almost = state.add(space, archs[:13], jnp.full(13, 12), jnp.arange(13.0))
  assert not bool(bohb.model(almost)[0])
  ready, good, bad = bohb.model(state.add(space, archs, jnp.full(14, 12), jnp.arange(14.0)))
  assert bool(ready) and int(good.sum()) == 7 and int(bad.sum()) == 7
  modelled = search.run_trials(bohb, multi, [0, 1])
  first = int(np.argmax(np.any(modelled.archs != hyperband.archs, axis=(0, 2))))
  assert 14 <= first < 36


@pytest.mark.slow  # compiles a search end to end
def test_bananas_trains_the_best_of_its_screened_pool_at_full_fidelity():
  multi = benchmarks.load_multifidelity('nasbench201', 'cifar10', 200)
  algorithm = search.make('bananas_prefilter', multi.full.space, 15, {
      'fidelities': [12, 200], 'k': 5, 'pool': 2,
      'predictor': {'num_ensemble': 2, 'epochs': 5}})
  assert algorithm.plan() == [Rung(200, 10), Rung(12, 10), Rung(200, 5, source=10)]
  out = search.run_trials(algorithm, multi, [0, 1])
  np.testing.assert_array_equal(out.epochs, [[200] * 10 + [12] * 10 + [200] * 5] * 2)
  for trial in range(2):
    rows = out.rows[trial]
    assert len(set(rows[:20])) == 20  # the pool is new to the trial
    pool_order = np.argsort(out.val_error[trial, 10:20], kind='stable')
    np.testing.assert_array_equal(rows[20:], rows[10:20][pool_order[:5]])
    np.testing.assert_array_equal(out.val_error[trial, 20:], multi.full.val_error[rows[20:]])


@pytest.mark.parametrize('fidelities,message', [
    ([50, 200], r'fidelities \(50, 200\) do not fit the benchmark: give two or more of its '
                r'epochs \(12, 200\), ascending, ending with 200'),
    ([12], r'fidelities \(12,\)'),
    ([200, 12], r'fidelities \(200, 12\)'),
])
def test_fidelities_no_table_holds_are_refused(fidelities, message):
  config = config_lib.get_config()
  config.algorithms = 'hyperband'
  config.hyperband.fidelities = fidelities
  with pytest.raises(ValueError, match=message):
    experiment.build(config)


def test_a_twelve_epoch_run_has_no_higher_fidelity_to_promote_to():
  config = config_lib.get_config()
  config.update(algorithms='asha', fidelity=12)
  with pytest.raises(ValueError, match=r'asha: fidelities \(\) do not fit the benchmark: '
                                       r'give two or more of its epochs \(12,\)'):
    experiment.build(config)


def test_cost_axis_of_records_and_summaries():
  val = np.array([5.0, 3.0, 4.0, 1.0])
  test = val + 0.5
  reported = np.array([False, True, True, True])  # the first query is a low fidelity
  trace = search.cost_trace(val, test, np.array([1.0, 10.0, 10.0, 10.0]), reported,
                            np.array([0.1, 1.0, 1.0, 1.0]))
  assert trace == [[11.0, 3.0, 3.5, 1, 1.1], [31.0, 1.0, 1.5, 3, 3.1]]
  np.testing.assert_array_equal(results.at_costs(trace, [5, 11, 30, 31, 1e9]),
                                [np.nan, 3.5, 3.5, 1.5, 1.5])
  record = lambda t, trace, spent: {'algorithm': 'a', 'trial': t, 'queries': [4],
                                    'test_error': [1.5], 'best_index': 0, 'wall_time_s': 1,
                                    'train_time_s': [spent], 'spent_s': spent,
                                    'cost_trace': trace}
  summary = results.summarize([record(0, trace, 31.0), record(1, [[4.0, 2.0, 2.5]], 4.0)],
                              {'full_training_s': 10.0, 'val_optimum_index': 0},
                              budgets=(1, 2, 4))
  stats = summary['algorithms']['a']
  assert stats['test_error_at_budget_mean'] == [None, 3.0, 2.0]  # trial 0 has none at 10 s
  assert stats['spent'] == [1, 1, 0]  # trial 1 stopped after 4 s, trial 0 after 31 s
  assert '*' in results.format_summary({**summary, 'benchmark': {
      'best_test_error': 0.0, 'val_optimum_test_error': 0.0, 'full_training_s': 10.0}})
