"""The pure core: domain models, target and order rules, costs, cash reserve, limits, the planner, the risk gate.

Nothing here does I/O or imports a layer above it (an import-linter contract in CI keeps it so).
"""
