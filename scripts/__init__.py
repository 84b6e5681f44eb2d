"""The demo, the benchmark and the end-to-end checks, run from the repository root.

Run them as modules (`python -m scripts.demo`, `python -m scripts.bench`) so that the
repository root is on the import path and they import `tests.harness` and
`aircall_sandbox` as they are.
"""
