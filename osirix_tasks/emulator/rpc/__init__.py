"""One module per object of the ``osirixgrpc.OsiriXService``, and the handler that serves them all."""
