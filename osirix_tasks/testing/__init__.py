"""What task authors (and our own tests) use to test against a real embedded OsiriX.

``running_host`` starts ``osirix-tasks serve`` in a separate process with an isolated home;
``Project`` is a temporary registry with the CLI run against it.
"""

from .environment import isolated_env
from .hosts import RunningHost, running_host
from .project import Project

__all__ = ["isolated_env", "RunningHost", "running_host", "Project"]
