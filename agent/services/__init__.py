"""The use cases every interface shares: observe, decide, preview, execute, reconcile, heartbeat. All policy."""
