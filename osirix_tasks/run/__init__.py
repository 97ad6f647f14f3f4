"""Running tasks: plan and start (``runner``), supervise and capture (``supervise``), the task's own
process (``launch``, ``warm``), building its context (``context_build``), runs inside a host
(``service``) and the run store (``store``)."""
