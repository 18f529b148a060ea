"""The scenarios `greenpoints model` runs, by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from model.params import Param
from model.result import ScenarioResult
from model.scenarios import article, fraud

# name -> (its parameters, run(values, seed))
SCENARIOS: dict[str, tuple[Callable[[], list[Param]], Callable[[dict[str, int], int], ScenarioResult]]] = {
    "article": (article.params, article.run),
    "fraud": (fraud.params, fraud.run),
}


def run_scenario(name: str, assignments: Iterable[str] = (), seed: int = 1) -> ScenarioResult:
    """Run scenario `name` with `k=v` parameter assignments over its defaults."""
    from greenpoints.rules import Refused
    from model.params import ParameterError, parse_params

    if name not in SCENARIOS:
        raise ParameterError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    spec, runner = SCENARIOS[name]
    values = parse_params(assignments, spec())
    try:
        return runner(values, seed)
    except Refused as refused:  # parameters the pool cannot run the story with, e.g. caps too tight
        raise ParameterError(f"with these parameters the pool refuses a step of the scenario: {refused}") from None
