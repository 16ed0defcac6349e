"""What a model of validation error is to a search: the interface BANANAS' loop calls.

Every model is a frozen dataclass (its fields are config fields, and it is a static argument
of the jitted search step) whose two pure functions work on fixed-capacity buffers, so a fit
jit-compiles once per capacity and vmaps over trials:

- ``x`` is ``float32[N, ...]``, the encodings of ``N`` architectures (``[N, D]`` for vector
  encodings; the graph encoding adds node axes);
- ``y`` is ``float32[N]``, their validation errors (%);
- ``mask`` is ``bool[N]``: the real points come first and the padding after them may hold
  anything (a query history pads with ``+inf``). A fit on a padded buffer is the fit on its
  real points alone: padding reaches no loss, gradient or posterior.
"""

from typing import Any, Protocol, runtime_checkable

import jax


@runtime_checkable
class Predictor(Protocol):
  """A model of validation error over encoded architectures."""

  reads_graph: bool  # True: it takes the 'graph' encoding, and only it

  def fit(self, key: jax.Array, x: jax.Array, y: jax.Array, mask: jax.Array) -> Any:
    """The model fitted from scratch on the masked points: a pytree of parameters."""

  def predict(self, params: Any, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(mean, std)``, each ``float32[M]``: the predicted validation error of each of ``x``'s
    ``M`` architectures and the model's spread (zero for a point estimate)."""


@runtime_checkable
class MemberPredictor(Predictor, Protocol):
  """A model made of members (an ensemble, or networks sampled from a posterior), which
  Thompson sampling over members draws from (``acq_fn='its'``, ``'ts'``)."""

  def predict_members(self, params: Any, x: jax.Array) -> jax.Array:
    """``float32[members, M]``: every member's prediction."""


def check_at_least_one(owner: str, settings: Any, *names: str) -> None:
  """Refuses a setting below 1 (counts, sizes, lengths), naming ``owner`` and the value."""
  for name in names:
    value = getattr(settings, name)
    if value < 1:
      raise ValueError(f'{owner}: {name} must be at least 1, got {value}')
