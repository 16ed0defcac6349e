"""``python -m launch.prepare_nasbench201_features``: runs :mod:`bananas_jax.launch.prepare_nasbench201_features`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.prepare_nasbench201_features', run_name='__main__', alter_sys=True)
