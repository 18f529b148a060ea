"""One root exception for everything Green Points refuses, with specific kinds below it."""


class GreenPointsError(Exception):
    """A failure the CLI reports as one line and a non-zero exit."""


class ConfigError(GreenPointsError):
    """A setting is missing or has a bad value."""


class BuildError(GreenPointsError):
    """The contracts could not be compiled, or compiled artifacts are missing."""


class ChainError(GreenPointsError):
    """The chain could not be reached, or a transaction failed."""


class DeploymentError(GreenPointsError):
    """A deployment file is missing, malformed or belongs to another chain."""
