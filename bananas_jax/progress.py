"""Progress of long work, on a terminal and in cloud logs alike.

On a terminal a :class:`Progress` is a tqdm bar on stderr (rate and ETA included); when
stderr is not a terminal (a batch job's log file) it writes plain absl INFO lines instead,
one every ``every_s`` seconds plus the first and the last, never carriage returns.
Messages logged through :meth:`Progress.log` clear the bar first, so they never end up
glued onto it.
"""

import sys
import time

import tqdm
from absl import logging


class Progress:
  """``with Progress('bananas', total=150, unit='step') as bar: ... bar.update(1)``."""

  def __init__(self, desc, total, unit='it', initial=0, unit_scale=False, every_s=30.0):
    self.desc, self.total, self.unit, self.unit_scale = desc, total, unit, unit_scale
    self.n, self.initial, self.note = initial, initial, ''
    self.every_s, self.start = every_s, time.time()
    self._closed, self._bar = False, None
    if sys.stderr.isatty():
      self._bar = tqdm.tqdm(total=total, initial=initial, desc=desc, unit=unit,
                            unit_scale=unit_scale, file=sys.stderr, dynamic_ncols=True)
    else:
      self._write_line()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()

  def update(self, n=1, note=None):
    """Counts ``n`` more done; ``note`` (e.g. 'compiling') replaces the shown note."""
    self.n += n
    if note is not None:
      self.note = note
    if self._bar is not None:
      if note is not None:
        self._bar.set_postfix_str(note, refresh=False)
      self._bar.update(n)
    elif time.time() - self._last_line >= self.every_s:
      self._write_line()

  def set_note(self, note):
    """Shows ``note`` now, before the next update (say, before a slow first step)."""
    self.update(0, note)
    if self._bar is not None:
      self._bar.refresh()

  def log(self, msg, *args):
    """An absl INFO message, written on its own line."""
    if self._bar is None:
      logging.info(msg, *args)
      return
    with tqdm.tqdm.external_write_mode(file=sys.stderr):
      logging.info(msg, *args)

  def close(self):
    if self._closed:
      return
    self._closed = True
    if self._bar is not None:
      self._bar.close()
    else:
      self._write_line()

  def _write_line(self):
    self._last_line = time.time()
    logging.info('%s', tqdm.tqdm.format_meter(
        self.n, self.total, time.time() - self.start, ncols=0, prefix=self.desc,
        unit=self.unit, unit_scale=self.unit_scale, postfix=self.note or None,
        initial=self.initial))
