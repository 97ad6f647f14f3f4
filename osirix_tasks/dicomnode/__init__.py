"""The host's DICOM node (pynetdicom): it receives studies (C-STORE), answers queries (C-FIND over
the emulator's index), lets other nodes pull (C-MOVE, C-GET), queries and sends to the nodes named
in tasks.toml, and runs tasks when data arrives (triggers).

Modules: ``settings`` (where the node listens, who may talk to it), ``allow`` (the allow-lists and
the log of refused peers), ``contexts`` (SOP classes and the transfer syntaxes our decoders read),
``receiver`` (received files staged, then indexed in batches), ``query`` (C-FIND, C-MOVE and C-GET
matching over the index), ``scp`` (the listening node), ``scu`` (echo, find, get, move, send),
``triggers`` (stable series and studies start runs), ``node`` (all of it, as the host starts it).
"""
