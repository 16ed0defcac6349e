"""``python -m launch.plot``: runs :mod:`bananas_jax.launch.plot`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.plot', run_name='__main__', alter_sys=True)
