"""``/admin/users``: the accounts (searched by part of the email, role, enabled or not), and
what staff do to one: change its role, disable or enable it (every session ends at once), lift
the lockout of its sign-in - and, on ``/admin/logins/unlock``, lift the lockout of any email
(for the owner who phoned support, with or without an account).

The admin API's ``search_users``, ``change_role`` and ``set_user_active`` (``users:manage``) and
``unlock_login`` (``logins:unlock``: support may use it too); each audited. A refusal (the last
admin, one's own account) is the list again with its message.
"""

from __future__ import annotations

from flask import Response, request

from commerce_core import (
    MAX_EMAIL_SEARCH,
    ChangeRole,
    CommerceError,
    InvalidInput,
    Permission,
    Role,
    SetUserActive,
    UnlockLogin,
    UserSearch,
    change_role,
    search_users,
    set_user_active,
    unlock_login,
)
from webapp.pages.admin.console import bp, done, page, staff, staff_page
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.redirects import safe_next
from webapp.query_reader import QueryReader
from webapp.request_ports import account_ports, request_uow

__all__ = ["users"]

MAX_EMAIL = 320
_USER_ID = 100
ROLES = [(role.value, role.value.capitalize()) for role in Role]
USERS = "/admin/users"


@bp.get("/users")
@staff_page(Permission.USERS_MANAGE)
def users() -> Response:
    return _users_page()


def _users_page(actions: FormState | None = None, status: int = 200) -> Response:
    filters = FormState("filters", request.args.to_dict(), posted=True)
    query = QueryReader()
    paging = query.paging()
    email = query.text("email", max_length=MAX_EMAIL_SEARCH)
    role = query.text("role", max_length=32)
    active = query.boolean("active")
    found = None
    try:
        search = query.build(lambda: UserSearch(email=email, role=role, active=active))
        found = search_users(request_uow(), staff(), search, paging)
    except InvalidInput as invalid:
        status = refusal_status(invalid, filters)
    return page(
        "admin/users.html",
        status=status,
        filters=filters,
        found=found,
        actions=actions or FormState("actions"),
        roles=ROLES,
        me=staff(),
    )


def _refused(error: CommerceError) -> Response:
    actions = FormState("actions")
    return _users_page(actions, refusal_status(error, actions))


@bp.post("/users/<user_id>/role")
@staff_page(Permission.USERS_MANAGE)
def user_role(user_id: str) -> Response:
    read = FormReader()
    role = read.choice("role", [value for value, _ in ROLES]) or ""
    try:
        read.finish()
        user = change_role(
            ChangeRole(staff().id, user_id[:_USER_ID], role, ip=request.remote_addr),
            **account_ports(),
        )
    except CommerceError as error:
        return _refused(error)
    return done(_back(), f"{user.email} is now {user.role.value}; their sessions have ended.")


@bp.post("/users/<user_id>/disable")
@staff_page(Permission.USERS_MANAGE)
def user_disable(user_id: str) -> Response:
    return _set_active(user_id, active=False)


@bp.post("/users/<user_id>/enable")
@staff_page(Permission.USERS_MANAGE)
def user_enable(user_id: str) -> Response:
    return _set_active(user_id, active=True)


def _set_active(user_id: str, *, active: bool) -> Response:
    try:
        user = set_user_active(
            SetUserActive(staff().id, user_id[:_USER_ID], active, ip=request.remote_addr),
            **account_ports(),
        )
    except CommerceError as error:
        return _refused(error)
    if active:
        return done(_back(), f"{user.email} may sign in again.")
    return done(_back(), f"{user.email} is disabled and signed out everywhere.")


@bp.post("/users/<user_id>/unlock")
@staff_page(Permission.LOGINS_UNLOCK)
def user_unlock(user_id: str) -> Response:
    try:
        unlock_login(
            UnlockLogin(staff().id, user_id=user_id[:_USER_ID], ip=request.remote_addr),
            **account_ports(),
        )
    except CommerceError as error:
        return _refused(error)
    return done(_back(), "Their sign-in is unlocked, from every address.")


def _back() -> str:
    """Back to the list as it was filtered (the form carries the list's query)."""
    kept = safe_next(request.form.get("back"), default=USERS)
    return kept if kept.startswith(USERS) else USERS


@bp.route("/logins/unlock", methods=["GET", "POST"])
@staff_page(Permission.LOGINS_UNLOCK)
def login_unlock() -> Response:
    if request.method == "GET":
        return page("admin/unlock.html", form=FormState("unlock"))
    form = FormState.from_post("unlock")
    read = FormReader()
    email = read.text("email", max_length=MAX_EMAIL)
    try:
        read.finish()
        unlock_login(UnlockLogin(staff().id, email, ip=request.remote_addr), **account_ports())
    except CommerceError as error:
        return page("admin/unlock.html", status=refusal_status(error, form), form=form)
    return done("/admin/logins/unlock", f"Sign-in for {email} is unlocked, from every address.")
