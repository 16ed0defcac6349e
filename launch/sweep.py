"""``python -m launch.sweep``: runs :mod:`bananas_jax.launch.sweep`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.sweep', run_name='__main__', alter_sys=True)
