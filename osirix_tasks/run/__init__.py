"""Running tasks: plan and start (``runner``), supervise and capture (``supervise``), the task's own
process (``launch``), its context (``context``, ``context_build``) and the run store (``store``)."""
