"""Header names and command names of the STOMP protocol, as string constants.

The ``HDR_*`` and ``CMD_*`` names and values are those of stomp.py 9.0.0's
``stomp.constants`` (headers the client writes, and the commands a client sends).
``stomp.utils`` and ``stomp.listener`` re-export them, so ``from stomp.utils import *``
also binds them.

stomp-ng additions, not present in stomp.py (which writes these strings literally):
:data:`HDR_RECEIPT_ID`, :data:`HDR_VERSION` and the server commands
:data:`CMD_CONNECTED`, :data:`CMD_MESSAGE`, :data:`CMD_RECEIPT`, :data:`CMD_ERROR`.
Code that must also run on stomp.py should not import them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CMD_ABORT",
    "CMD_ACK",
    "CMD_BEGIN",
    "CMD_COMMIT",
    "CMD_CONNECT",
    "CMD_CONNECTED",
    "CMD_DISCONNECT",
    "CMD_ERROR",
    "CMD_MESSAGE",
    "CMD_NACK",
    "CMD_RECEIPT",
    "CMD_SEND",
    "CMD_STOMP",
    "CMD_SUBSCRIBE",
    "CMD_UNSUBSCRIBE",
    "HDR_ACCEPT_VERSION",
    "HDR_ACK",
    "HDR_CONTENT_LENGTH",
    "HDR_CONTENT_TYPE",
    "HDR_DESTINATION",
    "HDR_HEARTBEAT",
    "HDR_HOST",
    "HDR_ID",
    "HDR_LOGIN",
    "HDR_MESSAGE_ID",
    "HDR_PASSCODE",
    "HDR_RECEIPT",
    "HDR_RECEIPT_ID",
    "HDR_SUBSCRIPTION",
    "HDR_TRANSACTION",
    "HDR_VERSION",
]

# ---- header names (stomp.py) ----

#: ``accept-version``: the protocol versions a client accepts (CONNECT/STOMP, 1.1+).
HDR_ACCEPT_VERSION: Final = "accept-version"
#: ``ack``: the acknowledgement mode of a subscription (SUBSCRIBE), or the ack id (1.2 MESSAGE).
HDR_ACK: Final = "ack"
#: ``content-length``: the byte length of the body.
HDR_CONTENT_LENGTH: Final = "content-length"
#: ``content-type``: the MIME type of the body.
HDR_CONTENT_TYPE: Final = "content-type"
#: ``destination``: the queue or topic a frame is sent to or subscribes to.
HDR_DESTINATION: Final = "destination"
#: ``heart-beat``: the heart-beat intervals offered or agreed (CONNECT/CONNECTED, 1.1+).
HDR_HEARTBEAT: Final = "heart-beat"
#: ``host``: the virtual host to connect to (CONNECT/STOMP).
HDR_HOST: Final = "host"
#: ``id``: a subscription id (SUBSCRIBE/UNSUBSCRIBE) or an ack id (ACK/NACK in 1.2).
HDR_ID: Final = "id"
#: ``message-id``: the id of a message (MESSAGE; ACK/NACK in 1.0 and 1.1).
HDR_MESSAGE_ID: Final = "message-id"
#: ``login``: the user name (CONNECT/STOMP).
HDR_LOGIN: Final = "login"
#: ``passcode``: the password (CONNECT/STOMP); masked in logs.
HDR_PASSCODE: Final = "passcode"
#: ``receipt``: asks the broker for a RECEIPT frame carrying this value.
HDR_RECEIPT: Final = "receipt"
#: ``subscription``: the subscription id of a MESSAGE (and of ACK/NACK in 1.1).
HDR_SUBSCRIPTION: Final = "subscription"
#: ``transaction``: the transaction a frame belongs to.
HDR_TRANSACTION: Final = "transaction"

# ---- header names (stomp-ng additions; stomp.py has no constant for them) ----

#: ``receipt-id``: the value of the ``receipt`` header being acknowledged (RECEIPT).
#: stomp-ng addition.
HDR_RECEIPT_ID: Final = "receipt-id"
#: ``version``: the protocol version the broker chose (CONNECTED). stomp-ng addition.
HDR_VERSION: Final = "version"

# ---- client commands (stomp.py) ----

#: Roll back a transaction.
CMD_ABORT: Final = "ABORT"
#: Acknowledge a message.
CMD_ACK: Final = "ACK"
#: Start a transaction.
CMD_BEGIN: Final = "BEGIN"
#: Commit a transaction.
CMD_COMMIT: Final = "COMMIT"
#: Open a STOMP session (every version).
CMD_CONNECT: Final = "CONNECT"
#: Close a STOMP session.
CMD_DISCONNECT: Final = "DISCONNECT"
#: Reject a message (1.1+).
CMD_NACK: Final = "NACK"
#: Open a STOMP session (1.1+ spelling of CONNECT).
CMD_STOMP: Final = "STOMP"
#: Send a message.
CMD_SEND: Final = "SEND"
#: Subscribe to a destination.
CMD_SUBSCRIBE: Final = "SUBSCRIBE"
#: Cancel a subscription.
CMD_UNSUBSCRIBE: Final = "UNSUBSCRIBE"

# ---- server commands (stomp-ng additions; stomp.py has no constant for them) ----

#: The broker accepted the connection. stomp-ng addition.
CMD_CONNECTED: Final = "CONNECTED"
#: A message delivered to a subscription. stomp-ng addition.
CMD_MESSAGE: Final = "MESSAGE"
#: The broker processed a frame that carried a ``receipt`` header. stomp-ng addition.
CMD_RECEIPT: Final = "RECEIPT"
#: The broker reports an error (the connection is usually closed next). stomp-ng addition.
CMD_ERROR: Final = "ERROR"
