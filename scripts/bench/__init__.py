"""`make bench` (`python -m scripts.bench`): one module per measured part, a runner, a table.

`__main__.py` is the runner (arguments, which parts, the table); `kit.py` what the parts
share (paths, the connector runs, request counting); `table.py` the table. The parts:
`calls_read.py` (with `requests_per_sync.py`), `recordings.py`, `storage.py` (with
`nginx.py`), `pacing.py`, `scale.py`,
`costs.py`.
"""
