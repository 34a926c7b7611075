"""The simulated company ("acme"): a deterministic org generator plus fake HTTP APIs.

Entry points: ``simulation.company.generate_company`` (the data), ``simulation.server.FakeApiServer``
(the APIs over loopback HTTP), ``simulation.serve.serve_forever`` (a long-running local service).
This package imports nothing from ``ingestion`` or ``orchestration``: it is the outside world.
"""
