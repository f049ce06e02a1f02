"""Trading one account: targets, planning, preview, execution (executor, TWAPs, sizing, lookups, retries),
orders, the dead-man switch, the lease, the heartbeat and the records people read. Imports no other capability."""
