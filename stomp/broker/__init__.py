"""An embedded STOMP broker for development, demos and tests: **not for production**.

:class:`Broker` speaks STOMP 1.0, 1.1 and 1.2 over TCP on loopback (or any address), keeps
queues and topics in memory, and serves many clients from one event-loop thread.  It
exists so that examples, the quick start and test suites (yours included, through the
``stomp_broker`` pytest fixture) run without installing a real broker::

    import stomp
    from stomp.broker import Broker

    with Broker() as broker:  # port 0: a free port, see broker.port
        conn = stomp.Connection12([broker.address])
        conn.connect(wait=True)
        ...

or from a shell: ``python -m stomp.broker --port 61613``.

In production run RabbitMQ, ActiveMQ Classic or ActiveMQ Artemis (clustered if need be)
and give the client their hosts as its failover list.  ``docs/broker.rst`` lists what this
broker does and the choices it makes where the specification leaves room.
"""

from __future__ import annotations

from stomp.broker.server import Broker

__all__ = ["Broker"]
