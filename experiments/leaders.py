"""Where one search leads a comparison at equal simulated training time, by paired seeds.

  python -m experiments.leaders --inputs=runs/sweep_multifidelity_full,\
runs/sweep_multifidelity_multi,runs/sweep_multifidelity_bananas_mf \
      --candidate=bananas_mf --out=experiments/results/multifidelity

For each dataset and budget (N full trainings' time) it compares ``candidate`` with the
best other algorithm there (lowest mean test error). Trial t of every algorithm uses seed
t, so the difference is taken per seed and its standard error is that of the paired
differences. A cell is marked **leads** when the candidate's mean is below the best
other's by more than one standard error of the difference, **ties** within one, and
**behind** otherwise; the same comparison by the answer's validation error (what every
search minimises) stands beside it. Two more figures on the candidate's own axis:

- the full-fidelity queries after which each trial's answer is the table's best-validation
  cell (median over trials; trials that never select it count as infinite);
- the test error at ``--queries`` queries of either fidelity, a lower-fidelity query
  counting its share of a full training's epochs (the paper's axis), against
  ``--baseline`` at as many full-fidelity queries.

Writes ``leaders.md`` and ``leaders.json`` (with provenance) into ``--out``.
"""

import json
import pathlib

from absl import app, flags

from bananas_jax import plots, results
from bananas_jax.io import records
from bananas_jax.provenance import provenance

flags.DEFINE_list('inputs', None, 'sweep or run directories holding results*.jsonl')
flags.DEFINE_string('candidate', 'bananas_mf', 'the algorithm whose lead is measured')
flags.DEFINE_string('baseline', 'bananas', 'the algorithm of the query-axis comparison')
flags.DEFINE_string('against', None, 'compare with this algorithm alone, not with the best '
                    'other one at each budget (e.g. a variant against the defaults)')
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


def main(argv):
  del argv
  report = {dataset: results.compare(reference, runs, FLAGS.candidate, FLAGS.baseline,
                                     FLAGS.queries, FLAGS.against)
            for dataset, (reference, runs) in by_dataset(FLAGS.inputs).items()}
  out = pathlib.Path(FLAGS.out)
  out.mkdir(parents=True, exist_ok=True)
  text = results.leaders_markdown(report, FLAGS.candidate, FLAGS.baseline, FLAGS.against)
  with records.atomic_file(out / 'leaders.md') as f:
    f.write(text)
  records.write_json(out / 'leaders.json', {'datasets': report, 'provenance': provenance()})
  print(text)


if __name__ == '__main__':
  flags.mark_flags_as_required(['inputs', 'out'])
  app.run(main)
