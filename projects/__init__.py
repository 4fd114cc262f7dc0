"""Projects built on ``mmaction`` that are not part of the library (as MMAction2's ``projects/``).

A project's config imports it by module name (``custom_imports = dict(imports=['projects.<name>'])``);
``setup.py`` installs this package with ``mmaction`` (``pip install -e .``), and
``tools/dist_train.sh`` / ``dist_test.sh`` put the repository root on ``PYTHONPATH``.
"""
