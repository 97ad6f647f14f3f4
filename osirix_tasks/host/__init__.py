"""The host process: ``run_host`` assembles it (gRPC ports over one emulator state, the control channel,
the web page, runs started on request); the user's hands (select, open, place) as control requests."""
