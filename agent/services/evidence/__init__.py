"""What the numbers say: backtest, sensitivity, risk, performance, market history, the advisor and the doctor.
Built on :mod:`agent.services.trading`; trading never imports evidence."""
