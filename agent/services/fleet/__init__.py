"""Several accounts as one fleet: accounts, their config, the scheduler, capital allocation, and ``temporal/``.
Built on :mod:`agent.services.trading`; trading never imports the fleet."""
