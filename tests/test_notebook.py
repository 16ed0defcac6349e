"""The notebook runs top to bottom in a fresh kernel, and its committed outputs are fresh."""

import importlib.util
import os
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOK = ROOT / 'notebooks' / 'meta_neural_network.ipynb'
_spec = importlib.util.spec_from_file_location('execute', ROOT / 'notebooks' / 'execute.py')
execute = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute)


def images(notebook):
  return sum('image/png' in output.get('data', {}) for cell in notebook.cells
             if cell.cell_type == 'code' for output in cell.outputs)


def test_committed_outputs_come_from_the_committed_code():
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  assert execute.stale_cells(notebook) == []
  assert images(notebook) == 5  # cell, predictions, grid heat map, encodings, search
  edited = nbformat.read(NOTEBOOK, as_version=4)
  code = [i for i, cell in enumerate(edited.cells) if cell.cell_type == 'code']
  edited.cells[code[2]].source += '\nTRAIN_SIZE = 100'
  assert execute.stale_cells(edited) == [code[2]]


# The notebook at a fraction of its sizes (the suite's time budget): every cell and figure
# still runs, on fewer cells, trainings, seeds, models (test_predictor_study.py runs every
# model through the study) and trials.
SMALLER = [('TRAIN_SIZE = 200', 'TRAIN_SIZE = 60'), ('NUM_TEST = 1000', 'NUM_TEST = 200'),
           ('epochs=200,', 'epochs=50,'), ("train_sizes='20,50,100,200', num_test=500,",
                                          "train_sizes='20,50', num_test=200,"),
           ('seeds=3,', 'seeds=1,'), ("models='ensemble,gp,dngo,bohamiann,gcn',", "models='ensemble,gp',"),
           ("encodings='adjacency,path,trunc_path',", "encodings='adjacency,path',"),
           ('trials=20, trial_batch=20,', 'trials=4, trial_batch=4, total_queries=40,')]


@pytest.mark.slow
def test_runs_top_to_bottom_in_a_fresh_kernel(tmp_path, monkeypatch):
  monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
      [str(ROOT), *filter(None, [os.environ.get('PYTHONPATH')])]))
  # The kernel inherits the suite's cheap-compile XLA flags: this checks that every cell
  # runs, not how fast (the committed outputs were made at XLA's defaults).
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  for cell in notebook.cells:
    if cell.cell_type == 'code':
      cell.outputs, cell.execution_count = [], None
  for old, new in SMALLER:
    (cell,) = [c for c in notebook.cells if c.cell_type == 'code' and old in c.source]
    cell.source = cell.source.replace(old, new)
  execute.execute(notebook, cwd=tmp_path)  # raises on the first cell that fails
  assert images(notebook) == 5
  errors = [o for c in notebook.cells if c.cell_type == 'code' for o in c.outputs
            if o.output_type == 'error']
  assert not errors
