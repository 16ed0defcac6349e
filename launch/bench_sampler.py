"""``python -m launch.bench_sampler``: runs :mod:`bananas_jax.launch.bench_sampler`."""
import runpy

if __name__ == '__main__':
  runpy.run_module('bananas_jax.launch.bench_sampler', run_name='__main__', alter_sys=True)
