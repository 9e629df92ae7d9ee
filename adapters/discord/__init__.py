"""Discord adapter (discord.py 2): gateway events, slash commands from Hearth's registry,
persistent buttons, invite-diff join attribution, moderation actions.

Import :class:`adapters.discord.adapter.DiscordAdapter` from its module; this package file
stays light so the config can load :mod:`adapters.discord.settings` without discord.py.
"""
