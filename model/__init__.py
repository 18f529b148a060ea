"""The economics model: the pool as a pure-Python state machine with the contract's integer rules,
scenarios built on it (`article`, `fraud`), their reports, CSV and plots, and the check that
the model and a real chain agree step by step."""
