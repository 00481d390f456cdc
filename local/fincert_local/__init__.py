"""fincert_local: the no-Docker local stack (moto server + a gateway serving template.yaml's routes).

Developer tooling only; never shipped to Lambda. Modules: template (read template.yaml), resources
(create its tables and keys in moto), gateway (API Gateway stand-in), stack (both together),
bootstrap (seed data), __main__ (the `python -m fincert_local` CLI).
"""
