"""Benchmarks of Lookalike, measured side by side in one process: ``.venv/bin/python -m bench``.

Figures are ratios against a plain baseline run on the same machine in the same run; nothing here is an
assertion (speed never fails a test).
"""
