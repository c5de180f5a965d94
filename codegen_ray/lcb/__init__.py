"""LiveCodeBench: its problems (hub, mirror or the builtin mini set), prompts, code extraction, grading rules,
pass@k and lcb_runner-compatible outputs, and the ``codegen-ray grade`` command.

May import ``execution`` (grading runs programs through an executor) and the foundation; no other stage package.
"""
