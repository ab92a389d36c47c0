"""How API callers prove who they are: a token (wrong ones are throttled per address) or an admin session.

Token clients are not asked for a one-time code: two-factor authentication is for interactive logins.
"""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from ..roles import lacks_required_second_factor
from .permissions import CurrentRateMixin

TOKEN_FAILURES_DETAIL = "Too many wrong API tokens from your address; every token is refused until the wait is over."


def client_address(request) -> str:
    """The caller's address, for the throttles and the login lockout alike: the connection's own address, or as
    many hops back in X-Forwarded-For as REST_FRAMEWORK["NUM_PROXIES"] says proxies are trusted."""
    return BaseThrottle().get_ident(request)


class TokenFailureThrottle(CurrentRateMixin, SimpleRateThrottle):
    """Counts wrong tokens per address (rate ``token_failure``); the counter lives in the shared cache."""

    scope = "token_failure"

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def exhausted(self, request) -> bool:
        """Has this address used up its wrong tokens? Reads the counter without adding to it."""
        if self.rate is None:
            return False
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [at for at in self.cache.get(self.key, []) if at > self.now - self.duration]
        return len(self.history) >= self.num_requests

    def record_failure(self) -> None:
        if self.rate is not None:
            self.history.insert(0, self.now)
            self.cache.set(self.key, self.history, self.duration)


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication; past the allowed wrong tokens an address gets 429 with Retry-After, even for
    a right token, so that tokens cannot be guessed at request speed."""

    def authenticate(self, request):
        sent = get_authorization_header(request).split()
        if not sent or sent[0].lower() != self.keyword.lower().encode():
            return None
        throttle = TokenFailureThrottle()
        if throttle.exhausted(request):
            raise Throttled(wait=throttle.wait(), detail=TOKEN_FAILURES_DETAIL)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure()
            raise


class TwoFactorSessionAuthentication(SessionAuthentication):
    """An admin session counts only if it passed the one-time code its role needs, as in the admin itself."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and lacks_required_second_factor(result[0]):
            return None
        return result


class TwoFactorSessionScheme(SessionScheme):
    """The schema shows the session as the cookie login it is (the token's scheme covers its subclass already)."""

    target_class = TwoFactorSessionAuthentication
