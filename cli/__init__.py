"""The `greenpoints` command line and the orchestration on top of every part.

Layering: `greenpoints/` is the shared core (config, chain access, contracts, deployment); the
parts (`indexer/`, `api/`, the merchant integration) import the core; this package imports the
parts. Nothing in the core or a part imports this package (a test checks it).
"""
