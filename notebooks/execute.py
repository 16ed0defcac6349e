"""Runs a notebook top to bottom in a fresh kernel and saves it with its outputs.

  python notebooks/execute.py notebooks/meta_neural_network.ipynb

Each code cell is stamped with a hash of its source (``metadata.source_sha256``), so a
cell edited after the run shows as stale (tests/test_notebook.py checks the committed
notebook this way and runs it again from scratch).
"""

import hashlib
import sys
import time

import nbclient
import nbformat


def source_hash(cell):
  return hashlib.sha256(cell.source.encode()).hexdigest()


def stale_cells(notebook):
  """Indices of code cells whose outputs do not come from their current source in one
  top-to-bottom run: unstamped, edited since the run, or run out of order."""
  stale, count = [], 0
  for i, cell in enumerate(notebook.cells):
    if cell.cell_type != 'code':
      continue
    count += 1
    if (cell.metadata.get('source_sha256') != source_hash(cell)
        or cell.execution_count != count):
      stale.append(i)
  return stale


def execute(notebook, cwd, timeout=600):
  """Executes ``notebook`` (in place) in a fresh kernel started in ``cwd``; raises
  nbclient's CellExecutionError on the first failing cell. Returns the seconds it took."""
  tick = time.perf_counter()
  nbclient.NotebookClient(notebook, timeout=timeout, kernel_name='python3',
                          resources={'metadata': {'path': str(cwd)}}).execute()
  for cell in notebook.cells:
    if cell.cell_type == 'code':
      cell.metadata['source_sha256'] = source_hash(cell)
  return time.perf_counter() - tick


def main(path):
  notebook = nbformat.read(path, as_version=4)
  seconds = execute(notebook, cwd=path.rsplit('/', 1)[0] if '/' in path else '.')
  nbformat.write(notebook, path)
  print(f'executed {path} in {seconds:.0f} s')


if __name__ == '__main__':
  main(sys.argv[1])
