"""Admin pages: every organisation's waiting requests to join (the accreditation authority
decides any of them, as an organisation's approvers decide their own)."""

from __future__ import annotations

from flask_login import current_user

from marketplace.accounts import membership
from marketplace.accounts.membership_views import decide_page, list_page
from marketplace.admin import bp

CAPTION = "Requests to join"


@bp.get("/join-requests")
def join_requests():
    return list_page(
        membership.pending_for(current_user._get_current_object()),
        decide_endpoint="admin.decide_join_request",
        caption="All organisations",
    )


@bp.route("/join-requests/<public_id>", methods=["GET", "POST"])
def decide_join_request(public_id: str):
    return decide_page(
        public_id,
        list_endpoint="admin.join_requests",
        decide_endpoint="admin.decide_join_request",
        caption=CAPTION,
    )
