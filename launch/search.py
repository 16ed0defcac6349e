"""``python -m launch.search``: runs :mod:`bananas_jax.launch.search`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.search', run_name='__main__', alter_sys=True)
