"""Batches: one task over many targets (studies, series), on a Dask cluster (a local one by default).

``selection`` turns uids, a query or the browser selection into targets; ``plan`` makes an item per
target (the run service's plan, with the target); ``on_cluster`` is where the run service starts an
item (a worker of the cluster); ``driver`` starts items through the run service and records each
outcome; ``worker`` runs an item on a Dask worker (decorated tasks in a warm process kept by the
worker, scripts in a process of their own); ``records`` keeps batches in the run store; ``results``
is the results table.
"""
