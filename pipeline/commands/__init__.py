"""The `riskwatch` subcommands, one module per concern; pipeline/cli.py registers them."""
