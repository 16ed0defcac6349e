import io
import logging

from bananas_jax import progress


class Terminal(io.StringIO):

  def isatty(self):
    return True


def test_plain_lines_when_stderr_is_not_a_terminal(monkeypatch, caplog):
  monkeypatch.setattr('sys.stderr', io.StringIO())
  caplog.set_level(logging.INFO)
  with progress.Progress('bananas', 4, unit='step', every_s=3600) as bar:
    bar.set_note('compiling')
    for _ in range(4):
      bar.update(1, note='trials 0/2')
    bar.log('%s: %d trials done', 'bananas', 2)
  lines = [r.getMessage() for r in caplog.records]
  assert lines[0].startswith('bananas:   0% 0/4')  # the first line, at once
  assert lines[1] == 'bananas: 2 trials done'  # nothing in between: one line per 30 s
  assert lines[2].startswith('bananas: 100% 4/4') and lines[2].endswith('trials 0/2]')
  assert len(lines) == 3 and all('\r' not in line for line in lines)


def test_a_bar_on_a_terminal_and_log_lines_on_their_own(monkeypatch, caplog):
  terminal = Terminal()
  monkeypatch.setattr('sys.stderr', terminal)
  caplog.set_level(logging.INFO)
  handler = logging.StreamHandler(terminal)  # log lines go to the same terminal
  logging.getLogger().addHandler(handler)
  try:
    with progress.Progress('bananas', 3, unit='step') as bar:
      bar.set_note('compiling')  # shown at once, before the slow step
      bar.update(1)
      bar.log('batch done')
      bar.update(2)
  finally:
    logging.getLogger().removeHandler(handler)
  before, after = terminal.getvalue().split('batch done\n')
  assert 'compiling' in before and before.endswith('\r')  # the bar was cleared first
  assert '3/3' in after
