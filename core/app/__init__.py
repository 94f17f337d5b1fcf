"""The clone's use cases, one module per capability, behind the :class:`core.service.Clone` facade.

Each use case receives its ports in its constructor (an :class:`~core.app.context.AppContext`
with the stores, the embedder and the clock, plus the other use cases it calls); only
``core/service.py`` builds them, from what ``bot/bootstrap.py`` wires.
"""
