"""Commit efab7e1's bubblewrap executor, frozen for side-by-side benchmarks (``bench_execution.py``).

A verbatim copy of ``codegen_ray/execution/{bubblewrap,_forkserver_main,common}.py`` at efab7e1 (only the import of
``codegen_ray.execution.base`` changed): one request, one pid-1 monitor and one program process per test, the prelude
run in every test. It has no ``session`` method, so ``codegen_ray.execution.open_session`` drives it one
``run(program.text(), stdin, limits)`` per test, exactly as efab7e1's grader did. Not used by the library.
"""

from .bubblewrap import ForkServerExecutor

__all__ = ["ForkServerExecutor"]
