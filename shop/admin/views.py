"""People and roles (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from shop.accounts import invitations, roster, roster_imports, services
from shop.accounts.forms import ActivationForm, InviteForm, RoleForm, RosterUploadForm
from shop.accounts.models import Role, User
from shop.accounts.session import admin_required
from shop.extensions import db
from shop.web import unit_of_work
from shop.worker.heartbeat import worker_health

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@admin_required
def users():
    text = request.args.get("q", "").strip()[:120]
    query = select(User).order_by(User.id)
    if text:
        pattern = f"%{text}%"
        query = query.where(or_(User.email.ilike(pattern), User.name.ilike(pattern), User.employee_no.ilike(pattern)))
    return render_template("admin/users.html", users=db.session.scalars(query.limit(300)).all(), query=text)


def _user_page(
    user: User, *, role_form: RoleForm | None = None, activation_form: ActivationForm | None = None, status: int = 200
):
    role_form = role_form or RoleForm(role=user.role.value)
    activation_form = activation_form or ActivationForm(formdata=None)
    activation_form.active.data = "0" if user.is_active_flag else "1"
    return render_template(
        "admin/user.html",
        user=user,
        role_form=role_form,
        activation_form=activation_form,
        invite_form=InviteForm() if invitations.can_be_invited(user) else None,
    ), status


@bp.route("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    return _user_page(db.session.get(User, user_id) or abort(404))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def set_role(user_id: int):
    found = db.session.get(User, user_id) or abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(found, role_form=form, status=422)
    with unit_of_work(_("Role changed.")):
        services.set_role(current_user, found, Role(form.role.data))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def set_active(user_id: int):
    found = db.session.get(User, user_id) or abort(404)
    form = ActivationForm()
    if not form.validate_on_submit():
        return _user_page(found, activation_form=form, status=422)
    wanted = form.active.data == "1"
    if wanted == found.is_active_flag:
        flash(_("Already active.") if wanted else _("Already deactivated."), "info")
        return redirect(url_for("admin.user", user_id=user_id))
    change = services.reactivate if wanted else services.deactivate
    with unit_of_work(_("Saved.")):
        change(current_user, found, form.reason.data)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/roster", methods=["GET", "POST"])
@admin_required
def roster_upload():
    """The upload form and the latest imports. A readable file is queued for the worker
    (``shop.accounts.roster_imports``) and the admin follows it on its own page."""
    form = RosterUploadForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            queued = roster_imports.queue(
                form.roster.data.read(),
                filename=form.roster.data.filename or "",
                actor=current_user,
                deactivate_missing=form.deactivate_missing.data,
            )
        if not work.refused:
            return redirect(url_for("admin.roster_import", import_id=queued.id), 303)
        form.roster.errors.append(work.refusal.message)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/roster.html", form=form, imports=roster_imports.recent()), status


@bp.route("/roster/<int:import_id>")
@admin_required
def roster_import(import_id: int):
    """How far an import has gone; the page reloads itself until it is over."""
    found = db.session.get(roster_imports.RosterImport, import_id) or abort(404)
    worker = None if found.finished else worker_health()
    return render_template("admin/roster_import.html", job=found, worker=worker, read_as_label=roster.read_as_label)


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@admin_required
def invite(user_id: int):
    """Send the invitation again: one click on the person's page."""
    found = db.session.get(User, user_id) or abort(404)
    if InviteForm().validate_on_submit():
        with unit_of_work(_("Invitation sent to %(email)s.", email=found.email)):
            invitations.invite(found, actor=current_user, again=True)
    return redirect(url_for("admin.user", user_id=user_id))


from shop.admin import audit  # noqa: E402,F401  (routes register on bp)
