"""The tools every interface shares: the registry (one definition per tool) and the MCP server."""
