"""Domain services: one per capability, between the Discord layer and the repositories.

A service owns its capability's repositories and rules, returns domain objects and raises
typed errors (:mod:`bot.errors`). Cogs and views call only services (plus the Discord API);
nothing here imports discord.
"""
