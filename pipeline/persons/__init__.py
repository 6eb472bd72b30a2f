"""The persons registry: pseudonymous ids to names and phone numbers, encrypted at rest.

Everything else in riskwatch knows persons only by their pseudonymous id (`P-0007`). The registry
is the one place that can tell who that is; every read of it goes through
pipeline.persons.registry, which writes an audit record in the same transaction.
"""
