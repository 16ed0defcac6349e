"""``python -m launch.bench_nasbench101``: runs :mod:`bananas_jax.launch.bench_nasbench101`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.bench_nasbench101', run_name='__main__', alter_sys=True)
