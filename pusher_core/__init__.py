"""The zero-I/O core of the Pusher Channels server SDK.

It turns calls into fully signed `Request` values and turns `Response` values into
typed results or errors. It imports no HTTP, socket or event-loop library, so it can be
embedded in any HTTP stack. `pusher_transports` contains ready-made adapters.
"""

from pusher_core._version import __version__
from pusher_core.auth import (
    authenticate_user,
    authenticate_user_form,
    authorize_channel,
    authorize_channel_form,
)
from pusher_core.builder import LIBRARY_HEADER, RequestBuilder
from pusher_core.config import Config
from pusher_core.encryption import decrypt, encrypt, shared_secret
from pusher_core.errors import (
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConnectionFailedError,
    EncryptionError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    PusherError,
    RateLimitedError,
    RequestError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
    WebhookError,
)
from pusher_core.forms import parse_form
from pusher_core.messages import Request, Response
from pusher_core.results import (
    BatchResult,
    ChannelAttributes,
    ChannelInfo,
    ChannelList,
    TriggerResult,
    User,
    UserList,
)
from pusher_core.webhooks import (
    CacheMiss,
    ChannelOccupied,
    ChannelVacated,
    ClientEvent,
    MemberAdded,
    MemberRemoved,
    SubscriptionCount,
    UnknownEvent,
    Webhook,
    WebhookEvent,
    sign_webhook,
)

__all__ = [
    "LIBRARY_HEADER",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "CacheMiss",
    "ChannelAttributes",
    "ChannelInfo",
    "ChannelList",
    "ChannelOccupied",
    "ChannelVacated",
    "ClientClosedError",
    "ClientEvent",
    "Config",
    "ConfigurationError",
    "ConnectionFailedError",
    "EncryptionError",
    "ForbiddenError",
    "MemberAdded",
    "MemberRemoved",
    "NotFoundError",
    "PayloadTooLargeError",
    "PusherError",
    "RateLimitedError",
    "Request",
    "RequestBuilder",
    "RequestError",
    "RequestTimeoutError",
    "Response",
    "ServerError",
    "SubscriptionCount",
    "TransportError",
    "TriggerResult",
    "UnexpectedResponseError",
    "UnknownEvent",
    "User",
    "UserList",
    "ValidationError",
    "Webhook",
    "WebhookError",
    "WebhookEvent",
    "__version__",
    "authenticate_user",
    "authenticate_user_form",
    "authorize_channel",
    "authorize_channel_form",
    "decrypt",
    "encrypt",
    "parse_form",
    "shared_secret",
    "sign_webhook",
]
