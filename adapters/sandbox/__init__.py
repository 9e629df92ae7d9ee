"""The sandbox: a local web chat that plays a platform, for trying and rehearsing Hearth."""

from adapters.sandbox.adapter import SandboxAdapter

__all__ = ["SandboxAdapter"]
