"""What the test suites share: waiting helpers and the thread-leak check (``waiting``), the
scripted fake broker (``fakebroker``), the raw STOMP peer (``rawclient``), the recording
listener (``recording``) and the check that a real broker is up (``brokers``)."""
