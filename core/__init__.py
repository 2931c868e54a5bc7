"""The floor of Lookalike: settings, errors, currencies, the network policy and text hygiene.

Nothing here imports any other Lookalike package; every other layer may import this one.
See ``docs/architecture.md``.
"""
