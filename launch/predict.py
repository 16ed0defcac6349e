"""``python -m launch.predict``: runs :mod:`bananas_jax.launch.predict`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.predict', run_name='__main__', alter_sys=True)
