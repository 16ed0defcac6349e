"""``python -m launch.prepare_nasbench201``: runs :mod:`bananas_jax.launch.prepare_nasbench201`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.prepare_nasbench201', run_name='__main__', alter_sys=True)
