"""Where one search leads a comparison at equal simulated training time, by paired seeds.

  python -m experiments.leaders --inputs=runs/sweep_multifidelity_full,\
runs/sweep_multifidelity_multi,runs/sweep_multifidelity_bananas_mf \
      --candidate=bananas_mf --out=experiments/results/multifidelity

For each dataset and budget (N full trainings' time) it compares ``candidate`` with the
best other algorithm there (lowest mean test error). Trial t of every algorithm uses seed
t, so the difference is taken per seed and its standard error is that of the paired
differences. A cell is marked **leads** when the candidate's mean is below the best
other's by more than one standard error of the difference, **ties** within one, and
**behind** otherwise. Two more figures on the candidate's own axis:

- the full-fidelity queries after which each trial's answer is the table's best-validation
  cell (median over trials; trials that never select it count as infinite);
- the test error at ``--queries`` queries of either fidelity, a lower-fidelity query
  counting its share of a full training's epochs (the paper's axis), against
  ``--baseline`` at as many full-fidelity queries.

Writes ``leaders.md`` and ``leaders.json`` (with provenance) into ``--out``.
"""

import json
import math
import pathlib

import numpy as np
from absl import app, flags

from bananas_jax import plots, results
from bananas_jax.io import records
from bananas_jax.provenance import provenance

flags.DEFINE_list('inputs', None, 'sweep or run directories holding results*.jsonl')
flags.DEFINE_string('candidate', 'bananas_mf', 'the algorithm whose lead is measured')
flags.DEFINE_string('baseline', 'bananas', 'the algorithm of the query-axis comparison')
flags.DEFINE_float('queries', 150, 'queries of either fidelity for the query-axis comparison')
flags.DEFINE_string('out', None, 'directory for leaders.md and leaders.json')
FLAGS = flags.FLAGS


def by_dataset(inputs):
  """``{dataset: (reference, {algorithm: {seed: record}})}`` over every workdir."""
  found = {}
  for workdir in plots.find_workdirs(inputs):
    dataset = json.loads((workdir / 'config.json').read_text())['dataset']
    reference = json.loads((workdir / 'summary.json').read_text())['benchmark']
    _, runs = found.setdefault(dataset, (reference, {}))
    for record in results.workdir_records(workdir):
      runs.setdefault(record['algorithm'], {})[record['seed']] = record
  return found


def paired(a, b):
  """Mean and standard error of the per-seed differences ``a - b``."""
  diff = np.asarray(a) - np.asarray(b)
  return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def verdict(diff, stderr):
  return 'leads' if diff < -stderr else 'ties' if diff <= stderr else 'behind'


def at_queries(record, queries):
  """The test error of the answer after ``queries`` queries of either fidelity."""
  made = [entry for entry in record['cost_trace'] if entry[4] <= queries + 1e-9]
  return made[-1][2] if made else math.nan


def queries_to_optimum(record, optimum):
  """Full-fidelity queries until the answer is the best-validation cell (inf if never)."""
  if record['best_index'] != optimum:
    return math.inf
  return record['cost_trace'][-1][3]


def compare(reference, runs, candidate, baseline, queries):
  seeds = sorted(runs[candidate])
  missing = {name: sorted(set(seeds) - set(own)) for name, own in runs.items()}
  if any(missing.values()):
    name = next(n for n, m in missing.items() if m)
    raise ValueError(f'{name} has no record for seeds {missing[name][:5]}: the comparison '
                     f'is paired by seed, so every algorithm needs the same ones')
  costs = np.asarray(results.BUDGETS, np.float64) * reference['full_training_s']
  test = {name: np.array([results.at_costs(own[s]['cost_trace'], costs) for s in seeds])
          for name, own in runs.items()}
  cells = []
  for b, budget in enumerate(results.BUDGETS):
    means = {name: float(values[:, b].mean()) for name, values in test.items()}
    best_other = min((n for n in means if n != candidate), key=means.get)
    diff, stderr = paired(test[candidate][:, b], test[best_other][:, b])
    cells.append({'budget': budget, 'means': means, 'best_other': best_other,
                  'difference': diff, 'difference_stderr': stderr,
                  'verdict': verdict(diff, stderr)})
  to_optimum = [queries_to_optimum(runs[candidate][s], reference['val_optimum_index'])
                for s in seeds]
  own = [at_queries(runs[candidate][s], queries) for s in seeds]
  base = [at_queries(runs[baseline][s], queries) for s in seeds]
  diff, stderr = paired(own, base)
  return {'trials': len(seeds), 'budgets': cells,
          'median_full_queries_to_best_validation_cell': float(np.median(to_optimum)),
          'found_best_validation_cell': int(np.isfinite(to_optimum).sum()),
          'query_axis': {'queries': queries, 'candidate': float(np.mean(own)),
                         'baseline': float(np.mean(base)), 'difference': diff,
                         'difference_stderr': stderr, 'verdict': verdict(diff, stderr)}}


def markdown(report, candidate, baseline):
  lines = []
  for dataset, r in report.items():
    lines += [f'**{dataset}**: {candidate} against the best other algorithm at each budget '
              f'(test error %, mean over {r["trials"]} paired seeds; difference ± its '
              f'standard error)', '',
              '| budget | ' + candidate + ' | best other | difference | verdict |',
              '| ---: | ---: | --- | ---: | --- |']
    for c in r['budgets']:
      lines.append(f'| {c["budget"]} | {c["means"][candidate]:.3f} | {c["best_other"]} '
                   f'{c["means"][c["best_other"]]:.3f} | {c["difference"]:+.3f} ± '
                   f'{c["difference_stderr"]:.3f} | {c["verdict"]} |')
    q = r['query_axis']
    lines += ['', f'Median full-fidelity queries until the answer is the best-validation '
              f'cell: {r["median_full_queries_to_best_validation_cell"]:g} '
              f'({r["found_best_validation_cell"]} of {r["trials"]} trials found it). At '
              f'{q["queries"]:g} queries of either fidelity: {candidate} {q["candidate"]:.3f}, '
              f'{baseline} {q["baseline"]:.3f} ({q["difference"]:+.3f} ± '
              f'{q["difference_stderr"]:.3f}, {q["verdict"]}).', '']
  verdicts = [c['verdict'] for r in report.values() for c in r['budgets']]
  lines.append(f'{candidate} leads {verdicts.count("leads")}, ties {verdicts.count("ties")} '
               f'and is behind in {verdicts.count("behind")} of {len(verdicts)} cells.')
  return '\n'.join(lines) + '\n'


def main(argv):
  del argv
  report = {dataset: compare(reference, runs, FLAGS.candidate, FLAGS.baseline, FLAGS.queries)
            for dataset, (reference, runs) in by_dataset(FLAGS.inputs).items()}
  out = pathlib.Path(FLAGS.out)
  out.mkdir(parents=True, exist_ok=True)
  text = markdown(report, FLAGS.candidate, FLAGS.baseline)
  with records.atomic_file(out / 'leaders.md') as f:
    f.write(text)
  records.write_json(out / 'leaders.json', {'datasets': report, 'provenance': provenance()})
  print(text)


if __name__ == '__main__':
  flags.mark_flags_as_required(['inputs', 'out'])
  app.run(main)
