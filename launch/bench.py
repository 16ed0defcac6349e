"""``python -m launch.bench``: runs :mod:`bananas_jax.launch.bench`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.bench', run_name='__main__', alter_sys=True)
