"""The one exception base of the project, and the few kinds every role shares."""

from __future__ import annotations


class MotcuaError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(MotcuaError):
    """A config file is wrong. ``problems`` holds every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class ContractError(MotcuaError):
    """A message does not follow docs/protocol.md; ``code`` is the wire error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class RequestTimeout(MotcuaError):
    """No reply came in time. Never read this as success."""


class NotConnected(MotcuaError):
    """The broker is not reachable right now."""


class DeviceError(MotcuaError):
    """A piece of hardware is missing, unplugged or not answering."""


class StorageError(MotcuaError):
    """Local storage could not be written or read."""


class MissingDependency(MotcuaError):
    """A program or package the unit needs is not installed; the message names the package."""
