"""Value made visible (Wenger, Trayner & de Laat 2011): pure rules, one module per part.

Import from the modules themselves (``bot.domain.value.stories``, ...); this package file
stays empty so that each part can be added without touching the others.
"""
