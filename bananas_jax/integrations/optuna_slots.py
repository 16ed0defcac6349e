"""The synchronous schedule's slots in a study: which slot each trial evaluates, shared by
every worker through the storage (``BananasSampler(mode='sync')`` and
:mod:`bananas_jax.stepwise`).

The m-th new trial of a study holds slot m; a retry of a failed trial holds its original's
slot; a queued trial that took over a waiting one's slot (a handover) holds that slot.
"""

from bananas_jax.integrations import optuna_storage

SLOT = 'bananas:slot'  # system attribute: the schedule slot a sync trial evaluates
HANDOVER = 'bananas:handover'  # system attribute of a queued trial that took over a slot


def slot_of(trial):
  """The schedule slot a running sync-mode trial evaluates (after its first suggestion)."""
  return optuna_storage.trial_system_attrs(trial)[SLOT]


def slots(trials):
  """``{trial number: schedule slot}``, derived from what the storage fixed when each trial
  was made (a killed worker may not have written its trial's slot): the m-th new trial
  holds slot m; a retry, its original's slot; a handover, the slot it took over. Trials
  enqueued by hand hold none."""
  slot_of_trial, rank = {}, 0
  for t in sorted(trials, key=lambda t: t.number):
    attrs = t.system_attrs
    if 'failed_trial' in attrs:
      slot_of_trial[t.number] = slot_of_trial.get(attrs['failed_trial'])
    elif HANDOVER in attrs:
      slot_of_trial[t.number] = attrs[SLOT]
    elif 'fixed_params' not in attrs:
      slot_of_trial[t.number], rank = rank, rank + 1
  return slot_of_trial


def latest_by_slot(trials, slot_of_trial):
  """``{slot: the latest trial holding it}`` (``slot_of_trial``: :func:`slots` of
  ``trials``): a slot's latest trial (a retry, a handover) decides its result."""
  latest = {}
  for t in trials:
    slot = slot_of_trial.get(t.number)
    if slot is not None and (slot not in latest or t.number > latest[slot].number):
      latest[slot] = t
  return latest
