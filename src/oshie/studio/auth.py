"""Accounts, sign-in and sessions: argon2 password hashes, random session tokens (only their
SHA-256 is stored), CSRF tokens, and sign-in throttling by name and by address.

CSRF uses the double-submit pattern: every response without one sets a random `oshie_csrf`
cookie (HttpOnly, SameSite=Strict) and every POST must repeat it in the `csrf` form field or the
`X-CSRF-Token` header; pages put it into their forms. A cross-site page can neither read the
cookie nor make the browser send it, so it cannot forge a write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from oshie.errors import UsageError
from oshie.studio.db import ROLES, LoginFailure, LoginSession, User, now

SESSION_COOKIE = "oshie_session"
CSRF_COOKIE = "oshie_csrf"
SESSION_DAYS = 14
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20

_hasher = None


def _argon2():  # type: ignore[no-untyped-def]
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def use_cheap_hashing() -> None:
    """Tests only: argon2's cheapest parameters, so signing in dozens of test users stays fast.
    Hashes made this way still verify under the default hasher (the parameters are in the hash)."""
    global _hasher
    from argon2 import PasswordHasher, profiles

    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def hash_password(password: str) -> str:
    return _argon2().hash(password)


def verify_password(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _argon2().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(cookie: str | None, sent: str | None) -> bool:
    return bool(cookie) and bool(sent) and hmac.compare_digest(str(cookie), str(sent))


def add_user(s: Session, name: str, password: str, role: str) -> User:
    """Create an account; the name must be new and the role one of ROLES."""
    if role not in ROLES:
        raise UsageError(f"unknown role '{role}'", field="role", hint=f"one of: {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 80:
        raise UsageError("a user name needs 1 to 80 characters", field="name")
    if len(password) < 8:
        raise UsageError("a password needs at least 8 characters", field="password")
    if s.scalar(select(User).where(User.name == name)) is not None:
        raise UsageError(f"user '{name}' exists already", field="name", hint="choose another name")
    user = User(name=name, password_hash=hash_password(password), role=role, active=True)
    s.add(user)
    s.flush()
    return user


def throttled(s: Session, name: str, address: str) -> bool:
    """True when too many sign-ins failed lately for this name or from this address."""
    since = now() - THROTTLE_WINDOW
    by_name = s.scalar(select(func.count()).where(LoginFailure.name == name, LoginFailure.at > since))
    by_addr = s.scalar(select(func.count()).where(LoginFailure.address == address, LoginFailure.at > since))
    return (by_name or 0) >= MAX_FAILURES_PER_NAME or (by_addr or 0) >= MAX_FAILURES_PER_ADDRESS


def sign_in(s: Session, name: str, password: str, address: str) -> tuple[User, str] | None:
    """(user, session token) for a right password on an active account; a failure is recorded.
    Callers check `throttled` first, so a throttled name never reaches the (slow) hash."""
    user = s.scalar(select(User).where(User.name == name.strip()))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        if user is None:
            hash_password(password)  # same cost for unknown names: no user enumeration by timing
        s.add(LoginFailure(name=name[:80], address=address[:64]))
        return None
    s.execute(delete(LoginFailure).where(LoginFailure.name == user.name))
    token = new_token()
    s.add(LoginSession(token_hash=token_hash(token), user_id=user.id,
                       expires_at=now() + timedelta(days=SESSION_DAYS)))
    return user, token


def session_user(s: Session, token: str | None) -> User | None:
    if not token:
        return None
    row = s.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token)))
    if row is None or row.expires_at < now():
        return None
    user = s.get(User, row.user_id)
    return user if user is not None and user.active else None


def sign_out(s: Session, token: str | None) -> None:
    if token:
        s.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))
