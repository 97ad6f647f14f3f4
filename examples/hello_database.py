"""A script task as OsiriX users write them: it talks to OsiriX through pyosirix or the stubs."""

import os
import sys

print(f"Hello from {os.path.basename(__file__)} run by {sys.executable}")
print(f"OsiriX server: {os.environ.get('OSIRIX_TASKS_SERVER', 'not set')}")
