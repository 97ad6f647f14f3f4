"""The wire: the pixel codec both ways (DCMPixImage answers, DCMPixSetImage requests), protobuf varints,
the gRPC channel and server options and the allocator tuning both sides share."""
