"""The app-model format (``fixtures/apps/*.yaml``): pure data that the harness core and both
virtual devices read.

``model`` (the pydantic models), ``loader`` (``load_app_model`` with ``file:line`` errors),
``ios`` (the ``ios:`` section), ``schema`` (the committed JSON Schema), ``errors``.

Nothing is imported here: the models pull in pydantic, which an idle virtual device without
apps never needs (about 12 MB of its memory), so callers import the submodule they use when
they use it.
"""
