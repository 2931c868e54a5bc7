"""Prefect flows: the nightly scan and the recheck of reported listings, thin over ``services.scan``.

Import ``flows.nightly`` / ``flows.recheck`` only after :func:`core.prefect_env.configure_prefect_env`
when running in process (``lookalike scan`` does); deployments are in ``prefect.yaml``.
"""
