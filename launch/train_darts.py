"""``python -m launch.train_darts``: runs :mod:`bananas_jax.launch.train_darts`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.train_darts', run_name='__main__', alter_sys=True)
