"""Hearth core: shared model, engine, scheduler, config and command line."""

__version__ = "0.1.0"
