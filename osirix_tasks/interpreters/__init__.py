"""The Python interpreters tasks run with: what each can run, and installing osirix-tasks into one.

Tasks often run in their own virtual or conda environment. A script that only talks gRPC needs
nothing from us; a decorated task (started as ``-m osirix_tasks.run.launch``) and a script calling
``osirix_tasks.context()`` need osirix-tasks importable there. :mod:`.probe` asks each interpreter,
:mod:`.wheel` packs the running installation as a wheel (the package is not on a public index), and
:mod:`.install` pip-installs that wheel into another environment.
"""
