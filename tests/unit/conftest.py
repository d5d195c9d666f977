"""The connection-layer tests use the fixtures of tests/conftest.py: the scripted fake
broker (``make_broker``, ``broker``), connections to it (``make_conn``), refused ports
(``refused``) and a test CA for TLS."""
