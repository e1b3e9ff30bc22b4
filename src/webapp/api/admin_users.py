"""Staff actions on accounts: role changes, disabling and enabling, unlocking a locked login.

Each route declares its permission; the use cases check it again, audit the action and end the
account's sessions where the change must take effect at once.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from commerce_core import (
    ChangeRole,
    Permission,
    SetUserActive,
    UnlockLogin,
    User,
    change_role,
    set_user_active,
    unlock_login,
)
from webapp.api.responses import json_response
from webapp.payloads import BodyReader, json_body
from webapp.request_ports import account_ports
from webapp.sessions import permission_required, require_user

__all__ = ["bp"]

bp = Blueprint("admin_users", __name__, url_prefix="/api/admin")

MAX_ID_INPUT = 100
MAX_EMAIL_INPUT = 320


@bp.post("/users/<user_id>/role")
@permission_required(Permission.USERS_MANAGE)
def change_user_role(user_id: str) -> Response:
    body = BodyReader(json_body())
    role = body.text("role", max_length=32)
    body.finish()
    user = change_role(
        ChangeRole(require_user().id, user_id[:MAX_ID_INPUT], role, ip=request.remote_addr),
        **account_ports(),
    )
    return json_response({"user": _staff_view(user)})


@bp.post("/users/<user_id>/disable")
@permission_required(Permission.USERS_MANAGE)
def disable_user(user_id: str) -> Response:
    return _set_active(user_id, active=False)


@bp.post("/users/<user_id>/enable")
@permission_required(Permission.USERS_MANAGE)
def enable_user(user_id: str) -> Response:
    return _set_active(user_id, active=True)


@bp.post("/logins/unlock")
@permission_required(Permission.LOGINS_UNLOCK)
def unlock() -> Response:
    """Lift the lockout of an email (from every address): for the owner who phoned support."""
    body = BodyReader(json_body())
    email = body.text("email", max_length=MAX_EMAIL_INPUT)
    body.finish()
    cleared = unlock_login(
        UnlockLogin(require_user().id, email, ip=request.remote_addr), **account_ports()
    )
    return json_response({"unlocked": True, "address_counters_cleared": cleared})


@bp.post("/users/<user_id>/unlock")
@permission_required(Permission.LOGINS_UNLOCK)
def unlock_user(user_id: str) -> Response:
    """Lift the lockout of this account's email (from every address)."""
    cleared = unlock_login(
        UnlockLogin(require_user().id, user_id=user_id[:MAX_ID_INPUT], ip=request.remote_addr),
        **account_ports(),
    )
    return json_response({"unlocked": True, "address_counters_cleared": cleared})


def _set_active(user_id: str, *, active: bool) -> Response:
    # Disabling takes no body; an empty one, or none, is what the route expects.
    user = set_user_active(
        SetUserActive(require_user().id, user_id[:MAX_ID_INPUT], active, ip=request.remote_addr),
        **account_ports(),
    )
    return json_response({"user": _staff_view(user)})


def _staff_view(user: User) -> dict[str, object]:
    return {**user.to_primitive(), "active": user.is_active}
