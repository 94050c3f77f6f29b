"""The actions a scenario step can take, one module per family (``app``, ``power``,
``network``, ``system``, ``tasks``, ``flow``, ``metrics``). Each module holds its steps' YAML
models next to the actions that run them; :mod:`harness.actions.registry` lists them.

Nothing is imported here, so ``harness.actions.base`` stays cheap for the drivers' typing.
"""
