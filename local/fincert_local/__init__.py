"""fincert_local: the no-Docker local stack (moto server + a gateway serving template.yaml's routes).

Developer tooling only; never shipped to Lambda. Modules: template (read template.yaml), resources
(create its tables and keys in moto), gateway (API Gateway stand-in), stack (both together),
bootstrap (seed data), state (the running stack's state file), jobs (the daily jobs as AWS runs
them), openapi_document (the merged OpenAPI document), and the commands of __main__ (the
`python -m fincert_local` CLI): demo, sandbox, openapi, bench (a package: one module per figure).
"""
